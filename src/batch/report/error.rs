//! Why a report could not be written, or read for `--retry-from`.
//!
//! One enum, kept beside the reader and writer, so that each case's words,
//! hint and exit code are decided in one place and the code that meets it
//! only says which case it is and with what file, line or cause.

use std::borrow::Cow;
use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::batch::record::{Binding, SCHEMA};
use crate::exit::{ErrorKind, Failure};

/// The hint for a file that is not a report at all.
const NOT_A_REPORT_HINT: &str = "--retry-from takes a file written by `capfile upload --report FILE`";

/// Why a report could not be written, or read for `--retry-from`. Each
/// displays as one line naming the file (and the line, for its content);
/// [`ReportError::kind`] gives the exit code.
#[derive(Debug)]
pub(crate) enum ReportError {
    /// `--report FILE` cannot be opened (or its torn tail cut off).
    Open { path: PathBuf, source: io::Error },
    /// `--report FILE` names an existing file that is not a capfile report:
    /// it is left untouched.
    NotAReport { path: PathBuf, line: usize, cause: String },
    /// A record cannot be appended to the report.
    Write { path: PathBuf, source: io::Error },
    /// `--retry-from FILE` cannot be read.
    Read { path: PathBuf, source: io::Error },
    /// A complete line that is not JSON: not a report at all.
    NotJson {
        path: PathBuf,
        line: usize,
        source: serde_json::Error,
    },
    /// A JSON line without a `schema` number: not a report at all.
    NoSchema { path: PathBuf, line: usize },
    /// A record of a schema this version does not read.
    UnknownSchema { path: PathBuf, line: usize, schema: u64 },
    /// A line of this schema whose fields do not make a record.
    NotARecord {
        path: PathBuf,
        line: usize,
        source: serde_json::Error,
    },
    /// A record written for another profile, origin or namespace (boxed: two
    /// bindings would make every `Result<_, Error>` large).
    WrongBinding {
        path: PathBuf,
        line: usize,
        bindings: Box<(Binding, Binding)>,
    },
    /// A failed standard-input upload in the report: its bytes are gone.
    StdinNotRetried { path: PathBuf, name: String },
}

impl ReportError {
    /// The kind, which decides the exit code: a report that cannot be opened
    /// or read is an input error (2: nothing was sent yet); one that cannot be
    /// written to mid-batch is a failure (1).
    pub(crate) fn kind(&self) -> ErrorKind {
        match self {
            ReportError::Write { .. } => ErrorKind::Failure,
            _ => ErrorKind::Usage,
        }
    }

    /// The next step for the user, if there is an obvious one.
    pub(crate) fn hint(&self) -> Option<&'static str> {
        match self {
            ReportError::NotJson { .. } | ReportError::NoSchema { .. } => Some(NOT_A_REPORT_HINT),
            ReportError::UnknownSchema { .. } => Some("retry with the capfile version that wrote the report"),
            ReportError::NotAReport { .. } => Some("give --report a new file name, or a report capfile wrote"),
            ReportError::WrongBinding { .. } => {
                Some("retry with the same profile, base URL and namespace as the run that wrote the report")
            }
            _ => None,
        }
    }
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportError::Open { path, source } => write!(f, "cannot open the report {}: {source}", path.display()),
            ReportError::NotAReport { path, line, cause } => write!(
                f,
                "--report {}: not a capfile report (line {line}: {cause}); capfile appends only to its own reports",
                path.display()
            ),
            ReportError::Write { path, source } => write!(f, "cannot write the report {}: {source}", path.display()),
            ReportError::Read { path, source } => write!(f, "cannot read the report {}: {source}", path.display()),
            ReportError::NotJson { path, line, source } | ReportError::NotARecord { path, line, source } => {
                write!(f, "{} line {line}: not a capfile record: {source}", path.display())
            }
            ReportError::NoSchema { path, line } => {
                write!(
                    f,
                    "{} line {line}: not a capfile record: no \"schema\" number",
                    path.display()
                )
            }
            ReportError::UnknownSchema { path, line, schema } => write!(
                f,
                "{} line {line}: record schema {schema} is not known to this capfile (it reads schema {SCHEMA})",
                path.display()
            ),
            ReportError::WrongBinding { path, line, bindings } => write!(
                f,
                "{} line {line} was written for {}, not for {}",
                path.display(),
                bindings.0.describe(),
                bindings.1.describe()
            ),
            ReportError::StdinNotRetried { path, name } => write!(
                f,
                "-: standard input cannot be retried from {}; upload it again with `-` and --name {name}",
                path.display()
            ),
        }
    }
}

impl std::error::Error for ReportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReportError::Open { source, .. } | ReportError::Write { source, .. } | ReportError::Read { source, .. } => {
                Some(source)
            }
            ReportError::NotJson { source, .. } | ReportError::NotARecord { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl Failure for ReportError {
    fn kind(&self) -> ErrorKind {
        ReportError::kind(self)
    }

    fn hint(&self) -> Option<Cow<'_, str>> {
        ReportError::hint(self).map(Cow::Borrowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::record::test_binding;
    use crate::error::Error;

    #[test]
    fn each_report_error_has_its_exit_code_and_hint() {
        let path = || PathBuf::from("r.ndjson");
        let io = || io::Error::from(io::ErrorKind::PermissionDenied);
        let json = || serde_json::from_str::<serde_json::Value>("{").unwrap_err();
        let line = 3;
        let cases = [
            (
                ReportError::Open {
                    path: path(),
                    source: io(),
                },
                2,
                None,
            ),
            (
                ReportError::Write {
                    path: path(),
                    source: io(),
                },
                1,
                None,
            ),
            (
                ReportError::NotAReport {
                    path: path(),
                    line: 1,
                    cause: "not a capfile record".into(),
                },
                2,
                Some("give --report a new file name, or a report capfile wrote"),
            ),
            (
                ReportError::Read {
                    path: path(),
                    source: io(),
                },
                2,
                None,
            ),
            (
                ReportError::NotJson {
                    path: path(),
                    line,
                    source: json(),
                },
                2,
                Some(NOT_A_REPORT_HINT),
            ),
            (ReportError::NoSchema { path: path(), line }, 2, Some(NOT_A_REPORT_HINT)),
            (
                ReportError::WrongBinding {
                    path: path(),
                    line,
                    bindings: Box::new((test_binding(), test_binding())),
                },
                2,
                Some("retry with the same profile, base URL and namespace as the run that wrote the report"),
            ),
            (
                ReportError::UnknownSchema {
                    path: path(),
                    line,
                    schema: 9,
                },
                2,
                Some("retry with the capfile version that wrote the report"),
            ),
            (
                ReportError::NotARecord {
                    path: path(),
                    line,
                    source: json(),
                },
                2,
                None,
            ),
            (
                ReportError::StdinNotRetried {
                    path: path(),
                    name: "a.png".into(),
                },
                2,
                None,
            ),
        ];
        for (err, code, hint) in cases {
            let shown = format!("{err:?}");
            let err = Error::from(err);
            assert_eq!((err.exit().code(), err.hint().as_deref()), (code, hint), "{shown}");
            assert!(!err.message().contains('\n'), "{shown}");
        }
        let err = Error::from(ReportError::UnknownSchema {
            path: path(),
            line,
            schema: 9,
        });
        assert_eq!(
            err.message(),
            "r.ndjson line 3: record schema 9 is not known to this capfile (it reads schema 1)"
        );
        let err = Error::from(ReportError::StdinNotRetried {
            path: path(),
            name: "a.png".into(),
        });
        assert_eq!(
            err.message(),
            "-: standard input cannot be retried from r.ndjson; upload it again with `-` and --name a.png"
        );
        let err = Error::from(ReportError::Write {
            path: path(),
            source: io(),
        });
        assert!(std::error::Error::source(&err).is_some());
    }
}
