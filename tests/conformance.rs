//! HTTP conformance with real CherryPy 18.10: the same scripted request sequence
//! (`compat/http/scripts/`) against CherryPy serving `compat/http/probe_app.py` and against
//! our probe server (`examples/probe_server.rs`), with the same config file; the normalised
//! transcripts (ids and dates replaced by placeholders) must be identical.
//!
//! Needs `compat/setup.sh` (the README's test command runs it); fails when it is missing.

mod servers;

use std::path::{Path, PathBuf};
use std::process::Command;

use actix_cherrypy::middleware::CherryPySessions;
use actix_web::web;
use servers::http;
use servers::probe::root;
use servers::venv::venv_python;

#[allow(dead_code)]
#[path = "../examples/probe_server.rs"]
mod probe_server;

/// Our probe server on a free loopback port, in a thread of its own.
fn serve_ours(config: &Path) -> u16 {
    let sessions = CherryPySessions::from_file(config).expect("a valid config");
    http::serve(
        2,
        move || sessions.clone(),
        |cfg| {
            cfg.configure(probe_server::probe)
                .service(web::scope("/admin").configure(probe_server::probe));
        },
    )
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

/// A server's own session directory, removed once the test is done with it (kept after a
/// failure, to look at).
struct SessionsDir(PathBuf);

impl Drop for SessionsDir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(self.0.parent().unwrap_or(&self.0));
        }
    }
}

/// The config `compat/http/configs/{config}.conf`, and for a config with `SESSIONS_DIR` a
/// copy of it naming a fresh directory: the two servers must not share session files.
fn config_for_one_server(config: &str, server: &str) -> (PathBuf, Option<SessionsDir>) {
    let path = root().join(format!("compat/http/configs/{config}.conf"));
    let text = std::fs::read_to_string(&path).unwrap();
    if !text.contains("SESSIONS_DIR") {
        return (path, None);
    }
    let dir = std::env::temp_dir().join(format!(
        "actix-cherrypy-conformance-{config}-{server}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let sessions = dir.join("sessions");
    std::fs::create_dir_all(&sessions).unwrap();
    let own = dir.join(format!("{config}.conf"));
    let path_literal = sessions.display().to_string();
    std::fs::write(&own, text.replace("SESSIONS_DIR", &path_literal)).unwrap();
    (own, Some(SessionsDir(sessions)))
}

/// What a session directory holds, as CherryPy's own Python reads it: each session's data
/// and expiry (minutes from now), sorted. Ids are random, so they are left out; any other
/// file is listed by its name with ids masked. Lock files are not compared: CherryPy 18.2+
/// leaves one for every id it ever locked, sessions or not, and we leave none without its
/// session (checked by `no_orphan_lock_files`).
const STORED: &str = r#"
import datetime, os, pickle, re, sys
d = sys.argv[1]
now = datetime.datetime.now()
rows = []
for name in os.listdir(d):
    if re.fullmatch(r'session-[0-9a-f]{40}\.lock', name):
        pass
    elif re.fullmatch(r'session-[0-9a-f]{40}', name):
        with open(os.path.join(d, name), 'rb') as f:
            data, expires = pickle.load(f)
        # A naive datetime, as CherryPy writes: an aware one fails the subtraction.
        minutes = round((expires - now).total_seconds() / 60)
        rows.append(f'{data!r} expires {minutes:+d}m')
    else:
        rows.append('other file: ' + re.sub('[0-9a-f]{40}', '<id>', name))
print('\n'.join(sorted(rows)))
"#;

/// Every lock file in our session directory belongs to a stored session.
fn no_orphan_lock_files(dir: &SessionsDir) {
    let names: Vec<String> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let orphans: Vec<_> = names
        .iter()
        .filter_map(|n| n.strip_suffix(".lock"))
        .filter(|session| !names.iter().any(|n| n == session))
        .collect();
    assert!(
        orphans.is_empty(),
        "lock files without a session: {orphans:?}"
    );
}

fn stored(python: &Path, dir: &SessionsDir) -> String {
    let mut command = Command::new(python);
    command.args(["-c", STORED]).arg(&dir.0);
    transcript(command)
}

fn conformance_with(config: &str, script: &str) {
    let name = config;
    let python = venv_python();
    let script = root().join(format!("compat/http/scripts/{script}.json"));
    let (their_config, their_dir) = config_for_one_server(config, "cherrypy");
    let cherrypy = {
        let mut c = Command::new("bash");
        c.arg(root().join("compat/http/run_cherrypy.sh"))
            .arg(their_config)
            .arg(&script);
        std::thread::spawn(move || transcript(c))
    };
    let (our_config, our_dir) = config_for_one_server(config, "ours");
    let port = serve_ours(&our_config);
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
    // What clients saw is the same; so must be what is left on disk (a session stored,
    // deleted or kept by one server and not the other would not always show in responses).
    if let (Some(our_dir), Some(their_dir)) = (&our_dir, &their_dir) {
        let (ours, theirs) = (stored(&python, our_dir), stored(&python, their_dir));
        assert!(
            ours.lines().count() > 2,
            "{name}: no session was stored:\n{ours}"
        );
        no_orphan_lock_files(our_dir);
        assert_eq!(
            ours, theirs,
            "{name}: session directories differ (ours, CherryPy's)"
        );
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

/// A bad session setting where sessions are off stops neither server.
#[test]
fn bad_session_settings_where_sessions_are_off() {
    conformance_with("per_path_bad_where_off", "per_path");
}

#[test]
fn file_storage_implicit_locking() {
    conformance_with("file_implicit", "defaults");
}

#[test]
fn file_storage_explicit_locking() {
    conformance_with("file_explicit", "file_explicit_lock");
}
