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
    let python = root().join("compat/.venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run compat/setup.sh",
        python.display()
    );
    let config = root().join(format!("compat/http/configs/{name}.conf"));
    let script = root().join(format!("compat/http/scripts/{name}.json"));
    let cherrypy = {
        let mut c = Command::new("bash");
        c.arg(root().join("compat/http/run_cherrypy.sh"))
            .arg(&config)
            .arg(&script);
        std::thread::spawn(move || transcript(c))
    };
    let port = serve_ours(&config);
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
