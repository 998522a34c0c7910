//! Lock files: `session-<id>.lock`, locked with `flock` as CherryPy's lock-file libraries
//! do, so a CherryPy process and ours exclude each other.
//!
//! A lock file can be removed (by a clean-up) while another process has it open and waits
//! for its `flock`: that process then locks a file no one else will open again. So every
//! locker of ours checks, once it holds the `flock`, that the name still leads to the file
//! it locked, and starts again on the current one if not; and a lock file is only ever
//! removed by whoever holds its `flock`.
//!
//! A lock file also carries the lock's busy run (see `store::fair`): a holder of ours that
//! saw the lock busy writes a fixed-length record into it as it lets go (when the run
//! began and when it let go, or, once the run is long, until when the lock is left free).
//! A holder reads it only when the file has that length, which the `fstat` done after
//! every `flock` tells, so a lock file without a record costs nothing more. CherryPy's
//! zc.lockfile writes ` <pid>\n` over it when it takes the lock, which rightly ends the
//! run: CherryPy had its turn. No other file is made for it.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::open::{self, OpenError, Unusable};
use crate::store::fair::{BUSY_RUN, GAP};

/// Why a lock file's `flock` was not taken.
#[derive(Debug)]
pub(super) enum LockError {
    /// Not free within the time allowed.
    TimedOut,
    /// Something that is not a lock file has its name.
    Unusable(Unusable),
    /// The system refused.
    Io(io::Error),
}

impl From<io::Error> for LockError {
    fn from(e: io::Error) -> Self {
        LockError::Io(e)
    }
}

impl From<OpenError> for LockError {
    fn from(e: OpenError) -> Self {
        match e {
            OpenError::Unusable(u) => LockError::Unusable(u),
            OpenError::Io(e) => LockError::Io(e),
            // Opened with `create`: only a directory that vanished gives this.
            OpenError::Missing => LockError::Io(io::ErrorKind::NotFound.into()),
        }
    }
}

/// Where a request waiting for a lock file's `flock` gets it delivered.
type Delivery = tokio::sync::oneshot::Sender<Result<Taken, LockError>>;

/// The threads blocked in `flock`, at most one per lock file. A thread cannot be woken
/// from `flock`, so one whose request gave up (a timeout, a dropped connection) stays
/// blocked until the lock comes free; the next request on the session takes it over
/// instead of starting another. A lock held for ever (by anyone who can open the lock
/// file) then costs one thread, not one per request, and the blocking pool that saves
/// use is not exhausted.
#[derive(Debug, Default)]
pub(super) struct Waits {
    /// The request each blocked thread delivers to: the latest one to wait, if any.
    waiting: Mutex<HashMap<PathBuf, Option<Delivery>>>,
}

impl Waits {
    /// Takes the lock file's `flock`: at once when it is free (the usual case), else on a
    /// blocking thread, where the wait is the kernel's, with no polling. If the caller gives
    /// up and nobody takes its place, a lock obtained later is released at once.
    pub(super) async fn flock(
        self: &Arc<Self>,
        path: PathBuf,
        timeout: Option<Duration>,
    ) -> Result<Taken, LockError> {
        if let Some(file) = try_lock_file(&path)? {
            return Ok(file);
        }
        // Not waiting at all (the clean-up): no thread either.
        if timeout == Some(Duration::ZERO) {
            return Err(LockError::TimedOut);
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        let start_thread = {
            let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
            match waiting.get_mut(&path) {
                Some(delivery) => {
                    *delivery = Some(tx);
                    false
                }
                None => {
                    waiting.insert(path.clone(), Some(tx));
                    true
                }
            }
        };
        if start_thread {
            let waits = Arc::clone(self);
            tokio::task::spawn_blocking(move || {
                let result = lock_file(&path);
                let delivery = waits
                    .waiting
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(&path)
                    .flatten();
                // Nobody waiting any more: dropping the file releases the lock.
                if let Some(tx) = delivery {
                    let _ = tx.send(result);
                }
            });
        }
        let received = match timeout {
            None => rx.await,
            Some(limit) => tokio::time::timeout(limit, rx)
                .await
                .map_err(|_| LockError::TimedOut)?,
        };
        received.map_err(|_| io::Error::other("the lock thread ended"))?
    }
}

/// The lock file, created if need be (never through a symbolic link); readable, for the
/// busy run's record.
fn open_lock_file(path: &Path) -> Result<File, LockError> {
    let (file, _) = open::open(
        path,
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true),
    )?;
    Ok(file)
}

/// The lock file, locked, if no one holds it now and no gap is running.
fn try_lock_file(path: &Path) -> Result<Option<Taken>, LockError> {
    let file = open_lock_file(path)?;
    match file.try_lock() {
        Ok(()) => Ok(locked_state(&file, path).and_then(|st| Taken::inspect(file, st, None).ok())),
        // Held, or removed by a clean-up meanwhile, or in a gap: the blocking path sorts it
        // out.
        Err(fs::TryLockError::WouldBlock) => Ok(None),
        Err(fs::TryLockError::Error(e)) => Err(e.into()),
    }
}

/// Opens and locks the lock file. A lock file removed (by a clean-up) while we waited for
/// it is no longer the one others lock, so the lock is taken again on the current file.
/// During a gap the lock is let go of at once and taken again after it.
fn lock_file(path: &Path) -> Result<Taken, LockError> {
    let mut busy_since = None;
    loop {
        let file = open_lock_file(path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                busy_since.get_or_insert_with(SystemTime::now);
                file.lock()?;
            }
            Err(fs::TryLockError::Error(e)) => return Err(e.into()),
        }
        let Some(state) = locked_state(&file, path) else {
            continue;
        };
        match Taken::inspect(file, state, busy_since) {
            Ok(taken) => return Ok(taken),
            Err(until) => {
                // Never longer than a gap, whatever another host's clock wrote.
                let left = until.duration_since(SystemTime::now()).unwrap_or_default();
                std::thread::sleep(left.min(GAP));
                // Free during the gap: a run that follows starts afresh.
                busy_since = None;
            }
        }
    }
}

/// A lock file's length while it holds a busy run's record: only a file of this length is
/// read. (zc.lockfile's ` <pid>\n` is never as long.)
const RECORD_LEN: u64 = 62;

/// What a holder of ours leaves in the lock file of a busy lock (see `store::fair`).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Record {
    /// The lock has been busy without a break since `since`; its last holder let go at
    /// `freed`.
    Busy {
        since: SystemTime,
        freed: SystemTime,
    },
    /// The lock is left free until `until`.
    Gap { until: SystemTime },
}

impl Record {
    /// `actix-cherrypy busy <since> <freed>\n` or `actix-cherrypy gap  <until> 0…0\n`,
    /// in ms since the epoch, 20 digits each: [`RECORD_LEN`] bytes.
    fn encode(self) -> String {
        let ms = |t: SystemTime| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
        let (kind, a, b) = match self {
            Record::Busy { since, freed } => ("busy", ms(since), ms(freed)),
            Record::Gap { until } => ("gap", ms(until), 0),
        };
        format!("actix-cherrypy {kind:<4} {a:020} {b:020}\n")
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(bytes).ok()?;
        let mut words = text.split_whitespace();
        if words.next()? != "actix-cherrypy" {
            return None;
        }
        let kind = words.next()?;
        let mut time = || {
            let ms: u64 = words.next()?.parse().ok()?;
            Some(UNIX_EPOCH + Duration::from_millis(ms))
        };
        match kind {
            "busy" => Some(Record::Busy {
                since: time()?,
                freed: time()?,
            }),
            "gap" => Some(Record::Gap { until: time()? }),
            _ => None,
        }
    }

    /// The record in `file` (which is [`RECORD_LEN`] long), if it reads as one.
    fn read(file: &File) -> Option<Self> {
        let mut bytes = [0; RECORD_LEN as usize];
        read_at(file, &mut bytes).ok()?;
        Self::decode(&bytes)
    }
}

#[cfg(unix)]
fn read_at(file: &File, bytes: &mut [u8]) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, bytes, 0)
}

#[cfg(unix)]
fn write_at(file: &File, bytes: &[u8]) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, bytes, 0)
}

#[cfg(not(unix))]
fn read_at(mut file: &File, bytes: &mut [u8]) -> io::Result<()> {
    use std::io::{Read, Seek};
    file.seek(io::SeekFrom::Start(0))?;
    file.read_exact(bytes)
}

#[cfg(not(unix))]
fn write_at(mut file: &File, bytes: &[u8]) -> io::Result<()> {
    use std::io::{Seek, Write};
    file.seek(io::SeekFrom::Start(0))?;
    file.write_all(bytes)
}

/// A lock file's `flock`, just taken, with the busy run it carries on.
#[derive(Debug)]
pub(super) struct Taken {
    file: File,
    /// The file's length when it was taken.
    len: u64,
    /// Whether the busy run may be written into it (see [`LockFileState::writable`]).
    writable: bool,
    /// When it was taken.
    at: SystemTime,
    /// Since when the lock has been busy without a break, if it has as far as we know:
    /// the run its record carries on, or since this holder started waiting.
    busy_since: Option<SystemTime>,
}

impl Taken {
    /// `file`, locked, in `state`, whose record (if any) shows no gap running; else the
    /// gap's end (and `file` is let go of).
    fn inspect(
        file: File,
        state: LockFileState,
        waited_since: Option<SystemTime>,
    ) -> Result<Self, SystemTime> {
        let LockFileState { len, writable } = state;
        let at = SystemTime::now();
        let mut busy_since = waited_since;
        match (len == RECORD_LEN).then(|| Record::read(&file)).flatten() {
            // A gap ends at most one gap from now: a later end (another host's clock
            // ahead of ours, or a record anyone with access to the directory wrote) would
            // hold every waiter of ours until then, so it is not waited for.
            Some(Record::Gap { until })
                if until
                    .duration_since(at)
                    .is_ok_and(|left| !left.is_zero() && left <= GAP) =>
            {
                return Err(until);
            }
            // Let go of less than a gap ago: the run goes on. (A `freed` ahead of this
            // host's clock counts as just now.)
            Some(Record::Busy { since, freed })
                if at.duration_since(freed).map_or(true, |d| d < GAP) =>
            {
                busy_since = Some(busy_since.map_or(since, |b| b.min(since)));
            }
            _ => {}
        }
        Ok(Self {
            file,
            len,
            writable,
            at,
            busy_since,
        })
    }
}

/// Removes a lock file whose session file is gone, if its `flock` is free now (a holder,
/// or anyone waiting for it in this process, keeps it). Under the `flock`, the name must
/// still lead to the file locked and the session must still be absent. Never creates the
/// lock file. `Ok(true)` when it was removed.
pub(super) fn remove_orphan(lock: &Path, session: &Path) -> Result<bool, LockError> {
    let file = match open::open(lock, OpenOptions::new().read(true)) {
        Ok((file, _)) => file,
        Err(OpenError::Missing) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => return Ok(false),
        Err(fs::TryLockError::Error(e)) => return Err(e.into()),
    }
    if !same_file(&file, lock) || open::is_regular(session) {
        return Ok(false);
    }
    fs::remove_file(lock)?;
    Ok(true)
}

/// A held `flock` on a session's lock file. Dropping it releases the lock, after removing
/// the lock file if the session is gone by then (the holder deleted or regenerated it), so
/// that no lock file outlives its session.
pub(super) struct FileLock {
    taken: Taken,
    lock: PathBuf,
    session: PathBuf,
}

impl FileLock {
    /// `taken` was opened from `lock`, the lock file of the session file `session`.
    pub(super) fn new(taken: Taken, lock: PathBuf, session: PathBuf) -> Self {
        Self {
            taken,
            lock,
            session,
        }
    }

    /// Leaves the busy run in the lock file for the next holder: when it began and now, or
    /// a gap once it is long. A lock never seen busy writes nothing (it only clears a
    /// record left from an earlier run, so that the next holder need not read it).
    fn leave_run(&self) {
        let now = SystemTime::now();
        let record = match self.taken.busy_since {
            Some(since) if now.duration_since(since).is_ok_and(|d| d >= BUSY_RUN) => {
                Record::Gap { until: now + GAP }
            }
            Some(since) => Record::Busy { since, freed: now },
            None => {
                if self.taken.writable && self.taken.len == RECORD_LEN {
                    let _ = self.taken.file.set_len(0);
                }
                return;
            }
        };
        if self.taken.writable {
            // A failure only costs fairness, never exclusion: the next holder finds no
            // record.
            let _ = write_at(&self.taken.file, record.encode().as_bytes());
        }
    }
}

impl crate::store::session_lock::Release for FileLock {
    fn release(self: Box<Self>) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        drop(self);
        Box::pin(std::future::ready(()))
    }

    fn handed_over(&mut self) {
        self.taken.busy_since.get_or_insert(self.taken.at);
    }

    fn gap_due(&self) -> bool {
        self.taken
            .busy_since
            .is_some_and(|since| since.elapsed().is_ok_and(|d| d >= BUSY_RUN))
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        if open::is_regular(&self.session) {
            self.leave_run();
        } else {
            remove_held(&self.taken.file, &self.lock);
        }
        // Closing the file (next) releases the `flock`.
    }
}

/// Removes the lock file `file` was opened from, if the name still leads to it: for a
/// holder of its `flock` that found the session gone.
pub(super) fn remove_held(file: &File, lock: &Path) {
    if same_file(file, lock) {
        let _ = fs::remove_file(lock);
    }
}

/// Whether `path` still leads to `file`.
fn same_file(file: &File, path: &Path) -> bool {
    locked_state(file, path).is_some()
}

/// What a lock file holds that matters to its busy-run record.
#[derive(Clone, Copy, Debug)]
struct LockFileState {
    len: u64,
    /// Whether a record may be written into it: it has one name (a hard link could make it
    /// another file of the server's user, which anyone who can write to the directory
    /// could name `session-<id>.lock`), and no more than a record's bytes (ours, CherryPy's
    /// pid, or nothing: longer content is not a lock file's, and is left as it is). A lock
    /// file that cannot take a record only loses the gaps, never exclusion.
    writable: bool,
}

/// `file`'s state, if `path` still leads to it.
#[cfg(unix)]
fn locked_state(file: &File, path: &Path) -> Option<LockFileState> {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) if a.dev() == b.dev() && a.ino() == b.ino() => Some(LockFileState {
            len: a.len(),
            writable: a.nlink() == 1 && a.len() <= RECORD_LEN,
        }),
        _ => None,
    }
}

#[cfg(not(unix))]
fn locked_state(file: &File, path: &Path) -> Option<LockFileState> {
    let len = file.metadata().map_or(0, |m| m.len());
    path.exists().then_some(LockFileState {
        len,
        writable: len <= RECORD_LEN,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::session_lock::Release;

    fn at_ms(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(ms)
    }

    #[test]
    fn records_have_one_length_and_read_back() {
        for record in [
            Record::Busy {
                since: at_ms(1_780_000_000_123),
                freed: at_ms(1_780_000_001_456),
            },
            Record::Gap {
                until: at_ms(1_780_000_002_789),
            },
        ] {
            let text = record.encode();
            assert_eq!(text.len() as u64, RECORD_LEN, "{text:?}");
            assert_eq!(Record::decode(text.as_bytes()), Some(record));
        }
        // zc.lockfile's content is not a record.
        assert_eq!(Record::decode(b" 12345\n"), None);
    }

    /// A lock taken at once and let go without anyone waiting writes nothing; one handed to
    /// another request of the process leaves its run, which the next holder carries on; a
    /// run as long as `BUSY_RUN` leaves a gap, which the next holder waits out.
    #[tokio::test]
    async fn a_busy_run_is_carried_in_the_lock_file_and_ends_in_a_gap() {
        let dir = tempfile::tempdir().unwrap();
        let (lock, session) = (dir.path().join("s.lock"), dir.path().join("s"));
        fs::write(&session, b"data").unwrap();
        let waits = Arc::new(Waits::default());
        let take = || async {
            let taken = waits.flock(lock.clone(), None).await.unwrap();
            FileLock::new(taken, lock.clone(), session.clone())
        };
        drop(take().await);
        assert_eq!(fs::metadata(&lock).unwrap().len(), 0);

        let mut held = take().await;
        held.handed_over();
        assert!(!held.gap_due());
        drop(held);
        let text = fs::read_to_string(&lock).unwrap();
        assert!(text.starts_with("actix-cherrypy busy "), "{text:?}");
        let held = take().await;
        assert!(
            held.taken.busy_since.is_some(),
            "the run was not carried on"
        );
        drop(held);

        let mut held = take().await;
        held.taken.busy_since = Some(SystemTime::now() - BUSY_RUN);
        assert!(held.gap_due());
        drop(held);
        let text = fs::read_to_string(&lock).unwrap();
        assert!(text.starts_with("actix-cherrypy gap "), "{text:?}");
        let asked = std::time::Instant::now();
        let held = take().await;
        let waited = asked.elapsed();
        assert!(
            waited >= GAP - Duration::from_millis(20) && waited < GAP * 3,
            "{waited:?}"
        );
        // Free during the gap: the run starts afresh, and the stale record is cleared.
        assert_eq!(held.taken.busy_since, None);
        drop(held);
        assert_eq!(fs::metadata(&lock).unwrap().len(), 0);
    }

    /// Anyone who can write to the storage directory can name a lock file: one with another
    /// name (a hard link to some file of the server's user) or longer than a record is
    /// locked as usual but never written, so no file but a lock file is changed.
    #[cfg(unix)]
    #[tokio::test]
    async fn a_busy_run_is_not_written_into_a_file_that_is_not_only_a_lock_file() {
        let dir = tempfile::tempdir().unwrap();
        let session = dir.path().join("s");
        fs::write(&session, b"data").unwrap();
        let precious = dir.path().join("precious");
        let linked = dir.path().join("linked.lock");
        fs::write(&precious, b"x").unwrap();
        fs::hard_link(&precious, &linked).unwrap();
        let long = dir.path().join("long.lock");
        let content = "y".repeat(RECORD_LEN as usize + 1);
        fs::write(&long, &content).unwrap();
        let waits = Arc::new(Waits::default());
        for lock in [&linked, &long] {
            let taken = waits.flock(lock.clone(), None).await.unwrap();
            let mut held = FileLock::new(taken, lock.clone(), session.clone());
            held.handed_over();
            drop(held);
        }
        assert_eq!(fs::read(&precious).unwrap(), b"x");
        assert_eq!(fs::read_to_string(&long).unwrap(), content);
    }

    #[tokio::test]
    async fn a_gap_that_would_end_later_than_one_gap_from_now_is_not_waited_for() {
        let dir = tempfile::tempdir().unwrap();
        let (lock, session) = (dir.path().join("s.lock"), dir.path().join("s"));
        fs::write(&session, b"data").unwrap();
        let far = Record::Gap {
            until: SystemTime::now() + Duration::from_secs(3600),
        };
        fs::write(&lock, far.encode()).unwrap();
        let waits = Arc::new(Waits::default());
        let asked = std::time::Instant::now();
        let taken = waits.flock(lock.clone(), None);
        let taken = tokio::time::timeout(Duration::from_secs(2), taken)
            .await
            .expect("the far gap held the lock")
            .unwrap();
        assert!(asked.elapsed() < GAP, "{:?}", asked.elapsed());
        assert_eq!(taken.busy_since, None);
    }
}
