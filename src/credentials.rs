//! Credentials for the file service, and the `Secret` type that carries them.
//!
//! A secret's `Debug` and `Display` never show it, so it cannot leak into a log,
//! an error message or a panic. Basic auth keeps only `md5_hex(password)`: it is
//! all the service ever sees, so it is the secret worth keeping.

use std::fmt;

use md5::{Digest, Md5};

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

/// Credentials given entirely by environment variables (CI), if any.
///
/// `CAPFILE_PASSWORD` is hashed here and dropped; `CAPFILE_PASSWORD_MD5` is used
/// as it is. Basic and OAuth variables together are refused rather than guessed.
pub fn from_env(env: crate::settings::Env) -> Result<Option<Credentials>, crate::error::Error> {
    use crate::error::Error;
    let username = env("CAPFILE_USERNAME");
    let password_md5 = match (env("CAPFILE_PASSWORD"), env("CAPFILE_PASSWORD_MD5")) {
        (Some(_), Some(_)) => {
            return Err(Error::usage(
                "both CAPFILE_PASSWORD and CAPFILE_PASSWORD_MD5 are set; keep one",
            ));
        }
        (Some(password), None) => Some(md5_hex(&password)),
        (None, Some(md5)) if is_md5_hex(&md5) => Some(Secret::new(md5.to_ascii_lowercase())),
        (None, Some(_)) => {
            return Err(Error::usage("CAPFILE_PASSWORD_MD5 is not 32 hexadecimal digits"));
        }
        (None, None) => None,
    };
    let client_key = env("CAPFILE_CLIENT_KEY");
    let client_secret = env("CAPFILE_CLIENT_SECRET").map(Secret::new);
    let basic = match (username, password_md5) {
        (Some(username), Some(password_md5)) => Some(Credentials::Basic { username, password_md5 }),
        _ => None,
    };
    let oauth = match (client_key, client_secret) {
        (Some(client_key), Some(client_secret)) => Some(Credentials::OAuth {
            client_key,
            client_secret,
        }),
        _ => None,
    };
    match (basic, oauth) {
        (Some(_), Some(_)) => Err(Error::usage(
            "both Basic (CAPFILE_USERNAME/CAPFILE_PASSWORD) and OAuth (CAPFILE_CLIENT_KEY/CAPFILE_CLIENT_SECRET) credentials are set; keep one",
        )),
        (basic, oauth) => Ok(basic.or(oauth)),
    }
}

#[cfg(test)]
mod env_tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    #[test]
    fn plain_password_is_hashed() {
        let env = env_of(&[("CAPFILE_USERNAME", "store123"), ("CAPFILE_PASSWORD", "Pass123")]);
        let Some(Credentials::Basic { username, password_md5 }) = from_env(&env).unwrap() else {
            panic!("expected basic credentials");
        };
        assert_eq!(username, "store123");
        assert_eq!(password_md5.expose(), "2f23fa3579f3f75175793649115c1b25");
    }

    #[test]
    fn oauth_from_env_and_conflicts_refused() {
        let env = env_of(&[("CAPFILE_CLIENT_KEY", "k"), ("CAPFILE_CLIENT_SECRET", "s")]);
        assert!(matches!(from_env(&env).unwrap(), Some(Credentials::OAuth { .. })));
        let both = env_of(&[
            ("CAPFILE_CLIENT_KEY", "k"),
            ("CAPFILE_CLIENT_SECRET", "s"),
            ("CAPFILE_USERNAME", "u"),
            ("CAPFILE_PASSWORD_MD5", "bdc87b9c894da5168059e00ebffb9077"),
        ]);
        assert!(from_env(&both).is_err());
        assert_eq!(from_env(&|_| None).unwrap(), None);
    }
}
