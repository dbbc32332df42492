//! Why `capfile login` saved nothing: a question that got no answer, flags
//! that do not fit the auth kind, a setting or secret that is missing, a
//! keyring that cannot be used, or a client key the token endpoint refused.
//!
//! Every one of them ends the command before anything is written (see the
//! `login` module docs), which is why most messages say "nothing was saved".
//! No variant holds the secret: only flag names, the question asked, the base
//! URL and the client key, and the causes of what failed.

use std::borrow::Cow;
use std::fmt;
use std::io;
use std::path::PathBuf;

use url::Url;

use crate::api::ApiError;
use crate::credentials::StoreError;
use crate::error::{CommandError, ErrorKind, Failure};
use crate::settings::{AuthKind, Key, Value, choice_name};

/// Why `capfile login` stopped. [`LoginError::kind`] gives the exit code:
/// what the user must give or fix is a usage error (2), a keyring that cannot
/// be used or a token endpoint that cannot be reached a failure (1), a
/// refused client key an authentication error (4).
#[derive(Debug)]
pub(crate) enum LoginError {
    /// The OS keyring failed; `credentials_file` is where `--insecure-storage`
    /// would keep the secret instead.
    Keyring {
        cause: StoreError,
        credentials_file: PathBuf,
    },
    /// An answer typed on the terminal could not be read.
    ReadAnswer(io::Error),
    /// Standard input ended (Ctrl-D) before `question` was answered.
    NoAnswer { question: String },
    /// A secret typed on the terminal could not be read.
    ReadSecret(io::Error),
    /// A flag of the other auth kind (`--client-key` with Basic, ...).
    FlagMisfit { flag: &'static str, auth: AuthKind },
    /// The base URL setting resolved to something that is not a URL (the
    /// settings never give one; kept rather than a panic).
    BaseUrlNotUrl(Value),
    /// No base URL from a flag, the environment or the profile.
    NoBaseUrl,
    /// No username or client key (`key`) from a flag, the environment or the
    /// profile.
    NoIdentity(Key),
    /// The secret could not be read from standard input.
    ReadStdin { auth: AuthKind, source: io::Error },
    /// No `*-stdin` flag and no terminal to ask the secret on.
    NoTerminal { auth: AuthKind },
    /// The secret read is empty.
    EmptySecret { auth: AuthKind },
    /// The token endpoint refused the client key and secret.
    OauthRefused {
        base_url: Url,
        client_key: String,
        cause: ApiError,
    },
    /// The token endpoint could not be asked (network, server error).
    OauthUnchecked {
        base_url: Url,
        client_key: String,
        cause: ApiError,
    },
}

impl LoginError {
    /// The kind, which decides the exit code.
    pub(crate) fn kind(&self) -> ErrorKind {
        match self {
            LoginError::Keyring { .. } | LoginError::OauthUnchecked { .. } => ErrorKind::Failure,
            LoginError::OauthRefused { .. } => ErrorKind::Auth,
            LoginError::ReadAnswer(_)
            | LoginError::NoAnswer { .. }
            | LoginError::ReadSecret(_)
            | LoginError::FlagMisfit { .. }
            | LoginError::BaseUrlNotUrl(_)
            | LoginError::NoBaseUrl
            | LoginError::NoIdentity(_)
            | LoginError::ReadStdin { .. }
            | LoginError::NoTerminal { .. }
            | LoginError::EmptySecret { .. } => ErrorKind::Usage,
        }
    }

    /// The next step for the user, where there is one.
    pub(crate) fn hint(&self) -> Option<String> {
        match self {
            LoginError::Keyring {
                credentials_file,
                cause,
            } => Some(no_keyring_hint(
                credentials_file,
                cause.message.contains("kernel keyring"),
            )),
            LoginError::FlagMisfit { .. } => Some(
                "Basic takes --username and --password-stdin; OAuth takes --client-key and --client-secret-stdin"
                    .into(),
            ),
            LoginError::NoBaseUrl => Some("pass --base-url, e.g. --base-url https://eu.api.capillarytech.com".into()),
            LoginError::NoIdentity(key) => Some(format!("pass {}", key.spec().flag.unwrap_or_default())),
            LoginError::NoTerminal { auth } => Some(format!(
                "printf '%s' \"$SECRET\" | capfile login {} ...",
                secret_flag(*auth)
            )),
            LoginError::OauthRefused { .. } => {
                Some("check the client key and secret, then run `capfile login` again".into())
            }
            LoginError::ReadAnswer(_)
            | LoginError::NoAnswer { .. }
            | LoginError::ReadSecret(_)
            | LoginError::BaseUrlNotUrl(_)
            | LoginError::ReadStdin { .. }
            | LoginError::EmptySecret { .. }
            | LoginError::OauthUnchecked { .. } => None,
        }
    }
}

impl fmt::Display for LoginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoginError::Keyring { cause, .. } => write!(f, "{cause}; nothing was saved"),
            LoginError::ReadAnswer(source) => write!(f, "cannot read the answer: {source}"),
            LoginError::NoAnswer { question } => write!(f, "no answer to `{question}`; nothing was saved"),
            LoginError::ReadSecret(source) => write!(f, "cannot read the secret from the terminal: {source}"),
            LoginError::FlagMisfit { flag, auth } => write!(f, "{flag} does not go with {} auth", choice_name(auth)),
            LoginError::BaseUrlNotUrl(value) => write!(f, "base_url: {value:?} is not a URL"),
            LoginError::NoBaseUrl => f.write_str("login needs the base URL of the API host"),
            LoginError::NoIdentity(key) => write!(f, "login needs the {}", key.name().replace('_', " ")),
            LoginError::ReadStdin { auth, source } => {
                write!(f, "{}: cannot read standard input: {source}", secret_flag(*auth))
            }
            LoginError::NoTerminal { auth } => write!(
                f,
                "no terminal to ask for the {} on: pipe it to {}",
                secret_name(*auth),
                secret_flag(*auth)
            ),
            LoginError::EmptySecret { auth } => {
                write!(f, "the {} is empty; nothing was saved", secret_name(*auth))
            }
            LoginError::OauthRefused {
                base_url,
                client_key,
                cause,
            } => write!(
                f,
                "the token endpoint at {base_url} refused client key `{client_key}` ({cause}); nothing was saved"
            ),
            LoginError::OauthUnchecked {
                base_url,
                client_key,
                cause,
            } => write!(
                f,
                "cannot check client key `{client_key}` with the token endpoint at {base_url}: {cause}; nothing was saved"
            ),
        }
    }
}

impl std::error::Error for LoginError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LoginError::ReadAnswer(source) | LoginError::ReadSecret(source) | LoginError::ReadStdin { source, .. } => {
                Some(source)
            }
            LoginError::OauthRefused { cause, .. } | LoginError::OauthUnchecked { cause, .. } => Some(cause),
            _ => None,
        }
    }
}

impl Failure for LoginError {
    fn kind(&self) -> ErrorKind {
        LoginError::kind(self)
    }

    fn hint(&self) -> Option<Cow<'_, str>> {
        LoginError::hint(self).map(Cow::Owned)
    }
}

/// Wrapped by the top-level `Error` as a command's own error.
impl CommandError for LoginError {}

/// The secret an auth kind saves, in words.
pub(super) fn secret_name(auth: AuthKind) -> &'static str {
    match auth {
        AuthKind::Basic => "password",
        AuthKind::Oauth => "client secret",
    }
}

/// The flag that reads an auth kind's secret from standard input.
fn secret_flag(auth: AuthKind) -> &'static str {
    match auth {
        AuthKind::Basic => "--password-stdin",
        AuthKind::Oauth => "--client-secret-stdin",
    }
}

/// What to do when the keyring cannot be used.
fn no_keyring_hint(credentials_file: &std::path::Path, kernel_already: bool) -> String {
    // Not suggested to one who chose it already.
    let kernel = if cfg!(target_os = "linux") && !kernel_already {
        ", or use the kernel keyring with CAPFILE_KEYRING=keyutils"
    } else {
        ""
    };
    format!(
        "pass --insecure-storage to keep the secret in {} (mode 0600) instead{kernel}; or set CAPFILE_* variables in the environment",
        credentials_file.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, Exit};

    #[test]
    fn each_kind_of_failure_has_its_exit_code() {
        let url = || Url::parse("https://eu.api.capillarytech.com").unwrap();
        let io = || io::Error::from(io::ErrorKind::BrokenPipe);
        let cause = || ApiError::Timeout(std::time::Duration::from_secs(30));
        for (err, exit) in [
            (
                LoginError::Keyring {
                    cause: StoreError::new("x"),
                    credentials_file: "/c/credentials.toml".into(),
                },
                Exit::Failure,
            ),
            (LoginError::ReadAnswer(io()), Exit::Usage),
            (LoginError::NoAnswer { question: "q".into() }, Exit::Usage),
            (LoginError::ReadSecret(io()), Exit::Usage),
            (
                LoginError::FlagMisfit {
                    flag: "--username",
                    auth: AuthKind::Oauth,
                },
                Exit::Usage,
            ),
            (LoginError::BaseUrlNotUrl(Value::Int(1)), Exit::Usage),
            (LoginError::NoBaseUrl, Exit::Usage),
            (LoginError::NoIdentity(Key::Username), Exit::Usage),
            (
                LoginError::ReadStdin {
                    auth: AuthKind::Basic,
                    source: io(),
                },
                Exit::Usage,
            ),
            (LoginError::NoTerminal { auth: AuthKind::Basic }, Exit::Usage),
            (LoginError::EmptySecret { auth: AuthKind::Oauth }, Exit::Usage),
            (
                LoginError::OauthRefused {
                    base_url: url(),
                    client_key: "k".into(),
                    cause: cause(),
                },
                Exit::Auth,
            ),
            (
                LoginError::OauthUnchecked {
                    base_url: url(),
                    client_key: "k".into(),
                    cause: cause(),
                },
                Exit::Failure,
            ),
        ] {
            assert_eq!(Error::from(err).exit(), exit);
        }
    }

    #[test]
    fn messages_and_hints_name_the_flag_to_use() {
        let err = Error::from(LoginError::NoTerminal { auth: AuthKind::Oauth });
        assert_eq!(
            err.message(),
            "no terminal to ask for the client secret on: pipe it to --client-secret-stdin"
        );
        assert_eq!(
            err.hint().as_deref(),
            Some("printf '%s' \"$SECRET\" | capfile login --client-secret-stdin ...")
        );
        let err = Error::from(LoginError::NoIdentity(Key::ClientKey));
        assert_eq!(err.message(), "login needs the client key");
        assert_eq!(err.hint().as_deref(), Some("pass --client-key"));
        let err = Error::from(LoginError::FlagMisfit {
            flag: "--client-key",
            auth: AuthKind::Basic,
        });
        assert_eq!(err.message(), "--client-key does not go with basic auth");
        let err = Error::from(LoginError::Keyring {
            cause: StoreError::new("cannot use the OS keyring (test): locked"),
            credentials_file: "/c/credentials.toml".into(),
        });
        assert_eq!(
            err.message(),
            "cannot use the OS keyring (test): locked; nothing was saved"
        );
        assert!(
            err.hint()
                .unwrap()
                .starts_with("pass --insecure-storage to keep the secret in /c/credentials.toml (mode 0600) instead"),
            "{:?}",
            err.hint()
        );
    }
}
