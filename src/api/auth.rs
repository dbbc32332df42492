//! How requests are authenticated: a Basic header built once, or an OAuth
//! token from the cache (`token.rs`).

use base64::Engine;
use reqwest::header::HeaderValue;

use super::setup::ClientError;
use super::token::TokenCache;
use crate::credentials::Credentials;

pub(super) enum Auth {
    Basic(HeaderValue),
    OAuth(TokenCache),
}

impl Auth {
    pub(super) fn new(credentials: &Credentials) -> Result<Auth, ClientError> {
        Ok(match credentials {
            Credentials::Basic { username, password_md5 } => {
                let encoded =
                    base64::engine::general_purpose::STANDARD.encode(format!("{username}:{}", password_md5.expose()));
                let mut value =
                    HeaderValue::from_str(&format!("Basic {encoded}")).map_err(|_| ClientError::Username)?;
                value.set_sensitive(true);
                Auth::Basic(value)
            }
            Credentials::OAuth {
                client_key,
                client_secret,
            } => Auth::OAuth(TokenCache::new(client_key.clone(), client_secret.clone())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Secret;

    #[test]
    fn basic_header_matches_capillary_docs() {
        let creds = Credentials::Basic {
            username: "store123".into(),
            // The MD5 as Capillary's docs print it for this example.
            password_md5: Secret::new("bdc87b9c894da5168059e00ebffb9077"),
        };
        let Ok(Auth::Basic(value)) = Auth::new(&creds) else {
            panic!("basic expected")
        };
        assert_eq!(
            value.to_str().unwrap(),
            "Basic c3RvcmUxMjM6YmRjODdiOWM4OTRkYTUxNjgwNTllMDBlYmZmYjkwNzc="
        );
        assert!(value.is_sensitive());
    }
}
