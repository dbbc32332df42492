//! Credentials for the file service, the `Secret` type that carries them, and
//! where secrets are kept.
//!
//! A secret's `Debug` never shows it, so it cannot leak into a log, an error
//! message or a panic. Basic auth keeps only `md5_hex(password)`: it is all the
//! service ever sees, so it is the secret worth keeping.
//!
//! Secrets live behind one trait, `SecretStore`, with two implementations: the
//! OS keyring (`keyring`) and the plain-text `credentials.toml`
//! (`file`, for `login --insecure-storage`). Both key a secret by profile name
//! and kind. `resolve` decides where an upload's secret comes from, first match
//! wins: environment (then no store is touched at all, so CI never waits on a
//! keyring), OS keyring, credentials file.
//!
//! A saved secret is bound to the origin (scheme, host and port of the base
//! URL) and the identity (username or client key) it was saved for, as gh
//! binds a token to its host: an upload that would send it to another origin,
//! or pair it with another identity, is refused before anything is sent, so a
//! stray `--base-url`, `CAPFILE_BASE_URL` or `CAPFILE_USERNAME` (a malicious
//! `.env`, a CI variable) cannot collect it. A secret given in the environment
//! is not bound: whoever set it chose the host too. Secrets saved by capfile
//! 0.1.0 recorded no binding; they are taken as bound to what their profile in
//! `config.toml` says (its `base_url` and its username or client key), and the
//! next `login` saves them in the new shape.

pub mod file;
pub mod keyring;

use std::fmt;
use std::path::PathBuf;

use md5::{Digest, Md5};
use url::Url;

use crate::cli::AuthKind;
use crate::error::{Error, LOGIN_HINT};
use crate::settings::{Env, FileValues, Origin, Setting, Settings};

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

/// The origin and identity a secret was saved for; it is sent to nothing else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// `scheme://host[:port]` of the base URL, as `origin_of` writes it.
    pub origin: String,
    /// The username (Basic) or client key (OAuth).
    pub identity: String,
}

impl Binding {
    pub fn new(base_url: &Url, identity: &str) -> Binding {
        Binding {
            origin: origin_of(base_url),
            identity: identity.to_string(),
        }
    }
}

/// A base URL's origin, `scheme://host[:port]`, the port left out when it is
/// the scheme's default; the path plays no part.
pub fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// A stored origin in the form `origin_of` writes, or `None` when it is not
/// an http(s) origin.
pub fn parse_origin(text: &str) -> Option<String> {
    let url = Url::parse(text).ok()?;
    (matches!(url.scheme(), "http" | "https") && url.has_host()).then(|| origin_of(&url))
}

/// A secret as a store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedSecret {
    pub secret: Secret,
    /// What it was saved for; `None` when capfile 0.1.0 saved it, which did
    /// not record that.
    pub binding: Option<Binding>,
    /// Whether the store knows the secret's kind: capfile 0.1.0's keyring
    /// entries held the bare secret, and the kind was whatever the profile's
    /// auth was then.
    pub kind_recorded: bool,
}

impl SavedSecret {
    pub fn bound(secret: Secret, binding: Binding) -> SavedSecret {
        SavedSecret {
            secret,
            binding: Some(binding),
            kind_recorded: true,
        }
    }

    /// A secret saved by capfile 0.1.0.
    pub fn unbound(secret: Secret, kind_recorded: bool) -> SavedSecret {
        SavedSecret {
            secret,
            binding: None,
            kind_recorded,
        }
    }
}

/// Somewhere secrets are kept, one per profile.
pub trait SecretStore {
    fn source(&self) -> SecretSource;
    /// For messages: "the OS keyring (Secret Service)", or the file's path.
    fn describe(&self) -> String;
    /// The profile's secret of that kind. A secret of another kind is not
    /// returned, except an 0.1.0 keyring entry, whose kind is not recorded.
    fn get(&self, profile: &str, kind: SecretKind) -> Result<Option<SavedSecret>, StoreError>;
    /// Saves the profile's secret, bound to `binding`, replacing whatever it had.
    fn set(&self, profile: &str, kind: SecretKind, secret: &Secret, binding: &Binding) -> Result<(), StoreError>;
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
) -> (Option<(SavedSecret, SecretSource)>, Vec<StoreError>) {
    let mut failures = Vec::new();
    for store in stores {
        match store.get(profile, kind) {
            Ok(Some(saved)) => return (Some((saved, store.source())), failures),
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
///
/// A saved secret is used only for the origin of `base_url` and the identity
/// it was saved for (see `check_binding`); `saved_profile` is the profile as
/// `config.toml` has it, which stands for the binding of a secret saved by
/// capfile 0.1.0.
pub fn resolve(
    settings: &Settings,
    base_url: &Setting<Url>,
    profile: &str,
    saved_profile: &FileValues,
    env: Env,
    stores: &[&dyn SecretStore],
    passed_over: &mut dyn FnMut(&StoreError),
) -> Result<Resolved, Error> {
    if let Some((kind, secret, name)) = env_secret(env)? {
        let source = SecretSource::Env(name);
        let Some(identity) = identity(settings, kind) else {
            return Err(no_identity(kind, &source));
        };
        return Ok(Resolved {
            credentials: credentials(kind, identity.value.clone(), secret),
            source,
        });
    }
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
    let Some((saved, source)) = found else {
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
    let binding = check_binding(
        &saved,
        kind,
        &source,
        profile,
        settings,
        base_url,
        saved_profile,
        "it was not sent",
    )?;
    if kind == SecretKind::PasswordMd5 && !is_md5_hex(saved.secret.expose()) {
        return Err(Error::auth(format!(
            "the password_md5 saved for profile `{profile}` ({source}) is not 32 hexadecimal digits"
        ))
        .with_hint(login_again(profile)));
    }
    Ok(Resolved {
        credentials: credentials(kind, binding.identity, saved.secret),
        source,
    })
}

/// Checks that a saved secret may go where the settings say: it is of the
/// kind the profile's auth needs, and it was saved for the origin of
/// `base_url` and for the profile's username or client key. Returns what it
/// is bound to. Every refusal is an authentication error (exit 4) that names
/// both sides, ends with `outcome` (what became of the secret) and says how
/// to go on.
#[allow(clippy::too_many_arguments)]
pub fn check_binding(
    saved: &SavedSecret,
    kind: SecretKind,
    source: &SecretSource,
    profile: &str,
    settings: &Settings,
    base_url: &Setting<Url>,
    saved_profile: &FileValues,
    outcome: &str,
) -> Result<Binding, Error> {
    let binding = match &saved.binding {
        Some(binding) => binding.clone(),
        None => unbound_binding(saved, kind, source, profile, saved_profile, outcome)?,
    };
    let env_hint = match kind {
        SecretKind::PasswordMd5 => "CAPFILE_USERNAME and CAPFILE_PASSWORD",
        SecretKind::ClientSecret => "CAPFILE_CLIENT_KEY and CAPFILE_CLIENT_SECRET",
    };
    let origin = origin_of(&base_url.value);
    if parse_origin(&binding.origin).as_deref() != Some(origin.as_str()) {
        return Err(Error::auth(format!(
            "the {} saved for profile `{profile}` ({source}) is for {}, not for {origin} (base URL from {}); {outcome}",
            kind.name(),
            binding.origin,
            given_by(&base_url.origin, "--base-url", "CAPFILE_BASE_URL")
        ))
        .with_hint(format!(
            "log in for {origin} under a profile of its own (`capfile -p NAME login --base-url {origin}`), or give {env_hint} in the environment"
        )));
    }
    let (what, flag, variable) = identity_names(kind);
    if let Some(identity) = identity(settings, kind)
        && identity.value != binding.identity
    {
        return Err(Error::auth(format!(
            "the {} saved for profile `{profile}` ({source}) belongs to {what} `{}`, not `{}` ({what} from {}); {outcome}",
            kind.name(),
            binding.identity,
            identity.value,
            given_by(&identity.origin, flag, variable)
        ))
        .with_hint(format!(
            "log in as `{}` under a profile of its own (`capfile -p NAME login`), or give {env_hint} in the environment",
            identity.value
        )));
    }
    Ok(binding)
}

/// What a secret saved by capfile 0.1.0 is taken as bound to: the base URL
/// and username or client key of its profile in `config.toml`, which that
/// version's `login` wrote beside it. Its keyring entries did not record the
/// kind either: it is the one the profile's single identity implies (0.1.0's
/// `login` kept only the username or only the client key), so after `config
/// set auth oauth` a password's MD5 is not taken for a client secret.
fn unbound_binding(
    saved: &SavedSecret,
    kind: SecretKind,
    source: &SecretSource,
    profile: &str,
    saved_profile: &FileValues,
    outcome: &str,
) -> Result<Binding, Error> {
    let refuse = |why: String| {
        Error::auth(format!(
            "the secret saved for profile `{profile}` ({source}) by capfile 0.1.0 {why}; {outcome}"
        ))
        .with_hint(login_again(profile))
    };
    if !saved.kind_recorded {
        let saved_kind = match (&saved_profile.username, &saved_profile.client_key) {
            (Some(_), None) => SecretKind::PasswordMd5,
            (None, Some(_)) => SecretKind::ClientSecret,
            _ => {
                return Err(refuse(
                    "does not say whether it is a password_md5 or a client_secret, and the profile does not tell (it sets both username and client_key, or neither)".into(),
                ));
            }
        };
        if saved_kind != kind {
            return Err(refuse(format!(
                "is a {}, but the profile's auth needs a {}",
                saved_kind.name(),
                kind.name()
            )));
        }
    }
    let Some(base_url) = &saved_profile.base_url else {
        return Err(refuse(
            "is bound to the profile's base_url in config.toml, and the profile has none".into(),
        ));
    };
    let (what, _, _) = identity_names(kind);
    let identity = match kind {
        SecretKind::PasswordMd5 => &saved_profile.username,
        SecretKind::ClientSecret => &saved_profile.client_key,
    };
    let Some(identity) = identity else {
        return Err(refuse(format!(
            "is bound to the profile's {what} in config.toml, and the profile has none"
        )));
    };
    Ok(Binding::new(base_url, identity))
}

fn login_again(profile: &str) -> String {
    format!("run `capfile -p {profile} login` again")
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

fn no_identity(kind: SecretKind, source: &SecretSource) -> Error {
    let (what, variable, key) = match kind {
        SecretKind::PasswordMd5 => ("username", "CAPFILE_USERNAME", "username"),
        SecretKind::ClientSecret => ("client key", "CAPFILE_CLIENT_KEY", "client_key"),
    };
    Error::auth(format!(
        "the secret comes from {source} but there is no {what}: set {variable}, or `capfile config set {key} ...`"
    ))
    .with_hint(LOGIN_HINT)
}

fn credentials(kind: SecretKind, identity: String, secret: Secret) -> Credentials {
    match kind {
        SecretKind::PasswordMd5 => Credentials::Basic {
            username: identity,
            password_md5: secret,
        },
        SecretKind::ClientSecret => Credentials::OAuth {
            client_key: identity,
            client_secret: secret,
        },
    }
}

/// The username (Basic) or client key (OAuth) that goes with a secret.
fn identity(settings: &Settings, kind: SecretKind) -> Option<&Setting<String>> {
    match kind {
        SecretKind::PasswordMd5 => settings.username.as_ref(),
        SecretKind::ClientSecret => settings.client_key.as_ref(),
    }
}

/// An in-memory store for unit tests, which can also be made to fail.
#[cfg(test)]
pub(crate) mod memory {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use super::*;

    /// Secrets by profile, each with its kind (`None`: not recorded, as in
    /// capfile 0.1.0's keyring entries).
    #[derive(Default)]
    pub struct MemoryStore {
        pub secrets: RefCell<HashMap<String, (Option<SecretKind>, SavedSecret)>>,
        pub fail: Option<String>,
        pub calls: RefCell<usize>,
    }

    impl MemoryStore {
        /// A store holding one secret, saved by `login` for `origin` and `identity`.
        pub fn holding(profile: &str, kind: SecretKind, secret: &str, origin: &str, identity: &str) -> MemoryStore {
            let store = MemoryStore::default();
            let binding = Binding {
                origin: origin.into(),
                identity: identity.into(),
            };
            store.secrets.borrow_mut().insert(
                profile.into(),
                (Some(kind), SavedSecret::bound(Secret::new(secret), binding)),
            );
            store
        }

        /// A store holding the bare secret capfile 0.1.0's keyring kept.
        pub fn holding_unbound(profile: &str, secret: &str) -> MemoryStore {
            let store = MemoryStore::default();
            store
                .secrets
                .borrow_mut()
                .insert(profile.into(), (None, SavedSecret::unbound(Secret::new(secret), false)));
            store
        }
    }

    impl SecretStore for MemoryStore {
        fn source(&self) -> SecretSource {
            SecretSource::Keyring
        }
        fn describe(&self) -> String {
            "the test store".into()
        }
        fn get(&self, profile: &str, kind: SecretKind) -> Result<Option<SavedSecret>, StoreError> {
            *self.calls.borrow_mut() += 1;
            if let Some(fail) = &self.fail {
                return Err(StoreError::new(fail.clone()));
            }
            Ok(self
                .secrets
                .borrow()
                .get(profile)
                .filter(|(saved_kind, _)| saved_kind.is_none_or(|k| k == kind))
                .map(|(_, saved)| saved.clone()))
        }
        fn set(&self, profile: &str, kind: SecretKind, secret: &Secret, binding: &Binding) -> Result<(), StoreError> {
            *self.calls.borrow_mut() += 1;
            self.secrets.borrow_mut().insert(
                profile.to_string(),
                (Some(kind), SavedSecret::bound(secret.clone(), binding.clone())),
            );
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
    use crate::settings::{Flags, Key};

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    fn file_values(pairs: &[(Key, &str)]) -> FileValues {
        let mut file = FileValues::default();
        for (key, value) in pairs {
            file.set(*key, &(*value).into()).unwrap();
        }
        file
    }

    fn settings(pairs: &[(Key, &str)], env: Env) -> Settings {
        crate::settings::resolve(&Flags::default(), env, &file_values(pairs)).unwrap()
    }

    const MD5: &str = "0123456789abcdef0123456789abcdef";
    const HOST_A: &str = "https://a.example.com";

    fn url(text: &str) -> Setting<Url> {
        Setting::new(Url::parse(text).unwrap(), Origin::File)
    }

    /// Resolves with the base URL HOST_A from the file, as most tests want.
    fn resolve_at_a(
        settings: &Settings,
        profile: &str,
        env: Env,
        stores: &[&dyn SecretStore],
    ) -> Result<Resolved, Error> {
        resolve(
            settings,
            &url(HOST_A),
            profile,
            &FileValues::default(),
            env,
            stores,
            &mut |_| {},
        )
    }

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
        let keyring = MemoryStore::holding("default", SecretKind::PasswordMd5, MD5, HOST_A, "till");
        // The environment's secret goes wherever the base URL points.
        let resolved = resolve(
            &settings,
            &url("https://b.example.com"),
            "default",
            &FileValues::default(),
            &env,
            &[&keyring],
            &mut |_| {},
        )
        .unwrap();
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
        let file = MemoryStore::holding("default", SecretKind::PasswordMd5, MD5, HOST_A, "till");
        let resolved = resolve_at_a(&settings, "default", &none, &[&keyring, &file]).unwrap();
        assert!(matches!(resolved.credentials, Credentials::Basic { .. }));
        let binding = Binding::new(&url(HOST_A).value, "till");
        keyring
            .set(
                "default",
                SecretKind::PasswordMd5,
                &Secret::new("f".repeat(32)),
                &binding,
            )
            .unwrap();
        let resolved = resolve_at_a(&settings, "default", &none, &[&keyring, &file]).unwrap();
        let Credentials::Basic { password_md5, .. } = resolved.credentials else {
            panic!()
        };
        assert_eq!(password_md5.expose(), "f".repeat(32));

        let broken = MemoryStore {
            fail: Some("no D-Bus".into()),
            ..MemoryStore::default()
        };
        let mut seen = Vec::new();
        let resolved = resolve(
            &settings,
            &url(HOST_A),
            "default",
            &FileValues::default(),
            &none,
            &[&broken, &file],
            &mut |e| seen.push(e.message.clone()),
        )
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
        let err = resolve_at_a(&settings(&[], &none), "default", &none, &[&empty]).unwrap_err();
        assert_eq!(err.exit().code(), 4);
        assert_eq!(err.hint(), Some(LOGIN_HINT));
        let oauth = settings(&[(Key::ClientKey, "key")], &none);
        let err = resolve_at_a(&oauth, "ci", &none, &[&empty]).unwrap_err();
        assert!(
            err.message().contains("no saved client_secret for profile `ci`"),
            "{}",
            err.message()
        );
        let env = env_of(&[("CAPFILE_CLIENT_SECRET", "s")]);
        let err = resolve_at_a(&settings(&[], &env), "default", &env, &[]).unwrap_err();
        assert!(err.message().contains("CAPFILE_CLIENT_KEY"), "{}", err.message());
    }

    #[test]
    fn oauth_profile_reads_the_client_secret() {
        let none = |_: &str| None;
        let keyring = MemoryStore::holding("ci", SecretKind::ClientSecret, "sekrit", HOST_A, "key");
        let settings = settings(&[(Key::ClientKey, "key"), (Key::Auth, "oauth")], &none);
        let resolved = resolve_at_a(&settings, "ci", &none, &[&keyring]).unwrap();
        assert_eq!(
            resolved.credentials,
            Credentials::OAuth {
                client_key: "key".into(),
                client_secret: Secret::new("sekrit"),
            }
        );
        assert_eq!(resolved.source, SecretSource::Keyring);
    }

    #[test]
    fn a_saved_secret_goes_only_to_its_origin() {
        let none = |_: &str| None;
        let settings = settings(&[(Key::Username, "till")], &none);
        let keyring = MemoryStore::holding("default", SecretKind::PasswordMd5, MD5, HOST_A, "till");
        // The same origin under another path, or with the default port spelled out.
        for same in ["https://a.example.com/api", "https://A.example.com:443/"] {
            let resolved = resolve(
                &settings,
                &url(same),
                "default",
                &FileValues::default(),
                &none,
                &[&keyring],
                &mut |_| {},
            );
            assert!(resolved.is_ok(), "{same}: {:?}", resolved.err());
        }
        for other in [
            "https://b.example.com",
            "https://a.example.com:8443",
            "http://a.example.com",
            "https://a.example.com.evil.example",
        ] {
            let base_url = Setting::new(Url::parse(other).unwrap(), Origin::Env("CAPFILE_BASE_URL"));
            let err = resolve(
                &settings,
                &base_url,
                "default",
                &FileValues::default(),
                &none,
                &[&keyring],
                &mut |_| {},
            )
            .unwrap_err();
            assert_eq!(err.exit().code(), 4, "{other}");
            let message = err.message();
            assert!(
                message.contains("is for https://a.example.com, not for")
                    && message.contains("(base URL from CAPFILE_BASE_URL); it was not sent"),
                "{other}: {message}"
            );
            assert!(!message.contains(MD5));
            let hint = err.hint().unwrap();
            assert!(hint.contains("capfile -p NAME login --base-url"), "{hint}");
            assert!(hint.contains("CAPFILE_PASSWORD"), "{hint}");
        }
    }

    #[test]
    fn a_saved_secret_goes_only_with_its_identity() {
        let env = env_of(&[("CAPFILE_USERNAME", "other")]);
        let settings = settings(&[(Key::Username, "till")], &env);
        let keyring = MemoryStore::holding("default", SecretKind::PasswordMd5, MD5, HOST_A, "till");
        let err = resolve_at_a(&settings, "default", &env, &[&keyring]).unwrap_err();
        assert_eq!(err.exit().code(), 4);
        assert_eq!(
            err.message(),
            "the password_md5 saved for profile `default` (keyring) belongs to user `till`, not `other` (user from CAPFILE_USERNAME); it was not sent"
        );
        assert!(err.hint().unwrap().contains("log in as `other`"));

        let none = |_: &str| None;
        let oauth = settings_oauth(&none, "someone-else");
        let keyring = MemoryStore::holding("ci", SecretKind::ClientSecret, "sekrit", HOST_A, "key");
        let err = resolve_at_a(&oauth, "ci", &none, &[&keyring]).unwrap_err();
        assert!(
            err.message()
                .contains("belongs to client key `key`, not `someone-else`")
        );
    }

    fn settings_oauth(env: Env, client_key: &str) -> Settings {
        settings(&[(Key::ClientKey, client_key), (Key::Auth, "oauth")], env)
    }

    #[test]
    fn a_secret_of_another_kind_is_never_sent() {
        // `config set auth oauth` on a Basic login: the saved MD5 is not a client secret.
        let none = |_: &str| None;
        let oauth = settings_oauth(&none, "key");
        let keyring = MemoryStore::holding("default", SecretKind::PasswordMd5, MD5, HOST_A, "key");
        let err = resolve_at_a(&oauth, "default", &none, &[&keyring]).unwrap_err();
        assert!(err.message().contains("no saved client_secret"), "{}", err.message());
    }

    #[test]
    fn secrets_saved_by_0_1_0_are_bound_to_their_profile() {
        let none = |_: &str| None;
        let keyring = MemoryStore::holding_unbound("default", MD5);
        let saved = file_values(&[(Key::BaseUrl, HOST_A), (Key::Username, "till")]);
        let settings = settings(&[(Key::BaseUrl, HOST_A), (Key::Username, "till")], &none);
        let run = |settings: &Settings, base_url: &str, saved: &FileValues| {
            resolve(
                settings,
                &url(base_url),
                "default",
                saved,
                &none,
                &[&keyring],
                &mut |_| {},
            )
        };
        let resolved = run(&settings, HOST_A, &saved).unwrap();
        assert_eq!(
            resolved.credentials,
            Credentials::Basic {
                username: "till".into(),
                password_md5: Secret::new(MD5),
            }
        );
        let err = run(&settings, "https://b.example.com", &saved).unwrap_err();
        assert!(
            err.message()
                .contains("is for https://a.example.com, not for https://b.example.com")
        );
        let err = run(&settings, HOST_A, &file_values(&[(Key::Username, "till")])).unwrap_err();
        assert!(err.message().contains("the profile has none"), "{}", err.message());
        assert_eq!(err.exit().code(), 4);

        // The kind is what the profile's one identity implies: after `config
        // set auth oauth` (and a client key) the MD5 stays unsent.
        let oauth = settings_oauth(&none, "key");
        let both = file_values(&[
            (Key::BaseUrl, HOST_A),
            (Key::Username, "till"),
            (Key::ClientKey, "key"),
            (Key::Auth, "oauth"),
        ]);
        let err = run(&oauth, HOST_A, &both).unwrap_err();
        assert!(err.message().contains("does not say whether"), "{}", err.message());
        let err = run(&oauth, HOST_A, &saved).unwrap_err();
        assert!(
            err.message()
                .contains("is a password_md5, but the profile's auth needs a client_secret"),
            "{}",
            err.message()
        );
        assert_eq!(err.hint(), Some("run `capfile -p default login` again"));
    }
}
