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

mod error;
pub(crate) mod file;
mod hints;
pub(crate) mod keyring;
mod resolve;

use std::fmt;
use std::path::PathBuf;

use md5::{Digest, Md5};
use url::Url;

pub(crate) use error::{CredentialsError, OtherIdentity, OtherOrigin, Unbindable};
pub(crate) use hints::{LOGIN_HINT, login_hint, refused_hint};
pub(crate) use resolve::{Located, Resolved, check_binding, locate, resolve};

use crate::settings::AuthKind;

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
pub(crate) enum Credentials {
    /// `Authorization: Basic base64(username ":" md5_hex(password))`.
    Basic { username: String, password_md5: Secret },
    /// A client key and secret exchanged for a token at `/v3/oauth/token/generate`.
    OAuth { client_key: String, client_secret: Secret },
}

/// Lower-case hex MD5, as Capillary's Basic auth expects.
pub fn md5_hex(password: &str) -> Secret {
    // The raw password is a secret of this run too: no server text may
    // carry it out.
    crate::redact::remember(password);
    Secret(hex::encode(Md5::digest(password.as_bytes())))
}

/// Whether a string looks like an MD5 in hex (for `CAPFILE_PASSWORD_MD5`).
pub(crate) fn is_md5_hex(value: &str) -> bool {
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
pub(crate) enum SecretKind {
    /// `md5_hex(password)`, for Basic auth.
    PasswordMd5,
    /// The OAuth client secret.
    ClientSecret,
}

impl SecretKind {
    pub(crate) fn for_auth(auth: AuthKind) -> SecretKind {
        match auth {
            AuthKind::Basic => SecretKind::PasswordMd5,
            AuthKind::Oauth => SecretKind::ClientSecret,
        }
    }

    /// The name it has in `credentials.toml` and in `config list`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            SecretKind::PasswordMd5 => "password_md5",
            SecretKind::ClientSecret => "client_secret",
        }
    }
}

/// Where a secret was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SecretSource {
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
pub(crate) struct StoreError {
    pub message: String,
    /// The store is a file the user must fix (a usage error), rather than a
    /// service that could not be reached.
    pub malformed: bool,
    /// There is no such store here (no keyring on this machine or session),
    /// so it cannot hold a secret: unlike a keyring that is there but could
    /// not be used (locked, no answer), where a secret may remain.
    pub absent: bool,
}

impl StoreError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        StoreError {
            message: message.into(),
            malformed: false,
            absent: false,
        }
    }

    pub(crate) fn malformed(message: impl Into<String>) -> Self {
        StoreError {
            message: message.into(),
            malformed: true,
            absent: false,
        }
    }

    /// See [`StoreError::absent`].
    pub(crate) fn absent(message: impl Into<String>) -> Self {
        StoreError {
            message: message.into(),
            malformed: false,
            absent: true,
        }
    }

    /// The error that ends a command: exit 2 for a file to fix, else 1.
    pub(crate) fn into_error(self) -> CredentialsError {
        CredentialsError::Store(self)
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The origin and identity a secret was saved for; it is sent to nothing else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Binding {
    /// `scheme://host[:port]` of the base URL, as `origin_of` writes it.
    pub origin: String,
    /// The username (Basic) or client key (OAuth).
    pub identity: String,
}

impl Binding {
    pub(crate) fn new(base_url: &Url, identity: &str) -> Binding {
        Binding {
            origin: origin_of(base_url),
            identity: identity.to_string(),
        }
    }
}

pub(crate) use crate::settings::origin_of;

/// A stored origin in the form `origin_of` writes, or `None` when it is not
/// an http(s) origin.
pub(crate) fn parse_origin(text: &str) -> Option<String> {
    let url = Url::parse(text).ok()?;
    (matches!(url.scheme(), "http" | "https") && url.has_host()).then(|| origin_of(&url))
}

/// A secret as a store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SavedSecret {
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
    pub(crate) fn bound(secret: Secret, binding: Binding) -> SavedSecret {
        SavedSecret {
            secret,
            binding: Some(binding),
            kind_recorded: true,
        }
    }

    /// A secret saved by capfile 0.1.0.
    pub(crate) fn unbound(secret: Secret, kind_recorded: bool) -> SavedSecret {
        SavedSecret {
            secret,
            binding: None,
            kind_recorded,
        }
    }
}

/// Somewhere secrets are kept, one per profile.
pub(crate) trait SecretStore {
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
