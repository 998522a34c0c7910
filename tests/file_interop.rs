//! File sessions shared between processes: real CherryPy 18 and our server on one
//! directory, two of our servers on one directory, and a server killed in the middle of
//! its writes. The servers are separate processes (`compat/http/probe_app.py`,
//! `examples/probe_server.rs`).

mod servers;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use servers::http::{session_get, try_session_get};
use servers::probe::{
    FakeClock, cherrypy, cherrypy_command, cherrypy_gets_a_busy_session_in_turn, increments_over,
    ours, ours_command, probe_binary, python, set_then_read_a_second_later, spawn, write_config,
};
use servers::temp_dir;

fn file_config(dir: &Path) -> std::path::PathBuf {
    file_config_named(dir, "site.conf", "")
}

/// A config in `dir` for the sessions directory `dir/sessions`, with `extra` lines.
fn file_config_named(dir: &Path, name: &str, extra: &str) -> std::path::PathBuf {
    let sessions = dir.join("sessions");
    std::fs::create_dir_all(&sessions).unwrap();
    let conf = write_config(
        dir,
        &format!(
            "tools.sessions.storage_type = \"file\"\ntools.sessions.storage_path = {:?}\n{extra}",
            sessions.display().to_string()
        ),
    );
    let named = dir.join(name);
    std::fs::rename(&conf, &named).unwrap();
    named
}

#[test]
fn cherrypy_and_this_crate_share_file_sessions() {
    let dir = temp_dir("file-interop");
    let conf = file_config(&dir);
    let (_cp, cp) = cherrypy(&conf);
    let (_us, us) = ours(&probe_binary(), &conf);

    // Set in CherryPy, read here, and the reverse, on one session.
    let (status, id, _) = session_get(cp, "/set?key=from&value=cherrypy", None);
    assert_eq!((status, id.len()), (200, 40));
    let file = dir.join("sessions").join(format!("session-{id}"));
    let stat = || {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(&file).unwrap();
        (m.ino(), m.modified().unwrap())
    };
    let (inode, written) = stat();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let (status, kept, body) = session_get(us, "/get?key=from", Some(&id));
    assert_eq!(
        (status, kept.as_str(), body.as_str()),
        (200, id.as_str(), "cherrypy")
    );
    // Our read rewrote the expiration inside CherryPy's own pickle, in place; CherryPy
    // still reads the file as its own.
    let (inode_after, rewritten) = stat();
    assert!(inode_after == inode && rewritten > written);
    assert_eq!(session_get(cp, "/get?key=from", Some(&id)).2, "cherrypy");
    session_get(us, "/set?key=back&value=actix", Some(&id));
    assert_eq!(session_get(cp, "/get?key=back", Some(&id)).2, "actix");
    // A session started here is known to CherryPy.
    let (_, ours_id, _) = session_get(us, "/set?key=k&value=v", None);
    let (_, kept, body) = session_get(cp, "/get?key=k", Some(&ours_id));
    assert_eq!((kept.as_str(), body.as_str()), (ours_id.as_str(), "v"));

    // 20 read-sleep-write increments at once, alternating between the two servers: the
    // lock file's flock serialises them across both.
    let results = Arc::new(Mutex::new(BTreeSet::new()));
    let clients: Vec<_> = (0..20)
        .map(|i| {
            let (id, results) = (id.clone(), results.clone());
            let port = if i % 2 == 0 { cp } else { us };
            std::thread::spawn(move || {
                let (status, _, body) = session_get(port, "/slow_incr?key=c&ms=20", Some(&id));
                assert_eq!(status, 200, "{body}");
                results.lock().unwrap().insert(body);
            })
        })
        .collect();
    for client in clients {
        client.join().unwrap();
    }
    let expected: BTreeSet<String> = (0..20).map(|n| format!("{n}->{}", n + 1)).collect();
    assert_eq!(*results.lock().unwrap(), expected);
    assert_eq!(session_get(cp, "/get?key=c", Some(&id)).2, "20");
    assert_eq!(session_get(us, "/get?key=c", Some(&id)).2, "20");
}

#[test]
fn two_processes_on_one_directory_keep_every_update() {
    let dir = temp_dir("two-on-files");
    let conf = file_config(&dir);
    let binary = probe_binary();
    let (_a, a) = ours(&binary, &conf);
    let (_b, b) = ours(&binary, &conf);
    increments_over(&[a, b]);
}

/// Two of our processes keep one session busy without a pause; a CherryPy request
/// (`FileSession`, which polls the lock file every 100 ms) on that session still gets it
/// within a second or two: ours leave the lock file free for a gap after each second of
/// continuous use.
#[test]
fn a_session_our_processes_keep_busy_reaches_cherrypy_in_turn() {
    let dir = temp_dir("busy-files-cherrypy");
    let conf = file_config(&dir);
    let binary = probe_binary();
    let (_a, a) = ours(&binary, &conf);
    let (_b, b) = ours(&binary, &conf);
    let (_cp, cp) = cherrypy(&conf);
    cherrypy_gets_a_busy_session_in_turn(&[a, b], cp);
}

/// `kill -9` in the middle of a burst of writes, then a restart: every session file is
/// whole (the old or the new version), for Python's pickle and for our server.
#[test]
fn a_kill_during_writes_leaves_every_session_file_whole() {
    let dir = temp_dir("kill-9");
    let conf = file_config(&dir);
    let binary = probe_binary();
    let (mut server, port) = ours(&binary, &conf);

    // 16 clients, each with its own session, rewriting 20 KB values as fast as they can.
    let value = "x".repeat(20_000);
    let ids: Vec<String> = (0..16)
        .map(|_| session_get(port, &format!("/set?key=v&value={value}"), None).1)
        .collect();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = ids
        .iter()
        .cloned()
        .map(|id| {
            let (stop, value) = (stop.clone(), value.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let path = format!("/set?key=v&value={n}{value}");
                    // Requests in flight when the server dies fail: that is the point.
                    if try_session_get(port, &path, Some(&id)).is_err() {
                        break;
                    }
                    n += 1;
                }
                n
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(700));
    server.0.kill().unwrap(); // SIGKILL
    server.0.wait().unwrap();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let writes: usize = writers.into_iter().map(|w| w.join().unwrap_or(0)).sum();
    assert!(writes > 16, "the burst did not get going ({writes} writes)");

    let sessions = dir.join("sessions");
    let names: Vec<String> = std::fs::read_dir(&sessions)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let files: Vec<&String> = names
        .iter()
        .filter(|n| n.starts_with("session-") && !n.ends_with(".lock"))
        .collect();
    assert_eq!(files.len(), ids.len(), "{files:?}");
    // Whatever else a killed writer left (temporary files) must be a name that neither
    // CherryPy nor we take for a session: CherryPy counts and cleans `session-*`.
    let leftovers: Vec<&String> = names
        .iter()
        .filter(|n| !n.starts_with("session-"))
        .collect();
    for name in &leftovers {
        assert!(name.starts_with('.'), "{name}");
    }
    // CherryPy reads every file whole: under its own lock (the kill released ours, or this
    // times out), through FileSession's `_load`, which would take a torn file for no
    // session at all; then its clean-up thread's pass over the directory, which ends for
    // good on the first file it cannot unpickle.
    let check = r#"
import datetime, os, sys
from cherrypy.lib import sessions
d, expected = sys.argv[1], int(sys.argv[2])
store = sessions.FileSession(storage_path=d, lock_timeout=5)
assert len(store) == expected, (len(store), sorted(os.listdir(d)))
for name in sorted(os.listdir(d)):
    if name.startswith('session-') and not name.endswith('.lock'):
        s = sessions.FileSession(id=name[len('session-'):], storage_path=d, lock_timeout=5)
        s.acquire_lock()
        loaded = s._load()
        s.release_lock()
        assert loaded is not None, name
        data, expires = loaded
        assert isinstance(expires, datetime.datetime) and expires.tzinfo is None, name
        assert data['v'].endswith('x' * 20000), (name, len(data['v']))
store.clean_up()
print('ok')
"#;
    python(
        check,
        &[&sessions.display().to_string(), &ids.len().to_string()],
    );

    // A restarted server reads every session (the id is kept, the value is whole), and its
    // clean-up removes what the killed one left once it is old enough that no write can
    // still be using it (10 minutes: the files are dated back).
    let eleven_minutes_ago = std::time::SystemTime::now() - Duration::from_secs(11 * 60);
    for name in &leftovers {
        std::fs::File::options()
            .write(true)
            .open(sessions.join(name))
            .unwrap()
            .set_modified(eleven_minutes_ago)
            .unwrap();
    }
    let conf = write_config(
        &dir,
        &format!(
            "tools.sessions.storage_type = \"file\"\ntools.sessions.storage_path = {:?}\ntools.sessions.clean_freq = 0.01\n",
            sessions.display().to_string()
        ),
    );
    let (_server, port) = ours(&binary, &conf);
    let started = Instant::now();
    for id in &ids {
        let (status, kept, body) = session_get(port, "/get?key=v", Some(id));
        assert_eq!((status, kept.as_str()), (200, id.as_str()));
        assert!(body.ends_with(&value), "{} bytes", body.len());
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    let deadline = Instant::now() + Duration::from_secs(10);
    while leftovers.iter().any(|n| sessions.join(n).exists()) {
        assert!(
            Instant::now() < deadline,
            "left by the killed server: {leftovers:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let sessions_left = std::fs::read_dir(&sessions)
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            name.starts_with("session-") && !name.ends_with(".lock")
        })
        .count();
    assert_eq!(sessions_left, ids.len(), "the clean-up took live sessions");
}

/// CherryPy's clean-up unpickles every session file and removes the expired ones, whatever
/// they hold. Sessions holding objects outside our data model (a `set`, a `datetime`) are
/// unknown sessions to us, but their expiration is still readable: our clean-up removes
/// them once expired, as CherryPy's does, and leaves the live ones, without a warning per
/// file and clean-up.
#[test]
fn our_clean_up_removes_expired_cherrypy_sessions_we_cannot_read() {
    let dir = temp_dir("clean-undecodable");
    let sessions = dir.join("sessions");
    std::fs::create_dir_all(&sessions).unwrap();
    // Written by CherryPy's FileSession itself, as its requests would save them.
    let write = r#"
import datetime, sys
from cherrypy.lib import sessions
d = sys.argv[1]
now = datetime.datetime.now()
for name, data, days in [
    ('a' * 40, {'s': {1, 2}}, -3),
    ('b' * 40, {'seen': now}, -3),
    ('c' * 40, {'user': 'alice'}, -3),
    ('d' * 40, {'s': {3}}, 3),
    ('e' * 40, {'seen': now}, 3),
]:
    # An id the directory does not hold yet: CherryPy gives the session a new one.
    s = sessions.FileSession(id=name, storage_path=d, lock_timeout=5)
    s._data = data
    s.acquire_lock()
    s._save(now + datetime.timedelta(days=days))
    s.release_lock()
    if days > 0:
        print(s.id)
"#;
    let live = python(write, &[&sessions.display().to_string()]);
    let store = actix_cherrypy::store::FileStore::new(&sessions).unwrap();
    let removed = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(actix_cherrypy::store::SessionStore::clean_up(
            &store,
            std::time::SystemTime::now(),
        ))
        .unwrap();
    let left: BTreeSet<String> = std::fs::read_dir(&sessions)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.ends_with(".lock"))
        .collect();
    let expected: BTreeSet<String> = live.lines().map(|id| format!("session-{id}")).collect();
    assert_eq!(expected.len(), 2);
    assert_eq!((removed, left), (3, expected));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The night New York's clock jumps from 02:00 to 03:00, a session CherryPy saves at 01:30
/// with the default 60 minutes stores 02:30 as its expiration, a time the clock skips. For
/// CherryPy, which compares local clock times, it is live until the jump; so it is for us:
/// our clean-up leaves it, and our read keeps it.
#[test]
fn an_expiration_the_clock_skips_is_live_for_both() {
    // 2027-03-14 06:30:00 UTC, 01:30 EST.
    let Some(clock) = FakeClock::reading(1_805_005_800, "America/New_York") else {
        return;
    };
    let dir = temp_dir("dst-gap");
    let conf = file_config_named(&dir, "cherrypy.conf", "tools.sessions.clean_freq = 0\n");
    let cleaning = file_config_named(&dir, "cleaner.conf", "tools.sessions.clean_freq = 0.01\n");
    let (_cp, cp) = spawn(clock.on(cherrypy_command(&conf)));
    let (_us, us) = spawn(clock.on(ours_command(&probe_binary(), &conf)));
    let (_cleaner, _) = spawn(clock.on(ours_command(&probe_binary(), &cleaning)));

    let (status, id, _) = session_get(cp, "/set?key=user&value=alice", None);
    assert_eq!((status, id.len()), (200, 40));
    // Our clean-up runs every 0.6 s.
    std::thread::sleep(Duration::from_secs(2));
    let file = dir.join("sessions").join(format!("session-{id}"));
    assert!(file.exists(), "our clean-up removed a live session");
    let (status, kept, body) = session_get(us, "/get?key=user", Some(&id));
    assert_eq!(
        (status, kept.as_str(), body.as_str()),
        (200, id.as_str(), "alice"),
        "our read of a live session"
    );
    assert_eq!(session_get(cp, "/get?key=user", Some(&id)).2, "alice");
}

/// The night New York's clock falls back from 02:00 EDT to 01:00 EST, a session saved at
/// the first 01:10 with the default 60 minutes expires at 02:10 for CherryPy, the clock
/// then plus an hour. Ours must store that too: the wall-clock time an hour later (the
/// second 01:10) is a time CherryPy's clock has already read, so it would find the session
/// expired at once.
#[test]
fn an_expiration_saved_in_the_repeated_hour_is_live_for_cherrypy() {
    // 2026-11-01 05:10:00 UTC, the first 01:10 (EDT).
    let Some(clock) = FakeClock::reading(1_793_509_800, "America/New_York") else {
        return;
    };
    let dir = temp_dir("dst-fallback");
    let conf = file_config(&dir);
    let (_cp, cp) = spawn(clock.on(cherrypy_command(&conf)));
    let (_us, us) = spawn(clock.on(ours_command(&probe_binary(), &conf)));

    for (writer, reader) in [(us, cp), (cp, us), (us, us)] {
        set_then_read_a_second_later(writer, reader, cp);
    }
}
