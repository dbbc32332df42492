//! The exit codes, the kinds of failure that decide them, and the trait every
//! layer's error enum implements.
//!
//! This is the leaf of the error types: it imports nothing from the rest of
//! the crate but `interrupt` (for the 128 + signal status), so any module can
//! name a failure's kind without importing the top-level `Error`, which wraps
//! the layers' enums (`crate::error`). Exit codes: 0 success, 1 failure, 2
//! usage or input error (nothing was sent), 3 partial success, 4 missing or
//! refused credentials, 128 + the signal's number when interrupted.

use std::borrow::Cow;
use std::fmt;

/// The process exit statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Everything asked for succeeded.
    Success,
    /// Every upload failed, a server/network error, or results could not be written.
    Failure,
    /// Usage or input error: nothing was sent.
    Usage,
    /// Some uploads succeeded, some failed.
    Partial,
    /// No credentials, or the server answered 401/403.
    Auth,
    /// Interrupted by Ctrl-C (or, for `upload`, SIGTERM or SIGHUP).
    Interrupted,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Usage => 2,
            Exit::Partial => 3,
            Exit::Auth => 4,
            // 130 for Ctrl-C; 128 + the signal's number for another.
            Exit::Interrupted => crate::interrupt::exit_code(),
        }
    }
}

/// What went wrong, at the level that decides the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    /// Bad flags, bad config, bad input files: nothing was sent.
    Usage,
    /// Missing credentials or rejected by the server.
    Auth,
    /// The server or the network failed.
    Failure,
    /// Ctrl-C.
    Interrupted,
}

impl ErrorKind {
    /// The exit status a failure of this kind ends the command with.
    pub(crate) fn exit(self) -> Exit {
        match self {
            ErrorKind::Usage => Exit::Usage,
            ErrorKind::Auth => Exit::Auth,
            ErrorKind::Failure => Exit::Failure,
            ErrorKind::Interrupted => Exit::Interrupted,
        }
    }
}

/// An error a user may see: worded by `Display` (one line that names the file
/// or setting and the cause), with the kind that decides the exit code and,
/// where one helps, a hint line that says what to do next.
pub(crate) trait Failure: fmt::Display {
    fn kind(&self) -> ErrorKind;

    fn hint(&self) -> Option<Cow<'_, str>> {
        None
    }

    /// The exit code it ends a command with (tests ask the error itself).
    #[cfg(test)]
    fn exit(&self) -> Exit {
        self.kind().exit()
    }

    /// The one-line message (the same text as `Display`).
    #[cfg(test)]
    fn message(&self) -> String {
        self.to_string()
    }
}
