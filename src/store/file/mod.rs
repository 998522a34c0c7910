//! Sessions as files, compatible with CherryPy 18's `FileSession`:
//! `session-<id>` in the storage directory holds a pickle of `(data, expiration)` with a naive
//! local-time `datetime`; `session-<id>.lock` is locked with `flock`, as CherryPy's lock-file
//! library does, so a CherryPy process and ours exclude each other on the same directory.
//!
//! Unlike CherryPy, writes are atomic (a temporary file in the same directory, fsync,
//! rename), and no lock file is left without its session: a session that does not exist
//! (a new id, or a cookie's id that nobody knows) is locked in this process only, since no
//! other process can know its id before its cookie is sent, which is after the save that
//! creates it; a holder that leaves its session gone (`delete()`, `regenerate()`) removes
//! the lock file as it lets go; and the clean-up removes the lock files whose session is
//! gone (with the session when it expires, and those CherryPy 18.2+ leaves for ever, its
//! issue #1855).
//! A process killed mid-write leaves its temporary file (`.session-<id>.<random>.tmp`):
//! hidden, so neither CherryPy (which counts and cleans `session-*`) nor we take it for a
//! session, and removed by the clean-up once it is 10 minutes old.
//!
//! The directory may be writable by other local users: see [`open`] for how its files are
//! opened, and [`open::check_directory`] for the directories refused at startup.

mod clean;
mod data;
mod lock;
mod open;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::codec::{self, backend};
use super::lock_table::LocalLock;
use super::{ErrorChain, LockTable, Record, SessionLock, SessionStore, StoreError, short};
use crate::session_id::SessionId;
use data::{Touched, without_path};
use lock::LockError;
use open::Unusable;

/// CherryPy's file names: `session-<id>` and `session-<id>.lock`.
const PREFIX: &str = "session-";
const LOCK_SUFFIX: &str = ".lock";
/// Temporary files are `.session-<id>.<random>.tmp`: hidden, and never a session's name.
const TMP_SUFFIX: &str = ".tmp";
/// A temporary file this old was left by a process killed mid-write; no write takes so long.
const STALE_TMP: Duration = Duration::from_secs(10 * 60);

/// Sessions in a directory, shared with any CherryPy process that uses the same one.
///
/// ```
/// use std::time::{Duration, SystemTime};
///
/// use actix_cherrypy::session_id::SessionId;
/// use actix_cherrypy::session_value::{SessionData, SessionValue};
/// use actix_cherrypy::store::{FileStore, Record, SessionStore};
///
/// # actix_web::rt::System::new().block_on(async {
/// let dir = std::env::temp_dir().join("actix-cherrypy-doc-sessions");
/// std::fs::create_dir_all(&dir).unwrap();
/// let store = FileStore::new(&dir).unwrap();
/// let id = SessionId::generate();
/// let mut data = SessionData::new();
/// data.insert("user".into(), SessionValue::Str("ann".into()));
/// let expires = SystemTime::now() + Duration::from_secs(3600);
/// let lock = store.lock(&id, None).await.unwrap();
/// store.save(&id, Record { data: data.clone(), expires }).await.unwrap();
/// drop(lock);
/// // CherryPy's own file name, readable by its FileSession.
/// assert!(dir.join(format!("session-{id}")).exists());
/// assert_eq!(store.load(&id).await.unwrap().unwrap().data, data);
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct FileStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    /// Requests of this process queue here before the lock file ([`LockTable`]).
    locks: LockTable,
    /// The threads waiting for lock files' `flock`.
    waits: Arc<lock::Waits>,
}

/// How a session's lock was taken.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Held {
    /// Handed over by the previous holder in this process, with its lock file's `flock`.
    HandedOver,
    /// The lock file's `flock`, taken now.
    File,
    /// This process's lock alone: the session file does not exist.
    InProcess,
}

impl FileStore {
    /// A store in `dir`, made absolute against the working directory (as CherryPy does).
    /// The directory must exist: CherryPy never creates it. A directory every user may
    /// write is refused unless it has the sticky bit (then a warning is logged): there
    /// any local user could replace the server's files with links.
    pub fn new(dir: impl AsRef<Path>) -> std::io::Result<Self> {
        let (store, shared) = Self::open(dir)?;
        if let Some(shared) = shared {
            tracing::warn!("{shared}");
        }
        Ok(store)
    }

    /// [`FileStore::new`], the warning about a directory every user may write returned
    /// rather than logged (the middleware locates it at the config line).
    pub(crate) fn open(dir: impl AsRef<Path>) -> std::io::Result<(Self, Option<String>)> {
        let dir = std::path::absolute(dir.as_ref())?;
        if !dir.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{} is not a directory", dir.display()),
            ));
        }
        let shared = open::check_directory(&dir)?;
        // A directory the process cannot write is found now, at startup, rather than as a
        // 500 on every request that saves: write a temporary file and let it go.
        tempfile::Builder::new()
            .prefix(".write-probe.")
            .tempfile_in(&dir)
            .map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!("{} is not writable: {}", dir.display(), without_path(e)),
                )
            })?;
        let store = Self {
            inner: Arc::new(Inner {
                dir,
                locks: LockTable::default(),
                waits: Arc::default(),
            }),
        };
        Ok((store, shared))
    }

    /// Starts CherryPy's clean-up: every `every`, expired sessions (and their lock files) are
    /// removed under their locks. The task ends by itself once every clone is dropped.
    pub fn spawn_clean_up(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(&self.inner);
        super::spawn_clean_up(every, move || {
            weak.upgrade().map(|inner| FileStore { inner })
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
}

/// A lock error as the store reports it.
fn lock_error(id: SessionId, e: LockError) -> StoreError {
    match e {
        LockError::TimedOut => StoreError::LockTimeout(id),
        LockError::Unusable(why) => backend(why),
        LockError::Io(e) => backend(e),
    }
}

/// Whether the store failed because something that is not a lock file has the name of one.
fn is_unusable_lock_file(e: &StoreError) -> bool {
    matches!(e, StoreError::Backend(b) if b.downcast_ref::<Unusable>().is_some())
}

impl FileStore {
    /// This process's lock on the session, then the lock file's `flock` (unless a previous
    /// holder in this process handed it over), if the session file exists. If it does not,
    /// this process's lock is all there is to take: the id is new, or nobody knows it, and
    /// no lock file is created for it. `true` when the `flock` is held.
    ///
    /// A request may then create the session file under this process's lock alone: its
    /// save is its last step, and until its cookie goes out the only other processes that
    /// can meet the id are clean-ups listing the directory, which lock the file they find
    /// (the rename makes it whole at once) and leave it, unexpired. Such a lock is never
    /// handed to the next holder in this process, who checks for the file again.
    async fn lock_session(
        &self,
        id: &SessionId,
        timeout: Option<Duration>,
    ) -> Result<(LocalLock, bool), StoreError> {
        let (data, lock) = (self.data_path(id), self.lock_path(id));
        let waits = Arc::clone(&self.inner.waits);
        let id = *id;
        let mut held = Held::HandedOver;
        let held_ref = &mut held;
        let take = move |left| async move {
            if !open::is_regular(&data) {
                *held_ref = Held::InProcess;
                return Ok(SessionLock::new(()));
            }
            let taken = waits
                .flock(lock.clone(), left)
                .await
                .map_err(|e| lock_error(id, e))?;
            let gone = !open::is_regular(&data);
            let file_lock = lock::FileLock::new(taken, lock, data);
            // Removed (expired, deleted) while we waited: its lock file goes too (as
            // `file_lock` lets go), and this process's lock is enough, as for any session
            // that does not exist.
            if gone {
                drop(file_lock);
                *held_ref = Held::InProcess;
                return Ok(SessionLock::new(()));
            }
            *held_ref = Held::File;
            Ok(SessionLock::releasing(file_lock))
        };
        let mut local = self
            .inner
            .locks
            .lock_with_outer(&id, timeout, false, take)
            .await?;
        if held == Held::InProcess {
            // Never handed over: the next holder may find the session file created by
            // then, and must take its lock file.
            local.release_outer_on_drop();
        }
        Ok((local, held != Held::InProcess))
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

    /// The expiration's bytes in place (see `write_expiry`) when the file allows it, else
    /// a full [`Self::save`]; nothing when the file is gone.
    async fn touch(&self, id: &SessionId, record: Record) -> Result<(), StoreError> {
        match self.write_expiry(id, record.expires)? {
            Touched::InPlace | Touched::Gone => Ok(()),
            Touched::RewriteNeeded => self.save(id, record).await,
        }
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.remove(id)
    }

    /// Anything with the session's name counts, so a new id never takes a name that
    /// something already has.
    async fn exists(&self, id: &SessionId) -> Result<bool, StoreError> {
        Ok(fs::symlink_metadata(self.data_path(id)).is_ok())
    }

    async fn lock(
        &self,
        id: &SessionId,
        timeout: Option<Duration>,
    ) -> Result<SessionLock, StoreError> {
        let (local, _) = self.lock_session(id, timeout).await?;
        Ok(local.into_session_lock())
    }

    /// No record exactly when no lock file is held: a session that does not exist is
    /// locked in this process only, and the caller gives the request a new id.
    async fn lock_and_load(
        &self,
        id: &SessionId,
        timeout: Option<Duration>,
    ) -> Result<(SessionLock, Option<Record>), StoreError> {
        let (local, file_locked) = match self.lock_session(id, timeout).await {
            Ok(locked) => locked,
            // A link or FIFO planted at the lock file's name: the session cannot be locked
            // safely, so the request gets a new one instead of an error.
            Err(err) if is_unusable_lock_file(&err) => {
                tracing::warn!(
                    session = short(id),
                    error = %ErrorChain(&err),
                    "a session cannot be locked; treated as unknown"
                );
                return Ok((SessionLock::new(()), None));
            }
            Err(err) => return Err(err),
        };
        let record = if file_locked { self.read(id)? } else { None };
        Ok((local.into_session_lock(), record))
    }

    /// CherryPy's clean-up (see `clean.rs`).
    async fn clean_up(&self, now: SystemTime) -> Result<usize, StoreError> {
        self.clean_up_dir(now).await
    }

    fn requires_lock(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::codec::is_garbage;

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

    #[tokio::test]
    async fn a_read_only_save_does_not_bring_back_a_deleted_session() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path()).unwrap();
        let id = SessionId::generate();
        let record = Record {
            data: crate::session_value::SessionData::new(),
            expires: SystemTime::now() + Duration::from_secs(60),
        };
        store.save(&id, record.clone()).await.unwrap();
        store.delete(&id).await.unwrap();
        store.touch(&id, record).await.unwrap();
        assert!(!store.exists(&id).await.unwrap());
    }
}
