//! Why the HTTP client for the file service could not be set up from the
//! settings: a username that cannot go in a header, a proxy or a CA bundle
//! that cannot be used. Usage errors (exit 2): nothing was sent.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::exit::{ErrorKind, Failure};

/// The client could not be built; each names what to fix.
#[derive(Debug)]
pub(crate) enum ClientError {
    /// The username holds characters a Basic header cannot carry.
    Username,
    /// reqwest refused the proxy (named by host and port, never its
    /// credentials).
    Proxy { proxy: String, cause: reqwest::Error },
    /// The CA bundle cannot be read.
    CaRead { path: PathBuf, source: io::Error },
    /// The CA bundle is not PEM certificates.
    CaNotPem { path: PathBuf, cause: reqwest::Error },
    /// The CA bundle holds no certificate.
    CaEmpty { path: PathBuf },
    /// reqwest could not build the client.
    Build(reqwest::Error),
}

impl Failure for ClientError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Usage
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Username => f.write_str("the username contains characters that cannot be sent"),
            ClientError::Proxy { proxy, cause } => write!(f, "cannot use the proxy {proxy}: {cause}"),
            ClientError::CaRead { path, source } => write!(f, "cannot read the CA bundle {}: {source}", path.display()),
            ClientError::CaNotPem { path, cause } => {
                write!(f, "the CA bundle {} is not PEM certificates: {cause}", path.display())
            }
            ClientError::CaEmpty { path } => write!(
                f,
                "the CA bundle {} holds no certificate (-----BEGIN CERTIFICATE----- blocks)",
                path.display()
            ),
            ClientError::Build(cause) => write!(f, "cannot set up the HTTP client: {cause}"),
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClientError::Proxy { cause, .. } | ClientError::CaNotPem { cause, .. } | ClientError::Build(cause) => {
                Some(cause)
            }
            ClientError::CaRead { source, .. } => Some(source),
            ClientError::Username | ClientError::CaEmpty { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::Exit;

    #[test]
    fn a_ca_bundle_that_cannot_be_used_is_named_with_the_cause() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        let missing = super::super::tls::load_ca_bundle(&path).unwrap_err();
        assert!(matches!(missing, ClientError::CaRead { .. }));
        assert!(
            missing
                .to_string()
                .starts_with(&format!("cannot read the CA bundle {}: ", path.display())),
            "{missing}"
        );
        std::fs::write(&path, "not a certificate\n").unwrap();
        let empty = super::super::tls::load_ca_bundle(&path).unwrap_err();
        assert_eq!(
            empty.to_string(),
            format!(
                "the CA bundle {} holds no certificate (-----BEGIN CERTIFICATE----- blocks)",
                path.display()
            )
        );
        assert_eq!(empty.exit(), Exit::Usage);
        assert_eq!(
            ClientError::Username.to_string(),
            "the username contains characters that cannot be sent"
        );
    }
}
