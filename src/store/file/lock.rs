//! Lock files: `session-<id>.lock`, locked with `flock` as CherryPy's lock-file libraries
//! do, so a CherryPy process and ours exclude each other.
//!
//! A lock file can be removed (by a clean-up) while another process has it open and waits
//! for its `flock`: that process then locks a file no one else will open again. So every
//! locker of ours checks, once it holds the `flock`, that the name still leads to the file
//! it locked, and starts again on the current one if not; and a lock file is only ever
//! removed by whoever holds its `flock`.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::open::{self, OpenError, Unusable};

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
type Delivery = tokio::sync::oneshot::Sender<Result<File, LockError>>;

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
    ) -> Result<File, LockError> {
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

/// The lock file, created if need be (never through a symbolic link).
fn open_lock_file(path: &Path) -> Result<File, LockError> {
    let (file, _) = open::open(
        path,
        OpenOptions::new().create(true).truncate(false).write(true),
    )?;
    Ok(file)
}

/// The lock file, locked, if no one holds it now.
fn try_lock_file(path: &Path) -> Result<Option<File>, LockError> {
    let file = open_lock_file(path)?;
    match file.try_lock() {
        Ok(()) if same_file(&file, path) => Ok(Some(file)),
        // Removed by a clean-up meanwhile, or held: the blocking path sorts it out.
        Ok(()) | Err(fs::TryLockError::WouldBlock) => Ok(None),
        Err(fs::TryLockError::Error(e)) => Err(e.into()),
    }
}

/// Opens and locks the lock file. A lock file removed (by a clean-up) while we waited for
/// it is no longer the one others lock, so the lock is taken again on the current file.
fn lock_file(path: &Path) -> Result<File, LockError> {
    loop {
        let file = open_lock_file(path)?;
        file.lock()?;
        if same_file(&file, path) {
            return Ok(file);
        }
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
    file: File,
    lock: PathBuf,
    session: PathBuf,
}

impl FileLock {
    /// `file`, locked, was opened from `lock`, the lock file of the session file `session`.
    pub(super) fn new(file: File, lock: PathBuf, session: PathBuf) -> Self {
        Self {
            file,
            lock,
            session,
        }
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        if !open::is_regular(&self.session) {
            remove_held(&self.file, &self.lock);
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

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &File, path: &Path) -> bool {
    path.exists()
}
