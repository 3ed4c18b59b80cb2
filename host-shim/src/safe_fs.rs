//! Reading files that other people may have planted: OCI layouts, disk-cache
//! entries. A file is read only when it is a regular file reached without
//! following a symlink, and never past a byte limit (checked while reading,
//! not from `metadata().len()`, which a FIFO or device does not tell).

use std::io::Read;
use std::path::Path;

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SafeReadError {
    /// Nothing there.
    #[error("{0}: not found")]
    NotFound(String),
    /// A symlink, directory, FIFO, socket or device.
    #[error("{0}: not a regular file (symlinks, FIFOs and devices are refused)")]
    NotRegular(String),
    /// Larger than the limit.
    #[error("{path}: over the limit of {limit} bytes")]
    TooLarge {
        /// The file.
        path: String,
        /// The limit.
        limit: usize,
    },
    /// Any other I/O error.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
}

/// Reads a regular file of at most `limit` bytes without following a symlink
/// in its last component and without blocking on a FIFO.
pub fn read_regular(path: &Path, limit: usize) -> Result<Vec<u8>, SafeReadError> {
    let name = || path.display().to_string();
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC);
    }
    let file = match options.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(SafeReadError::NotFound(name()));
        }
        // O_NOFOLLOW on a symlink fails with ELOOP.
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(SafeReadError::NotRegular(name()));
        }
        Err(e) => return Err(SafeReadError::Io(name(), e)),
    };
    let meta = file.metadata().map_err(|e| SafeReadError::Io(name(), e))?;
    if !meta.file_type().is_file() {
        return Err(SafeReadError::NotRegular(name()));
    }
    let mut out = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| SafeReadError::Io(name(), e))?;
    if out.len() > limit {
        return Err(SafeReadError::TooLarge {
            path: name(),
            limit,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_symlinks_fifos_devices_and_oversize() {
        let dir = std::env::temp_dir().join(format!("imgverify-safefs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("f");
        std::fs::write(&file, b"hello").unwrap();
        assert_eq!(read_regular(&file, 5).unwrap(), b"hello");
        assert!(matches!(
            read_regular(&file, 4),
            Err(SafeReadError::TooLarge { limit: 4, .. })
        ));
        let link = dir.join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(matches!(
            read_regular(&link, 100),
            Err(SafeReadError::NotRegular(_))
        ));
        let fifo = dir.join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(matches!(
            read_regular(&fifo, 100),
            Err(SafeReadError::NotRegular(_))
        ));
        assert!(matches!(
            read_regular(Path::new("/dev/zero"), 100),
            Err(SafeReadError::NotRegular(_))
        ));
        assert!(matches!(
            read_regular(&dir.join("missing"), 100),
            Err(SafeReadError::NotFound(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
