//! Why a manifest could not be used.

use std::borrow::Cow;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

use crate::exit::{ErrorKind, Failure};

/// Why a manifest could not be used. Each displays as one line naming the
/// file; [`ManifestError::kind`] gives the exit code.
#[derive(Debug)]
pub(crate) enum ManifestError {
    /// Another process holds the lock.
    Busy {
        path: PathBuf,
        lock: PathBuf,
        waited: Option<Duration>,
    },
    /// A file could not be read, written or locked.
    Io {
        path: PathBuf,
        action: &'static str,
        source: io::Error,
    },
    /// The manifest or its journal does not parse or holds a bad value.
    Invalid {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
    /// The manifest (or journal) belongs to another origin, namespace or body
    /// format.
    WrongBinding {
        path: PathBuf,
        field: &'static str,
        found: String,
        expected: String,
    },
}

impl ManifestError {
    /// The kind, which decides the exit code: a bad or foreign manifest, or
    /// one that cannot be opened (its folder is missing, it cannot be read or
    /// locked: all before anything is sent) is an input error (2); a busy lock
    /// or a write that fails after uploads began is a failure (1).
    pub(crate) fn kind(&self) -> ErrorKind {
        match self {
            ManifestError::Io { action, .. } if matches!(*action, "create" | "read" | "lock" | "open") => {
                ErrorKind::Usage
            }
            ManifestError::Busy { .. } | ManifestError::Io { .. } => ErrorKind::Failure,
            ManifestError::Invalid { .. } | ManifestError::WrongBinding { .. } => ErrorKind::Usage,
        }
    }

    /// The next step for the user, if there is an obvious one.
    pub(crate) fn hint(&self) -> Option<String> {
        match self {
            ManifestError::Busy { .. } => Some(
                "another capfile run uses this manifest; run again when it ends, or use another --manifest file"
                    .into(),
            ),
            ManifestError::Invalid { .. } => Some(
                "fix the file (for example restore it from version control); capfile never replaces a manifest it cannot read"
                    .into(),
            ),
            ManifestError::WrongBinding { .. } => {
                Some("use a separate --manifest file for each host, namespace and body format".into())
            }
            ManifestError::Io { .. } => None,
        }
    }
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManifestError::Busy { path, lock, waited } => {
                write!(f, "manifest {} is in use by another capfile process (", path.display())?;
                if let Some(waited) = waited {
                    write!(f, "waited {} s; ", waited.as_secs())?;
                }
                write!(f, "lock file {})", lock.display())
            }
            ManifestError::Io { path, action, source } => {
                write!(f, "cannot {action} {}: {source}", path.display())
            }
            ManifestError::Invalid { path, line, message } => match line {
                Some(line) => write!(f, "{}:{line}: {message}", path.display()),
                None => write!(f, "{}: {message}", path.display()),
            },
            ManifestError::WrongBinding {
                path,
                field,
                found,
                expected,
            } => write!(
                f,
                "manifest {} belongs to {field} {found:?}, not {expected:?}",
                path.display()
            ),
        }
    }
}

impl std::error::Error for ManifestError {}

impl Failure for ManifestError {
    fn kind(&self) -> ErrorKind {
        ManifestError::kind(self)
    }

    fn hint(&self) -> Option<Cow<'_, str>> {
        ManifestError::hint(self).map(Cow::Owned)
    }
}
