//! Which upload failures are the setup's rather than the file's, for the
//! batch's fail-fast detector (`batch::systemic`).
//!
//! Systemic: the connection was refused (an `io::Error` of kind
//! `ConnectionRefused` in the cause chain), the host name did not resolve (the
//! resolver's error in the chain), the server's TLS certificate was refused (a
//! rustls certificate error in the chain), the proxy failed or refused (see
//! `route.rs`), or the upload endpoint answered 404:
//! an upload creates its file, so a 404 says the path itself is wrong. Every
//! other failure is ordinary.

use std::error::Error as StdError;
use std::io;

use super::{ApiError, NetworkError};
use crate::batch::{FailureClass, SystemicKind};

/// Classifies one failed upload. `endpoint` is the upload URL without the file
/// name and query: what a 404 is reported against.
pub fn classify(err: &ApiError, endpoint: &str) -> FailureClass {
    match err {
        ApiError::Status { status, .. } if status.as_u16() == 404 => {
            FailureClass::systemic(SystemicKind::EndpointNotFound, endpoint)
        }
        ApiError::Network(net) => match net.tls_setup_failure() {
            Some(tls)
                if !matches!(
                    tls,
                    rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
                ) =>
            {
                let host = net.host.clone().unwrap_or_else(|| "the service".to_string());
                FailureClass::systemic(SystemicKind::TlsHandshake, host_only(&host))
            }
            _ => classify_network(net),
        },
        ApiError::Proxy { proxy, .. } => FailureClass::systemic(SystemicKind::Proxy, proxy.clone()),
        _ => FailureClass::Ordinary,
    }
}

fn classify_network(net: &NetworkError) -> FailureClass {
    let host_port = net.host.clone().unwrap_or_else(|| "the service".to_string());
    let host = host_only(&host_port);
    let mut refused = false;
    let mut dns = false;
    let mut tls = false;
    visit_chain(net, &mut |e| {
        if let Some(io) = e.downcast_ref::<io::Error>()
            && io.kind() == io::ErrorKind::ConnectionRefused
        {
            refused = true;
        }
        if let Some(tls_err) = e.downcast_ref::<rustls::Error>()
            && matches!(
                tls_err,
                rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
            )
        {
            tls = true;
        }
        // hyper-util's resolver error says "dns error"; the system resolver's
        // own says "failed to lookup address information".
        let text = e.to_string();
        if text.starts_with("dns error") || text.contains("failed to lookup address") {
            dns = true;
        }
    });
    if refused {
        FailureClass::systemic(SystemicKind::ConnectionRefused, host_port)
    } else if tls {
        FailureClass::systemic(SystemicKind::TlsVerification, host)
    } else if dns {
        FailureClass::systemic(SystemicKind::DnsFailure, host)
    } else {
        FailureClass::Ordinary
    }
}

/// `host` of `host:port` (IPv6 hosts keep their brackets).
fn host_only(host_port: &str) -> String {
    match host_port.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !host.is_empty() => host.to_string(),
        _ => host_port.to_string(),
    }
}

/// Calls `f` on `err` and every error below it. An `io::Error` wrapping
/// another error does not return that error from `source()`: its inner error
/// is visited through `get_ref()` too.
fn visit_chain(err: &(dyn StdError + 'static), f: &mut dyn FnMut(&(dyn StdError + 'static))) {
    let mut current = Some(err);
    let mut depth = 0;
    while let Some(e) = current {
        depth += 1;
        if depth > 32 {
            return;
        }
        f(e);
        if let Some(io) = e.downcast_ref::<io::Error>()
            && let Some(inner) = io.get_ref()
        {
            visit_chain(inner, f);
        }
        current = e.source();
    }
}

#[cfg(test)]
mod tests {
    use reqwest::StatusCode;

    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    async fn network_error(url: &str) -> ApiError {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder().build().unwrap();
        let err = client.get(url).send().await.unwrap_err();
        ApiError::Network(NetworkError::new(err))
    }

    #[test]
    fn a_refused_connection_is_systemic_and_names_host_and_port() {
        // A port that was just free: nothing listens on it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err = runtime().block_on(network_error(&format!("http://127.0.0.1:{port}/x")));
        assert_eq!(
            classify(&err, "e"),
            FailureClass::systemic(SystemicKind::ConnectionRefused, format!("127.0.0.1:{port}"))
        );
    }

    #[test]
    fn an_unresolvable_host_is_a_dns_failure() {
        // `.invalid` never resolves (RFC 6761).
        let err = runtime().block_on(network_error("http://no-such-host.invalid/x"));
        assert_eq!(
            classify(&err, "e"),
            FailureClass::systemic(SystemicKind::DnsFailure, "no-such-host.invalid")
        );
    }

    #[test]
    fn a_404_is_the_endpoint_and_other_statuses_are_ordinary() {
        let status = |code: u16| ApiError::Status {
            status: StatusCode::from_u16(code).unwrap(),
            message: String::new(),
            retry_after: None,
            request_id: None,
        };
        assert_eq!(
            classify(&status(404), "http://h/api_gateway/file-service/ns"),
            FailureClass::systemic(SystemicKind::EndpointNotFound, "http://h/api_gateway/file-service/ns")
        );
        for code in [400, 401, 500, 503] {
            assert_eq!(classify(&status(code), "e"), FailureClass::Ordinary);
        }
        assert_eq!(
            classify(&ApiError::Timeout(std::time::Duration::from_secs(1)), "e"),
            FailureClass::Ordinary
        );
    }

    #[test]
    fn hosts_lose_their_port() {
        assert_eq!(host_only("eu.example:443"), "eu.example");
        assert_eq!(host_only("[::1]:80"), "[::1]");
        assert_eq!(host_only("noport"), "noport");
    }
}
