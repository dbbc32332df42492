//! Errors that end a command, and the exit codes they map to.
//!
//! Every failure a user can meet is one variant of `Error`, and this file alone
//! says how each is worded (`Display`), which hint goes with it (`hint`) and
//! which exit code it ends with (`kind`, then `exit`): 0 success, 1 failure,
//! 2 usage or input error (nothing was sent), 3 partial success, 4 missing or
//! refused credentials, 130 interrupted. Messages are one line that names the
//! file or setting and the cause. Nothing here ever holds a secret: variants
//! carry names, paths and server answers only.
//!
//! Code not yet converted to a variant builds free-form errors with
//! `Error::usage`, `Error::auth` and `Error::failure`.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::api::ApiError;
use crate::commands::login::LoginError;
use crate::credentials::CredentialsError;
use crate::inputs::NameError;

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

/// An error that ends the command (or, for one input of a batch, is reported
/// as it happens).
#[derive(Debug)]
pub enum Error {
    /// Ctrl-C.
    Interrupted,

    // Inputs (all usage errors: nothing is sent).
    /// `--name` given with more than one input.
    NameNeedsOneInput,
    /// `-` given more than once.
    StdinTwice,
    /// `-` given without `--name`.
    StdinNeedsName,
    /// Standard input could not be copied to its temporary file.
    Spool(io::Error),
    /// Two inputs would be stored under the same name.
    DuplicateName {
        label: String,
        remote: String,
        first: String,
    },
    /// Only directories were given, and they hold no image.
    NoImagesFound,
    /// More inputs than one batch can hold (its list indexes 4 GiB of names,
    /// 2^27 directories).
    TooManyInputs,
    /// The remote name an input would get is not a valid file name.
    BadName { label: String, source: NameError },
    /// A directory given without `-r`.
    IsDirectory { label: String },
    /// `--name` given for a directory.
    NameForDirectory { label: String },
    /// A path without a final component (`/`, `..`) and no `--name`.
    NoFileName { label: String },
    /// An empty file (only a placeholder has no body).
    EmptyFile { label: String },
    /// Not an image by its first bytes, without `--allow-any-type`.
    NotAnImage { label: String },
    /// A file or directory could not be read.
    Io { label: String, source: io::Error },

    // Upload.
    /// Standard output cannot take the results (it is closed, or failed).
    ResultsWouldBeLost { cause: String },
    /// No base URL from any flag, variable or profile.
    NoBaseUrl,
    /// The file-service client could not be built from the settings.
    Client(String),
    /// The local file service could not be started.
    LocalService { addr: SocketAddr, source: io::Error },
    /// One input's upload failed.
    Upload { label: String, source: ApiError },
    /// The service answered 401/403 during a batch.
    CredentialsRefused,

    // Settings and their files (usage errors, but for a failed write).
    /// `--config` or `CAPFILE_CONFIG` is set to an empty path.
    ConfigPathEmpty,
    /// No platform config directory (no HOME) and no `--config`.
    NoConfigDir,
    /// A config or credentials file that is not UTF-8.
    FileNotText { path: PathBuf },
    /// A config or credentials file over the size any capfile file has.
    FileTooLarge { path: PathBuf, limit_mib: u64 },
    /// A config or credentials file that cannot be read.
    FileRead { path: PathBuf, source: io::Error },
    /// Bad content in a config or credentials file, at a line and column
    /// when known.
    FileInvalid {
        path: PathBuf,
        at: Option<(usize, usize)>,
        message: String,
    },
    /// A config or credentials file that cannot be written.
    FileWrite { path: PathBuf, source: io::Error },
    /// A setting's value from a flag or variable (named by `from`) is refused.
    BadSetting { from: String, message: String },
    /// A profile that is not in the config file.
    UnknownProfile {
        name: String,
        path: PathBuf,
        /// `None`: there is no config file; else the profiles it has.
        existing: Option<Vec<String>>,
    },

    // The run as a whole.
    /// Results could not be written to standard output after the work ran.
    ResultsLost { cause: String },
    /// The async runtime could not start.
    Runtime(io::Error),

    // Credentials.
    /// No credentials to use, or a saved secret that may not be sent. Build it
    /// with `Error::from`, which attaches the hint. Boxed: it is the largest
    /// error, and every `Result` would carry its size.
    Credentials(Box<CredentialsError>),
    /// `capfile login` saved nothing. Build it with `Error::from`, which
    /// attaches the hint; boxed like `Credentials`.
    Login(Box<LoginError>),

    /// Free-form errors from code not yet converted to a variant.
    Other {
        kind: ErrorKind,
        message: String,
        hint: Option<String>,
    },
    /// Any error with its hint replaced.
    Hinted { error: Box<Error>, hint: String },
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error::Other {
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
        Error::Interrupted
    }

    /// Adds (or replaces) the line that tells the user what to do next.
    pub fn with_hint(self, hint: impl Into<String>) -> Self {
        match self {
            Error::Other { kind, message, .. } => Error::Other {
                kind,
                message,
                hint: Some(hint.into()),
            },
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

    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Interrupted => ErrorKind::Interrupted,
            Error::NameNeedsOneInput
            | Error::StdinTwice
            | Error::StdinNeedsName
            | Error::Spool(_)
            | Error::DuplicateName { .. }
            | Error::NoImagesFound
            | Error::TooManyInputs
            | Error::BadName { .. }
            | Error::IsDirectory { .. }
            | Error::NameForDirectory { .. }
            | Error::NoFileName { .. }
            | Error::EmptyFile { .. }
            | Error::NotAnImage { .. }
            | Error::Io { .. }
            | Error::ResultsWouldBeLost { .. }
            | Error::NoBaseUrl
            | Error::Client(_)
            | Error::ConfigPathEmpty
            | Error::NoConfigDir
            | Error::FileNotText { .. }
            | Error::FileTooLarge { .. }
            | Error::FileRead { .. }
            | Error::FileInvalid { .. }
            | Error::BadSetting { .. }
            | Error::UnknownProfile { .. } => ErrorKind::Usage,
            Error::CredentialsRefused => ErrorKind::Auth,
            Error::LocalService { .. }
            | Error::Upload { .. }
            | Error::FileWrite { .. }
            | Error::ResultsLost { .. }
            | Error::Runtime(_) => ErrorKind::Failure,
            Error::Credentials(err) => err.kind(),
            Error::Login(err) => err.kind(),
            Error::Other { kind, .. } => *kind,
            Error::Hinted { error, .. } => error.kind(),
        }
    }

    /// The one-line message (the same text as `Display`).
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// The line that tells the user what to do next, where there is one.
    pub fn hint(&self) -> Option<&str> {
        match self {
            Error::IsDirectory { .. } => Some("use -r to upload the images inside it"),
            Error::DuplicateName { .. } => Some(
                "pass --name-from-path to name files after their path (en/banner.png -> en_banner.png), or upload them separately with --name",
            ),
            Error::EmptyFile { .. } => Some("use --placeholder to create a placeholder without a body"),
            Error::NotAnImage { .. } => Some("use --allow-any-type to send it anyway"),
            Error::ResultsWouldBeLost { .. } => Some("send standard output to a file, a pipe or /dev/null"),
            Error::NoBaseUrl => Some("pass --base-url or set CAPFILE_BASE_URL, e.g. https://eu.api.capillarytech.com"),
            Error::CredentialsRefused => Some(crate::credentials::refused_hint_of_run()),
            Error::NoConfigDir => Some("pass --config FILE or set CAPFILE_CONFIG"),
            Error::ResultsLost { .. } => {
                Some("any upload that finished is stored; send standard output to a file or a pipe")
            }
            // Their hints are built from their data, so `From` attaches them
            // (`Hinted`).
            Error::Credentials(_) | Error::Login(_) => None,
            Error::Other { hint, .. } => hint.as_deref(),
            Error::Hinted { hint, .. } => Some(hint),
            _ => None,
        }
    }

    pub fn exit(&self) -> Exit {
        match self.kind() {
            ErrorKind::Usage => Exit::Usage,
            ErrorKind::Auth => Exit::Auth,
            ErrorKind::Failure => Exit::Failure,
            ErrorKind::Interrupted => Exit::Interrupted,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Interrupted => f.write_str("interrupted"),
            Error::NameNeedsOneInput => f.write_str("--name takes a single input"),
            Error::StdinTwice => f.write_str("standard input (`-`) can be read only once"),
            Error::StdinNeedsName => f.write_str("-: standard input needs --name"),
            Error::Spool(source) => write!(f, "-: cannot spool standard input: {source}"),
            Error::DuplicateName { label, remote, first } => {
                write!(f, "{label}: remote name `{remote}` is also used by {first}")
            }
            Error::NoImagesFound => f.write_str("no image files found in the given directories"),
            Error::TooManyInputs => f.write_str("too many inputs for one batch; split it into several runs"),
            Error::BadName { label, source } => write!(f, "{label}: {source}"),
            Error::IsDirectory { label } => write!(f, "{label}: is a directory"),
            Error::NameForDirectory { label } => write!(f, "{label}: --name cannot name a directory's files"),
            Error::NoFileName { label } => write!(f, "{label}: has no file name; give one with --name"),
            Error::EmptyFile { label } => write!(f, "{label}: file is empty"),
            Error::NotAnImage { label } => write!(
                f,
                "{label}: not an image (PNG, JPEG, GIF, WebP, BMP, TIFF, ICO, AVIF, HEIC or SVG)"
            ),
            Error::Io { label, source } => match source.kind() {
                // In words, without the OS error code noise.
                io::ErrorKind::NotFound => write!(f, "{label}: no such file or directory"),
                io::ErrorKind::PermissionDenied => write!(f, "{label}: permission denied"),
                io::ErrorKind::IsADirectory => write!(f, "{label}: is a directory"),
                _ => write!(f, "{label}: {source}"),
            },
            Error::ResultsWouldBeLost { cause } => write!(f, "{cause}: the results would be lost"),
            Error::NoBaseUrl => f.write_str("no base URL for the file service"),
            Error::Client(cause) => f.write_str(cause),
            Error::LocalService { addr, source } => {
                write!(f, "cannot start the local file service at {addr}: {source}")
            }
            Error::Upload { label, source } => write!(f, "{label}: {source}"),
            Error::CredentialsRefused => f.write_str("the file service refused the credentials"),
            Error::ConfigPathEmpty => f.write_str("--config / CAPFILE_CONFIG is empty"),
            Error::NoConfigDir => f.write_str("cannot find the config directory (is HOME set?)"),
            Error::FileNotText { path } => write!(f, "{}: not UTF-8 text", path.display()),
            Error::FileTooLarge { path, limit_mib } => {
                write!(
                    f,
                    "{}: larger than {limit_mib} MiB, which no capfile file is",
                    path.display()
                )
            }
            Error::FileRead { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            Error::FileInvalid { path, at, message } => match at {
                Some((line, column)) => write!(f, "{}:{line}:{column}: {message}", path.display()),
                None => write!(f, "{}: {message}", path.display()),
            },
            Error::FileWrite { path, source } => write!(f, "cannot write {}: {source}", path.display()),
            Error::BadSetting { from, message } => write!(f, "{from}: {message}"),
            Error::UnknownProfile { name, path, existing } => match existing {
                None => write!(
                    f,
                    "profile `{name}` does not exist: there is no config file at {}",
                    path.display()
                ),
                Some(names) if names.is_empty() => {
                    write!(f, "profile `{name}` does not exist: {} has no profiles", path.display())
                }
                Some(names) => write!(
                    f,
                    "profile `{name}` is not in {}; existing profiles: {}",
                    path.display(),
                    names.join(", ")
                ),
            },
            Error::ResultsLost { cause } => write!(f, "cannot write results to standard output: {cause}"),
            Error::Runtime(source) => write!(f, "cannot start the async runtime: {source}"),
            Error::Credentials(err) => err.fmt(f),
            Error::Login(err) => err.fmt(f),
            Error::Other { message, .. } => f.write_str(message),
            Error::Hinted { error, .. } => error.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Spool(source)
            | Error::Io { source, .. }
            | Error::LocalService { source, .. }
            | Error::FileRead { source, .. }
            | Error::FileWrite { source, .. }
            | Error::Runtime(source) => Some(source),
            Error::BadName { source, .. } => Some(source),
            Error::Login(err) => std::error::Error::source(err.as_ref()),
            Error::Hinted { error, .. } => Some(error.as_ref()),
            _ => None,
        }
    }
}

/// The hint every authentication failure carries.
pub const LOGIN_HINT: &str = "run `capfile login`, or set CAPFILE_USERNAME and CAPFILE_PASSWORD (or CAPFILE_CLIENT_KEY and CAPFILE_CLIENT_SECRET)";

/// The candidate closest to `typed`, when it is close enough to be a typo
/// (at most a third of its letters wrong, and at most 3).
pub fn closest<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (typed.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| (edit_distance(typed, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb)).min(row[j] + 1).min(current + 1);
            previous = current;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod hint_tests {
    use super::*;

    #[test]
    fn typos_find_their_closest_candidate() {
        let keys = ["base_url", "auth", "username", "namespace"];
        assert_eq!(closest("base_ur", keys), Some("base_url"));
        assert_eq!(closest("namespce", keys), Some("namespace"));
        assert_eq!(closest("zzz", keys), None);
        assert_eq!(closest("prod", ["prd", "staging"]), Some("prd"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_the_exit_codes() {
        assert_eq!(Error::usage("x").exit().code(), 2);
        assert_eq!(Error::auth("x").exit().code(), 4);
        assert_eq!(Error::failure("x").exit().code(), 1);
        assert_eq!(Error::interrupted().exit().code(), 130);
        assert_eq!(Exit::Partial.code(), 3);
        assert_eq!(Exit::Success.code(), 0);
    }

    #[test]
    fn file_and_setting_errors_name_the_file_or_source() {
        let path = || PathBuf::from("/c/config.toml");
        let invalid = Error::FileInvalid {
            path: path(),
            at: Some((2, 8)),
            message: "jobs must be from 1 to 64, not 0".into(),
        };
        assert_eq!(
            invalid.to_string(),
            "/c/config.toml:2:8: jobs must be from 1 to 64, not 0"
        );
        assert_eq!(invalid.exit(), Exit::Usage);
        let write = Error::FileWrite {
            path: path(),
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        };
        assert_eq!(write.exit(), Exit::Failure);
        assert!(std::error::Error::source(&write).is_some());
        let profile = |existing| Error::UnknownProfile {
            name: "demo".into(),
            path: path(),
            existing,
        };
        assert_eq!(
            profile(None).to_string(),
            "profile `demo` does not exist: there is no config file at /c/config.toml"
        );
        assert_eq!(
            profile(Some(vec![])).to_string(),
            "profile `demo` does not exist: /c/config.toml has no profiles"
        );
        assert_eq!(
            profile(Some(vec!["a".into(), "b".into()])).to_string(),
            "profile `demo` is not in /c/config.toml; existing profiles: a, b"
        );
        let bad = Error::BadSetting {
            from: "CAPFILE_JOBS".into(),
            message: "must be from 1 to 64".into(),
        };
        assert_eq!(bad.to_string(), "CAPFILE_JOBS: must be from 1 to 64");
        assert_eq!(
            Error::NoConfigDir.hint(),
            Some("pass --config FILE or set CAPFILE_CONFIG")
        );
        assert_eq!(Error::ResultsLost { cause: "x".into() }.exit(), Exit::Failure);
    }

    #[test]
    fn typed_variants_decide_their_exit_code() {
        let label = || "a.png".to_string();
        assert_eq!(Error::NotAnImage { label: label() }.exit(), Exit::Usage);
        assert_eq!(Error::NoBaseUrl.exit(), Exit::Usage);
        assert_eq!(Error::CredentialsRefused.exit(), Exit::Auth);
        let upload = Error::Upload {
            label: label(),
            source: ApiError::Timeout(std::time::Duration::from_secs(5)),
        };
        assert_eq!(upload.exit(), Exit::Failure);
        assert_eq!(upload.to_string(), "a.png: no progress for 5 s (--timeout)");
    }

    #[test]
    fn io_causes_are_put_in_words() {
        let err = |kind| Error::Io {
            label: "a.png".into(),
            source: io::Error::from(kind),
        };
        assert_eq!(
            err(io::ErrorKind::NotFound).message(),
            "a.png: no such file or directory"
        );
        assert_eq!(
            err(io::ErrorKind::PermissionDenied).message(),
            "a.png: permission denied"
        );
    }

    #[test]
    fn a_hint_can_be_replaced_without_changing_the_kind() {
        let err = Error::EmptyFile { label: "a.png".into() };
        assert_eq!(
            err.hint(),
            Some("use --placeholder to create a placeholder without a body")
        );
        let err = err.with_hint("something else");
        assert_eq!(err.hint(), Some("something else"));
        assert_eq!(err.exit(), Exit::Usage);
        assert_eq!(err.message(), "a.png: file is empty");
        assert!(matches!(err, Error::Hinted { ref error, .. } if matches!(**error, Error::EmptyFile { .. })));
    }
}
