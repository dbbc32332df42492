//! capfile against real components nobody here wrote, as users meet them:
//! nginx as a TLS and HTTP/2 gateway in front of the emulator (with a
//! private CA, and expired, wrong-name and self-signed certificates made at
//! test time), squid as a forward proxy (open, asking for Basic credentials,
//! denying all), and two Python multipart parsers (werkzeug and
//! python-multipart). Every component runs on 127.0.0.1 on ports picked at run
//! time (see `components`). A test whose component is not installed skips,
//! unless CAPFILE_REQUIRE_TOOLS=1 (as in `.ci/run`, which installs them).

mod components;

use std::process::Output;

use components::{
    Nginx, PARSERS, PROXIED_HOST, PROXY_PASSWORD, Parser, Pki, ProxyRules, SERVICE_ANSWER, Site, Squid, free_port,
};

use crate::common::{self, Service, sample, stderr};

/// `location /` passing everything to `upstream` (`host:port`), streaming
/// request bodies.
fn pass_to(upstream: &str) -> String {
    format!(
        "location / {{ proxy_pass http://{upstream}; proxy_request_buffering off; proxy_http_version 1.1; \
         proxy_set_header Host $http_host; }}"
    )
}

/// The gateway's sites: one per certificate in front of the emulator, one
/// speaking only TLS 1.0/1.1, and nginx's own 502 and 504 pages.
fn sites(upstream: &str) -> Vec<Site> {
    let site = |name, cert, body: String, tls| Site {
        name,
        cert,
        body,
        tls,
        http2: true,
    };
    // 150 headers on every answer, over HTTP/1.1 (hyper's default limit is
    // 100; curl takes them).
    let many: String = (0..150)
        .map(|i| format!("add_header X-Gateway-{i} v{i} always; "))
        .collect();
    let h1 = |name, body: String| Site {
        name,
        cert: "valid",
        body,
        tls: "",
        http2: false,
    };
    vec![
        // Answers from the headers, without reading a large body, and close.
        h1(
            "too_large_h1",
            format!("lingering_close off; client_max_body_size 1k; {}", pass_to(upstream)),
        ),
        h1("refuses_h1", "lingering_close off; location / { return 401; }".into()),
        site(
            "too_large",
            "valid",
            format!("client_max_body_size 1k; {}", pass_to(upstream)),
            "",
        ),
        site("refuses", "valid", "location / { return 401; }".into(), ""),
        Site {
            name: "many_headers",
            cert: "valid",
            body: format!("{many} {}", pass_to(upstream)),
            tls: "",
            http2: false,
        },
        site("valid", "valid", pass_to(upstream), ""),
        site("expired", "expired", pass_to(upstream), ""),
        site("wrong_name", "wrong_name", pass_to(upstream), ""),
        site("self_signed", "self_signed", pass_to(upstream), ""),
        site("self_signed_leaf", "self_signed_leaf", pass_to(upstream), ""),
        site(
            "old_tls",
            "valid",
            pass_to(upstream),
            "ssl_protocols TLSv1 TLSv1.1; ssl_ciphers DEFAULT@SECLEVEL=0;",
        ),
        site(
            "bad_gateway",
            "valid",
            pass_to(&format!("127.0.0.1:{}", free_port())),
            "",
        ),
        site("gateway_timeout", "valid", "location / { return 504; }".into(), ""),
        // Closes each HTTP/2 connection (GOAWAY) after 3 requests, and takes
        // 2 streams at a time: more are refused (REFUSED_STREAM).
        site(
            "goaway",
            "valid",
            format!(
                "keepalive_requests 3; http2_max_concurrent_streams 2; {}",
                pass_to(upstream)
            ),
            "",
        ),
        site(
            "portal",
            "valid",
            "location / { return 200 '<html><head><title>Corporate sign-in</title></head><body></body></html>'; }"
                .into(),
            "",
        ),
        site(
            "bom",
            "valid",
            format!("location / {{ default_type application/json; return 200 '\u{feff}{SERVICE_ANSWER}'; }}"),
            "",
        ),
        // error_page turns the 405 into the file, fetched as a GET: a gzip
        // body, labelled so, that nobody asked for.
        site(
            "gzip",
            "valid",
            "location / { error_page 405 =200 /answer.gz; return 405; } \
             location = /answer.gz { root {DIR}; default_type application/json; add_header Content-Encoding gzip; }"
                .into(),
            "",
        ),
    ]
}

/// The emulator behind nginx, and the certificates nginx serves.
struct Gateway {
    service: Service,
    pki: Pki,
    nginx: Nginx,
}

impl Gateway {
    fn start() -> Option<Gateway> {
        let service = Service::start();
        let pki = Pki::new();
        let upstream = service
            .base_url()
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let nginx = Nginx::start(&pki, &sites(&upstream))?;
        Some(Gateway { service, pki, nginx })
    }

    /// `https://HOST:PORT` of a site.
    fn url(&self, host: &str, site: &str) -> String {
        format!("https://{host}:{}", self.nginx.port(site))
    }

    /// `capfile upload` of the sample PNG to `base_url` with the emulator's
    /// credentials (and `--retries 2` unless `args` say otherwise).
    fn upload(&self, base_url: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = self.service.capfile();
        cmd.env("CAPFILE_BASE_URL", base_url);
        for (name, value) in env {
            cmd.env(name, value);
        }
        cmd.arg("upload");
        if !args.contains(&"--retries") {
            cmd.args(["--retries", "2"]);
        }
        cmd.args(args).arg(sample("sample.png"));
        let output = common::run(&mut cmd);
        let err = stderr(&output);
        assert!(!err.contains(PROXY_PASSWORD), "the proxy password leaked:\n{err}");
        output
    }
}

fn assert_status(output: &Output, code: i32) -> String {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(code), "stderr:\n{err}");
    err
}

/// No attempt was retried.
fn assert_not_retried(err: &str) {
    assert!(!err.contains("retrying in"), "retried:\n{err}");
}

#[test]
fn a_private_ca_is_trusted_through_cacert_its_variable_or_ssl_cert_file() {
    let Some(gw) = Gateway::start() else { return };
    let base = gw.url("localhost", "valid");
    let ca = gw.pki.ca().display().to_string();
    // Without the CA: refused at once, and the hint names both ways in.
    let err = assert_status(&gw.upload(&base, &[], &[]), 1);
    assert!(err.contains("signed by an unknown issuer"), "{err}");
    assert!(err.contains("--cacert") && err.contains("SSL_CERT_FILE"), "{err}");
    assert_not_retried(&err);
    for (args, env) in [
        (vec!["--cacert", ca.as_str()], vec![]),
        (vec![], vec![("CAPFILE_CA_BUNDLE", ca.as_str())]),
        (vec![], vec![("SSL_CERT_FILE", ca.as_str())]),
    ] {
        let output = gw.upload(&base, &args, &env);
        assert_status(&output, 0);
    }
    assert_eq!(gw.service.stats().uploads_stored, 3);
}

#[test]
fn tls_failures_are_said_in_words_and_fail_fast() {
    let Some(gw) = Gateway::start() else { return };
    let ca = gw.pki.ca().display().to_string();
    let plain = gw.service.base_url().replace("http://", "https://");
    let cases = [
        (
            gw.url("localhost", "expired"),
            "certificate has expired (on 2020-01-02)",
        ),
        (
            gw.url("localhost", "wrong_name"),
            "certificate is for other.example, not localhost",
        ),
        (gw.url("localhost", "self_signed"), "certificate is self-signed"),
        (
            gw.url("localhost", "self_signed_leaf"),
            "self-signed or signed by an unknown issuer",
        ),
        (gw.url("localhost", "old_tls"), "offers only TLS 1.0/1.1"),
        (plain, "speaks plain HTTP on this port"),
    ];
    for (base, words) in cases {
        let err = assert_status(&gw.upload(&base, &["--cacert", &ca], &[]), 1);
        assert!(err.contains(words), "{base}: {err}");
        assert!(
            !err.contains("InvalidContentType") && !err.contains("Other(OtherError"),
            "{err}"
        );
        assert_not_retried(&err);
    }
    assert_eq!(gw.service.stats().upload_requests, 0);
}

#[test]
fn uploads_tunnel_through_squid_and_v_names_the_proxy() {
    let Some(gw) = Gateway::start() else { return };
    let Some(squid) = Squid::start(ProxyRules::Open) else {
        return;
    };
    let ca = gw.pki.ca().display().to_string();
    let base = gw.url(PROXIED_HOST, "valid");
    let output = gw.upload(&base, &["-v", "--cacert", &ca], &[("HTTPS_PROXY", &squid.url(None))]);
    let err = assert_status(&output, 0);
    let named = format!("proxy: http://127.0.0.1:{} (from HTTPS_PROXY)", squid.port);
    assert!(err.contains(&named), "{err}\n{}", squid.daemon.logs());
    // NO_PROXY sends it direct: capfile itself cannot resolve the name only
    // squid knows.
    let output = gw.upload(
        &base,
        &["-v", "--cacert", &ca],
        &[("HTTPS_PROXY", &squid.url(None)), ("NO_PROXY", ".test")],
    );
    let err = assert_status(&output, 1);
    assert!(err.contains("proxy: none (listed in NO_PROXY)"), "{err}");
    assert!(
        err.contains(&format!("cannot resolve the host name {PROXIED_HOST}")) || err.contains("dns error"),
        "{err}"
    );
    assert_eq!(gw.service.stats().uploads_stored, 1);
}

#[test]
fn loopback_base_urls_never_go_through_a_proxy() {
    let service = Service::start();
    let dead = format!("http://127.0.0.1:{}", free_port());
    for var in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "HTTPS_PROXY"] {
        let output = common::run(
            service
                .capfile()
                .env(var, &dead)
                .args(["upload", "-v"])
                .arg(sample("sample.png")),
        );
        let err = assert_status(&output, 0);
        assert!(
            err.contains("proxy: none (loopback host)") || err.contains("proxy: none"),
            "{err}"
        );
    }
}

#[test]
fn a_proxy_that_asks_for_credentials_is_named_not_the_service() {
    let Some(gw) = Gateway::start() else { return };
    let Some(squid) = Squid::start(ProxyRules::Basic) else {
        return;
    };
    let ca = gw.pki.ca().display().to_string();
    let base = gw.url(PROXIED_HOST, "valid");
    let upload = |proxy: String| gw.upload(&base, &["--cacert", &ca], &[("HTTPS_PROXY", &proxy)]);
    let err = assert_status(&upload(squid.url(None)), 1);
    assert!(
        err.contains(&format!(
            "the proxy http://127.0.0.1:{} (from HTTPS_PROXY) asks for credentials",
            squid.port
        )),
        "{err}"
    );
    assert!(err.contains("407"), "{err}");
    assert!(!err.contains("CAPFILE_PASSWORD"), "{err}");
    assert_not_retried(&err);
    let err = assert_status(&upload(squid.url(Some(("cap", "wrong-password")))), 1);
    assert!(
        err.contains("http://***@127.0.0.1") && err.contains("refused the credentials in HTTPS_PROXY"),
        "{err}"
    );
    assert!(!err.contains("wrong-password"), "{err}");
    assert_status(&upload(squid.url(Some(("cap", PROXY_PASSWORD)))), 0);
    assert_eq!(gw.service.stats().uploads_stored, 1);
}

#[test]
fn a_proxy_that_denies_all_is_named_and_not_retried() {
    let Some(gw) = Gateway::start() else { return };
    let Some(squid) = Squid::start(ProxyRules::DenyAll) else {
        return;
    };
    let ca = gw.pki.ca().display().to_string();
    let base = gw.url(PROXIED_HOST, "valid");
    let err = assert_status(
        &gw.upload(&base, &["--cacert", &ca], &[("https_proxy", &squid.url(None))]),
        1,
    );
    let port = gw.nginx.port("valid");
    assert!(
        err.contains(&format!(
            "(from https_proxy) refused to open a tunnel (CONNECT) to {PROXIED_HOST}:{port}"
        )),
        "{err}"
    );
    assert!(!err.contains("tunnel error: unsuccessful"), "{err}");
    assert_not_retried(&err);
}

#[test]
fn a_dead_or_unresolvable_proxy_is_not_blamed_on_the_base_url() {
    let service = Service::start();
    let dir = tempfile::tempdir().unwrap();
    let files = common::sample_copies(dir.path(), 3);
    let dead = format!("http://127.0.0.1:{}", free_port());
    for (proxy, words) in [
        (dead.as_str(), "Connection refused"),
        ("http://no-such-proxy.invalid:3128", "no-such-proxy.invalid"),
    ] {
        // Three files: the batch stops on the proxy, not on the base URL.
        let output = common::run(
            service
                .capfile()
                .env("CAPFILE_BASE_URL", "https://files.example")
                .env("HTTPS_PROXY", proxy)
                .args(["upload", "--retries", "3"])
                .args(&files),
        );
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{err}");
        assert!(err.contains("(from HTTPS_PROXY) cannot be reached"), "{err}");
        assert!(err.contains(words), "{err}");
        assert!(
            !err.contains("is the base URL right") && !err.contains("nothing listens"),
            "{err}"
        );
        assert!(!err.contains("cannot resolve the host name files.example"), "{err}");
        assert_not_retried(&err);
    }
}

#[test]
fn a_malformed_proxy_variable_stops_before_sending() {
    let service = Service::start();
    let cases = [
        ("HTTPS_PROXY", "http://u:hunter2@[::1"),
        ("https_proxy", "ftp://proxy.example:21"),
        ("ALL_PROXY", "http://proxy.example:3128/some/path"),
        ("HTTP_PROXY", "http://proxy.example:99999"),
    ];
    for (var, value) in cases {
        // A loopback base URL ignores the proxy, but not a broken variable.
        for base in ["https://files.example".to_string(), service.base_url()] {
            if var == "HTTPS_PROXY" || var == "https_proxy" {
                if base.starts_with("http://") {
                    continue;
                }
            } else if var == "HTTP_PROXY" && base.starts_with("https://") {
                continue;
            }
            let output = common::run(
                service
                    .capfile()
                    .env("CAPFILE_BASE_URL", &base)
                    .env(var, value)
                    .arg("upload")
                    .arg(sample("sample.png")),
            );
            let err = stderr(&output);
            assert_eq!(output.status.code(), Some(2), "{var}={value} {base}: {err}");
            assert!(err.starts_with(&format!("capfile: error: {var}=")), "{err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
    }
    assert_eq!(service.stats().upload_requests, 0);
}

#[test]
fn multipart_names_arrive_intact_in_two_real_parsers() {
    let home = tempfile::tempdir().unwrap();
    let names = ["plain.png", "with space.png", "caf\u{e9}.png", "semi;colon.png"];
    for parser in PARSERS {
        let Some(server) = Parser::start(parser) else { return };
        for name in names {
            let output = common::run(
                common::capfile_for(&format!("http://127.0.0.1:{}", server.port), home.path())
                    .args(["upload", "--body", "multipart", "--name", name])
                    .arg(sample("sample.png")),
            );
            assert_status(&output, 0);
        }
        let parsed = server.parsed();
        let bytes = std::fs::read(sample("sample.png")).unwrap();
        assert_eq!(parsed.len(), names.len(), "{parser}: {parsed:?}");
        for (record, name) in parsed.iter().zip(names) {
            assert_eq!(record["filename"], name, "{parser}: {record}");
            assert_eq!(record["size"], bytes.len(), "{parser}: {record}");
        }
    }
}

/// A remote name with `"`: capfile sends it as browsers do (`%22`, WHATWG),
/// which every parser reads as the same plain text; the backslash-escaped
/// form (RFC 7578's quoted-string, what reqwest would send) is unescaped by
/// these two parsers, but kept with its backslash by others (formidable,
/// Commons FileUpload). Both forms are sent to both parsers by hand, and the
/// name capfile sends is checked to be the `%22` one.
#[test]
fn a_quote_in_a_name_is_sent_as_browsers_send_it() {
    let home = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    for parser in PARSERS {
        let Some(server) = Parser::start(parser) else { return };
        let url = format!("http://127.0.0.1:{}/", server.port);
        for form in [r#"d\"q.png"#, "d%22q.png"] {
            let body = format!(
                "--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{form}\"\r\n\
                 Content-Type: image/png\r\n\r\nDATA\r\n--XX--\r\n"
            );
            runtime.block_on(async {
                client
                    .post(&url)
                    .header("content-type", "multipart/form-data; boundary=XX")
                    .body(body)
                    .send()
                    .await
                    .unwrap()
                    .error_for_status()
                    .unwrap();
            });
        }
        let output = common::run(
            common::capfile_for(&format!("http://127.0.0.1:{}", server.port), home.path())
                .args(["upload", "--body", "multipart", "--name", "d\"q.png"])
                .arg(sample("sample.png")),
        );
        assert_status(&output, 0);
        let names: Vec<String> = server
            .parsed()
            .iter()
            .map(|r| r["filename"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(names, ["d\"q.png", "d%22q.png", "d%22q.png"], "{parser}");
    }
}

#[test]
fn gateway_pages_and_altered_answers_are_said_for_what_they_are() {
    let Some(gw) = Gateway::start() else { return };
    let ca = gw.pki.ca().display().to_string();
    let upload = |site: &str| gw.upload(&gw.url("localhost", site), &["--cacert", &ca, "--retries", "0"], &[]);
    for (site, words) in [
        (
            "bad_gateway",
            "server answered 502 Bad Gateway: an HTML page titled \"502 Bad Gateway\"",
        ),
        (
            "gateway_timeout",
            "server answered 504 Gateway Timeout: an HTML page titled \"504 Gateway Time-out\"",
        ),
        (
            "portal",
            "an HTML page (text/html) titled \"Corporate sign-in\", not the service's JSON",
        ),
        (
            "gzip",
            "compressed with gzip (Content-Encoding: gzip), though capfile asked for none",
        ),
    ] {
        let err = assert_status(&upload(site), 1);
        assert!(err.contains(words), "{site}: {err}");
        assert!(!err.contains("<html") && !err.contains("<center>"), "{site}: {err}");
    }
    // -vvv keeps the page itself.
    let output = gw.upload(
        &gw.url("localhost", "bad_gateway"),
        &["-vvv", "--cacert", &ca, "--retries", "0"],
        &[],
    );
    let err = assert_status(&output, 1);
    assert!(err.contains("<center>nginx/"), "{err}");
    // A byte order mark before the JSON: the upload stands.
    let output = upload("bom");
    assert_status(&output, 0);
    assert!(common::stdout(&output).contains("https://files.example/f/a.png"));
}

#[test]
fn many_headers_are_taken_and_vv_names_the_http_version() {
    let Some(gw) = Gateway::start() else { return };
    let ca = gw.pki.ca().display().to_string();
    let output = gw.upload(&gw.url("localhost", "many_headers"), &["-vvv", "--cacert", &ca], &[]);
    let err = assert_status(&output, 0);
    assert!(err.contains("-> 200 OK over HTTP/1.1 in"), "{err}");
    assert!(err.contains("x-gateway-149"), "{err}");
    // By default uploads go over HTTP/1.1, though the gateway offers HTTP/2
    // (see api::client::H2_STREAM_WINDOW); --http 2 asks for HTTP/2.
    let output = gw.upload(&gw.url("localhost", "valid"), &["-vvv", "--cacert", &ca], &[]);
    let err = assert_status(&output, 0);
    assert!(err.contains("-> 200 OK over HTTP/1.1 in"), "{err}");
    let output = gw.upload(
        &gw.url("localhost", "valid"),
        &["-vvv", "--cacert", &ca, "--http", "2"],
        &[],
    );
    let err = assert_status(&output, 0);
    assert!(err.contains("-> 200 OK over HTTP/2 in"), "{err}");
    let pinned = gw.upload(
        &gw.url("localhost", "valid"),
        &["-vv", "--cacert", &ca, "--http", "1.1"],
        &[],
    );
    let pinned = assert_status(&pinned, 0);
    assert!(pinned.contains("-> 200 OK over HTTP/1.1 in"), "{pinned}");
    // -vvv shows what went on the wire, not only what capfile set.
    assert!(
        err.contains("user-agent: capfile/") && err.contains("host: localhost:"),
        "{err}"
    );
    assert_eq!(gw.service.stats().uploads_stored, 4);
}

#[test]
fn requests_a_gateway_never_processed_are_resent_without_using_retries() {
    let Some(gw) = Gateway::start() else { return };
    let ca = gw.pki.ca().display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let files = common::distinct_images(dir.path(), 24);
    let mut cmd = gw.service.capfile();
    cmd.env("CAPFILE_BASE_URL", gw.url("localhost", "goaway"))
        // HTTP/2 pinned: GOAWAY and REFUSED_STREAM are HTTP/2's.
        .args([
            "upload",
            "-vv",
            "--retries",
            "0",
            "--jobs",
            "8",
            "--http",
            "2",
            "--cacert",
            &ca,
        ])
        .args(&files);
    let output = common::run(&mut cmd);
    let err = assert_status(&output, 0);
    assert_eq!(gw.service.stats().uploads_stored, 24, "{err}");
}

/// A gateway that answers 504 (or 500) after reading the whole body, when
/// the backend may have stored it, then 200: the retry is made, and its
/// record and the summary say the service may hold an extra version. A 503
/// (turned away) is not flagged. A stand-in server: what matters is the
/// order of its answers.
#[test]
fn a_retry_after_the_whole_body_was_sent_is_flagged_maybe_duplicate() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    for (first, flagged) in [(504, true), (500, true), (503, false)] {
        let seen = Arc::new(AtomicU32::new(0));
        let app = axum::Router::new().fallback(move |body: axum::body::Bytes| {
            let seen = seen.clone();
            async move {
                assert!(!body.is_empty());
                if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                    (axum::http::StatusCode::from_u16(first).unwrap(), String::new())
                } else {
                    (axum::http::StatusCode::OK, SERVICE_ANSWER.to_string())
                }
            }
        });
        let (_runtime, url) = common::serve_app(app);
        let home = tempfile::tempdir().unwrap();
        let output = common::run(
            common::capfile_for(&url, home.path())
                .args(["upload", "-o", "records", "--retries", "1"])
                .arg(sample("sample.png")),
        );
        let err = assert_status(&output, 0);
        let record: serde_json::Value = serde_json::from_str(common::stdout(&output).trim()).unwrap();
        assert_eq!(record["attempts"], 2, "{record}");
        assert_eq!(
            record.get("maybe_duplicate") == Some(&serde_json::Value::Bool(true)),
            flagged,
            "{first}: {record}"
        );
        assert_eq!(err.contains("maybe duplicated: 1"), flagged, "{first}: {err}");
    }
}

/// A gateway that answers 413 or 401 from the headers and closes without
/// reading a large body: the answer it sent is what capfile reports (exit 1
/// for 413, 4 for 401), not "Broken pipe", and the body is not sent again.
#[test]
fn an_answer_sent_before_the_body_was_read_is_the_one_reported() {
    let Some(gw) = Gateway::start() else { return };
    let ca = gw.pki.ca().display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.png");
    let mut bytes = std::fs::read(sample("sample.png")).unwrap();
    bytes.resize(64 * 1024 * 1024, 0);
    std::fs::write(&big, &bytes).unwrap();
    for (site, code, words) in [
        ("too_large_h1", 1, "413 Payload Too Large"),
        ("refuses_h1", 4, "401 Unauthorized"),
        ("too_large", 1, "413 Payload Too Large"),
        ("refuses", 4, "401 Unauthorized"),
    ] {
        for _ in 0..3 {
            let mut cmd = gw.service.capfile();
            cmd.env("CAPFILE_BASE_URL", gw.url("localhost", site))
                .args(["upload", "-vv", "--retries", "2", "--cacert", &ca])
                .arg(&big);
            let output = common::run(&mut cmd);
            let err = assert_status(&output, code);
            assert!(err.contains(words), "{site}: {err}");
            assert!(
                !err.contains("Broken pipe") && !err.contains("connection reset"),
                "{site}: {err}"
            );
            assert_eq!(err.matches("http: POST").count(), 1, "{site}: sent again:\n{err}");
        }
    }
}

/// Setup failures stop a batch after a few inputs, with the proxy or the TLS
/// problem named, not "nothing listens" at the base URL.
#[test]
fn a_batch_stops_early_on_a_tls_or_proxy_setup_failure() {
    let Some(gw) = Gateway::start() else { return };
    let ca = gw.pki.ca().display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let files = common::sample_copies(dir.path(), 10);
    let dead = format!("http://127.0.0.1:{}", free_port());
    let cases = [
        (
            gw.url("localhost", "expired"),
            None,
            "the TLS certificate of localhost was not accepted",
        ),
        (gw.url("localhost", "old_tls"), None, "no TLS handshake with localhost"),
        (
            gw.url(PROXIED_HOST, "valid"),
            Some(dead.as_str()),
            "the proxy http://127.0.0.1:",
        ),
    ];
    for (base, proxy, words) in cases {
        let mut cmd = gw.service.capfile();
        cmd.env("CAPFILE_BASE_URL", &base)
            .args(["upload", "--jobs", "1", "--cacert", &ca])
            .args(&files);
        if let Some(proxy) = proxy {
            cmd.env("HTTPS_PROXY", proxy);
        }
        let output = common::run(&mut cmd);
        let err = assert_status(&output, 1);
        assert!(
            err.contains("stopped after 3 failed attempts in a row") && err.contains(words),
            "{base}: {err}"
        );
        assert!(err.contains("not attempted: 7"), "{base}: {err}");
    }
}
