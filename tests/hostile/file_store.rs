//! Hostile input: see main.rs. Here, the file store's directory: floods of requests that
//! must leave nothing behind, files the clean-up cannot read, and a local user who can write
//! the directory and plants symbolic links, hard links, FIFOs or huge files in it.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use actix_cherrypy::limits::MAX_SESSION_BYTES;
use actix_cherrypy::middleware::CherryPySessions;
use actix_cherrypy::session_id::SessionId;
use actix_cherrypy::session_value::{SessionData, SessionValue};
use actix_cherrypy::store::{FileStore, Record, SessionStore, StoreError};

use crate::servers::http::{get, session_get};
use crate::servers::probe::{Process, ours, probe_binary, write_config};
use crate::servers::temp_dir;

/// `root/sessions`, the storage directory, and `root/outside`, a directory beside it that
/// holds the files an attacker aims at.
fn dirs(name: &str) -> (PathBuf, PathBuf) {
    let root = temp_dir(&format!("hostile-fs-{name}"));
    let (sessions, outside) = (root.join("sessions"), root.join("outside"));
    fs::create_dir(&sessions).unwrap();
    fs::create_dir(&outside).unwrap();
    (sessions, outside)
}

fn file_config(sessions: &Path) -> PathBuf {
    write_config(
        sessions.parent().unwrap(),
        &format!(
            "tools.sessions.storage_type = \"file\"\ntools.sessions.storage_path = {:?}\n",
            sessions.display().to_string()
        ),
    )
}

fn probe(sessions: &Path) -> (Process, u16) {
    ours(&probe_binary(), &file_config(sessions))
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

fn record(key: &str, value: &str, expires: SystemTime) -> Record {
    let mut data = SessionData::default();
    data.insert(key.into(), SessionValue::Str(value.into()));
    Record { data, expires }
}

fn in_an_hour() -> SystemTime {
    SystemTime::now() + Duration::from_secs(3600)
}

fn an_hour_ago() -> SystemTime {
    SystemTime::now() - Duration::from_secs(3600)
}

/// Runs `f` on a thread of its own with a runtime of its own, and gives up after a minute:
/// a store that blocks for ever (a FIFO opened for reading) must fail the test, not hang it.
fn within_a_minute<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, &'static str> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(60))
        .map_err(|_| "blocked for a minute")
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Every lock file in `dir` must belong to a session file that exists.
fn assert_no_orphan_lock_files(dir: &Path) {
    let all = names(dir);
    let orphans: Vec<_> = all
        .iter()
        .filter_map(|n| n.strip_suffix(".lock"))
        .filter(|session| !all.iter().any(|n| n == session))
        .collect();
    assert!(
        orphans.is_empty(),
        "lock files without a session: {orphans:?}"
    );
}

/// Requests without a cookie, or with an id nobody knows, create no session: they must
/// leave no lock file either, or a flood of them fills the disk.
#[test]
fn a_flood_of_new_and_unknown_ids_leaves_no_lock_files() {
    let (sessions, _) = dirs("flood");
    let (_server, port) = probe(&sessions);
    for i in 0..60 {
        let unknown = format!("{:040x}", i + 1);
        let (path, cookie) = match i % 4 {
            0 => ("/noop", None),
            1 => ("/id", None),
            2 => ("/id", Some(unknown.as_str())),
            _ => ("/noop", Some(unknown.as_str())),
        };
        let (status, id, _) = session_get(port, path, cookie);
        assert_eq!(status, 200);
        assert_ne!(id, unknown, "an unknown id is replaced");
    }
    assert_eq!(names(&sessions), Vec::<String>::new());
    // Requests that store a session (reading it is enough) leave its file, and no lock
    // file without a session.
    for i in 0..20 {
        let unknown = format!("{:040x}", i + 1000);
        let cookie = (i % 2 == 0).then_some(unknown.as_str());
        assert_eq!(session_get(port, "/get?key=a", cookie).0, 200);
    }
    let (_, id, _) = session_get(port, "/set?key=a&value=1", None);
    assert_eq!(session_get(port, "/get?key=a", Some(&id)).2, "1");
    assert_no_orphan_lock_files(&sessions);
    // The 20 new sessions and the one set: reading a session stores it, as in CherryPy.
    let stored = names(&sessions)
        .into_iter()
        .filter(|n| !n.ends_with(".lock"))
        .count();
    assert_eq!(stored, 21);
}

/// Explicit locking's `acquire_lock()` on a new session, and the store's own calls, take
/// no lock file for a session that does not exist.
#[test]
fn locking_a_session_that_does_not_exist_creates_no_lock_file() {
    let (sessions, _) = dirs("lock-new");
    let store = FileStore::new(&sessions).unwrap();
    block_on(async {
        let fresh = SessionId::generate();
        let lock = store.lock(&fresh, None).await.unwrap();
        let (lock2, loaded) = store
            .lock_and_load(&SessionId::generate(), None)
            .await
            .unwrap();
        assert!(loaded.is_none());
        assert_eq!(names(&sessions), Vec::<String>::new());
        // The save that creates the session, under that lock, is an ordinary one.
        store
            .save(&fresh, record("a", "1", in_an_hour()))
            .await
            .unwrap();
        drop((lock, lock2));
        assert_eq!(names(&sessions), vec![format!("session-{fresh}")]);
        // Now the session exists: its lock is the lock file's flock, which CherryPy sees.
        let (lock, record) = store.lock_and_load(&fresh, None).await.unwrap();
        assert!(record.is_some());
        assert!(names(&sessions).contains(&format!("session-{fresh}.lock")));
        drop(lock);
    });
}

/// Waits (a second at most) until nobody holds `path`'s flock. A lock this test released
/// can still be held for a moment by a child process another test of this binary is
/// starting: between its fork and its exec it has a copy of every descriptor.
fn wait_until_unlocked(path: &Path) {
    let file = fs::File::open(path).unwrap();
    for _ in 0..100 {
        if file.try_lock().is_ok() {
            file.unlock().unwrap();
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{} is still locked", path.display());
}

/// A lock file whose session is gone (left by CherryPy 18.2+, which never removes them,
/// or by a session deleted or regenerated) is removed by the clean-up; one that somebody
/// holds is not, nor one whose session exists.
#[test]
fn clean_up_removes_orphan_lock_files_but_not_held_ones() {
    let (sessions, _) = dirs("orphans");
    let store = FileStore::new(&sessions).unwrap();
    let [orphan, held, live] = [(); 3].map(|()| SessionId::generate());
    let lock_file = |id: &SessionId| sessions.join(format!("session-{id}.lock"));
    fs::write(lock_file(&orphan), b" 1234\n").unwrap();
    let holder = fs::File::create(lock_file(&held)).unwrap();
    holder.lock().unwrap();
    block_on(store.save(&live, record("a", "1", in_an_hour()))).unwrap();
    fs::write(lock_file(&live), b"").unwrap();

    let removed = block_on(store.clean_up(SystemTime::now())).unwrap();
    assert_eq!(removed, 0, "no session expired");
    assert!(!lock_file(&orphan).exists(), "the orphan lock file stays");
    assert!(lock_file(&held).exists(), "a held lock file is removed");
    assert!(
        lock_file(&live).exists(),
        "a live session's lock file is removed"
    );
    drop(holder);
    wait_until_unlocked(&lock_file(&held));
    block_on(store.clean_up(SystemTime::now())).unwrap();
    assert!(
        !lock_file(&held).exists(),
        "released, it is an orphan like the others"
    );
}

/// One file the clean-up cannot read (a pickle of objects outside our data model whose
/// expiration is not where protocols 3 and later put it, a directory, a FIFO) must not
/// keep every expired session for ever: it is skipped and logged, and the clean-up goes
/// on.
#[test]
fn clean_up_skips_what_it_cannot_read_and_goes_on() {
    let (sessions, _) = dirs("unreadable");
    let store = FileStore::new(&sessions).unwrap();
    let foreign = sessions.join(format!("session-{}", "0".repeat(40)));
    let out = Command::new("python3")
        .args([
            "-c",
            "import pickle,sys,datetime; open(sys.argv[1],'wb').write(pickle.dumps(({'s': {1, 2}}, datetime.datetime(2000, 1, 1)), protocol=2))",
        ])
        .arg(&foreign)
        .output()
        .unwrap();
    assert!(out.status.success());
    let directory = sessions.join(format!("session-{}", "1".repeat(40)));
    fs::create_dir(&directory).unwrap();
    let fifo = sessions.join(format!("session-{}", "2".repeat(40)));
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let expired: Vec<_> = (0..3).map(|_| SessionId::generate()).collect();
    let live = SessionId::generate();
    block_on(async {
        for id in &expired {
            store
                .save(id, record("a", "1", an_hour_ago()))
                .await
                .unwrap();
        }
        store
            .save(&live, record("a", "1", in_an_hour()))
            .await
            .unwrap();
    });

    let cleaning = store.clone();
    let removed = within_a_minute(move || block_on(cleaning.clean_up(SystemTime::now())))
        .unwrap()
        .unwrap();
    assert_eq!(removed, 3);
    for id in &expired {
        assert!(!sessions.join(format!("session-{id}")).exists());
    }
    for left in [&foreign, &directory, &fifo] {
        assert!(fs::symlink_metadata(left).is_ok(), "{}", left.display());
    }
    assert!(sessions.join(format!("session-{live}")).exists());
}

/// A FIFO named like a session must not block the request that names it (opening a FIFO
/// for reading waits for a writer): it is not a session, so the id is unknown.
#[test]
fn a_fifo_named_like_a_session_is_an_unknown_session() {
    let (sessions, _) = dirs("fifo");
    let id = "3".repeat(40);
    let fifo = sessions.join(format!("session-{id}"));
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let (_server, port) = probe(&sessions);
    let (status, new_id, body) =
        within_a_minute(move || session_get(port, "/get?key=a", Some(&id))).unwrap();
    assert_eq!((status, body.as_str()), (200, ""));
    assert_ne!(new_id, "3".repeat(40));
}

/// The temporary file of an atomic write had a name anyone could predict (the process id
/// and a counter): a symbolic link planted there made the write truncate and overwrite
/// the file it points at. The victim here stands for any file the server may write.
#[test]
fn a_symlink_at_a_temporary_file_name_is_not_followed() {
    let (sessions, outside) = dirs("tmp-link");
    let victim = outside.join("victim");
    fs::write(&victim, b"precious").unwrap();
    let store = FileStore::new(&sessions).unwrap();
    let id = SessionId::generate();
    // Every name the old scheme could pick in this test process for the next writes.
    for n in 0..2000 {
        let name = format!(".session-{id}.{}.{n}.tmp", std::process::id());
        symlink(&victim, sessions.join(name)).unwrap();
    }
    block_on(store.save(&id, record("a", "1", in_an_hour()))).unwrap();
    assert_eq!(fs::read(&victim).unwrap(), b"precious");
    let stored = fs::symlink_metadata(sessions.join(format!("session-{id}"))).unwrap();
    assert!(stored.is_file(), "the session is a file of its own");
}

/// A symbolic link at a session's lock-file name: following it would create (or lock) a
/// file anywhere. The request goes on as for an unknown session, and nothing outside the
/// directory is created.
#[test]
fn a_symlink_at_a_lock_file_name_is_not_followed() {
    let (sessions, outside) = dirs("lock-link");
    let store = FileStore::new(&sessions).unwrap();
    let id = SessionId::generate();
    block_on(store.save(&id, record("a", "1", in_an_hour()))).unwrap();
    let target = outside.join("created-by-the-server");
    let lock_file = sessions.join(format!("session-{id}.lock"));
    let _ = fs::remove_file(&lock_file);
    symlink(&target, &lock_file).unwrap();
    let (_server, port) = probe(&sessions);
    let (status, new_id, body) = session_get(port, "/get?key=a", Some(id.as_str()));
    assert_eq!(status, 200);
    assert!(!target.exists(), "a file was created through the link");
    assert_ne!(
        new_id,
        id.as_str(),
        "the session cannot be locked: a new one"
    );
    assert_eq!(body, "");
    // The clean-up skips it too, and goes on.
    assert_eq!(block_on(store.clean_up(SystemTime::now())).unwrap(), 0);
    assert!(!target.exists());
}

/// A symbolic link named like a session, pointing at a file that reads as a session (here
/// another directory's session): reading through it leaks that file's data, and a
/// read-only request rewrote its expiry in place.
#[test]
fn a_symlink_named_like_a_session_is_an_unknown_session() {
    let (sessions, outside) = dirs("session-link");
    let elsewhere = FileStore::new(&outside).unwrap();
    let theirs = SessionId::generate();
    block_on(elsewhere.save(&theirs, record("a", "secret", in_an_hour()))).unwrap();
    let victim = outside.join(format!("session-{theirs}"));
    let before = fs::read(&victim).unwrap();
    let id = SessionId::generate();
    symlink(&victim, sessions.join(format!("session-{id}"))).unwrap();

    let (_server, port) = probe(&sessions);
    let (status, new_id, body) = session_get(port, "/get?key=a", Some(id.as_str()));
    assert_eq!((status, body.as_str()), (200, ""), "the linked data leaked");
    assert_ne!(new_id, id.as_str());
    assert_eq!(fs::read(&victim).unwrap(), before, "the victim was written");
}

/// A second hard link to a session file (planted by whoever can write the directory)
/// must not let the in-place expiry rewrite write into the other name's file.
#[test]
fn the_expiry_rewrite_never_writes_through_a_second_link() {
    let (sessions, outside) = dirs("hard-link");
    let store = FileStore::new(&sessions).unwrap();
    let id = SessionId::generate();
    block_on(store.save(&id, record("a", "1", in_an_hour()))).unwrap();
    let path = sessions.join(format!("session-{id}"));
    let victim = outside.join("victim");
    fs::hard_link(&path, &victim).unwrap();
    let before = fs::read(&victim).unwrap();
    block_on(store.touch(
        &id,
        record("a", "1", in_an_hour() + Duration::from_secs(86_400)),
    ))
    .unwrap();
    assert_eq!(fs::read(&victim).unwrap(), before);
    let stored = block_on(store.load(&id)).unwrap().unwrap();
    assert!(stored.expires > in_an_hour(), "the expiry was extended");
}

/// A stored session larger than the budget is never read into memory: its length is
/// known before reading, and it reads as a session we cannot use (`Undecodable`, which
/// the middleware answers as an unknown session, the same as a pickle of objects outside
/// our data model), never as an empty session whose save would overwrite it.
#[test]
fn a_session_file_over_the_budget_is_never_read() {
    let (sessions, _) = dirs("huge");
    let store = FileStore::new(&sessions).unwrap();
    let id = SessionId::generate();
    let path = sessions.join(format!("session-{id}"));
    // Sparse: no disk is spent on it.
    fs::File::create(&path)
        .unwrap()
        .set_len(MAX_SESSION_BYTES as u64 + 1)
        .unwrap();
    let err = block_on(store.load(&id)).expect_err("read as a session");
    assert!(
        matches!(
            err,
            actix_cherrypy::store::StoreError::Undecodable(
                actix_cherrypy::store::PickleError::TooLarge(MAX_SESSION_BYTES)
            )
        ),
        "{err:?}"
    );
    assert_eq!(
        fs::metadata(&path).unwrap().len(),
        MAX_SESSION_BYTES as u64 + 1
    );
}

/// Session and lock files hold what a session id gives access to: no other user of the
/// machine may read them, whatever the umask (CherryPy leaves that to the umask, usually
/// world-readable).
#[test]
fn session_files_are_not_readable_by_other_users() {
    let (sessions, _) = dirs("modes");
    let store = FileStore::new(&sessions).unwrap();
    let id = SessionId::generate();
    block_on(async {
        store
            .save(&id, record("a", "1", in_an_hour()))
            .await
            .unwrap();
        drop(store.lock(&id, None).await.unwrap());
    });
    for name in names(&sessions) {
        let mode = fs::metadata(sessions.join(&name)).unwrap().mode();
        assert_eq!(mode & 0o007, 0, "{name}: {mode:o}");
    }
}

/// In a directory every user may write and nobody owns (no sticky bit), any local user
/// can replace or link session files: the middleware refuses it at startup, naming the
/// directory and the fix. With the sticky bit (like /tmp) it is accepted, with a warning.
#[test]
fn a_world_writable_directory_without_the_sticky_bit_is_refused() {
    let (sessions, _) = dirs("world-writable");
    fs::set_permissions(&sessions, fs::Permissions::from_mode(0o777)).unwrap();
    let conf = file_config(&sessions);
    let err = CherryPySessions::from_file(&conf).expect_err("accepted");
    let text = err.diagnostic().to_string();
    assert!(text.contains(&sessions.display().to_string()), "{text}");
    assert!(text.contains("chmod o-w") && text.contains("+t"), "{text}");
    assert!(text.contains("site.conf:"), "located: {text}");
    fs::set_permissions(&sessions, fs::Permissions::from_mode(0o1777)).unwrap();
    CherryPySessions::from_file(&conf).unwrap();
    assert!(FileStore::new(&sessions).is_ok());
    fs::set_permissions(&sessions, fs::Permissions::from_mode(0o755)).unwrap();
}

/// A directory named like a session, where a request's data or lock would be: the id is
/// an unknown session, not an error on every request.
#[test]
fn a_directory_named_like_a_session_is_an_unknown_session() {
    let (sessions, _) = dirs("session-dir");
    let id = "4".repeat(40);
    fs::create_dir(sessions.join(format!("session-{id}"))).unwrap();
    let (_server, port) = probe(&sessions);
    let reply = get(port, "/get?key=a", Some(&format!("session_id={id}")));
    assert_eq!(reply.status, 200);
    assert_ne!(reply.session_id(), id);
}

/// A lock file removed while another process waits for its `flock` (here another store on
/// the directory, with a file descriptor of its own, as another process has): the waiter
/// then locks the removed file, must notice and start again on the current name, and must
/// leave no lock file behind for the session that is gone.
#[test]
fn a_waiter_on_a_removed_lock_file_leaves_nothing_behind() {
    let (sessions, _) = dirs("removed-while-waiting");
    let [holder, waiter] = [(); 2].map(|()| FileStore::new(&sessions).unwrap());
    let id = SessionId::generate();
    block_on(async {
        holder
            .save(&id, record("a", "1", in_an_hour()))
            .await
            .unwrap();
        let held = holder.lock(&id, None).await.unwrap();
        assert!(names(&sessions).contains(&format!("session-{id}.lock")));
        let waiting = tokio::spawn(async move {
            let (lock, record) = waiter
                .lock_and_load(&id, Some(Duration::from_secs(30)))
                .await
                .unwrap();
            drop(lock);
            record
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!waiting.is_finished());
        // The holder deletes the session and lets go, which removes its lock file.
        holder.delete(&id).await.unwrap();
        drop(held);
        assert!(waiting.await.unwrap().is_none(), "the session is gone");
    });
    assert_eq!(names(&sessions), Vec::<String>::new());
}

/// A lock held for ever (anyone who can open a lock file can `flock` it) must not stop the
/// clean-up: a session whose lock is held is left for the next run, and the others are
/// cleaned meanwhile.
#[test]
fn a_held_lock_does_not_stop_the_clean_up() {
    let (sessions, _) = dirs("held-clean-up");
    let store = FileStore::new(&sessions).unwrap();
    let [busy, idle] = [(); 2].map(|()| SessionId::generate());
    block_on(async {
        for id in [&busy, &idle] {
            store
                .save(id, record("a", "1", an_hour_ago()))
                .await
                .unwrap();
        }
    });
    let holder = fs::File::create(sessions.join(format!("session-{busy}.lock"))).unwrap();
    holder.lock().unwrap();
    let cleaning = store.clone();
    let removed = within_a_minute(move || block_on(cleaning.clean_up(SystemTime::now())))
        .unwrap()
        .unwrap();
    assert_eq!(removed, 1);
    assert!(sessions.join(format!("session-{busy}")).exists());
    drop(holder);
    wait_until_unlocked(&sessions.join(format!("session-{busy}.lock")));
    assert_eq!(block_on(store.clean_up(SystemTime::now())).unwrap(), 1);
    assert_eq!(names(&sessions), Vec::<String>::new());
}

/// A request that holds a session's lock file and removes the session (`regenerate()`,
/// what a login does; `delete()`) removes the lock file with it when it lets go.
#[test]
fn a_regenerated_session_leaves_no_lock_file() {
    let (sessions, _) = dirs("regenerate");
    let (_server, port) = probe(&sessions);
    let (_, old, _) = session_get(port, "/set?key=a&value=1", None);
    assert_eq!(session_get(port, "/get?key=a", Some(&old)).2, "1");
    assert!(names(&sessions).contains(&format!("session-{old}.lock")));
    let (status, new, _) = session_get(port, "/regenerate?touch=1", Some(&old));
    assert_eq!(status, 200);
    assert_ne!(new, old);
    assert_eq!(names(&sessions), vec![format!("session-{new}")]);
}

/// A lock held for ever by someone else (anyone who can open the lock file can `flock` it):
/// each request that gave up waiting for it left a thread blocked in `flock`, until the
/// blocking pool, which saves use too, was full and every save waited for ever.
#[test]
fn requests_that_give_up_on_a_held_lock_do_not_exhaust_the_blocking_pool() {
    let (sessions, _) = dirs("held-for-ever");
    let store = FileStore::new(&sessions).unwrap();
    let held = SessionId::generate();
    block_on(store.save(&held, record("a", "1", in_an_hour()))).unwrap();
    let holder = fs::File::create(sessions.join(format!("session-{held}.lock"))).unwrap();
    holder.lock().unwrap();
    let saved = within_a_minute(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .max_blocking_threads(4)
            .build()
            .unwrap();
        let saved = runtime.block_on(async {
            for _ in 0..8 {
                let refused = store.lock(&held, Some(Duration::from_millis(20))).await;
                assert!(matches!(refused, Err(StoreError::LockTimeout(_))));
            }
            let other = SessionId::generate();
            store.save(&other, record("a", "1", in_an_hour())).await
        });
        // The thread still blocked in `flock` must not hold up the test's end.
        runtime.shutdown_background();
        saved
    });
    saved.expect("a save waits for a blocking thread").unwrap();
    drop(holder);
}
