//! Opening the files of a storage directory that another local user may be able to write:
//! a name in it can be a symbolic link to a file elsewhere, a hard link, a FIFO, a
//! directory or a huge file, planted to make the server write, block or run out of memory.
//! Every session and lock file is opened here: never through a symbolic link, never
//! blocking on a FIFO, and used only when it is a regular file.

use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::limits::MAX_SESSION_BYTES;

/// The mode of the files the store creates (session, temporary and lock files), before the
/// umask: never readable or writable by other users, since a session file's name and
/// content are what give access to a session. (CherryPy creates them 0666 less the umask,
/// usually readable by everyone.) The group keeps what the umask gives it, so a CherryPy
/// running as another user of the same group can still share the directory.
#[cfg(unix)]
pub(super) const FILE_MODE: u32 = 0o660;

/// Why a name that should be one of the store's files is not used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Unusable {
    /// Following it would read or write a file outside the directory.
    #[error("{} is a symbolic link, which the session store never follows", .0.display())]
    Symlink(PathBuf),
    /// A directory, FIFO, socket or device.
    #[error("{} is a {kind}, not a regular file", path.display())]
    NotAFile {
        /// The file's name.
        path: PathBuf,
        /// What it is instead.
        kind: &'static str,
    },
    /// Reading it would take more memory than a session may.
    #[error(
        "{} is {len} bytes, more than the {MAX_SESSION_BYTES} bytes a session may have",
        path.display()
    )]
    TooLarge {
        /// The file's name.
        path: PathBuf,
        /// Its length when it was opened (or more, if it grew while being read).
        len: u64,
    },
}

/// Why [`open`] gave no file.
#[derive(Debug)]
pub(super) enum OpenError {
    /// Nothing has the name.
    Missing,
    /// Something that must not be used has it.
    Unusable(Unusable),
    /// The system refused for another reason.
    Io(io::Error),
}

impl From<io::Error> for OpenError {
    fn from(e: io::Error) -> Self {
        OpenError::Io(e)
    }
}

/// Opens `path` with `options` if it names a regular file (or creates one, if `options`
/// say so), without following a symbolic link in its last component and without blocking
/// on a FIFO; the metadata is the open file's own (`fstat`), so it describes what was
/// opened even if the name changes meanwhile.
pub(super) fn open(path: &Path, options: &mut OpenOptions) -> Result<(File, Metadata), OpenError> {
    restrict(options);
    match options.open(path) {
        Ok(file) => {
            let metadata = file.metadata()?;
            if !metadata.is_file() {
                return Err(OpenError::Unusable(Unusable::NotAFile {
                    path: path.to_owned(),
                    kind: kind(&metadata),
                }));
            }
            Ok((file, metadata))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(OpenError::Missing),
        // The error alone is vague (a symbolic link gives ELOOP, a FIFO opened to write
        // without a reader ENXIO, a directory EISDIR): say what the name is.
        Err(e) => match describe(path) {
            Some(unusable) => Err(OpenError::Unusable(unusable)),
            None => Err(OpenError::Io(e)),
        },
    }
}

/// What is at `path` if it is not a regular file (without following a symbolic link).
pub(super) fn describe(path: &Path) -> Option<Unusable> {
    let metadata = fs::symlink_metadata(path).ok()?;
    if metadata.is_symlink() {
        Some(Unusable::Symlink(path.to_owned()))
    } else if metadata.is_file() {
        None
    } else {
        Some(Unusable::NotAFile {
            path: path.to_owned(),
            kind: kind(&metadata),
        })
    }
}

/// Whether `path` names a regular file (a symbolic link to one does not count).
pub(super) fn is_regular(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
}

/// The whole session file at `path`, read only if it is within [`MAX_SESSION_BYTES`]: the
/// length is checked before a byte is read, and the read stops one byte past the budget
/// in case the file grows meanwhile.
pub(super) fn read_session(path: &Path) -> Result<Vec<u8>, OpenError> {
    let (file, metadata) = open(path, OpenOptions::new().read(true))?;
    let too_large = |len| {
        OpenError::Unusable(Unusable::TooLarge {
            path: path.to_owned(),
            len,
        })
    };
    let budget = MAX_SESSION_BYTES as u64;
    if metadata.len() > budget {
        return Err(too_large(metadata.len()));
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(budget + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > budget {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// `O_NOFOLLOW`: a symbolic link in the last component is an error, not followed.
/// `O_NONBLOCK`: opening a FIFO does not wait for its other end (it has no effect on a
/// regular file's reads, writes or `flock`). New files get [`FILE_MODE`].
#[cfg(unix)]
fn restrict(options: &mut OpenOptions) {
    use std::os::unix::fs::OpenOptionsExt;
    options
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .mode(FILE_MODE);
}

#[cfg(not(unix))]
fn restrict(_: &mut OpenOptions) {}

#[cfg(unix)]
fn kind(metadata: &Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = metadata.file_type();
    if t.is_dir() {
        "directory"
    } else if t.is_fifo() {
        "FIFO"
    } else if t.is_socket() {
        "socket"
    } else if t.is_char_device() || t.is_block_device() {
        "device"
    } else if t.is_symlink() {
        "symbolic link"
    } else {
        "special file"
    }
}

#[cfg(not(unix))]
fn kind(metadata: &Metadata) -> &'static str {
    if metadata.is_dir() {
        "directory"
    } else {
        "special file"
    }
}

/// Refuses a storage directory that every user may write unless it has the sticky bit:
/// there any local user could remove or rename the server's files and put links in their
/// place. With the sticky bit (like `/tmp`) other users can still create names the store
/// will meet, which it does not follow, so it is only a warning, returned.
#[cfg(unix)]
pub(super) fn check_directory(dir: &Path) -> io::Result<Option<String>> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(dir)?.permissions().mode();
    if mode & 0o002 == 0 {
        return Ok(None);
    }
    let shown = dir.display();
    if mode & 0o1000 != 0 {
        return Ok(Some(format!(
            "the session directory {shown} is writable by every user (sticky bit set): other users can see session ids and plant files there; a directory of its own (chmod o-rwx) is safer"
        )));
    }
    Err(io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!(
            "{shown} is writable by every user and has no sticky bit, so any local user could replace or link session files: run `chmod o-w {shown}` (or `chmod +t {shown}` if it must stay shared)"
        ),
    ))
}

#[cfg(not(unix))]
pub(super) fn check_directory(_: &Path) -> io::Result<Option<String>> {
    Ok(None)
}
