//! HTTP conformance with real CherryPy 18.10: the same scripted request sequence
//! (`compat/http/scripts/`) against CherryPy serving `compat/http/probe_app.py` and against
//! our probe server (`examples/probe_server.rs`), with the same config file; the normalised
//! transcripts (ids and dates replaced by placeholders) must be identical.
//!
//! Needs `compat/setup.sh` (the README's test command runs it); fails when it is missing.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use actix_cherrypy::middleware::CherryPySessions;
use actix_web::{App, HttpServer, web};

#[allow(dead_code)]
#[path = "../examples/probe_server.rs"]
mod probe_server;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Our probe server on a free loopback port, in a thread of its own.
fn serve_ours(config: &Path) -> u16 {
    let sessions = CherryPySessions::from_file(config).expect("a valid config");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            HttpServer::new(move || {
                App::new()
                    .wrap(sessions.clone())
                    .configure(probe_server::probe)
                    .service(web::scope("/admin").configure(probe_server::probe))
            })
            .workers(2)
            .listen(listener)
            .unwrap()
            .run()
            .await
            .unwrap()
        })
    });
    port
}

fn transcript(mut command: Command) -> String {
    let out = command.output().expect("the transcript client runs");
    assert!(
        out.status.success(),
        "transcript failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn conformance(name: &str) {
    conformance_with(name, name);
}

/// The config `compat/http/configs/{config}.conf` with its `SESSIONS_DIR` (if any) made a
/// fresh directory, so each server has its own session files.
fn config_for_one_server(config: &str, server: &str) -> PathBuf {
    let path = root().join(format!("compat/http/configs/{config}.conf"));
    let text = std::fs::read_to_string(&path).unwrap();
    if !text.contains("SESSIONS_DIR") {
        return path;
    }
    let dir = std::env::temp_dir().join(format!(
        "actix-cherrypy-conformance-{config}-{server}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sessions")).unwrap();
    let sessions = dir.join("sessions").display().to_string();
    let own = dir.join(format!("{config}.conf"));
    std::fs::write(&own, text.replace("SESSIONS_DIR", &sessions)).unwrap();
    own
}

fn conformance_with(config: &str, script: &str) {
    let name = config;
    let python = root().join("compat/.venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run compat/setup.sh",
        python.display()
    );
    let script = root().join(format!("compat/http/scripts/{script}.json"));
    let cherrypy = {
        let mut c = Command::new("bash");
        c.arg(root().join("compat/http/run_cherrypy.sh"))
            .arg(config_for_one_server(config, "cherrypy"))
            .arg(&script);
        std::thread::spawn(move || transcript(c))
    };
    let port = serve_ours(&config_for_one_server(config, "ours"));
    let mut ours = Command::new(&python);
    ours.arg(root().join("compat/http/transcript.py"))
        .arg(format!("http://127.0.0.1:{port}"))
        .arg(&script);
    let ours = transcript(ours);
    let theirs = cherrypy.join().unwrap();
    assert!(
        ours.lines().count() > 20,
        "a transcript this short tests nothing:\n{ours}"
    );
    if ours != theirs {
        let diff: Vec<String> = ours
            .lines()
            .zip(theirs.lines())
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .take(10)
            .map(|(i, (a, b))| format!("line {}:\n  ours:     {a}\n  cherrypy: {b}", i + 1))
            .collect();
        panic!("{name}: transcripts differ\n{}", diff.join("\n"));
    }
}

#[test]
fn defaults() {
    conformance("defaults");
}

#[test]
fn custom_cookie_attributes() {
    conformance("custom_cookie");
}

#[test]
fn explicit_locking() {
    conformance("explicit_lock");
}

#[test]
fn per_path_sections() {
    conformance("per_path");
}

#[test]
fn file_storage_implicit_locking() {
    conformance_with("file_implicit", "defaults");
}

#[test]
fn file_storage_explicit_locking() {
    conformance_with("file_explicit", "explicit_lock");
}
