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
pub(crate) fn classify(err: &ApiError, endpoint: &str) -> FailureClass {
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
    use std::sync::Arc;

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

    /// A listener on a free loopback port that answers each connection with
    /// `serve` on a thread of its own.
    fn listen(serve: impl Fn(std::net::TcpStream) + Send + 'static) -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                serve(stream);
            }
        });
        port
    }

    #[test]
    fn plain_http_on_a_tls_url_is_a_handshake_failure_named_by_host_alone() {
        let port = listen(|mut stream| {
            use std::io::{Read, Write};
            let mut hello = [0u8; 512];
            let _ = stream.read(&mut hello);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
        });
        let err = runtime().block_on(network_error(&format!("https://127.0.0.1:{port}/x")));
        assert_eq!(
            classify(&err, "e"),
            FailureClass::systemic(SystemicKind::TlsHandshake, "127.0.0.1")
        );
    }

    #[test]
    fn a_refused_certificate_is_a_verification_failure_not_a_handshake_one() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![cert.cert.der().clone()], key)
            .unwrap();
        let config = Arc::new(config);
        let port = listen(move |stream| {
            let conn = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, stream);
            let mut buf = [0u8; 64];
            // The handshake fails on the client's side: it refuses the certificate.
            let _ = std::io::Read::read(&mut tls, &mut buf);
        });
        let err = runtime().block_on(network_error(&format!("https://127.0.0.1:{port}/x")));
        assert_eq!(
            classify(&err, "e"),
            FailureClass::systemic(SystemicKind::TlsVerification, "127.0.0.1")
        );
    }

    #[test]
    fn a_failed_proxy_is_systemic_and_names_the_proxy() {
        let err = ApiError::Proxy {
            proxy: "http://proxy.example:3128 (HTTPS_PROXY)".to_string(),
            problem: "cannot be reached: Connection refused".to_string(),
        };
        assert_eq!(
            classify(&err, "e"),
            FailureClass::systemic(SystemicKind::Proxy, "http://proxy.example:3128 (HTTPS_PROXY)")
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
        // Only a port of digits after a host is taken off.
        assert_eq!(host_only(":443"), ":443");
        assert_eq!(host_only("h.example:8a"), "h.example:8a");
        assert_eq!(host_only("[::1]"), "[::1]");
        assert_eq!(host_only("h.example:"), "h.example");
    }

    /// An error whose source is the next one down, for chains of any depth.
    #[derive(Debug)]
    struct Link(Option<Box<dyn StdError + Send + Sync + 'static>>);

    impl std::fmt::Display for Link {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("link")
        }
    }

    impl StdError for Link {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            self.0.as_deref().map(|e| e as &(dyn StdError + 'static))
        }
    }

    fn chain(depth: usize) -> Link {
        (1..depth).fold(Link(None), |below, _| Link(Some(Box::new(below))))
    }

    #[test]
    fn a_cause_chain_is_visited_to_32_deep_and_no_further() {
        for (depth, visited) in [(1, 1), (31, 31), (32, 32), (33, 32), (1000, 32)] {
            let mut seen = 0;
            visit_chain(&chain(depth), &mut |_| seen += 1);
            assert_eq!(seen, visited, "a chain {depth} deep");
        }
        // An io::Error's inner error is visited too (its own `source()` is
        // the inner error's source, so the tail is seen twice: harmless).
        let wrapped = io::Error::other(chain(3));
        let mut seen = 0;
        visit_chain(&wrapped, &mut |_| seen += 1);
        assert_eq!(seen, 1 + 3 + 2);
    }
}
