//! The emulator's secret key and the signed, expiring download URLs built
//! from it (`secureFilePath`, the emulator's stand-in for a presigned S3 URL).
//!
//! One random key is generated the first time a data directory is used and kept
//! in it (`secret.key`, mode 0600), so that URLs handed out before a restart keep
//! working after it. Separate keys for URLs and for OAuth tokens are derived from
//! it, so that one kind of signature can never pass for the other.

use std::io::{self, Write};
use std::path::Path;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// File in the data directory holding the master key as 64 hex digits.
const SECRET_FILE: &str = "secret.key";
const KEY_LEN: usize = 32;

/// The master key of one data directory.
#[derive(Clone)]
pub(crate) struct MasterKey([u8; KEY_LEN]);

impl MasterKey {
    /// Reads the data directory's key, creating it on first use.
    pub(crate) fn load_or_create(data_dir: &Path) -> io::Result<MasterKey> {
        let path = data_dir.join(SECRET_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{} is not a 64-digit hex key (delete it to make a new one; \
                         URLs signed with the old key stop working)",
                        path.display()
                    ),
                )
            }),
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                let key = Self::generate()?;
                // Written to a private temporary file and linked into place
                // without clobbering, so two emulators starting on one new
                // directory agree on a single key.
                let mut tmp = tempfile::Builder::new().prefix(".secret-").tempfile_in(data_dir)?;
                set_private(tmp.path())?;
                tmp.write_all(hex::encode(key.0).as_bytes())?;
                tmp.as_file().sync_all()?;
                match tmp.persist_noclobber(&path) {
                    Ok(_) => Ok(key),
                    Err(err) if err.error.kind() == io::ErrorKind::AlreadyExists => Self::load_or_create(data_dir),
                    Err(err) => Err(err.error),
                }
            }
            Err(err) => Err(err),
        }
    }

    fn parse(text: &str) -> Option<MasterKey> {
        let bytes = hex::decode(text.trim()).ok()?;
        Some(MasterKey(bytes.try_into().ok()?))
    }

    fn generate() -> io::Result<MasterKey> {
        let mut key = [0u8; KEY_LEN];
        rustls::crypto::ring::default_provider()
            .secure_random
            .fill(&mut key)
            .map_err(|_| io::Error::other("the system random number generator failed"))?;
        Ok(MasterKey(key))
    }

    /// A key for one purpose, derived so that it changes with `context`.
    pub(crate) fn derive(&self, purpose: &str, context: &[u8]) -> [u8; KEY_LEN] {
        let mut mac = hmac(&self.0);
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(context);
        mac.finalize().into_bytes().into()
    }
}

#[cfg(unix)]
fn set_private(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn set_private(_path: &Path) -> io::Result<()> {
    Ok(())
}

/// An HMAC-SHA256 instance; HMAC accepts keys of any length, so this cannot fail.
pub(crate) fn hmac(key: &[u8]) -> HmacSha256 {
    <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length")
}

/// Why a download URL was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum UrlRefusal {
    Missing,
    BadSignature,
    Expired,
}

/// Signs and checks `GET /files/{s3_token}?expires=UNIX&signature=HEX`.
pub(crate) struct UrlSigner {
    key: [u8; KEY_LEN],
}

impl UrlSigner {
    pub(crate) fn new(master: &MasterKey) -> UrlSigner {
        UrlSigner {
            key: master.derive("secure-file-url v1", b""),
        }
    }

    fn mac(&self, s3_token: &str, expires: u64) -> HmacSha256 {
        let mut mac = hmac(&self.key);
        mac.update(b"GET\n");
        mac.update(s3_token.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        mac
    }

    /// The query string (`expires=..&signature=..`) for `s3_token`, valid
    /// until `now + ttl` rounded up to a whole second.
    pub(crate) fn sign(&self, s3_token: &str, now: Duration, ttl: Duration) -> String {
        let expires = ceil_secs(now.saturating_add(ttl));
        let signature = hex::encode(self.mac(s3_token, expires).finalize().into_bytes());
        format!("expires={expires}&signature={signature}")
    }

    /// Checks the `expires` and `signature` query values for `s3_token`.
    pub(crate) fn verify(
        &self,
        s3_token: &str,
        expires: Option<&str>,
        signature: Option<&str>,
        now: Duration,
    ) -> Result<(), UrlRefusal> {
        let (Some(expires), Some(signature)) = (expires, signature) else {
            return Err(UrlRefusal::Missing);
        };
        let expires: u64 = expires.parse().map_err(|_| UrlRefusal::BadSignature)?;
        let signature = hex::decode(signature).map_err(|_| UrlRefusal::BadSignature)?;
        // verify_slice compares in constant time.
        self.mac(s3_token, expires)
            .verify_slice(&signature)
            .map_err(|_| UrlRefusal::BadSignature)?;
        if now >= Duration::from_secs(expires) {
            return Err(UrlRefusal::Expired);
        }
        Ok(())
    }
}

/// Whole seconds, rounded up, so that a lifetime is never cut short.
pub(crate) fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> UrlSigner {
        UrlSigner::new(&MasterKey([7; KEY_LEN]))
    }

    fn query(q: &str) -> (Option<&str>, Option<&str>) {
        let mut expires = None;
        let mut signature = None;
        for pair in q.split('&') {
            match pair.split_once('=') {
                Some(("expires", v)) => expires = Some(v),
                Some(("signature", v)) => signature = Some(v),
                _ => {}
            }
        }
        (expires, signature)
    }

    #[test]
    fn signed_url_verifies_until_it_expires() {
        let now = Duration::from_secs(1_000);
        let q = signer().sign("rewards/1/a.png", now, Duration::from_secs(60));
        let (e, s) = query(&q);
        assert_eq!(e, Some("1060"));
        assert_eq!(signer().verify("rewards/1/a.png", e, s, now), Ok(()));
        assert_eq!(
            signer().verify("rewards/1/a.png", e, s, Duration::from_secs(1_060)),
            Err(UrlRefusal::Expired)
        );
        assert_eq!(
            signer().verify("rewards/1/b.png", e, s, now),
            Err(UrlRefusal::BadSignature)
        );
        assert_eq!(
            signer().verify("rewards/1/a.png", Some("1061"), s, now),
            Err(UrlRefusal::BadSignature)
        );
        assert_eq!(
            signer().verify("rewards/1/a.png", e, None, now),
            Err(UrlRefusal::Missing)
        );
        assert_eq!(
            signer().verify("rewards/1/a.png", e, Some("zz"), now),
            Err(UrlRefusal::BadSignature)
        );
    }

    #[test]
    fn master_key_is_created_once_and_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = MasterKey::load_or_create(dir.path()).expect("create");
        let second = MasterKey::load_or_create(dir.path()).expect("load");
        assert_eq!(first.0, second.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(SECRET_FILE))
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn corrupt_key_file_is_an_error_not_a_new_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(SECRET_FILE), "not hex").expect("write");
        let err = MasterKey::load_or_create(dir.path()).err().expect("should refuse");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }
}
