//! Sessions as files, compatible with CherryPy 18's `FileSession` (spec: sessions §8, §10–12):
//! `session-<id>` in the storage directory holds a pickle of `(data, expiration)` with a naive
//! local-time `datetime`; `session-<id>.lock` is locked with `flock`, as CherryPy's lock-file
//! library does, so a CherryPy process and ours exclude each other on the same directory.
//!
//! Unlike CherryPy, writes are atomic (a temporary file in the same directory, fsync,
//! rename), and the clean-up removes an expired session's lock file with it.
//! A process killed mid-write leaves its temporary file (`.session-<id>.<pid>.<n>.tmp`):
//! hidden, so neither CherryPy (which counts and cleans `session-*`) nor we take it for a
//! session, and removed by the clean-up once it is 10 minutes old.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use super::codec::{self, backend, is_garbage};
use super::lock_table::LocalLock;
use super::pickle;
use super::{LockTable, Record, SessionLock, SessionStore, StoreError};
use crate::session_id::SessionId;

/// CherryPy's file names: `session-<id>` and `session-<id>.lock`.
const PREFIX: &str = "session-";
const LOCK_SUFFIX: &str = ".lock";
/// Temporary files are `.session-<id>.<pid>.<n>.tmp`: hidden, and never a session's name.
const TMP_SUFFIX: &str = ".tmp";
/// A temporary file this old was left by a process killed mid-write; no write takes so long.
const STALE_TMP: Duration = Duration::from_secs(10 * 60);

/// Sessions in a directory, shared with any CherryPy process that uses the same one.
#[derive(Clone, Debug)]
pub struct FileStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    /// Requests of this process queue here before the lock file ([`LockTable`]).
    locks: LockTable,
}

impl FileStore {
    /// A store in `dir`, made absolute against the working directory (as CherryPy does).
    /// The directory must exist: CherryPy never creates it.
    pub fn new(dir: impl AsRef<Path>) -> std::io::Result<Self> {
        let dir = std::path::absolute(dir.as_ref())?;
        if !dir.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{} is not a directory", dir.display()),
            ));
        }
        Ok(Self {
            inner: Arc::new(Inner {
                dir,
                locks: LockTable::default(),
            }),
        })
    }

    /// Starts CherryPy's clean-up: every `every`, expired sessions (and their lock files) are
    /// removed under their locks. The task ends by itself once every clone is dropped.
    pub fn spawn_clean_up(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                let store = FileStore { inner };
                if let Err(err) = store.clean_up(SystemTime::now()).await {
                    log::error!(
                        "session clean-up in {} failed: {err}",
                        store.dir().display()
                    );
                }
            }
        })
    }

    /// The storage directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The data file of a session. Only a validated 40-hex id ever reaches a path, so no
    /// cookie can name a file outside the directory (CherryPy's CVE-2008-0252).
    fn data_path(&self, id: &SessionId) -> PathBuf {
        self.inner.dir.join(format!("{PREFIX}{id}"))
    }

    fn lock_path(&self, id: &SessionId) -> PathBuf {
        self.inner.dir.join(format!("{PREFIX}{id}{LOCK_SUFFIX}"))
    }

    fn read(&self, id: &SessionId) -> Result<Option<Record>, StoreError> {
        let bytes = match fs::read(self.data_path(id)) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(backend(e)),
        };
        match codec::decode(&bytes) {
            Ok(record) => Ok(Some(record)),
            Err(err) if is_garbage(&err) => {
                // CherryPy reads an empty or truncated file as no data; so do we, loudly.
                log::warn!(
                    "session file {} cannot be read ({err}); treated as empty",
                    self.data_path(id).display()
                );
                Ok(Some(Record {
                    data: Default::default(),
                    expires: SystemTime::UNIX_EPOCH,
                }))
            }
            // A session we cannot read back (over the budget, or an object CherryPy
            // stored): the middleware opens it as an unknown one and never writes it.
            Err(err) => Err(StoreError::Undecodable(err)),
        }
    }

    fn write(&self, id: &SessionId, record: &Record) -> Result<(), StoreError> {
        let bytes = codec::encode(record)?;
        let path = self.data_path(id);
        // Unique per write: two writers never share a temporary file.
        static WRITES: AtomicU64 = AtomicU64::new(0);
        let n = WRITES.fetch_add(1, Ordering::Relaxed);
        let tmp = self.inner.dir.join(format!(
            ".{PREFIX}{id}.{}.{n}{TMP_SUFFIX}",
            std::process::id()
        ));
        let result = (|| {
            let mut file = File::create(&tmp)?;
            file.write_all(&bytes)?;
            // The data must be on disk before the rename makes it the session's.
            file.sync_data()?;
            fs::rename(&tmp, &path)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result.map_err(backend)
    }

    #[cfg(not(unix))]
    fn write_expiry(&self, _: &SessionId, _: SystemTime) -> Result<bool, StoreError> {
        Ok(false)
    }

    /// Rewrites the expiration in place when the file ends the way our pickler and
    /// CherryPy's (protocol 3+) end it; `false` when it does not (or is gone), and nothing
    /// was written. Ten bytes in one sector: a crash leaves the old or the new expiration,
    /// and the data is never rewritten, so no temporary file and no fsync are needed, and
    /// a read-only request costs a few system calls on cached pages.
    #[cfg(unix)]
    fn write_expiry(&self, id: &SessionId, expires: SystemTime) -> Result<bool, StoreError> {
        use std::os::unix::fs::FileExt;
        /// The tail [`pickle::expiry::state_offset`] reads, with room to spare.
        const TAIL: u64 = 32;
        let state = pickle::expiry::state(codec::to_local(expires)).map_err(backend)?;
        let file = match OpenOptions::new()
            .read(true)
            .write(true)
            .open(self.data_path(id))
        {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(backend(e)),
        };
        let len = file.metadata().map_err(backend)?.len();
        let start = len.saturating_sub(TAIL);
        let mut tail = vec![0; (len - start) as usize];
        file.read_exact_at(&mut tail, start).map_err(backend)?;
        let Some(offset) = pickle::expiry::state_offset(&tail) else {
            return Ok(false);
        };
        let at = start + offset as u64;
        // Across a sector boundary the write could tear in a crash: write it all instead.
        if at / 512 != (at + 9) / 512 {
            return Ok(false);
        }
        file.write_all_at(&state, at).map_err(backend)?;
        Ok(true)
    }

    fn remove(&self, id: &SessionId) -> Result<(), StoreError> {
        match fs::remove_file(self.data_path(id)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(backend(e)),
        }
    }
}

/// A temporary file of ours that a killed process left behind.
fn is_stale_tmp(entry: &fs::DirEntry, now: SystemTime) -> bool {
    let name = entry.file_name();
    let ours = name
        .to_str()
        .is_some_and(|n| n.starts_with(&format!(".{PREFIX}")) && n.ends_with(TMP_SUFFIX));
    ours && entry
        .metadata()
        .and_then(|m| m.modified())
        .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age > STALE_TMP))
}

/// A held `flock` on `session-<id>.lock`; closing the file releases it.
struct FileLock {
    _file: File,
}

/// Takes the lock file's `flock`: at once when it is free (the usual case), else on a
/// blocking thread, where the wait is the kernel's, with no polling. If the caller gives up
/// (timeout, dropped request), a lock obtained later is released at once.
async fn flock(path: PathBuf, timeout: Option<Duration>) -> Result<File, std::io::Error> {
    if let Some(file) = try_lock_file(&path)? {
        return Ok(file);
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::task::spawn_blocking(move || {
        // Nobody waiting any more: dropping the file releases the lock.
        let _ = tx.send(lock_file(&path));
    });
    let received = match timeout {
        None => rx.await,
        Some(limit) => tokio::time::timeout(limit, rx)
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "lock timeout"))?,
    };
    received.map_err(|_| std::io::Error::other("the lock thread ended"))?
}

/// The lock file, locked, if no one holds it now.
fn try_lock_file(path: &Path) -> std::io::Result<Option<File>> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    match file.try_lock() {
        Ok(()) if same_file(&file, path) => Ok(Some(file)),
        // Removed by a clean-up meanwhile, or held: the blocking path sorts it out.
        Ok(()) | Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

/// Opens and locks the lock file. A lock file removed (by a clean-up) while we waited for
/// it is no longer the one others lock, so the lock is taken again on the current file.
fn lock_file(path: &Path) -> std::io::Result<File> {
    loop {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        file.lock()?;
        if same_file(&file, path) {
            return Ok(file);
        }
    }
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &File, path: &Path) -> bool {
    path.exists()
}

impl FileStore {
    /// This process's lock on the session, then the lock file's `flock` (unless a previous
    /// holder in this process handed it over).
    async fn local_and_file_lock(
        &self,
        id: &SessionId,
        timeout: Option<Duration>,
    ) -> Result<LocalLock, StoreError> {
        let path = self.lock_path(id);
        let id = *id;
        let take = |left| async move {
            match flock(path, left).await {
                Ok(file) => Ok(SessionLock::new(FileLock { _file: file })),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                    Err(StoreError::LockTimeout(id))
                }
                Err(e) => Err(backend(e)),
            }
        };
        self.inner.locks.lock_with_outer(&id, timeout, take).await
    }
}

impl SessionStore for FileStore {
    async fn load(&self, id: &SessionId) -> Result<Option<Record>, StoreError> {
        self.read(id)
    }

    /// On a blocking thread: the `fsync` takes milliseconds, which would hold up every
    /// other request of the worker.
    async fn save(&self, id: &SessionId, record: Record) -> Result<(), StoreError> {
        let (store, id) = (self.clone(), *id);
        tokio::task::spawn_blocking(move || store.write(&id, &record))
            .await
            .map_err(backend)?
    }

    /// The expiration's bytes in place (see `write_expiry`) when the file allows it,
    /// else a full [`Self::save`].
    async fn touch(&self, id: &SessionId, record: Record) -> Result<(), StoreError> {
        if self.write_expiry(id, record.expires)? {
            return Ok(());
        }
        self.save(id, record).await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.remove(id)
    }

    async fn exists(&self, id: &SessionId) -> Result<bool, StoreError> {
        Ok(self.data_path(id).exists())
    }

    async fn lock(
        &self,
        id: &SessionId,
        timeout: Option<Duration>,
    ) -> Result<SessionLock, StoreError> {
        Ok(self
            .local_and_file_lock(id, timeout)
            .await?
            .into_session_lock())
    }

    async fn clean_up(&self, now: SystemTime) -> Result<usize, StoreError> {
        let mut removed = 0;
        for entry in fs::read_dir(&self.inner.dir).map_err(backend)? {
            let entry = entry.map_err(backend)?;
            let name = entry.file_name();
            if is_stale_tmp(&entry, now) {
                let _ = fs::remove_file(entry.path());
                continue;
            }
            let Some(id) = name
                .to_str()
                .and_then(|n| n.strip_prefix(PREFIX))
                .and_then(SessionId::parse)
            else {
                continue;
            };
            // Under the session's lock, as CherryPy does, so a request using it is not cut off.
            let mut lock = self.local_and_file_lock(&id, None).await?;
            if let Some(record) = self.read(&id)?
                && record.expires < now
            {
                self.remove(&id)?;
                // Nobody holds the lock but us: the lock file can go too (CherryPy 18.2+
                // leaves them for ever, its issue #1855). The next holder, even one of this
                // process, must then lock the file that replaces it.
                lock.release_outer_on_drop();
                let _ = fs::remove_file(self.lock_path(&id));
                removed += 1;
            }
            drop(lock);
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// `pickle.dumps(({'s': {1, 2}}, datetime.datetime(2026, 11, 28, 6, 20, 30, 573855)), protocol=5)`
    #[test]
    fn a_set_is_outside_the_model() {
        let bytes = hex(
            "8005953b000000000000007d948c0173948f94284b014b0290738c086461746574696d65948c086461746574696d65949394430a07ea0b1c06141e08bd9f948594529486942e",
        );
        let err = codec::decode(&bytes).unwrap_err();
        assert!(!is_garbage(&err), "{err}");
    }

    /// Temporary files left by a killed writer go at the next clean-up; a fresh one (a
    /// write in progress, maybe by another process) stays.
    #[tokio::test]
    async fn clean_up_removes_stale_temporary_files() {
        let dir = std::env::temp_dir().join(format!("actix-cherrypy-tmp-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let id = SessionId::generate();
        let stale = dir.join(format!(".{PREFIX}{id}.1.0{TMP_SUFFIX}"));
        let fresh = dir.join(format!(".{PREFIX}{id}.1.1{TMP_SUFFIX}"));
        let other = dir.join("notes.tmp");
        for path in [&stale, &fresh, &other] {
            fs::write(path, b"partial").unwrap();
        }
        let old = SystemTime::now() - STALE_TMP - Duration::from_secs(1);
        for path in [&stale, &other] {
            File::options()
                .write(true)
                .open(path)
                .unwrap()
                .set_modified(old)
                .unwrap();
        }
        let store = FileStore::new(&dir).unwrap();
        store.clean_up(SystemTime::now()).await.unwrap();
        assert!(!stale.exists());
        assert!(fresh.exists() && other.exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
