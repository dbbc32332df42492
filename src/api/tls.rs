//! TLS failures in words, and the extra CA certificates a private CA needs.
//!
//! rustls reports a refused certificate or an impossible handshake as enum
//! names (`CaUsedAsEndEntity`, `ProtocolVersion`, `InvalidContentType`).
//! [`describe`] finds the rustls error in a failure's cause chain and says it
//! as curl would ("certificate has expired (on DATE)"); every such failure is
//! a setup error, the same on every attempt, so the client does not retry it
//! ([`is_setup_failure`]).

use std::error::Error as StdError;
use std::path::Path;

use rustls::{AlertDescription, CertificateError, InvalidMessage, PeerIncompatible};

use super::setup::ClientError;

/// What to do about a certificate this machine does not trust.
pub(super) const UNTRUSTED_HINT: &str = "for a private or intercepting CA, give its certificate with --cacert FILE \
     (or CAPFILE_CA_BUNDLE, or the ca_bundle setting; SSL_CERT_FILE replaces the system's CAs instead)";

/// The rustls error in `err`'s cause chain, if any.
pub(super) fn rustls_error<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    find_in_chain(err, 0)
}

/// The first `T` in `err`'s cause chain, looking inside `io::Error`s too.
fn find_in_chain<'a, T: StdError + 'static>(err: &'a (dyn StdError + 'static), depth: usize) -> Option<&'a T> {
    let mut current = Some(err);
    let mut depth = depth;
    while let Some(e) = current {
        depth += 1;
        if depth > 32 {
            return None;
        }
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(found) = find_in_chain::<T>(inner, depth)
        {
            return Some(found);
        }
        current = e.source();
    }
    None
}

/// Whether `err` is a TLS failure that another attempt would meet again: a
/// refused certificate or a handshake the two sides cannot agree on.
pub(super) fn is_setup_failure(err: &rustls::Error) -> bool {
    matches!(
        err,
        rustls::Error::InvalidCertificate(_)
            | rustls::Error::NoCertificatesPresented
            | rustls::Error::PeerIncompatible(_)
            | rustls::Error::InvalidMessage(InvalidMessage::InvalidContentType)
            | rustls::Error::AlertReceived(
                AlertDescription::ProtocolVersion
                    | AlertDescription::HandshakeFailure
                    | AlertDescription::InsufficientSecurity
            )
    )
}

/// `err` in words, for the host `host` (without port).
pub(super) fn describe(err: &rustls::Error, host: &str) -> String {
    const OLD: &str = "the server offers only TLS 1.0/1.1 (or older), which capfile refuses: \
                       TLS 1.2 or 1.3 is needed";
    match err {
        rustls::Error::InvalidCertificate(cert) => describe_certificate(cert, host),
        rustls::Error::NoCertificatesPresented => "the server sent no certificate".to_string(),
        rustls::Error::InvalidMessage(InvalidMessage::InvalidContentType) => {
            format!("{host} speaks plain HTTP on this port, not TLS: use http:// (loopback only) or the TLS port")
        }
        rustls::Error::AlertReceived(AlertDescription::ProtocolVersion)
        | rustls::Error::PeerIncompatible(
            PeerIncompatible::ServerDoesNotSupportTls12Or13 | PeerIncompatible::Tls12NotOffered,
        ) => OLD.to_string(),
        rustls::Error::AlertReceived(AlertDescription::HandshakeFailure | AlertDescription::InsufficientSecurity)
        | rustls::Error::PeerIncompatible(_) => {
            format!("the TLS handshake failed ({err}): the server offers no TLS 1.2/1.3 settings capfile accepts")
        }
        other => format!("TLS failed: {other}"),
    }
}

fn describe_certificate(cert: &CertificateError, host: &str) -> String {
    match cert {
        CertificateError::Expired => "the server's certificate has expired".to_string(),
        CertificateError::ExpiredContext { not_after, .. } => {
            format!(
                "the server's certificate has expired (on {})",
                date(not_after.as_secs())
            )
        }
        CertificateError::NotValidYet => "the server's certificate is not valid yet".to_string(),
        CertificateError::NotValidYetContext { not_before, .. } => format!(
            "the server's certificate is not valid yet (from {}): is this machine's clock right?",
            date(not_before.as_secs())
        ),
        CertificateError::NotValidForName => format!("the server's certificate is not for {host}"),
        CertificateError::NotValidForNameContext { presented, .. } => {
            let names: Vec<String> = presented.iter().map(|n| bare_name(n)).collect();
            match names.as_slice() {
                [] => format!("the server's certificate names no host, not {host}"),
                names => format!("the server's certificate is for {}, not {host}", names.join(", ")),
            }
        }
        CertificateError::UnknownIssuer => {
            format!("the server's certificate is self-signed or signed by an unknown issuer ({UNTRUSTED_HINT})")
        }
        CertificateError::Other(other) if other.to_string().contains("CaUsedAsEndEntity") => {
            format!(
                "the server's certificate is self-signed (a CA certificate used as the server's own; {UNTRUSTED_HINT})"
            )
        }
        CertificateError::Revoked => "the server's certificate has been revoked".to_string(),
        other => format!("the server's certificate was refused ({other})"),
    }
}

/// `DnsName("a.example")` as `a.example`; anything else as it is.
fn bare_name(name: &str) -> String {
    match (name.find('"'), name.rfind('"')) {
        (Some(start), Some(end)) if end > start => name[start + 1..end].to_string(),
        _ => name.to_string(),
    }
}

/// `YYYY-MM-DD` (UTC) of a Unix time.
fn date(secs: u64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    i64::try_from(secs)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| format!("{secs} s after 1970"))
}

/// The largest CA bundle read: the system's own is about 200 KiB.
const CA_BUNDLE_LIMIT: u64 = 16 * 1024 * 1024;

/// The certificates in a PEM file, for `--cacert`.
pub(super) fn load_ca_bundle(path: &Path) -> Result<Vec<reqwest::Certificate>, ClientError> {
    // Through the one bounded reader: a FIFO or an endless file is refused.
    let pem = crate::fsio::read_regular(path, CA_BUNDLE_LIMIT).map_err(|source| ClientError::CaRead {
        path: path.to_path_buf(),
        source,
    })?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|cause| ClientError::CaNotPem {
        path: path.to_path_buf(),
        cause,
    })?;
    if certs.is_empty() {
        return Err(ClientError::CaEmpty {
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::{ServerName, UnixTime};

    #[test]
    fn certificate_failures_read_as_curl_says_them() {
        let cases: Vec<(rustls::Error, &str)> = vec![
            (
                CertificateError::ExpiredContext {
                    time: UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_800_000_000)),
                    not_after: UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_577_923_200)),
                }
                .into(),
                "certificate has expired (on 2020-01-02)",
            ),
            (
                CertificateError::NotValidForNameContext {
                    expected: ServerName::try_from("files.example").unwrap().to_owned(),
                    presented: vec!["DnsName(\"other.example\")".into()],
                }
                .into(),
                "certificate is for other.example, not files.example",
            ),
            (
                CertificateError::UnknownIssuer.into(),
                "self-signed or signed by an unknown issuer",
            ),
            (
                rustls::Error::InvalidMessage(InvalidMessage::InvalidContentType),
                "files.example speaks plain HTTP on this port",
            ),
            (
                rustls::Error::AlertReceived(AlertDescription::ProtocolVersion),
                "only TLS 1.0/1.1",
            ),
        ];
        for (err, words) in cases {
            assert!(is_setup_failure(&err), "{err:?}");
            let text = describe(&err, "files.example");
            assert!(text.contains(words), "{err:?}: {text}");
        }
        let hint = describe(&CertificateError::UnknownIssuer.into(), "h");
        assert!(hint.contains("--cacert") && hint.contains("SSL_CERT_FILE"), "{hint}");
        assert!(!is_setup_failure(&rustls::Error::DecryptError));
    }
}
