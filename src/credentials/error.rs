//! Why a command cannot have the credentials it needs: the environment's
//! secrets contradict each other, nothing is saved for the profile, a saved
//! secret may not go where the settings point (see the `credentials` module
//! docs on bindings), or a store failed.
//!
//! Every variant holds names, origins and where a secret was found, never the
//! secret: the messages are shown on the terminal and in `status` reports.
//! What a store holds (a saved identity or origin) is shown escaped or in the
//! form capfile writes, so a hostile file cannot write to the terminal.

use std::borrow::Cow;
use std::fmt;

use url::Url;

use super::{LOGIN_HINT, SecretKind, SecretSource, StoreError, login_hint, origin_of};
use crate::exit::{ErrorKind, Failure};
use crate::settings::Origin;

/// Why there are no credentials to use. [`CredentialsError::kind`] gives the
/// exit code: contradicting variables are a usage error (2), a failing store
/// a failure (1, or 2 for a file to fix), everything else an authentication
/// error (4).
#[derive(Debug)]
pub(crate) enum CredentialsError {
    /// Both `CAPFILE_PASSWORD` and `CAPFILE_PASSWORD_MD5` are set.
    TwoPasswords,
    /// `CAPFILE_PASSWORD_MD5` is not an MD5 in hex.
    EnvMd5NotHex,
    /// A Basic secret (in `variable`) and `CAPFILE_CLIENT_SECRET` are both set.
    BasicAndOauth { variable: &'static str },
    /// The environment has no secret, and the profile no username or client
    /// key: it was never logged in.
    NotLoggedIn { profile: String },
    /// No credentials were found, and these credential variables are set but
    /// empty (CI gives a fork's pull request empty secrets).
    EmptyVariables {
        profile: String,
        variables: Vec<&'static str>,
    },
    /// No store holds the profile's secret of `kind`. `places` describes the
    /// stores looked in; `failures` are the ones that could not be asked.
    NotSaved {
        profile: String,
        kind: SecretKind,
        places: Vec<String>,
        failures: Vec<StoreError>,
    },
    /// A saved password_md5 that is not 32 hexadecimal digits.
    SavedMd5NotHex { profile: String, found_in: SecretSource },
    /// A saved secret is bound to another origin than the base URL's
    /// (boxed: the largest errors, and every `Result` would carry their size).
    OtherOrigin(Box<OtherOrigin>),
    /// A saved secret belongs to another username or client key than the
    /// settings give.
    OtherIdentity(Box<OtherIdentity>),
    /// A secret saved by capfile 0.1.0, which recorded no binding, cannot be
    /// bound through its profile.
    Unbound {
        profile: String,
        found_in: SecretSource,
        why: Unbindable,
        /// What became of the secret ("it was not sent").
        outcome: String,
    },
    /// The secret is in the environment but the username or client key that
    /// goes with it is set nowhere.
    NoIdentity { kind: SecretKind, found_in: SecretSource },
    /// A store could not do what was asked.
    Store(StoreError),
}

/// A saved secret bound to another origin than the base URL's.
#[derive(Debug)]
pub(crate) struct OtherOrigin {
    pub profile: String,
    pub kind: SecretKind,
    pub found_in: SecretSource,
    /// The saved origin as capfile writes it; `None` when it is not a URL.
    pub saved_origin: Option<String>,
    pub base_url: Url,
    /// Where the base URL was given.
    pub base_url_from: Origin,
    /// What became of the secret ("it was not sent").
    pub outcome: String,
}

/// A saved secret that belongs to another username or client key than the
/// settings give.
#[derive(Debug)]
pub(crate) struct OtherIdentity {
    pub profile: String,
    pub kind: SecretKind,
    pub found_in: SecretSource,
    pub saved_identity: String,
    pub identity: String,
    /// Where the username or client key was given.
    pub identity_from: Origin,
    /// What became of the secret ("it was not sent").
    pub outcome: String,
}

/// Why a secret saved by capfile 0.1.0 cannot be bound to its profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unbindable {
    /// Its kind was not recorded, and the profile sets both or neither of
    /// username and client key.
    KindUnknown,
    /// It is of another kind than the profile's auth needs.
    OtherKind { saved: SecretKind, needed: SecretKind },
    /// The profile in `config.toml` has no base URL.
    NoBaseUrl,
    /// The profile in `config.toml` has no username (or client key, by `kind`).
    NoIdentity { kind: SecretKind },
}

impl CredentialsError {
    /// The kind, which decides the exit code.
    pub(crate) fn kind(&self) -> ErrorKind {
        match self {
            CredentialsError::TwoPasswords
            | CredentialsError::EnvMd5NotHex
            | CredentialsError::BasicAndOauth { .. } => ErrorKind::Usage,
            CredentialsError::Store(store) if store.malformed => ErrorKind::Usage,
            CredentialsError::Store(_) => ErrorKind::Failure,
            CredentialsError::NotLoggedIn { .. }
            | CredentialsError::EmptyVariables { .. }
            | CredentialsError::NotSaved { .. }
            | CredentialsError::SavedMd5NotHex { .. }
            | CredentialsError::OtherOrigin(_)
            | CredentialsError::OtherIdentity(_)
            | CredentialsError::Unbound { .. }
            | CredentialsError::NoIdentity { .. } => ErrorKind::Auth,
        }
    }

    /// The next step for the user, where there is one.
    pub(crate) fn hint(&self) -> Option<String> {
        match self {
            CredentialsError::TwoPasswords
            | CredentialsError::EnvMd5NotHex
            | CredentialsError::BasicAndOauth { .. }
            | CredentialsError::Store(_) => None,
            CredentialsError::NotLoggedIn { profile } | CredentialsError::NotSaved { profile, .. } => {
                Some(login_hint(profile))
            }
            CredentialsError::EmptyVariables { profile, .. } => Some(format!(
                "a CI secret is empty in a pull request from a fork: give the variable a value, \
                 or unset it to use what `{}` saved",
                super::hints::login_command(profile)
            )),
            CredentialsError::SavedMd5NotHex { profile, .. } | CredentialsError::Unbound { profile, .. } => {
                Some(login_again(profile))
            }
            CredentialsError::OtherOrigin(other) => {
                let OtherOrigin {
                    profile,
                    kind,
                    base_url,
                    base_url_from,
                    ..
                } = other.as_ref();
                let origin = origin_of(base_url);
                let env_hint = env_hint(*kind);
                Some(match base_url_from {
                    // The profile itself now names another host (`config set base_url`).
                    Origin::File => format!(
                        "to use {origin} with this profile, run `capfile -p {profile} login` again, or give {env_hint} in the environment"
                    ),
                    _ => {
                        // The URL to log in with: the base URL itself when it has a path.
                        let login_url = match base_url.path() {
                            "/" => origin.clone(),
                            _ => base_url.to_string(),
                        };
                        format!(
                            "log in for {origin} under a profile of its own (`capfile -p NAME login --base-url {login_url}`), or give {env_hint} in the environment"
                        )
                    }
                })
            }
            CredentialsError::OtherIdentity(other) => {
                let OtherIdentity {
                    profile,
                    kind,
                    identity,
                    identity_from,
                    ..
                } = other.as_ref();
                let (what, _, _) = identity_names(*kind);
                let env_hint = env_hint(*kind);
                Some(match identity_from {
                    Origin::File => format!(
                        "to use {what} `{identity}` with this profile, run `capfile -p {profile} login` again, or give {env_hint} in the environment"
                    ),
                    _ => format!(
                        "log in as `{identity}` under a profile of its own (`capfile -p NAME login`), or give {env_hint} in the environment"
                    ),
                })
            }
            CredentialsError::NoIdentity { .. } => Some(LOGIN_HINT.to_string()),
        }
    }
}

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialsError::TwoPasswords => {
                f.write_str("both CAPFILE_PASSWORD and CAPFILE_PASSWORD_MD5 are set; keep one")
            }
            CredentialsError::EnvMd5NotHex => f.write_str("CAPFILE_PASSWORD_MD5 is not 32 hexadecimal digits"),
            CredentialsError::BasicAndOauth { variable } => write!(
                f,
                "both {variable} (Basic) and CAPFILE_CLIENT_SECRET (OAuth) are set; keep one"
            ),
            CredentialsError::NotLoggedIn { profile } => write!(
                f,
                "no credentials: profile `{profile}` is not logged in and the environment has none"
            ),
            CredentialsError::EmptyVariables { profile, variables } => write!(
                f,
                "no credentials for profile `{profile}`: {} set but empty",
                match variables.as_slice() {
                    [one] => format!("{one} is"),
                    [many @ .., last] => format!("{} and {last} are", many.join(", ")),
                    [] => "nothing is".to_string(),
                }
            ),
            CredentialsError::NotSaved {
                profile,
                kind,
                places,
                failures,
            } => {
                write!(
                    f,
                    "no saved {} for profile `{profile}` (looked in {})",
                    kind.name(),
                    places.join(" and ")
                )?;
                for failure in failures {
                    write!(f, "; {failure}")?;
                }
                Ok(())
            }
            CredentialsError::SavedMd5NotHex { profile, found_in } => write!(
                f,
                "the password_md5 saved for profile `{profile}` ({found_in}) is not 32 hexadecimal digits"
            ),
            CredentialsError::OtherOrigin(other) => {
                let OtherOrigin {
                    profile,
                    kind,
                    found_in,
                    saved_origin,
                    base_url,
                    base_url_from,
                    outcome,
                } = other.as_ref();
                write!(
                    f,
                    "the {} saved for profile `{profile}` ({found_in}) is for {}, not for {} (base URL from {}); {outcome}",
                    kind.name(),
                    saved_origin.as_deref().unwrap_or("an origin that is not a URL"),
                    origin_of(base_url),
                    given_by(base_url_from, "--base-url", "CAPFILE_BASE_URL")
                )
            }
            CredentialsError::OtherIdentity(other) => {
                let OtherIdentity {
                    profile,
                    kind,
                    found_in,
                    saved_identity,
                    identity,
                    identity_from,
                    outcome,
                } = other.as_ref();
                let (what, flag, variable) = identity_names(*kind);
                write!(
                    f,
                    "the {} saved for profile `{profile}` ({found_in}) belongs to {what} `{}`, not `{identity}` ({what} from {}); {outcome}",
                    kind.name(),
                    // What a store holds is shown only escaped.
                    saved_identity.escape_debug(),
                    given_by(identity_from, flag, variable)
                )
            }
            CredentialsError::Unbound {
                profile,
                found_in,
                why,
                outcome,
            } => write!(
                f,
                "the secret saved for profile `{profile}` ({found_in}) by capfile 0.1.0 {why}; {outcome}"
            ),
            CredentialsError::NoIdentity { kind, found_in } => {
                let (what, variable, key) = match kind {
                    SecretKind::PasswordMd5 => ("username", "CAPFILE_USERNAME", "username"),
                    SecretKind::ClientSecret => ("client key", "CAPFILE_CLIENT_KEY", "client_key"),
                };
                write!(
                    f,
                    "the secret comes from {found_in} but there is no {what}: set {variable}, or `capfile config set {key} ...`"
                )
            }
            CredentialsError::Store(store) => store.fmt(f),
        }
    }
}

impl fmt::Display for Unbindable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unbindable::KindUnknown => f.write_str(
                "does not say whether it is a password_md5 or a client_secret, and the profile does not tell (it sets both username and client_key, or neither)",
            ),
            Unbindable::OtherKind { saved, needed } => write!(
                f,
                "is a {}, but the profile's auth needs a {}",
                saved.name(),
                needed.name()
            ),
            Unbindable::NoBaseUrl => {
                f.write_str("is bound to the profile's base_url in config.toml, and the profile has none")
            }
            Unbindable::NoIdentity { kind } => write!(
                f,
                "is bound to the profile's {} in config.toml, and the profile has none",
                identity_names(*kind).0
            ),
        }
    }
}

impl std::error::Error for CredentialsError {}

impl Failure for CredentialsError {
    fn kind(&self) -> ErrorKind {
        CredentialsError::kind(self)
    }

    fn hint(&self) -> Option<Cow<'_, str>> {
        CredentialsError::hint(self).map(Cow::Owned)
    }
}

fn login_again(profile: &str) -> String {
    format!("run `capfile -p {profile} login` again")
}

/// The variables that give a secret of `kind` and its identity instead.
fn env_hint(kind: SecretKind) -> &'static str {
    match kind {
        SecretKind::PasswordMd5 => "CAPFILE_USERNAME and CAPFILE_PASSWORD",
        SecretKind::ClientSecret => "CAPFILE_CLIENT_KEY and CAPFILE_CLIENT_SECRET",
    }
}

/// Where a setting came from, in words for a message.
fn given_by(origin: &Origin, flag: &str, variable: &str) -> String {
    match origin {
        Origin::Flag => flag.to_string(),
        Origin::Env(_) => variable.to_string(),
        Origin::File => "config.toml".to_string(),
        other => other.to_string(),
    }
}

/// What the identity of a kind is called: in words, as a flag, as a variable.
fn identity_names(kind: SecretKind) -> (&'static str, &'static str, &'static str) {
    match kind {
        SecretKind::PasswordMd5 => ("user", "--username", "CAPFILE_USERNAME"),
        SecretKind::ClientSecret => ("client key", "--client-key", "CAPFILE_CLIENT_KEY"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::exit::Exit;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn each_kind_of_failure_has_its_exit_code() {
        let store = |malformed| StoreError {
            message: "x".into(),
            malformed,
            absent: false,
        };
        let profile = || "demo".to_string();
        for (err, exit) in [
            (CredentialsError::TwoPasswords, Exit::Usage),
            (CredentialsError::EnvMd5NotHex, Exit::Usage),
            (
                CredentialsError::BasicAndOauth {
                    variable: "CAPFILE_PASSWORD",
                },
                Exit::Usage,
            ),
            (CredentialsError::NotLoggedIn { profile: profile() }, Exit::Auth),
            (
                CredentialsError::SavedMd5NotHex {
                    profile: profile(),
                    found_in: SecretSource::Keyring,
                },
                Exit::Auth,
            ),
            (
                CredentialsError::Unbound {
                    profile: profile(),
                    found_in: SecretSource::Keyring,
                    why: Unbindable::NoBaseUrl,
                    outcome: "it was not sent".into(),
                },
                Exit::Auth,
            ),
            (
                CredentialsError::NoIdentity {
                    kind: SecretKind::ClientSecret,
                    found_in: SecretSource::Env("CAPFILE_CLIENT_SECRET"),
                },
                Exit::Auth,
            ),
            (CredentialsError::Store(store(true)), Exit::Usage),
            (CredentialsError::Store(store(false)), Exit::Failure),
        ] {
            assert_eq!(Error::from(err).exit(), exit);
        }
    }

    #[test]
    fn a_foreign_origin_is_named_and_the_hint_follows_where_the_url_came_from() {
        let err = |base_url_from| {
            CredentialsError::OtherOrigin(Box::new(OtherOrigin {
                profile: "demo".into(),
                kind: SecretKind::PasswordMd5,
                found_in: SecretSource::Keyring,
                saved_origin: None,
                base_url: url("https://b.example.com/api/"),
                base_url_from,
                outcome: "it was not sent".into(),
            }))
        };
        let from_env = Error::from(err(Origin::Env("CAPFILE_BASE_URL")));
        assert_eq!(
            from_env.message(),
            "the password_md5 saved for profile `demo` (keyring) is for an origin that is not a URL, not for https://b.example.com (base URL from CAPFILE_BASE_URL); it was not sent"
        );
        assert_eq!(
            from_env.hint().as_deref(),
            Some(
                "log in for https://b.example.com under a profile of its own (`capfile -p NAME login --base-url https://b.example.com/api/`), or give CAPFILE_USERNAME and CAPFILE_PASSWORD in the environment"
            )
        );
        assert_eq!(from_env.exit(), Exit::Auth);
        assert!(
            err(Origin::File)
                .hint()
                .unwrap()
                .starts_with("to use https://b.example.com with this profile, run `capfile -p demo login` again")
        );
    }

    #[test]
    fn a_saved_identity_is_shown_escaped() {
        let err = CredentialsError::OtherIdentity(Box::new(OtherIdentity {
            profile: "demo".into(),
            kind: SecretKind::ClientSecret,
            found_in: SecretSource::File("/c/credentials.toml".into()),
            saved_identity: "k\u{1b}[2K".into(),
            identity: "other".into(),
            identity_from: Origin::Flag,
            outcome: "it was not sent".into(),
        }));
        assert_eq!(
            err.to_string(),
            "the client_secret saved for profile `demo` (credentials file) belongs to client key `k\\u{1b}[2K`, not `other` (client key from --client-key); it was not sent"
        );
    }

    #[test]
    fn missing_secrets_list_the_stores_and_their_failures() {
        let err = Error::from(CredentialsError::NotSaved {
            profile: "ci".into(),
            kind: SecretKind::ClientSecret,
            places: vec!["the OS keyring (test)".into(), "/c/credentials.toml".into()],
            failures: vec![StoreError::new("cannot use the OS keyring (test): locked")],
        });
        assert_eq!(
            err.message(),
            "no saved client_secret for profile `ci` (looked in the OS keyring (test) and /c/credentials.toml); cannot use the OS keyring (test): locked"
        );
        assert_eq!(err.hint().as_deref(), Some(login_hint("ci").as_str()));
        let unbound = CredentialsError::Unbound {
            profile: "ci".into(),
            found_in: SecretSource::Keyring,
            why: Unbindable::OtherKind {
                saved: SecretKind::PasswordMd5,
                needed: SecretKind::ClientSecret,
            },
            outcome: "it was not sent".into(),
        };
        assert_eq!(
            unbound.to_string(),
            "the secret saved for profile `ci` (keyring) by capfile 0.1.0 is a password_md5, but the profile's auth needs a client_secret; it was not sent"
        );
        assert_eq!(unbound.hint().as_deref(), Some("run `capfile -p ci login` again"));
    }
}
