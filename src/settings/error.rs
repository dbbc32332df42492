//! Why a setting's value from a flag or an environment variable is refused.
//!
//! A value is checked the same way wherever it comes from; this error adds
//! where it came from (the flag or the variable), so the message names what
//! to fix. A usage error (exit 2): nothing was sent.

use std::fmt;

use crate::exit::{ErrorKind, Failure};

/// A setting's value that its check refuses.
#[derive(Debug)]
pub enum SettingsError {
    /// The value from `from` (a flag or a variable) is refused, for `message`.
    Bad { from: String, message: String },
}

impl Failure for SettingsError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Usage
    }
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingsError::Bad { from, message } => write!(f, "{from}: {message}"),
        }
    }
}

impl std::error::Error for SettingsError {}
