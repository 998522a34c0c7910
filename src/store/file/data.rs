//! The session files themselves: read within the budget, written whole through a temporary
//! file and a rename, and a read-only request's new expiration written in place.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::time::SystemTime;

use super::open::{self, OpenError, Unusable};
use super::{FileStore, PREFIX, TMP_SUFFIX};
use crate::session_id::SessionId;
use crate::store::codec::{self, backend, is_garbage};
use crate::store::{ErrorChain, Record, StoreError, pickle, short};

impl FileStore {
    pub(super) fn read(&self, id: &SessionId) -> Result<Option<Record>, StoreError> {
        let bytes = match open::read_session(&self.data_path(id)) {
            Ok(bytes) => bytes,
            Err(OpenError::Missing) => return Ok(None),
            // Not a session file (a link planted to read a file elsewhere, a FIFO that
            // would block the read for ever, a directory): an unknown session.
            Err(OpenError::Unusable(why @ (Unusable::Symlink(_) | Unusable::NotAFile { .. }))) => {
                tracing::warn!("{why}; treated as an unknown session");
                return Ok(None);
            }
            Err(OpenError::Unusable(too_large)) => {
                tracing::warn!("{too_large}; not reading it, and not touching it");
                return Err(StoreError::Undecodable(pickle::PickleError::TooLarge(
                    crate::limits::MAX_SESSION_BYTES,
                )));
            }
            Err(OpenError::Io(e)) => return Err(backend(e)),
        };
        match codec::decode(&bytes) {
            Ok(record) => Ok(Some(record)),
            Err(err) if is_garbage(&err) => {
                // CherryPy reads an empty or truncated file as no data; so do we, loudly.
                tracing::warn!(
                    dir = %self.dir().display(),
                    session = short(id),
                    error = %ErrorChain(&err),
                    "a session file cannot be read; treated as empty"
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

    /// The temporary file is created with `O_EXCL` under a random name, so a name planted
    /// in advance (a link to a file elsewhere) makes the creation pick another name rather
    /// than write through it; the rename then replaces the session's name itself, whatever
    /// it was.
    pub(super) fn write(&self, id: &SessionId, record: &Record) -> Result<(), StoreError> {
        let bytes = codec::encode(record)?;
        let prefix = format!(".{PREFIX}{id}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(TMP_SUFFIX).rand_bytes(12);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(fs::Permissions::from_mode(open::FILE_MODE));
        }
        let result = (|| {
            let mut file = builder.tempfile_in(&self.inner.dir)?;
            file.write_all(&bytes)?;
            // The data must be on disk before the rename makes it the session's.
            file.as_file().sync_data()?;
            // On failure the temporary file is removed when `file` is dropped.
            file.persist(self.data_path(id))
                .map(drop)
                .map_err(|e| e.error)
        })();
        result.map_err(|e| backend(without_path(e)))
    }

    /// The expiration a session file ends with, read from its last bytes alone, for a
    /// file whose data cannot be read as a session; `None` if it ends otherwise (an older
    /// protocol, or not a session) or is gone.
    pub(super) fn stored_expiry(&self, id: &SessionId) -> Result<Option<SystemTime>, StoreError> {
        let (file, metadata) = match open::open(&self.data_path(id), OpenOptions::new().read(true))
        {
            Ok(opened) => opened,
            Err(OpenError::Missing | OpenError::Unusable(_)) => return Ok(None),
            Err(OpenError::Io(e)) => return Err(backend(e)),
        };
        let (tail, _) = read_tail(&file, metadata.len())?;
        Ok(pickle::expiry::read(&tail).map(codec::from_local))
    }

    #[cfg(not(unix))]
    pub(super) fn write_expiry(
        &self,
        id: &SessionId,
        _: SystemTime,
    ) -> Result<Touched, StoreError> {
        Ok(if fs::symlink_metadata(self.data_path(id)).is_ok() {
            Touched::RewriteNeeded
        } else {
            Touched::Gone
        })
    }

    /// Rewrites the expiration in place when the file ends the way our pickler and
    /// CherryPy's (protocol 3+) end it; otherwise nothing is written, and the answer says
    /// whether the file is gone or has to be rewritten whole. Ten bytes in one sector: a crash leaves the old or the new expiration,
    /// and the data is never rewritten, so no temporary file and no fsync are needed, and
    /// a read-only request costs a few system calls on cached pages.
    ///
    /// Only a regular file with one name is written in place: through a second hard link
    /// (which anyone who can write the directory can add) the write would change another
    /// file, so then the full atomic write replaces this name alone.
    #[cfg(unix)]
    pub(super) fn write_expiry(
        &self,
        id: &SessionId,
        expires: SystemTime,
    ) -> Result<Touched, StoreError> {
        use std::os::unix::fs::{FileExt, MetadataExt};
        let state = pickle::expiry::state(codec::to_local(expires)).map_err(backend)?;
        let (file, metadata) = match open::open(
            &self.data_path(id),
            OpenOptions::new().read(true).write(true),
        ) {
            Ok(opened) => opened,
            Err(OpenError::Missing) => return Ok(Touched::Gone),
            Err(OpenError::Unusable(_)) => return Ok(Touched::RewriteNeeded),
            Err(OpenError::Io(e)) => return Err(backend(e)),
        };
        if metadata.nlink() != 1 {
            return Ok(Touched::RewriteNeeded);
        }
        let (tail, start) = read_tail(&file, metadata.len())?;
        let Some(offset) = pickle::expiry::state_offset(&tail) else {
            return Ok(Touched::RewriteNeeded);
        };
        let at = start + offset as u64;
        // Across a sector boundary the write could tear in a crash: write it all instead.
        if at / 512 != (at + 9) / 512 {
            return Ok(Touched::RewriteNeeded);
        }
        file.write_all_at(&state, at).map_err(backend)?;
        Ok(Touched::InPlace)
    }

    pub(super) fn remove(&self, id: &SessionId) -> Result<(), StoreError> {
        match fs::remove_file(self.data_path(id)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(backend(e)),
        }
    }
}

/// The last bytes of a file of `len` bytes, where a session pickle keeps its expiration
/// ([`pickle::expiry::state_offset`] reads them, with room to spare), and their offset.
fn read_tail(file: &fs::File, len: u64) -> Result<(Vec<u8>, u64), StoreError> {
    use std::io::{Read, Seek, SeekFrom};
    const TAIL: u64 = 32;
    let start = len.saturating_sub(TAIL);
    let mut tail = Vec::with_capacity(TAIL as usize);
    let mut reader = file;
    reader.seek(SeekFrom::Start(start)).map_err(backend)?;
    reader.take(TAIL).read_to_end(&mut tail).map_err(backend)?;
    Ok((tail, start))
}

/// What a read-only request's save did to a session file.
pub(super) enum Touched {
    /// The expiration was rewritten in place.
    InPlace,
    /// No file has the session's name any more: it stays gone.
    Gone,
    /// Nothing was written; the file has to be replaced whole.
    RewriteNeeded,
}

/// tempfile's errors name the temporary file's path, and with it the whole session id,
/// which a log must not carry: keep the kind and the cause, drop the path.
pub(super) fn without_path(e: std::io::Error) -> std::io::Error {
    let cause = e
        .get_ref()
        .and_then(|inner| inner.source())
        .map_or_else(|| e.to_string(), ToString::to_string);
    std::io::Error::new(e.kind(), cause)
}
