//! Errors that end a command, and the exit codes they map to.
//!
//! Every failure a user can meet is one variant of `Error`, a wrapper over
//! the error enums of the layers below (`InputError`, `FileError`,
//! `SettingsError`, `CredentialsError`, `ManifestError`, `ReportError`,
//! `ApiError`, ...), each kept beside the code that raises it and worded
//! there. Those layers import nothing from here: they take `ErrorKind` and
//! the [`Failure`] trait (kind and hint) from the leaf module `crate::exit`,
//! and this module owns the `From` impls that wrap them. A command's own
//! enum (`ConfigError`, `LoginError`, `ServeError`) is a [`CommandError`],
//! boxed, so this module names no command either. The variants left here
//! are the ones commands raise themselves. Exit codes: 0 success, 1 failure,
//! 2 usage or input error (nothing was sent), 3 partial success, 4 missing
//! or refused credentials, 130 interrupted. Messages are one line that names
//! the file or setting and the cause. Nothing here ever holds a secret:
//! variants carry names, paths and server answers only.

use std::borrow::Cow;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::api::{ApiError, ClientError};
use crate::batch::report::ReportError;
use crate::config_file::FileError;
use crate::credentials::{CredentialsError, SecretSource};
use crate::inputs::InputError;
use crate::interrupt::InterruptError;
use crate::manifest::ManifestError;
use crate::policy::UnknownPolicy;
use crate::settings::SettingsError;

pub(crate) use crate::exit::{ErrorKind, Exit, Failure};

/// A command's own error enum (`ConfigError`, `LoginError`, `ServeError`):
/// each says `impl CommandError for ...`, and `?` makes it an
/// [`Error::Command`].
pub(crate) trait CommandError: Failure + std::error::Error + Send + Sync + 'static {}

impl<T: CommandError> From<T> for Error {
    fn from(err: T) -> Self {
        Error::Command(Box::new(err))
    }
}

/// An error that ends the command (or, for one input of a batch, is reported
/// as it happens).
#[derive(Debug)]
pub(crate) enum Error {
    /// Ctrl-C.
    Interrupted,

    /// Inputs that cannot be used (all usage errors: nothing is sent).
    Input(InputError),
    /// `--policy`, CAPFILE_POLICY or the profile names a policy that the
    /// config file does not hold.
    UnknownPolicy(UnknownPolicy),

    // Upload.
    /// Standard output cannot take the results (it is closed, or failed).
    ResultsWouldBeLost { cause: String },
    /// No base URL from any flag, variable or profile.
    NoBaseUrl,
    /// The file-service client could not be built from the settings.
    Client(ClientError),
    /// A proxy variable holds no usable proxy URL.
    BadProxy(crate::api::BadProxy),
    /// The local file service could not be started.
    LocalService { addr: SocketAddr, source: io::Error },
    /// One input's upload failed.
    Upload { label: String, source: ApiError },
    /// The service answered 401/403 to `profile`'s secret from `source`
    /// (`None`: the built-in credentials of `upload --local`).
    CredentialsRefused {
        profile: String,
        source: Option<SecretSource>,
    },
    /// `--force` or `--no-refresh` (the `flag`) without a manifest to act on.
    NeedsManifest { flag: &'static str },

    // Settings and their files (usage errors, but for a failed write).
    /// A config or credentials file, its path, or a profile in it.
    File(FileError),
    /// A setting's value from a flag or variable is refused.
    Settings(SettingsError),
    /// `status --all` with no profile in the config file at `path`.
    NoProfilesForAll { path: PathBuf },

    // The run as a whole.
    /// Results could not be written to standard output after the work ran;
    /// `uploads` when the command was one that uploads (its hint says the
    /// finished uploads are stored).
    ResultsLost { cause: String, uploads: bool },
    /// The async runtime could not start.
    Runtime(io::Error),
    /// The Ctrl-C (and SIGTERM) handlers could not be installed.
    Signals(io::Error),

    // Errors of a module's own enum, which words them and gives their hints.
    /// `--report` and `--retry-from` files.
    Report(ReportError),
    /// No credentials to use, or a saved secret that may not be sent. Boxed:
    /// it is the largest error, and every `Result` would carry its size.
    Credentials(Box<CredentialsError>),
    /// A command's own refusals (`capfile config`'s, `login`'s, `serve`'s),
    /// worded, hinted and given their kind by the command's error enum:
    /// boxed, so this module names no command.
    Command(Box<dyn CommandError>),
    /// A manifest that cannot be used.
    Manifest(ManifestError),

    /// Any error with its hint replaced.
    Hinted { error: Box<Error>, hint: String },
}

impl Error {
    pub(crate) fn interrupted() -> Self {
        Error::Interrupted
    }

    /// Adds (or replaces) the line that tells the user what to do next.
    pub(crate) fn with_hint(self, hint: impl Into<String>) -> Self {
        match self {
            Error::Hinted { error, .. } => Error::Hinted {
                error,
                hint: hint.into(),
            },
            error => Error::Hinted {
                error: Box::new(error),
                hint: hint.into(),
            },
        }
    }

    pub(crate) fn kind(&self) -> ErrorKind {
        match self {
            Error::Interrupted => ErrorKind::Interrupted,
            Error::NeedsManifest { .. }
            | Error::ResultsWouldBeLost { .. }
            | Error::NoBaseUrl
            | Error::Client(_)
            | Error::BadProxy(_)
            | Error::NoProfilesForAll { .. } => ErrorKind::Usage,
            Error::CredentialsRefused { .. } => ErrorKind::Auth,
            Error::LocalService { .. }
            | Error::Upload { .. }
            | Error::ResultsLost { .. }
            | Error::Runtime(_)
            | Error::Signals(_) => ErrorKind::Failure,
            Error::Report(error) => error.kind(),
            Error::Credentials(err) => err.kind(),
            Error::Command(err) => err.kind(),
            Error::Manifest(err) => err.kind(),
            Error::File(err) => err.kind(),
            Error::Input(err) => err.kind(),
            Error::Settings(err) => err.kind(),
            Error::UnknownPolicy(err) => err.kind(),
            Error::Hinted { error, .. } => error.kind(),
        }
    }

    /// The one-line message (the same text as `Display`).
    pub(crate) fn message(&self) -> String {
        self.to_string()
    }

    /// The line that tells the user what to do next, where there is one:
    /// a variant's own, the wrapped enum's (often built from its data), or
    /// the one `with_hint` put in its place.
    pub(crate) fn hint(&self) -> Option<Cow<'_, str>> {
        let fixed = match self {
            Error::Input(error) => return error.hint(),
            Error::UnknownPolicy(error) => return error.hint(),
            Error::ResultsWouldBeLost { .. } => "send standard output to a file, a pipe or /dev/null",
            Error::NoBaseUrl => "pass --base-url or set CAPFILE_BASE_URL, e.g. https://eu.api.capillarytech.com",
            Error::CredentialsRefused { profile, source } => {
                return Some(Cow::Owned(crate::credentials::refused_hint(profile, source.as_ref())));
            }
            Error::ResultsLost { uploads: true, .. } => {
                "any upload that finished is stored; send standard output to a file or a pipe"
            }
            Error::ResultsLost { uploads: false, .. } => "send standard output to a file or a pipe",
            Error::NoProfilesForAll { .. } => "create one with `capfile login`",
            Error::Report(error) => error.hint()?,
            Error::Hinted { hint, .. } => hint,
            Error::Credentials(error) => return error.hint().map(Cow::Owned),
            Error::Command(error) => return error.hint(),
            Error::Manifest(error) => return error.hint().map(Cow::Owned),
            Error::File(error) => return error.hint(),
            _ => return None,
        };
        Some(Cow::Borrowed(fixed))
    }

    pub(crate) fn exit(&self) -> Exit {
        self.kind().exit()
    }
}

impl Failure for Error {
    fn kind(&self) -> ErrorKind {
        Error::kind(self)
    }

    fn hint(&self) -> Option<Cow<'_, str>> {
        Error::hint(self)
    }
}

impl From<FileError> for Error {
    fn from(err: FileError) -> Self {
        Error::File(err)
    }
}

impl From<SettingsError> for Error {
    fn from(err: SettingsError) -> Self {
        Error::Settings(err)
    }
}

impl From<UnknownPolicy> for Error {
    fn from(err: UnknownPolicy) -> Self {
        Error::UnknownPolicy(err)
    }
}

/// The signal's variants stay the top-level ones, which commands also raise.
impl From<InterruptError> for Error {
    fn from(err: InterruptError) -> Self {
        match err {
            InterruptError::Interrupted => Error::Interrupted,
            InterruptError::Signals(source) => Error::Signals(source),
            InterruptError::Thread(source) => Error::Runtime(source),
        }
    }
}

impl From<InputError> for Error {
    fn from(err: InputError) -> Self {
        Error::Input(err)
    }
}

impl From<ManifestError> for Error {
    fn from(err: ManifestError) -> Self {
        Error::Manifest(err)
    }
}

impl From<CredentialsError> for Error {
    fn from(err: CredentialsError) -> Self {
        Error::Credentials(Box::new(err))
    }
}

impl From<ReportError> for Error {
    fn from(err: ReportError) -> Self {
        Error::Report(err)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Interrupted => f.write_str("interrupted"),
            Error::Input(error) => error.fmt(f),
            Error::UnknownPolicy(error) => error.fmt(f),
            Error::ResultsWouldBeLost { cause } => write!(f, "{cause}: the results would be lost"),
            Error::NoBaseUrl => f.write_str("no base URL for the file service"),
            Error::Client(error) => error.fmt(f),
            Error::BadProxy(bad) => fmt::Display::fmt(bad, f),
            Error::LocalService { addr, source } => {
                write!(f, "cannot start the local file service at {addr}: {source}")
            }
            Error::Upload { label, source } => write!(f, "{label}: {source}"),
            Error::CredentialsRefused { .. } => f.write_str("the file service refused the credentials"),
            Error::NeedsManifest { flag } => write!(
                f,
                "{flag} needs a manifest: --manifest FILE, CAPFILE_MANIFEST or the profile's `manifest`"
            ),
            Error::Settings(error) => error.fmt(f),
            Error::NoProfilesForAll { path } => write!(f, "--all: there are no profiles in {}", path.display()),
            Error::ResultsLost { cause, .. } => write!(f, "cannot write results to standard output: {cause}"),
            Error::Runtime(source) => write!(f, "cannot start the async runtime: {source}"),
            Error::Signals(source) => write!(f, "cannot handle Ctrl-C: {source}"),
            Error::Report(error) => error.fmt(f),
            Error::Credentials(err) => err.fmt(f),
            Error::Command(err) => err.fmt(f),
            Error::Manifest(err) => err.fmt(f),
            Error::File(err) => err.fmt(f),
            Error::Hinted { error, .. } => error.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::LocalService { source, .. } | Error::Runtime(source) | Error::Signals(source) => Some(source),
            Error::Input(error) => std::error::Error::source(error),
            Error::Report(error) => std::error::Error::source(error),
            Error::File(error) => std::error::Error::source(error),
            Error::Command(err) => err.source(),
            Error::Hinted { error, .. } => Some(error.as_ref()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
