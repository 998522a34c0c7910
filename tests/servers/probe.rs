//! Our probe server and real CherryPy's (`compat/http/probe_app.py`) as separate processes,
//! and what the tests give both: a config and a burst of increments.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::http::session_get;
use super::{free_port, wait_for_port};

pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The probe server binary, built with every feature beside this test binary.
pub(crate) fn probe_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let binary = profile_dir.join("examples").join("probe_server");
    // `cargo test` builds the examples with the tests, but not for `--test distributed`.
    let status = Command::new(option_env!("CARGO").unwrap_or("cargo"))
        .args([
            "build",
            "--quiet",
            "--example",
            "probe_server",
            "--all-features",
        ])
        .current_dir(root())
        .env(
            "CARGO_TARGET_DIR",
            profile_dir.parent().expect("target dir"),
        )
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building examples/probe_server failed");
    binary
}

/// A server process; killed when dropped.
pub(crate) struct Process(pub(crate) Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn ours(binary: &Path, config: &Path) -> (Process, u16) {
    spawn(ours_command(binary, config))
}

/// Our probe server on `config`, to be given its port by [`spawn`].
pub(crate) fn ours_command(binary: &Path, config: &Path) -> Command {
    let mut command = Command::new(binary);
    command.arg(config);
    command
}

pub(crate) fn cherrypy(config: &Path) -> (Process, u16) {
    spawn(cherrypy_command(config))
}

/// CherryPy's probe app on `config`, to be given its port by [`spawn`].
pub(crate) fn cherrypy_command(config: &Path) -> Command {
    let mut command = Command::new(super::venv::venv_python());
    command
        .arg(root().join("compat/http/probe_app.py"))
        .arg(config);
    command
}

/// `command` given a free port as its last argument, started, and its port once it listens.
pub(crate) fn spawn(command: Command) -> (Process, u16) {
    spawn_trusting(command, None)
}

/// One clock for server processes, through libfaketime (Debian's `faketime` package):
/// each process started on it runs in the time zone `tz`, its clock moved by one offset
/// from the real one, so processes started one after another agree on the time.
pub(crate) struct FakeClock {
    library: PathBuf,
    offset: i64,
    tz: &'static str,
}

impl FakeClock {
    /// A clock that reads `utc` (seconds since the epoch) now, and runs on from there;
    /// `None`, saying why on stderr, where libfaketime is not installed (a failure instead
    /// with `ACTIX_CHERRYPY_REQUIRE_FAKETIME=1`, which `.ci/run` sets).
    pub(crate) fn reading(utc: i64, tz: &'static str) -> Option<Self> {
        let library = ["x86_64-linux-gnu", "aarch64-linux-gnu", "."]
            .iter()
            .map(|arch| {
                Path::new("/usr/lib")
                    .join(arch)
                    .join("faketime/libfaketime.so.1")
            })
            .find(|path| path.exists());
        let Some(library) = library else {
            let required =
                std::env::var_os("ACTIX_CHERRYPY_REQUIRE_FAKETIME").is_some_and(|v| v == "1");
            assert!(
                !required,
                "libfaketime is missing and ACTIX_CHERRYPY_REQUIRE_FAKETIME=1 makes it required"
            );
            // Straight to stderr: the harness would swallow `eprintln!` of a passing test.
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                b"SKIPPED: libfaketime is not installed (apt-get install faketime)\n",
            );
            return None;
        };
        let real = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let offset = utc - i64::try_from(real).unwrap();
        Some(Self {
            library,
            offset,
            tz,
        })
    }

    /// `command` on this clock, in this time zone.
    pub(crate) fn on(&self, mut command: Command) -> Command {
        command.envs(self.env());
        command
    }

    /// The environment that puts a process on this clock, in this time zone.
    pub(crate) fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("TZ", self.tz.to_owned()),
            ("LD_PRELOAD", self.library.display().to_string()),
            ("FAKETIME", format!("{:+}", self.offset)),
            ("FAKETIME_DONT_RESET", "1".to_owned()),
        ]
    }
}

/// Runs `script` with the CherryPy venv's Python and `args`; its standard output, once it
/// succeeded (a failure fails the test with its standard error).
#[allow(dead_code, reason = "not every test binary runs Python scripts")]
pub(crate) fn python(script: &str, args: &[&str]) -> String {
    let out = Command::new(super::venv::venv_python())
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("the venv's Python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// A session set on `writer` and read on `reader` a second later: the reader keeps its id
/// and reads the value (`cp`, CherryPy's port, names the sides in a failure). Its id.
#[allow(dead_code, reason = "only the tests on a moved clock use it")]
pub(crate) fn set_then_read_a_second_later(writer: u16, reader: u16, cp: u16) -> String {
    let (status, id, _) = session_get(writer, "/set?key=user&value=alice", None);
    assert_eq!((status, id.len()), (200, 40));
    std::thread::sleep(std::time::Duration::from_secs(1));
    let (status, kept, body) = session_get(reader, "/get?key=user", Some(&id));
    assert_eq!(
        (status, kept.as_str(), body.as_str()),
        (200, id.as_str(), "alice"),
        "set by port {writer}, read by port {reader} (CherryPy's is {cp})"
    );
    id
}

pub(crate) fn write_config(dir: &Path, storage: &str) -> PathBuf {
    let conf = dir.join("site.conf");
    std::fs::write(
        &conf,
        format!("[/]\ntools.sessions.on = True\ntools.sessions.locking = \"implicit\"\n{storage}"),
    )
    .unwrap();
    conf
}

/// 200 read-sleep-write increments of one session, spread over `ports` by 16 clients at
/// once: only a lock that spans the processes keeps every update.
pub(crate) fn increments_over(ports: &[u16]) {
    let (_, id, _) = session_get(ports[0], "/set?key=other&value=x", None);
    assert_eq!(id.len(), 40);
    let next = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(BTreeSet::new()));
    let clients: Vec<_> = (0..16)
        .map(|_| {
            let (next, seen, id, ports) = (next.clone(), seen.clone(), id.clone(), ports.to_vec());
            std::thread::spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= 200 {
                        break;
                    }
                    let port = ports[i % ports.len()];
                    let (status, _, body) = session_get(port, "/slow_incr?key=c&ms=2", Some(&id));
                    assert_eq!(status, 200, "{body}");
                    seen.lock().unwrap().insert(body);
                }
            })
        })
        .collect();
    for client in clients {
        client.join().unwrap();
    }
    // Each request saw exactly the previous one's write: 0->1, 1->2, ... 199->200.
    let seen = seen.lock().unwrap();
    let expected: BTreeSet<String> = (0..200).map(|n| format!("{n}->{}", n + 1)).collect();
    let lost: Vec<_> = expected.difference(&seen).take(5).collect();
    assert!(
        lost.is_empty(),
        "updates lost: {} distinct results of 200, missing {lost:?}...",
        seen.len()
    );
    assert_eq!(session_get(ports[1], "/get?key=c", Some(&id)).2, "200");
}

/// How long a CherryPy request may wait for a session our processes keep busy: they leave
/// its lock free for a gap every second of continuous use, and CherryPy, which tries again
/// every 100 ms, gets it in the first or second gap.
#[allow(dead_code, reason = "only the tests beside CherryPy use it")]
pub(crate) const CHERRYPY_WAIT_BOUND: std::time::Duration = std::time::Duration::from_secs(2);

/// Keeps one session busy on `ours` (two or more of our processes) for about 5 s, 8 clients
/// sending back-to-back 20 ms read-sleep-write increments; after the first second, one
/// increment is sent to CherryPy (`cp`) on the same session: it must be answered within
/// [`CHERRYPY_WAIT_BOUND`], and every increment, ours and CherryPy's, must be counted (each
/// request saw exactly the previous one's write).
#[allow(dead_code, reason = "only the tests beside CherryPy use it")]
pub(crate) fn cherrypy_gets_a_busy_session_in_turn(ours: &[u16], cp: u16) {
    use std::time::{Duration, Instant};
    let (_, id, _) = session_get(ours[0], "/set?key=other&value=x", None);
    assert_eq!(id.len(), 40);
    let busy_until = Instant::now() + Duration::from_secs(5);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let clients: Vec<_> = (0..8)
        .map(|i| {
            let (seen, id, port) = (seen.clone(), id.clone(), ours[i % ours.len()]);
            std::thread::spawn(move || {
                while Instant::now() < busy_until {
                    let (status, _, body) = session_get(port, "/slow_incr?key=c&ms=20", Some(&id));
                    assert_eq!(status, 200, "{body}");
                    seen.lock().unwrap().push(body);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(1));
    let asked = Instant::now();
    let (status, _, body) = session_get(cp, "/slow_incr?key=c&ms=0", Some(&id));
    let waited = asked.elapsed();
    assert_eq!(status, 200, "{body}");
    let busy_left = busy_until.saturating_duration_since(Instant::now());
    seen.lock().unwrap().push(body);
    for client in clients {
        client.join().unwrap();
    }
    assert!(
        waited < CHERRYPY_WAIT_BOUND,
        "CherryPy's request waited {waited:?} for a session our processes kept busy ({busy_left:?} of that traffic was still to come when it was answered)"
    );
    // Each request saw exactly the previous one's write: 0->1, 1->2, ... n-1->n.
    let seen = seen.lock().unwrap();
    let n = seen.len();
    let distinct: BTreeSet<&String> = seen.iter().collect();
    let expected: Vec<String> = (0..n).map(|k| format!("{k}->{}", k + 1)).collect();
    let lost: Vec<_> = expected
        .iter()
        .filter(|e| !distinct.contains(e))
        .take(5)
        .collect();
    assert!(
        lost.is_empty() && distinct.len() == n,
        "updates lost: {} distinct results of {n}, missing {lost:?}...",
        distinct.len()
    );
    assert_eq!(
        session_get(ours[0], "/get?key=c", Some(&id)).2,
        n.to_string()
    );
    assert_eq!(session_get(cp, "/get?key=c", Some(&id)).2, n.to_string());
}

/// A server process started with `SSL_CERT_FILE` (the trusted roots, for rustls' native
/// roots and for OpenSSL under redis-py alike).
pub(crate) fn spawn_trusting(mut command: Command, ca: Option<&Path>) -> (Process, u16) {
    let port = free_port();
    command.arg(port.to_string()).stdout(Stdio::null());
    if let Some(ca) = ca {
        command.env("SSL_CERT_FILE", ca);
    }
    let child = command.spawn().expect("the server starts");
    wait_for_port(port);
    (Process(child), port)
}
