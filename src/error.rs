//! Errors that end a command, and the exit codes they map to.
//!
//! Every failure a user can meet is one of a few kinds, and the kind alone decides
//! the exit code (see the spec's table). Messages are one line that names the file
//! or setting and the cause; a hint line is added where there is an obvious next
//! step. Nothing here ever holds a secret: callers build messages from names,
//! paths and server answers only.

use std::fmt;

/// The process exit statuses of the spec.
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
    /// Interrupted by Ctrl-C.
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
            Exit::Interrupted => 130,
        }
    }
}

/// What went wrong, at the level that decides the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad flags, bad config, bad input files: nothing was sent.
    Usage,
    /// Missing credentials or rejected by the server.
    Auth,
    /// The server or the network failed.
    Failure,
    /// Ctrl-C.
    Interrupted,
}

/// An error that ends the command.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    hint: Option<String>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, message)
    }

    pub fn auth(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Auth, message)
    }

    pub fn failure(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Failure, message)
    }

    pub fn interrupted() -> Self {
        Self::new(ErrorKind::Interrupted, "interrupted")
    }

    /// Adds the line that tells the user what to do next.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    pub fn exit(&self) -> Exit {
        match self.kind {
            ErrorKind::Usage => Exit::Usage,
            ErrorKind::Auth => Exit::Auth,
            ErrorKind::Failure => Exit::Failure,
            ErrorKind::Interrupted => Exit::Interrupted,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// The hint every authentication failure carries.
pub const LOGIN_HINT: &str = "run `capfile login`, or set CAPFILE_USERNAME and CAPFILE_PASSWORD (or CAPFILE_CLIENT_KEY and CAPFILE_CLIENT_SECRET)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_the_spec_exit_codes() {
        assert_eq!(Error::usage("x").exit().code(), 2);
        assert_eq!(Error::auth("x").exit().code(), 4);
        assert_eq!(Error::failure("x").exit().code(), 1);
        assert_eq!(Error::interrupted().exit().code(), 130);
        assert_eq!(Exit::Partial.code(), 3);
        assert_eq!(Exit::Success.code(), 0);
    }
}
