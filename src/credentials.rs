//! Credentials for the file service, the `Secret` type that carries them, and
//! where secrets are kept.
//!
//! A secret's `Debug` and `Display` never show it, so it cannot leak into a log,
//! an error message or a panic. Basic auth keeps only `md5_hex(password)`: it is
//! all the service ever sees, so it is the secret worth keeping.
//!
//! Secrets live behind one trait, `SecretStore`, with two implementations: the
//! OS keyring (`keyring`) and the plain-text `credentials.toml`
//! (`file`, for `login --insecure-storage`). Both key a secret by profile name.
//! `resolve` decides where an upload's secret comes from, first match wins:
//! environment (then no store is touched at all, so CI never waits on a
//! keyring), OS keyring, credentials file.

pub mod file;
pub mod keyring;

use std::fmt;
use std::path::PathBuf;

use md5::{Digest, Md5};

use crate::cli::AuthKind;
use crate::error::{Error, LOGIN_HINT};
use crate::settings::{Env, Settings};

/// A value that must not be shown. Read it with `expose` where it is sent.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// How capfile proves who it is to the file service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credentials {
    /// `Authorization: Basic base64(username ":" md5_hex(password))`.
    Basic { username: String, password_md5: Secret },
    /// A client key and secret exchanged for a token at `/v3/oauth/token/generate`.
    OAuth { client_key: String, client_secret: Secret },
}

/// Lower-case hex MD5, as Capillary's Basic auth expects.
pub fn md5_hex(password: &str) -> Secret {
    Secret(hex::encode(Md5::digest(password.as_bytes())))
}

/// Whether a string looks like an MD5 in hex (for `CAPFILE_PASSWORD_MD5`).
pub fn is_md5_hex(value: &str) -> bool {
    value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_is_lower_case_hex() {
        // RFC 1321's test vector. (Capillary's docs pair "Pass123" with
        // bdc87b9c..., which is not its MD5: md5("Pass123") is 2f23fa35....)
        assert_eq!(md5_hex("abc").expose(), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(md5_hex("Pass123").expose(), "2f23fa3579f3f75175793649115c1b25");
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let creds = Credentials::OAuth {
            client_key: "key".into(),
            client_secret: Secret::new("hunter2"),
        };
        let shown = format!("{creds:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("key"));
    }

    #[test]
    fn md5_shape_is_checked() {
        assert!(is_md5_hex("bdc87b9c894da5168059e00ebffb9077"));
        assert!(!is_md5_hex("Pass123"));
    }
}

/// Which secret a profile keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretKind {
    /// `md5_hex(password)`, for Basic auth.
    PasswordMd5,
    /// The OAuth client secret.
    ClientSecret,
}

impl SecretKind {
    pub fn for_auth(auth: AuthKind) -> SecretKind {
        match auth {
            AuthKind::Basic => SecretKind::PasswordMd5,
            AuthKind::Oauth => SecretKind::ClientSecret,
        }
    }

    /// The name it has in `credentials.toml` and in `config list`.
    pub fn name(self) -> &'static str {
        match self {
            SecretKind::PasswordMd5 => "password_md5",
            SecretKind::ClientSecret => "client_secret",
        }
    }
}

/// Where a secret was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretSource {
    Env(&'static str),
    Keyring,
    File(PathBuf),
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env(name) => write!(f, "env {name}"),
            SecretSource::Keyring => f.write_str("keyring"),
            SecretSource::File(_) => f.write_str("credentials file"),
        }
    }
}

/// A store that could not do what was asked; the message names the store and
/// the cause, and never holds a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreError {
    pub message: String,
    /// The store is a file the user must fix (a usage error), rather than a
    /// service that could not be reached.
    pub malformed: bool,
}

impl StoreError {
    pub fn new(message: impl Into<String>) -> Self {
        StoreError {
            message: message.into(),
            malformed: false,
        }
    }

    pub fn malformed(message: impl Into<String>) -> Self {
        StoreError {
            message: message.into(),
            malformed: true,
        }
    }

    /// The error that ends a command: exit 2 for a file to fix, else 1.
    pub fn into_error(self) -> Error {
        if self.malformed {
            Error::usage(self.message)
        } else {
            Error::failure(self.message)
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Somewhere secrets are kept, one per profile.
pub trait SecretStore {
    fn source(&self) -> SecretSource;
    /// For messages: "the OS keyring (Secret Service)", or the file's path.
    fn describe(&self) -> String;
    fn get(&self, profile: &str, kind: SecretKind) -> Result<Option<Secret>, StoreError>;
    /// Saves the profile's secret, replacing whatever it had.
    fn set(&self, profile: &str, kind: SecretKind, secret: &Secret) -> Result<(), StoreError>;
    /// Removes the profile's secret; says whether there was one.
    fn delete(&self, profile: &str) -> Result<bool, StoreError>;
}

/// A secret given by the environment: its kind, value and variable.
///
/// `CAPFILE_PASSWORD` is hashed here and dropped; `CAPFILE_PASSWORD_MD5` is used
/// as it is. Basic and OAuth secrets together are refused rather than guessed.
pub fn env_secret(env: Env) -> Result<Option<(SecretKind, Secret, &'static str)>, Error> {
    let basic = match (env("CAPFILE_PASSWORD"), env("CAPFILE_PASSWORD_MD5")) {
        (Some(_), Some(_)) => {
            return Err(Error::usage(
                "both CAPFILE_PASSWORD and CAPFILE_PASSWORD_MD5 are set; keep one",
            ));
        }
        (Some(password), None) => Some((md5_hex(&password), "CAPFILE_PASSWORD")),
        (None, Some(md5)) if is_md5_hex(&md5) => Some((Secret::new(md5.to_ascii_lowercase()), "CAPFILE_PASSWORD_MD5")),
        (None, Some(_)) => {
            return Err(Error::usage("CAPFILE_PASSWORD_MD5 is not 32 hexadecimal digits"));
        }
        (None, None) => None,
    };
    let oauth = env("CAPFILE_CLIENT_SECRET").map(|s| (Secret::new(s), "CAPFILE_CLIENT_SECRET"));
    match (basic, oauth) {
        (Some((_, basic)), Some(_)) => Err(Error::usage(format!(
            "both {basic} (Basic) and CAPFILE_CLIENT_SECRET (OAuth) are set; keep one"
        ))),
        (Some((secret, name)), None) => Ok(Some((SecretKind::PasswordMd5, secret, name))),
        (None, Some((secret, name))) => Ok(Some((SecretKind::ClientSecret, secret, name))),
        (None, None) => Ok(None),
    }
}

/// An upload's credentials and where the secret came from.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub credentials: Credentials,
    pub source: SecretSource,
}

/// The first store, in order, that holds the profile's secret; stores that
/// failed are passed over and their errors returned beside the answer.
pub fn find_secret(
    profile: &str,
    kind: SecretKind,
    stores: &[&dyn SecretStore],
) -> (Option<(Secret, SecretSource)>, Vec<StoreError>) {
    let mut failures = Vec::new();
    for store in stores {
        match store.get(profile, kind) {
            Ok(Some(secret)) => return (Some((secret, store.source())), failures),
            Ok(None) => {}
            Err(err) => failures.push(err),
        }
    }
    (None, failures)
}

/// The credentials an upload uses. The secret comes from the environment, then
/// from the stores in order (OS keyring, credentials file); the username or
/// client key is a setting (flag, env, file). With a secret in the
/// environment no store is asked at all.
pub fn resolve(
    settings: &Settings,
    profile: &str,
    env: Env,
    stores: &[&dyn SecretStore],
    passed_over: &mut dyn FnMut(&StoreError),
) -> Result<Resolved, Error> {
    let (kind, secret, source) = match env_secret(env)? {
        Some((kind, secret, name)) => (kind, secret, SecretSource::Env(name)),
        None => {
            let kind = SecretKind::for_auth(settings.auth.value);
            if identity(settings, kind).is_none() {
                return Err(Error::auth(format!(
                    "no credentials: profile `{profile}` is not logged in and the environment has none"
                ))
                .with_hint(LOGIN_HINT));
            }
            let (found, failures) = find_secret(profile, kind, stores);
            if let Some(malformed) = failures.iter().find(|f| f.malformed) {
                return Err(malformed.clone().into_error());
            }
            for failure in &failures {
                passed_over(failure);
            }
            let Some((secret, source)) = found else {
                let places: Vec<String> = stores.iter().map(|s| s.describe()).collect();
                let mut message = format!(
                    "no saved {} for profile `{profile}` (looked in {})",
                    kind.name(),
                    places.join(" and ")
                );
                for failure in &failures {
                    message.push_str(&format!("; {failure}"));
                }
                return Err(Error::auth(message).with_hint(LOGIN_HINT));
            };
            if kind == SecretKind::PasswordMd5 && !is_md5_hex(secret.expose()) {
                return Err(Error::auth(format!(
                    "the password_md5 saved for profile `{profile}` ({source}) is not 32 hexadecimal digits"
                ))
                .with_hint(format!("run `capfile -p {profile} login` again")));
            }
            (kind, secret, source)
        }
    };
    let Some(identity) = identity(settings, kind) else {
        let (what, variable, key) = match kind {
            SecretKind::PasswordMd5 => ("username", "CAPFILE_USERNAME", "username"),
            SecretKind::ClientSecret => ("client key", "CAPFILE_CLIENT_KEY", "client_key"),
        };
        return Err(Error::auth(format!(
            "the secret comes from {source} but there is no {what}: set {variable}, or `capfile config set {key} ...`"
        ))
        .with_hint(LOGIN_HINT));
    };
    let credentials = match kind {
        SecretKind::PasswordMd5 => Credentials::Basic {
            username: identity,
            password_md5: secret,
        },
        SecretKind::ClientSecret => Credentials::OAuth {
            client_key: identity,
            client_secret: secret,
        },
    };
    Ok(Resolved { credentials, source })
}

/// The username (Basic) or client key (OAuth) that goes with a secret.
fn identity(settings: &Settings, kind: SecretKind) -> Option<String> {
    let setting = match kind {
        SecretKind::PasswordMd5 => &settings.username,
        SecretKind::ClientSecret => &settings.client_key,
    };
    setting.as_ref().map(|s| s.value.clone())
}

/// An in-memory store for unit tests, which can also be made to fail.
#[cfg(test)]
pub(crate) mod memory {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use super::*;

    #[derive(Default)]
    pub struct MemoryStore {
        pub secrets: RefCell<HashMap<String, String>>,
        pub fail: Option<String>,
        pub calls: RefCell<usize>,
    }

    impl SecretStore for MemoryStore {
        fn source(&self) -> SecretSource {
            SecretSource::Keyring
        }
        fn describe(&self) -> String {
            "the test store".into()
        }
        fn get(&self, profile: &str, _kind: SecretKind) -> Result<Option<Secret>, StoreError> {
            *self.calls.borrow_mut() += 1;
            if let Some(fail) = &self.fail {
                return Err(StoreError::new(fail.clone()));
            }
            Ok(self.secrets.borrow().get(profile).cloned().map(Secret::new))
        }
        fn set(&self, profile: &str, _kind: SecretKind, secret: &Secret) -> Result<(), StoreError> {
            *self.calls.borrow_mut() += 1;
            self.secrets
                .borrow_mut()
                .insert(profile.to_string(), secret.expose().to_string());
            Ok(())
        }
        fn delete(&self, profile: &str) -> Result<bool, StoreError> {
            *self.calls.borrow_mut() += 1;
            Ok(self.secrets.borrow_mut().remove(profile).is_some())
        }
    }
}

#[cfg(test)]
mod resolve_tests {
    use super::memory::MemoryStore;
    use super::*;
    use crate::settings::{FileValues, Flags, Key};

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    fn settings(pairs: &[(Key, &str)], env: Env) -> Settings {
        let mut file = FileValues::default();
        for (key, value) in pairs {
            file.set(*key, &(*value).into()).unwrap();
        }
        crate::settings::resolve(&Flags::default(), env, &file).unwrap()
    }

    const MD5: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn plain_password_is_hashed() {
        let env = env_of(&[("CAPFILE_USERNAME", "store123"), ("CAPFILE_PASSWORD", "Pass123")]);
        let (kind, secret, name) = env_secret(&env).unwrap().unwrap();
        assert_eq!((kind, name), (SecretKind::PasswordMd5, "CAPFILE_PASSWORD"));
        assert_eq!(secret.expose(), "2f23fa3579f3f75175793649115c1b25");
    }

    #[test]
    fn env_conflicts_are_refused() {
        let both = env_of(&[
            ("CAPFILE_CLIENT_SECRET", "s"),
            ("CAPFILE_PASSWORD_MD5", "bdc87b9c894da5168059e00ebffb9077"),
        ]);
        assert!(env_secret(&both).is_err());
        let two = env_of(&[("CAPFILE_PASSWORD", "x"), ("CAPFILE_PASSWORD_MD5", MD5)]);
        assert!(env_secret(&two).is_err());
        assert!(env_secret(&env_of(&[("CAPFILE_PASSWORD_MD5", "nothex")])).is_err());
        assert!(env_secret(&|_| None).unwrap().is_none());
    }

    #[test]
    fn env_secret_wins_and_no_store_is_asked() {
        let env = env_of(&[("CAPFILE_PASSWORD", "pw")]);
        let settings = settings(&[(Key::Username, "till")], &env);
        let keyring = MemoryStore::default();
        keyring.secrets.borrow_mut().insert("default".into(), MD5.into());
        let resolved = resolve(&settings, "default", &env, &[&keyring], &mut |_| {}).unwrap();
        assert_eq!(resolved.source, SecretSource::Env("CAPFILE_PASSWORD"));
        assert_eq!(*keyring.calls.borrow(), 0, "the keyring must not be touched");
        let Credentials::Basic { username, password_md5 } = resolved.credentials else {
            panic!("basic expected");
        };
        assert_eq!(username, "till");
        assert_eq!(password_md5, md5_hex("pw"));
    }

    #[test]
    fn keyring_before_file_and_failures_are_passed_over() {
        let none = |_: &str| None;
        let settings = settings(&[(Key::Username, "till")], &none);
        let keyring = MemoryStore::default();
        let file = MemoryStore::default();
        file.secrets.borrow_mut().insert("default".into(), MD5.into());
        let resolved = resolve(&settings, "default", &none, &[&keyring, &file], &mut |_| {}).unwrap();
        assert!(matches!(resolved.credentials, Credentials::Basic { .. }));
        keyring.secrets.borrow_mut().insert("default".into(), "f".repeat(32));
        let resolved = resolve(&settings, "default", &none, &[&keyring, &file], &mut |_| {}).unwrap();
        let Credentials::Basic { password_md5, .. } = resolved.credentials else {
            panic!()
        };
        assert_eq!(password_md5.expose(), "f".repeat(32));

        let broken = MemoryStore {
            fail: Some("no D-Bus".into()),
            ..MemoryStore::default()
        };
        let mut seen = Vec::new();
        let resolved = resolve(&settings, "default", &none, &[&broken, &file], &mut |e| {
            seen.push(e.message.clone())
        })
        .unwrap();
        assert_eq!(
            resolved.credentials,
            Credentials::Basic {
                username: "till".into(),
                password_md5: Secret::new(MD5),
            }
        );
        assert_eq!(seen, ["no D-Bus"]);
    }

    #[test]
    fn missing_pieces_are_auth_errors_with_the_login_hint() {
        let none = |_: &str| None;
        let empty = MemoryStore::default();
        let err = resolve(&settings(&[], &none), "default", &none, &[&empty], &mut |_| {}).unwrap_err();
        assert_eq!(err.exit().code(), 4);
        assert_eq!(err.hint(), Some(LOGIN_HINT));
        let oauth = settings(&[(Key::ClientKey, "key")], &none);
        let err = resolve(&oauth, "ci", &none, &[&empty], &mut |_| {}).unwrap_err();
        assert!(
            err.message().contains("no saved client_secret for profile `ci`"),
            "{}",
            err.message()
        );
        let env = env_of(&[("CAPFILE_CLIENT_SECRET", "s")]);
        let err = resolve(&settings(&[], &env), "default", &env, &[], &mut |_| {}).unwrap_err();
        assert!(err.message().contains("CAPFILE_CLIENT_KEY"), "{}", err.message());
    }

    #[test]
    fn oauth_profile_reads_the_client_secret() {
        let none = |_: &str| None;
        let keyring = MemoryStore::default();
        keyring.secrets.borrow_mut().insert("ci".into(), "sekrit".into());
        let settings = settings(&[(Key::ClientKey, "key"), (Key::Auth, "oauth")], &none);
        let resolved = resolve(&settings, "ci", &none, &[&keyring], &mut |_| {}).unwrap();
        assert_eq!(
            resolved.credentials,
            Credentials::OAuth {
                client_key: "key".into(),
                client_secret: Secret::new("sekrit"),
            }
        );
        assert_eq!(resolved.source, SecretSource::Keyring);
    }
}
