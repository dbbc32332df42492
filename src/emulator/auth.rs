//! Authentication as Capillary does it: Basic with the MD5 of the password, or
//! an OAuth token from `POST /v3/oauth/token/generate` sent in
//! `X-CAP-API-OAUTH-TOKEN`.
//!
//! Tokens are JWT-shaped (`header.payload.signature`, base64url, HS256) and
//! carry the client key and expiry, so they are checked statelessly: nothing is
//! remembered per token. The signing key is derived from the data directory's
//! master key *and* the configured client secret, so changing the secret
//! invalidates every token issued under the old one, as rotating a real API
//! client's secret would.

use std::time::Duration;

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::Mac;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use super::signing::{MasterKey, ceil_secs, hmac};

/// The header carrying an OAuth token on API calls.
pub(crate) const TOKEN_HEADER: &str = "x-cap-api-oauth-token";

/// base64url of `{"alg":"HS256","typ":"JWT"}`, the fixed token header.
const JWT_HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

#[derive(Serialize, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    iat: u64,
    exp: u64,
    jti: String,
}

const ISSUER: &str = "capfile-emulator";

/// What a request's credentials are worth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    Granted,
    Denied,
    /// A token this emulator signed, whose time (`exp`, Unix seconds) is up.
    Expired {
        at: u64,
    },
}

/// Everything needed to accept or refuse a request's credentials.
pub(crate) struct Authenticator {
    username: String,
    password_md5: String,
    client_key: String,
    client_secret: String,
    token_key: [u8; 32],
    token_ttl: Duration,
}

impl Authenticator {
    pub(crate) fn new(
        master: &MasterKey,
        username: &str,
        password: &str,
        client_key: &str,
        client_secret: &str,
        token_ttl: Duration,
    ) -> Authenticator {
        Authenticator {
            username: username.to_owned(),
            password_md5: md5_hex(password),
            client_key: client_key.to_owned(),
            client_secret: client_secret.to_owned(),
            token_key: master.derive("oauth-token v1", client_secret.as_bytes()),
            token_ttl,
        }
    }

    /// True when the request carries valid Basic credentials or a valid,
    /// unexpired token. Either is enough, as on the real service.
    pub(crate) fn authorize(&self, headers: &HeaderMap, now: Duration) -> bool {
        self.check(headers, now) == Access::Granted
    }

    /// Whether the request may pass, and if not, whether only the token's
    /// time is up.
    pub(crate) fn check(&self, headers: &HeaderMap, now: Duration) -> Access {
        let basic = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| self.basic_ok(v));
        if basic {
            return Access::Granted;
        }
        let Some(claims) = headers
            .get(TOKEN_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| self.token_claims(v.trim()))
        else {
            return Access::Denied;
        };
        if now < Duration::from_secs(claims.exp) {
            Access::Granted
        } else {
            Access::Expired { at: claims.exp }
        }
    }

    fn basic_ok(&self, header: &str) -> bool {
        let Some((scheme, encoded)) = header.trim().split_once(' ') else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case("basic") {
            return false;
        }
        let Ok(decoded) = STANDARD.decode(encoded.trim()) else {
            return false;
        };
        let Ok(decoded) = String::from_utf8(decoded) else {
            return false;
        };
        let Some((user, md5)) = decoded.split_once(':') else {
            return false;
        };
        // Capillary documents lower-case hex; accept either case since both
        // name the same digest.
        user == self.username && md5.eq_ignore_ascii_case(&self.password_md5)
    }

    /// The token for a `{"key","secret"}` pair, or `None` when they are wrong.
    pub(crate) fn issue_token(&self, key: &str, secret: &str, now: Duration) -> Option<String> {
        if key != self.client_key || secret != self.client_secret {
            return None;
        }
        let claims = Claims {
            iss: ISSUER.to_owned(),
            sub: key.to_owned(),
            iat: now.as_secs(),
            exp: ceil_secs(now.saturating_add(self.token_ttl)),
            jti: uuid::Uuid::new_v4().to_string(),
        };
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).ok()?);
        let signing_input = format!("{JWT_HEADER}.{payload}");
        let mut mac = hmac(&self.token_key);
        mac.update(signing_input.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        Some(format!("{signing_input}.{signature}"))
    }

    /// The lifetime announced as `ttlSeconds`.
    pub(crate) fn token_ttl_secs(&self) -> u64 {
        self.token_ttl.as_secs()
    }

    /// The claims of a token this emulator signed for its client key,
    /// expired or not.
    fn token_claims(&self, token: &str) -> Option<Claims> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
            return None;
        };
        let mut mac = hmac(&self.token_key);
        mac.update(header.as_bytes());
        mac.update(b".");
        mac.update(payload.as_bytes());
        if mac.verify_slice(&signature).is_err() {
            return None;
        }
        let claims = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|json| serde_json::from_slice::<Claims>(&json).ok())?;
        (claims.iss == ISSUER && claims.sub == self.client_key).then_some(claims)
    }
}

/// Lower-case hex MD5, the form in which Capillary's Basic auth sends passwords.
pub(crate) fn md5_hex(text: &str) -> String {
    hex::encode(Md5::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn auth() -> Authenticator {
        let dir = tempfile::tempdir().expect("tempdir");
        let master = MasterKey::load_or_create(dir.path()).expect("key");
        Authenticator::new(&master, "store123", "Pass123", "k", "s", Duration::from_secs(300))
    }

    fn headers(name: &'static str, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).expect("header"));
        h
    }

    const NOW: Duration = Duration::from_secs(1_700_000_000);

    #[test]
    fn basic_takes_the_md5_hex_of_the_password_in_either_case() {
        // Checked against Python's hashlib. (Capillary's docs pair "Pass123"
        // with bdc87b9c894da5168059e00ebffb9077, which is not its MD5.)
        assert_eq!(md5_hex("Pass123"), "2f23fa3579f3f75175793649115c1b25");
        let a = auth();
        let lower = STANDARD.encode("store123:2f23fa3579f3f75175793649115c1b25");
        assert!(a.authorize(&headers("authorization", &format!("Basic {lower}")), NOW));
        assert!(a.authorize(&headers("authorization", &format!("basic  {lower} ")), NOW));
        let upper = STANDARD.encode("store123:2F23FA3579F3F75175793649115C1B25");
        assert!(a.authorize(&headers("authorization", &format!("Basic {upper}")), NOW));
        let plain = STANDARD.encode("store123:Pass123");
        assert!(!a.authorize(&headers("authorization", &format!("Basic {plain}")), NOW));
        let other_user = STANDARD.encode("store124:2f23fa3579f3f75175793649115c1b25");
        assert!(!a.authorize(&headers("authorization", &format!("Basic {other_user}")), NOW));
        assert!(!a.authorize(&headers("authorization", "Basic %%%"), NOW));
        assert!(!a.authorize(&headers("authorization", "Bearer x"), NOW));
        assert!(!a.authorize(&HeaderMap::new(), NOW));
    }

    #[test]
    fn tokens_verify_until_expiry_and_resist_tampering() {
        let a = auth();
        assert!(a.issue_token("k", "wrong", NOW).is_none());
        assert!(a.issue_token("wrong", "s", NOW).is_none());
        let token = a.issue_token("k", "s", NOW).expect("token");
        assert_eq!(token.split('.').count(), 3);
        assert!(a.authorize(&headers(TOKEN_HEADER, &token), NOW));
        assert!(!a.authorize(&headers(TOKEN_HEADER, &token), NOW + Duration::from_secs(300)));
        assert_eq!(
            a.check(&headers(TOKEN_HEADER, &token), NOW + Duration::from_secs(300)),
            Access::Expired {
                at: NOW.as_secs() + 300
            }
        );
        // Flip one character in the middle of the signature.
        let (signed, signature) = token.rsplit_once('.').expect("three parts");
        let mut sig: Vec<char> = signature.chars().collect();
        sig[10] = if sig[10] == 'A' { 'B' } else { 'A' };
        let tampered = format!("{signed}.{}", sig.into_iter().collect::<String>());
        assert!(!a.authorize(&headers(TOKEN_HEADER, &tampered), NOW));
        assert!(!a.authorize(&headers(TOKEN_HEADER, "a.b"), NOW));
    }
}
