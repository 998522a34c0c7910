//! CherryPy's clean-up of a storage directory: expired sessions with their lock files,
//! lock files whose session is gone, and temporary files a killed writer left.

use std::fs;
use std::time::{Duration, SystemTime};

use super::codec::backend;
use super::lock;
use super::open;
use super::{FileStore, LOCK_SUFFIX, PREFIX, STALE_TMP, TMP_SUFFIX, lock_error};
use crate::session_id::SessionId;
use crate::store::ErrorChain;
use crate::store::StoreError;

impl FileStore {
    /// CherryPy's clean-up, which goes on past any file it cannot use (logged), and also
    /// removes lock files whose session is gone. The directory is read as a stream, never
    /// listed whole.
    pub(super) async fn clean_up_dir(&self, now: SystemTime) -> Result<usize, StoreError> {
        let mut removed = 0;
        for entry in fs::read_dir(&self.inner.dir).map_err(backend)? {
            let entry = entry.map_err(backend)?;
            if is_stale_tmp(&entry, now) {
                let _ = fs::remove_file(entry.path());
                continue;
            }
            let name = entry.file_name();
            let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(PREFIX)) else {
                continue;
            };
            let outcome = if let Some(id) = rest.strip_suffix(LOCK_SUFFIX) {
                let Some(id) = SessionId::parse(id) else {
                    continue;
                };
                self.remove_orphan_lock(&id).await.map(|_| ())
            } else {
                let Some(id) = SessionId::parse(rest) else {
                    continue;
                };
                self.expire(&id, now)
                    .await
                    .map(|gone| removed += usize::from(gone))
            };
            if let Err(err) = outcome {
                tracing::warn!(
                    dir = %self.dir().display(),
                    file = %name.to_string_lossy(),
                    error = %ErrorChain(&err),
                    "session clean-up skipped a file"
                );
            }
        }
        Ok(removed)
    }

    /// Removes one expired session under its lock, as CherryPy does, so a request using it
    /// is not cut off; `Ok(true)` when it was removed. A session whose lock is held now is
    /// left for the next clean-up rather than waited for (CherryPy waits): whoever holds it
    /// is using the session, and a lock held for ever (any local user who can open a lock
    /// file can `flock` it) must not stop the clean-up of every other session.
    async fn expire(&self, id: &SessionId, now: SystemTime) -> Result<bool, StoreError> {
        let (mut lock, file_locked) = match self.lock_session(id, Some(Duration::ZERO)).await {
            Ok(locked) => locked,
            Err(StoreError::LockTimeout(_)) => return Ok(false),
            Err(err) => return Err(err),
        };
        if !file_locked {
            // Gone meanwhile, or not a regular file: say which.
            return match open::describe(&self.data_path(id)) {
                Some(why) => Err(backend(why)),
                None => Ok(false),
            };
        }
        let expires = match self.read(id) {
            Ok(Some(record)) => record.expires,
            Ok(None) => return Ok(false),
            // CherryPy stores what we cannot read (a `set`, a `datetime`), and removes it
            // once expired: so do we, from the expiration alone.
            Err(StoreError::Undecodable(reason)) => match self.stored_expiry(id)? {
                Some(expires) => expires,
                None => return Err(StoreError::Undecodable(reason)),
            },
            Err(err) => return Err(err),
        };
        if expires >= now {
            return Ok(false);
        }
        self.remove(id)?;
        // Nobody holds the lock but us: the lock file can go too. The next holder, even
        // one of this process, must then lock the file that replaces it.
        lock.release_outer_on_drop();
        let _ = fs::remove_file(self.lock_path(id));
        Ok(true)
    }

    /// Removes a lock file whose session is gone, if nobody holds or awaits its lock.
    async fn remove_orphan_lock(&self, id: &SessionId) -> Result<bool, StoreError> {
        let data = self.data_path(id);
        if open::is_regular(&data) {
            return Ok(false);
        }
        // Not waiting: a lock that is held or awaited is not an orphan's.
        let Ok(local) = self.inner.locks.lock(id, Some(Duration::ZERO)).await else {
            return Ok(false);
        };
        let removed = lock::remove_orphan(&self.lock_path(id), &data);
        drop(local);
        removed.map_err(|e| lock_error(*id, e))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SessionStore;

    /// Temporary files left by a killed writer go at the next clean-up; a fresh one (a
    /// write in progress, maybe by another process) stays.
    #[tokio::test]
    async fn clean_up_removes_stale_temporary_files() {
        let dir = std::env::temp_dir().join(format!("actix-cherrypy-tmp-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let id = SessionId::generate();
        let stale = dir.join(format!(".{PREFIX}{id}.a1b2c3{TMP_SUFFIX}"));
        let fresh = dir.join(format!(".{PREFIX}{id}.d4e5f6{TMP_SUFFIX}"));
        let other = dir.join("notes.tmp");
        for path in [&stale, &fresh, &other] {
            fs::write(path, b"partial").unwrap();
        }
        let old = SystemTime::now() - STALE_TMP - Duration::from_secs(1);
        for path in [&stale, &other] {
            fs::File::options()
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
