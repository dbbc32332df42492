//! The manifest's files on disk: siblings, the lock, atomic writes.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::*;

/// `path` with `suffix` appended to its file name.
pub(super) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

pub(super) fn lock(path: &Path, wait: LockWait, notice: &mut dyn FnMut()) -> Result<File, ManifestError> {
    let lock_path = sibling(path, ".lock");
    let io_error = |action, source| ManifestError::Io {
        path: lock_path.clone(),
        action,
        source,
    };
    // Never through a symbolic link: the lock file is capfile's own.
    let file = crate::fsio::open_own(&lock_path, OpenOptions::new().create(true).truncate(false).write(true))
        .map_err(|e| io_error("create", e))?;
    let started = Instant::now();
    let mut noticed = false;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(fs::TryLockError::Error(source)) => return Err(io_error("lock", source)),
            Err(fs::TryLockError::WouldBlock) => {}
        }
        let limit = match wait {
            LockWait::Fail => Duration::ZERO,
            LockWait::Wait(limit) => limit,
        };
        let waited = started.elapsed();
        if waited >= limit {
            return Err(ManifestError::Busy {
                path: path.to_path_buf(),
                lock: lock_path,
                waited: (wait != LockWait::Fail).then_some(waited),
            });
        }
        if !noticed {
            noticed = true;
            notice();
        }
        // Polling, because a blocking `lock` cannot be given a time limit.
        std::thread::sleep(LOCK_POLL.min(limit - waited));
    }
}

/// Writes `contents` to `path` through a temporary file in the same
/// directory (synced, then renamed over it), so a reader or a crash sees the
/// old file or the new one, never a mix. A symlink is written through; an
/// existing file keeps its permissions.
pub(super) fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    let target = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".capfile-manifest-")
        .suffix(".tmp")
        .tempfile_in(&dir)?;
    temp.write_all(contents)?;
    match fs::metadata(&target) {
        Ok(meta) => fs::set_permissions(temp.path(), meta.permissions())?,
        Err(_) => {
            // A new manifest is an ordinary file, as an editor would make it.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(temp.path(), fs::Permissions::from_mode(0o644))?;
            }
        }
    }
    temp.as_file().sync_all()?;
    temp.persist(&target).map_err(|e| e.error)?;
    sync_parent(&target);
    Ok(())
}

/// Makes a file's creation, rename or removal durable; not every filesystem
/// (or OS) supports syncing a directory, so failure is ignored.
pub(super) fn sync_parent(path: &Path) {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        if let Ok(dir) = File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
