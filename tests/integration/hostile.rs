//! capfile against hostile servers and hostile names: one stand-in server per
//! case, each run asserting the exit code, a one-line error, no panic, no
//! secret, nothing that can steer a terminal, and (where a server floods)
//! bounded memory.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use common::{Service, capfile_for, run, sample, stderr, stdout};

const UPLOAD: &str = "/api_gateway/file-service/{namespace}/{name}";

/// A body capfile accepts, with `name`, `version` and `url` spliced in as raw
/// JSON values.
fn answer(name: &str, version: &str, url: &str) -> String {
    format!(r#"{{"code":200,"status":"true","file":{{"name":{name},"version":{version}}},"secureFilePath":{url}}}"#)
}

fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// A stand-in that answers every upload with `respond`, counting requests.
fn stand_in(respond: fn() -> Response) -> (tokio::runtime::Runtime, String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let app = Router::new().fallback(any(move |body: Body| {
        let counted = counted.clone();
        async move {
            // Take the whole request in, as a real service would.
            let _ = axum::body::to_bytes(body, usize::MAX).await;
            counted.fetch_add(1, Ordering::SeqCst);
            respond()
        }
    }));
    let (runtime, url) = common::serve_app(app);
    (runtime, url, hits)
}

/// What every hostile case must hold to: no raw ESC, BEL or CR anywhere, every
/// stderr line one `capfile:` line or a hint/summary, and the error once.
fn assert_terminal_safe(output: &std::process::Output) {
    for (stream, text) in [("stdout", stdout(output)), ("stderr", stderr(output))] {
        for bad in [
            '\x1b', '\x07', '\r', '\u{9b}', '\u{202e}', '\u{2066}', '\u{061c}', '\u{200b}', '\u{200d}', '\u{2028}',
            '\u{2029}', '\u{feff}',
        ] {
            assert!(!text.contains(bad), "{stream} holds {bad:?}:\n{text:?}");
        }
    }
}

struct Case {
    name: &'static str,
    respond: fn() -> Response,
    args: &'static [&'static str],
    exit: i32,
    /// Text stderr must hold.
    says: &'static str,
    /// Requests the server may receive (retries are not allowed to add any).
    requests: usize,
}

#[test]
fn hostile_answers_fail_cleanly() {
    let cases = [
        Case {
            name: "OSC/CSI in the name: printed escaped, one row",
            respond: || {
                json(
                    StatusCode::OK,
                    answer(
                        r#""\u001b]0;pwned\u0007\u001b[31ma.png""#,
                        "1",
                        r#""https://s.example/a""#,
                    ),
                )
            },
            args: &[],
            exit: 0,
            says: "uploaded",
            requests: 1,
        },
        Case {
            name: "bidi overrides and invisible characters in the name: printed escaped",
            respond: || {
                json(
                    StatusCode::OK,
                    answer(
                        r#""\u202egnp\u200b\u200c\u200d\u2028\u2029\ufeff\u061c\u2066.png""#,
                        "1",
                        r#""https://s.example/a""#,
                    ),
                )
            },
            args: &[],
            exit: 0,
            says: "uploaded",
            requests: 1,
        },
        Case {
            name: "invisible characters in an error message",
            respond: || {
                json(
                    StatusCode::BAD_REQUEST,
                    r#"{"errors":[{"code":1,"message":"quota\u2028\u202eok\ufeff"}]}"#.into(),
                )
            },
            args: &[],
            exit: 1,
            says: r"quota\u{2028}\u{202e}ok\u{feff}",
            requests: 1,
        },
        Case {
            name: "invisible characters in the name, as --json",
            respond: || {
                json(
                    StatusCode::OK,
                    answer(r#""a\u200b\u202e.png""#, "1", r#""https://s.example/a""#),
                )
            },
            args: &["--json"],
            exit: 0,
            says: "uploaded",
            requests: 1,
        },
        Case {
            name: "a newline and tab in the version",
            respond: || {
                json(
                    StatusCode::OK,
                    answer(r#""a.png""#, r#""1\n\t2""#, r#""https://s.example/a""#),
                )
            },
            args: &[],
            exit: 1,
            says: "file.version is not an integer",
            requests: 1,
        },
        Case {
            name: "a second URL smuggled into secureFilePath",
            respond: || {
                json(
                    StatusCode::OK,
                    answer(r#""a.png""#, "1", r#""\nhttps://evil.example/x""#),
                )
            },
            args: &["-o", "url"],
            exit: 1,
            says: "secureFilePath holds whitespace or control characters",
            requests: 1,
        },
        Case {
            name: "secureFilePath that is not an absolute http(s) URL",
            respond: || json(StatusCode::OK, answer(r#""a.png""#, "1", r#""javascript:alert(1)""#)),
            args: &["-o", "url"],
            exit: 1,
            says: "secureFilePath is not an absolute http(s) URL",
            requests: 1,
        },
        Case {
            name: "an error message that erases the line and fakes success",
            respond: || {
                json(
                    StatusCode::BAD_REQUEST,
                    r#"{"errors":[{"code":1,"message":"\u001b[2K\ruploaded a.png as version 1"}]}"#.into(),
                )
            },
            args: &[],
            exit: 1,
            says: r"\x1b[2K\ruploaded",
            requests: 1,
        },
        Case {
            name: "a plain-text error body with escapes",
            respond: || (StatusCode::BAD_REQUEST, "oops\x1b]0;title\x07\r\n").into_response(),
            args: &[],
            exit: 1,
            says: r"oops\x1b]0;title\x07",
            requests: 1,
        },
        Case {
            name: "code 8015 in a 200 body is Capillary's code, not a 5xx",
            respond: || {
                json(
                    StatusCode::OK,
                    r#"{"code":8015,"errors":[{"message":"Invalid file"}],"secureFilePath":"https://s/a"}"#.into(),
                )
            },
            args: &[],
            exit: 1,
            says: "error code 8015: Invalid file",
            requests: 1,
        },
        Case {
            name: "code 65939 is not cut to 16 bits (403)",
            respond: || {
                json(
                    StatusCode::OK,
                    r#"{"code":65939,"secureFilePath":"https://s/a"}"#.into(),
                )
            },
            args: &[],
            exit: 1,
            says: "error code 65939",
            requests: 1,
        },
        Case {
            name: "status false with HTTP 200",
            respond: || {
                json(
                    StatusCode::OK,
                    r#"{"status":false,"errors":[{"message":"quota"}],"secureFilePath":"https://s/a","file":{"name":"a.png","version":1}}"#.into(),
                )
            },
            args: &[],
            exit: 1,
            says: "the service reported a failure: quota",
            requests: 1,
        },
        Case {
            name: "status \"false\" as a string",
            respond: || {
                json(
                    StatusCode::OK,
                    r#"{"status":"false","secureFilePath":"https://s/a"}"#.into(),
                )
            },
            args: &[],
            exit: 1,
            says: "the service reported a failure",
            requests: 1,
        },
        Case {
            name: "success false in response.status",
            respond: || {
                json(StatusCode::OK, r#"{"code":200,"status":"true","response":{"status":{"success":false}},"file":{"name":"a.png","version":1},"secureFilePath":"https://s/a"}"#.into())
            },
            args: &[],
            exit: 1,
            says: r#"the service reported a failure"#,
            requests: 1,
        },
        Case {
            name: "only response.status.success false",
            respond: || {
                json(StatusCode::OK, r#"{"response":{"status":{"success":false}},"file":{"name":"a.png","version":1},"secureFilePath":"https://s/a"}"#.into())
            },
            args: &[],
            exit: 1,
            says: r#"the service reported a failure"#,
            requests: 1,
        },
        Case {
            name: "file that is a string",
            respond: || {
                json(
                    StatusCode::OK,
                    r#"{"code":200,"status":"true","file":"a.png","secureFilePath":"https://s/a"}"#.into(),
                )
            },
            args: &[],
            exit: 1,
            says: r#"file is not an object"#,
            requests: 1,
        },
        Case {
            name: "file missing",
            respond: || {
                json(
                    StatusCode::OK,
                    r#"{"code":200,"status":"true","secureFilePath":"https://s/a"}"#.into(),
                )
            },
            args: &[],
            exit: 1,
            says: r#"file is missing"#,
            requests: 1,
        },
        Case {
            name: "code 1e3",
            respond: || {
                json(StatusCode::OK, r#"{"code":1e3,"status":"true","file":{"name":"a.png","version":1},"secureFilePath":"https://s/a"}"#.into())
            },
            args: &[],
            exit: 1,
            says: r#"code is not a non-negative integer"#,
            requests: 1,
        },
        Case {
            name: "code \"-1\"",
            respond: || {
                json(StatusCode::OK, r#"{"code":"-1","status":"true","file":{"name":"a.png","version":1},"secureFilePath":"https://s/a"}"#.into())
            },
            args: &[],
            exit: 1,
            says: r#"code is not a non-negative integer"#,
            requests: 1,
        },
        Case {
            name: "status 0",
            respond: || {
                json(
                    StatusCode::OK,
                    r#"{"code":200,"status":0,"file":{"name":"a.png","version":1},"secureFilePath":"https://s/a"}"#
                        .into(),
                )
            },
            args: &[],
            exit: 1,
            says: r#"status is not "true""#,
            requests: 1,
        },
        Case {
            name: "status \"no\"",
            respond: || {
                json(
                    StatusCode::OK,
                    r#"{"code":200,"status":"no","file":{"name":"a.png","version":1},"secureFilePath":"https://s/a"}"#
                        .into(),
                )
            },
            args: &[],
            exit: 1,
            says: r#"status is not "true""#,
            requests: 1,
        },
        Case {
            name: "no status at all",
            respond: || {
                json(
                    StatusCode::OK,
                    r#"{"code":200,"file":{"name":"a.png","version":1},"secureFilePath":"https://s/a"}"#.into(),
                )
            },
            args: &[],
            exit: 1,
            says: r#"status is missing"#,
            requests: 1,
        },
        Case {
            name: "no code at all",
            respond: || {
                json(
                    StatusCode::OK,
                    r#"{"status":"true","file":{"name":"a.png","version":1},"secureFilePath":"https://s/a"}"#.into(),
                )
            },
            args: &[],
            exit: 1,
            says: r#"code is missing"#,
            requests: 1,
        },
        Case {
            name: "no version",
            respond: || {
                json(
                    StatusCode::OK,
                    r#"{"code":200,"status":"true","file":{"name":"a.png"},"secureFilePath":"https://s/a"}"#.into(),
                )
            },
            args: &[],
            exit: 1,
            says: r#"file.version is missing"#,
            requests: 1,
        },
        Case {
            name: "an array",
            respond: || {
                json(StatusCode::OK, r#"[{"code":200,"status":"true","file":{"name":"a.png","version":1},"secureFilePath":"https://s/a"}]"#.into())
            },
            args: &[],
            exit: 1,
            says: r#"the body is not a JSON object"#,
            requests: 1,
        },
        Case {
            name: "a 200 answer of more than 1 MiB",
            respond: || json(StatusCode::OK, format!("\"{}\"", "x".repeat(2 << 20))),
            args: &[],
            exit: 1,
            says: "response too large",
            requests: 1,
        },
        Case {
            name: "a 500 error body of more than 1 MiB (declared length)",
            respond: || (StatusCode::INTERNAL_SERVER_ERROR, "e".repeat(3 << 20)).into_response(),
            args: &[],
            exit: 1,
            says: "response too large",
            requests: 1,
        },
        Case {
            name: "a same-origin 303 to a GET that would look like success",
            respond: || {
                (
                    StatusCode::SEE_OTHER,
                    [(header::LOCATION, "/api_gateway/file-service/rewards/elsewhere")],
                )
                    .into_response()
            },
            args: &[],
            exit: 1,
            says: "server answered 303 See Other (a redirect to a location on 127.0.0.1); uploads never follow redirects",
            requests: 1,
        },
        Case {
            name: "a same-origin 302",
            respond: || (StatusCode::FOUND, [(header::LOCATION, "/x")]).into_response(),
            args: &[],
            exit: 1,
            says: "server answered 302 Found",
            requests: 1,
        },
    ];
    for case in cases {
        let (_runtime, url, hits) = stand_in(case.respond);
        let home = tempfile::tempdir().unwrap();
        let output = run(capfile_for(&url, home.path())
            .args(["upload", "--retries", "2"])
            .args(case.args)
            .arg(sample("sample.png")));
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(case.exit), "{}: {err}", case.name);
        assert!(
            err.contains(case.says),
            "{}: stderr lacks {:?}:\n{err}",
            case.name,
            case.says
        );
        assert_terminal_safe(&output);
        assert_eq!(hits.load(Ordering::SeqCst), case.requests, "{}: requests", case.name);
        if case.exit == 0 {
            assert_eq!(stdout(&output).lines().count(), 1, "{}: {}", case.name, stdout(&output));
        } else {
            assert_eq!(stdout(&output), "", "{}", case.name);
            // One error line, not one per retry.
            let errors = err.lines().filter(|l| l.starts_with("capfile: error:")).count();
            assert_eq!(errors, 1, "{}: {errors} error lines:\n{err}", case.name);
        }
    }
}

#[cfg(unix)]
#[test]
fn an_endless_body_is_cut_off_at_the_cap_with_bounded_memory() {
    fn endless(status: StatusCode) -> Response {
        let chunk = bytes::Bytes::from(vec![b' '; 64 * 1024]);
        let stream = futures_util::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
        (status, Body::from_stream(stream)).into_response()
    }
    for respond in [(|| endless(StatusCode::OK)) as fn() -> Response, || {
        endless(StatusCode::SERVICE_UNAVAILABLE)
    }] {
        let (_runtime, url, hits) = stand_in(respond);
        let home = tempfile::tempdir().unwrap();
        let mut cmd = common::std_capfile(home.path());
        cmd.env("CAPFILE_BASE_URL", &url)
            .env("CAPFILE_USERNAME", "u")
            .env("CAPFILE_PASSWORD", "p")
            .args(["upload", "--retries", "0", "--timeout", "5"])
            .arg(sample("sample.png"));
        let (output, peak) = common::run_measured(cmd);
        assert!(peak < 200, "the child peaked at {peak} MiB");
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        assert!(stderr(&output).contains("response too large"), "{}", stderr(&output));
        assert!(!stderr(&output).contains("no progress"), "{}", stderr(&output));
        assert_eq!(hits.load(Ordering::SeqCst), 1);
    }
}

#[test]
fn a_body_that_stalls_after_the_headers_times_out() {
    let app = Router::new().route(
        UPLOAD,
        post(|| async {
            let stream = futures_util::stream::once(async { Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"{")) })
                .chain(futures_util::stream::pending());
            (StatusCode::OK, Body::from_stream(stream))
        }),
    );
    let (_runtime, url) = common::serve_app(app);
    let home = tempfile::tempdir().unwrap();
    let output = run(capfile_for(&url, home.path())
        .args(["upload", "--retries", "0", "--timeout", "1"])
        .arg(sample("sample.png")));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("no progress for 1 s"), "{}", stderr(&output));
}

use futures_util::StreamExt;

/// A server that takes the body in at about 1 MB/s: capfile hands the first
/// MiBs to the kernel's buffers at once, and must not call the time the server
/// needs to drain them "no progress".
#[test]
fn a_slow_steady_reader_is_not_a_stalled_one() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let app = Router::new().route(
        UPLOAD,
        post(move |body: Body| {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
                let mut stream = body.into_data_stream();
                let mut got = 0usize;
                while let Some(Ok(chunk)) = stream.next().await {
                    got += chunk.len();
                    // ~1 MB/s: 64 KiB every 64 ms.
                    tokio::time::sleep(Duration::from_micros(chunk.len() as u64)).await;
                }
                json(
                    StatusCode::OK,
                    answer(r#""big.png""#, &got.to_string(), r#""https://s.example/big""#),
                )
            }
        }),
    );
    let (_runtime, url) = common::serve_app(app);
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.png");
    let mut bytes = std::fs::read(sample("sample.png")).unwrap();
    bytes.resize(8 << 20, 0);
    std::fs::write(&big, &bytes).unwrap();
    let started = std::time::Instant::now();
    let output = run(capfile_for(&url, dir.path())
        .args(["upload", "--body", "raw", "--retries", "0", "--timeout", "3"])
        .arg(&big));
    eprintln!("8 MiB at ~1 MB/s took {:.1} s", started.elapsed().as_secs_f64());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        format!("big.png\t{}\thttps://s.example/big\n", 8 << 20)
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[test]
fn a_password_in_the_base_url_is_refused_and_never_shown() {
    let home = tempfile::tempdir().unwrap();
    for (var, value) in [
        ("CAPFILE_BASE_URL", "https://user:hunter2@host.example/?a=1"),
        ("CAPFILE_BASE_URL", "http://user:hunter2@example.com"),
        ("CAPFILE_BASE_URL", "https://user:hunter2@[bad/"),
    ] {
        let output = run(common::bare_capfile(home.path())
            .env(var, value)
            .env("CAPFILE_USERNAME", "u")
            .env("CAPFILE_PASSWORD", "p")
            .args(["upload", "--dry-run"])
            .arg(sample("sample.png")));
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{value}: {err}");
        assert!(!err.contains("hunter2"), "{value}: {err}");
        assert!(err.contains("user name or password"), "{value}: {err}");
    }
    let output = run(common::bare_capfile(home.path())
        .env("CAPFILE_USERNAME", "u")
        .env("CAPFILE_PASSWORD", "p")
        .args(["upload", "--base-url", "https://u:hunter2@h.example", "--dry-run"])
        .arg(sample("sample.png")));
    assert_eq!(output.status.code(), Some(2));
    assert!(!stderr(&output).contains("hunter2"), "{}", stderr(&output));
}

#[test]
fn a_huge_token_lifetime_does_not_panic() {
    let app = Router::new()
        .route(
            "/v3/oauth/token/generate",
            post(|| async {
                json(
                    StatusCode::OK,
                    r#"{"data":{"accessToken":"t0k","ttlSeconds":18446744073709551615},"errors":null}"#.into(),
                )
            }),
        )
        .route(
            UPLOAD,
            post(|headers: axum::http::HeaderMap| async move {
                if headers.get("x-cap-api-oauth-token").is_some_and(|v| v == "t0k") {
                    json(StatusCode::OK, answer(r#""a.png""#, "1", r#""https://s.example/a""#))
                } else {
                    StatusCode::UNAUTHORIZED.into_response()
                }
            }),
        );
    let (_runtime, url) = common::serve_app(app);
    let home = tempfile::tempdir().unwrap();
    let output = run(common::bare_capfile(home.path())
        .env("CAPFILE_BASE_URL", &url)
        .env("CAPFILE_CLIENT_KEY", "k")
        .env("CAPFILE_CLIENT_SECRET", "s")
        .arg("upload")
        .arg(sample("sample.png")));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    let output = run(common::bare_capfile(home.path())
        .env("CAPFILE_CONFIG", home.path().join("c.toml"))
        .args(["login", "--auth", "oauth", "--client-key", "k", "--client-secret-stdin"])
        .args(["--base-url", &url, "--insecure-storage"])
        .write_stdin("s"));
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[cfg(unix)]
#[test]
fn results_that_cannot_be_written_fail_the_run() {
    let service = Service::start();
    // A full disk: the upload happens, its URL is lost, so the run fails.
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let mut cmd = service.std_capfile();
    cmd.args(["upload", "-o", "url"])
        .arg(sample("sample.png"))
        .stdout(full)
        .stderr(std::process::Stdio::piped());
    let output = cmd.output().unwrap();
    common::assert_clean(&output);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("cannot write results to standard output: No space left on device"),
        "{}",
        stderr(&output)
    );

    // A closed standard output: refused before anything is sent.
    let before = service.stats().uploads_stored;
    let mut cmd = service.std_capfile();
    cmd.args(["upload", "-o", "url"]).arg(sample("sample.png"));
    // SAFETY: closing fd 1 in the child before exec is async-signal-safe.
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(|| {
            libc::close(1);
            Ok(())
        });
    }
    let output = cmd.stderr(std::process::Stdio::piped()).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("standard output is closed"),
        "{}",
        stderr(&output)
    );
    assert_eq!(service.stats().uploads_stored, before, "nothing may be sent");

    // A reader that leaves early is not an error (ripgrep's convention).
    let output = run(service
        .capfile()
        .args(["upload", "-o", "url"])
        .arg(sample("sample.png")));
    assert_eq!(output.status.code(), Some(0));
}

#[cfg(unix)]
#[test]
fn file_names_with_escape_sequences_are_quoted() {
    use std::os::unix::ffi::OsStrExt;
    let service = Service::start();
    let dir = tempfile::tempdir().unwrap();
    let hostile = dir
        .path()
        .join(std::ffi::OsStr::from_bytes(b"x\x1b]0;pwned\x07\x1b[2K\r.png"));
    std::fs::copy(sample("sample.png"), &hostile).unwrap();
    // As a direct input the name is refused as a remote name; the message
    // quotes the path.
    let output = run(service.capfile().arg("upload").arg(&hostile));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_terminal_safe(&output);
    assert!(
        stderr(&output).contains(r"x'$'\033'']0;pwned'$'\007'"),
        "{}",
        stderr(&output)
    );
    // Inside a directory given with -r, the same.
    let output = run(service.capfile().args(["upload", "-r"]).arg(dir.path()));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_terminal_safe(&output);
    // With --name, it uploads, and the progress line quotes the path.
    let output = run(service.capfile().args(["upload", "--name", "ok.png"]).arg(&hostile));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_terminal_safe(&output);
    assert!(stderr(&output).contains(r"$'\033'"), "{}", stderr(&output));
}

/// What an echoing stand-in was sent.
struct Seen {
    path: String,
    headers: axum::http::HeaderMap,
    body: bytes::Bytes,
}

impl Seen {
    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }
    /// The Basic header value, without `Basic `.
    fn basic(&self) -> String {
        self.header("authorization").trim_start_matches("Basic ").to_string()
    }
    fn is_token_request(&self) -> bool {
        self.path.ends_with("/token/generate")
    }
}

/// A stand-in that answers every request with `respond(what it was sent)`,
/// counting uploads (not token requests).
fn echoing(respond: fn(&Seen) -> Response) -> (tokio::runtime::Runtime, String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let app = Router::new().fallback(any(
        move |uri: axum::http::Uri, headers: axum::http::HeaderMap, body: Body| {
            let counted = counted.clone();
            async move {
                let body = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
                let seen = Seen {
                    path: uri.path().to_string(),
                    headers,
                    body,
                };
                if !seen.is_token_request() {
                    counted.fetch_add(1, Ordering::SeqCst);
                }
                respond(&seen)
            }
        },
    ));
    let (runtime, url) = common::serve_app(app);
    (runtime, url, hits)
}

/// The run's secrets in these cases: long enough to be matched, with
/// characters that JSON and percent-encoding change.
const ECHO_PASSWORD: &str = "pa/ss+w0rd=\"1\"";
const ECHO_CLIENT_SECRET: &str = "cl1ent/s3cret+=x";
const ECHO_TOKEN: &str = "eyJ.t0ken/v+a=lue";

/// Whether `text` holds `secret` as it is, ignoring case, or after
/// percent-decoding or JSON-unescaping.
fn holds_secret(text: &str, secret: &str) -> bool {
    let lower = |s: &str| s.to_ascii_lowercase();
    let percent = percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned();
    let json = serde_json::from_str::<String>(&format!("\"{}\"", text.replace('"', "\\\"")))
        .unwrap_or_else(|_| text.replace("\\/", "/"));
    [text.to_string(), percent, json]
        .iter()
        .any(|view| lower(view).contains(&lower(secret)))
}

struct Echo {
    name: &'static str,
    respond: fn(&Seen) -> Response,
    oauth: bool,
    args: &'static [&'static str],
    exit: i32,
    says: &'static str,
    requests: usize,
}

fn plain(status: StatusCode, body: String) -> Response {
    (status, body).into_response()
}

fn error_json(status: StatusCode, message: &str) -> Response {
    json(
        status,
        serde_json::json!({"errors": [{"code": 1, "message": message}]}).to_string(),
    )
}

fn token_ok() -> Response {
    json(
        StatusCode::OK,
        serde_json::json!({"data": {"accessToken": ECHO_TOKEN, "ttlSeconds": 300}, "errors": null}).to_string(),
    )
}

fn echo_cases() -> Vec<Echo> {
    use base64::Engine;
    vec![
        Echo {
            name: "the Authorization header echoed in a 500 message",
            respond: |s| {
                error_json(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &format!("bad header: Basic {}", s.basic()),
                )
            },
            oauth: false,
            args: &[],
            exit: 1,
            says: "server answered 500",
            requests: 1,
        },
        Echo {
            name: "the Basic value percent-encoded in lower case, plain text",
            respond: |s| {
                let value: String = s.basic().bytes().map(|b| format!("%{b:02x}")).collect();
                plain(StatusCode::BAD_REQUEST, format!("auth={value}"))
            },
            oauth: false,
            args: &[],
            exit: 1,
            says: "server answered 400",
            requests: 1,
        },
        Echo {
            name: "the MD5 fully \\u-escaped in JSON",
            respond: |s| {
                let basic = String::from_utf8(
                    base64::engine::general_purpose::STANDARD
                        .decode(s.basic())
                        .unwrap_or_default(),
                )
                .unwrap_or_default();
                let md5 = basic.split(':').nth(1).unwrap_or_default().to_string();
                let escaped: String = md5.chars().map(|c| format!("\\u{:04X}", c as u32)).collect();
                json(
                    StatusCode::BAD_REQUEST,
                    format!(r#"{{"errors":[{{"message":"md5 {escaped} refused"}}]}}"#),
                )
            },
            oauth: false,
            args: &[],
            exit: 1,
            says: "refused",
            requests: 1,
        },
        Echo {
            name: "the raw password JSON-escaped with \\/",
            respond: |_| {
                json(
                    StatusCode::BAD_REQUEST,
                    r#"{"errors":[{"message":"password pa\/ss+w0rd=\"1\" is wrong"}]}"#.to_string(),
                )
            },
            oauth: false,
            args: &[],
            exit: 1,
            says: "is wrong",
            requests: 1,
        },
        Echo {
            name: "the Basic value in a header value and the request id (-vvv)",
            respond: |s| {
                let mut response = error_json(StatusCode::BAD_REQUEST, "no");
                let value = axum::http::HeaderValue::from_str(&format!("Basic {}", s.basic())).unwrap();
                response.headers_mut().insert("x-echo", value.clone());
                response.headers_mut().insert("x-cap-requestid", value);
                response
            },
            oauth: false,
            args: &["-vvv"],
            exit: 1,
            says: "server answered 400",
            requests: 1,
        },
        Echo {
            name: "the Basic value as a JSON key (-vvv shows the body)",
            respond: |s| {
                json(
                    StatusCode::BAD_REQUEST,
                    serde_json::json!({ s.basic(): true, "errors": [{"message": "no"}] }).to_string(),
                )
            },
            oauth: false,
            args: &["-vvv"],
            exit: 1,
            says: "server answered 400",
            requests: 1,
        },
        Echo {
            name: "the Basic value split across two chunks",
            respond: |s| {
                let basic = s.basic();
                let (a, b) = basic.split_at(basic.len() / 2);
                let chunks = vec![
                    Ok::<_, std::io::Error>(bytes::Bytes::from(format!("echo: Basic {a}"))),
                    Ok(bytes::Bytes::from(format!("{b} end"))),
                ];
                (
                    StatusCode::BAD_REQUEST,
                    Body::from_stream(futures_util::stream::iter(chunks)),
                )
                    .into_response()
            },
            oauth: false,
            args: &["-vvv"],
            exit: 1,
            says: "server answered 400",
            requests: 1,
        },
        Echo {
            name: "the Basic value across the 2 KiB cut of -vvv",
            respond: |s| plain(StatusCode::BAD_REQUEST, format!("{}{}", " ".repeat(2040), s.basic())),
            oauth: false,
            args: &["-vvv"],
            exit: 1,
            says: "server answered 400",
            requests: 1,
        },
        Echo {
            name: "the Basic header base64-encoded inside another string",
            respond: |s| {
                let inner = format!("Authorization: Basic {} (seen)", s.basic());
                let outer = base64::engine::general_purpose::STANDARD.encode(format!("ctx {inner}"));
                error_json(StatusCode::BAD_REQUEST, &format!("trace={outer}"))
            },
            oauth: false,
            args: &[],
            exit: 1,
            says: "server answered 400",
            requests: 1,
        },
        Echo {
            name: "a success that echoes the header into records and the report",
            respond: |s| {
                json(
                    StatusCode::OK,
                    serde_json::json!({
                        "code": 200, "status": "true", "echo": format!("Basic {}", s.basic()),
                        "file": {"name": "a.png", "version": 1},
                        "secureFilePath": "https://s.example/a"
                    })
                    .to_string(),
                )
            },
            oauth: false,
            args: &["-o", "records"],
            exit: 0,
            says: "",
            requests: 1,
        },
        Echo {
            name: "the same success, printed with --json",
            respond: |s| {
                json(
                    StatusCode::OK,
                    serde_json::json!({
                        "code": 200, "status": "true", "echo": s.basic().replace('/', "\\/"),
                        "file": {"name": "a.png", "version": 1},
                        "secureFilePath": "https://s.example/a"
                    })
                    .to_string(),
                )
            },
            oauth: false,
            args: &["--json"],
            exit: 0,
            says: "",
            requests: 1,
        },
        Echo {
            name: "the client secret echoed by the token endpoint",
            respond: |s| {
                let sent: serde_json::Value = serde_json::from_slice(&s.body).unwrap_or_default();
                error_json(
                    StatusCode::BAD_REQUEST,
                    &format!("bad secret {}", sent["secret"].as_str().unwrap_or_default()),
                )
            },
            oauth: true,
            args: &["-vvv"],
            exit: 1,
            says: "server answered 400",
            requests: 0,
        },
        Echo {
            name: "the client secret percent-encoded by the token endpoint, as a refusal",
            respond: |_| {
                let encoded =
                    percent_encoding::utf8_percent_encode(ECHO_CLIENT_SECRET, percent_encoding::NON_ALPHANUMERIC);
                json(
                    StatusCode::UNAUTHORIZED,
                    format!(r#"{{"data":null,"errors":[{{"code":320001,"message":"Invalid secret {encoded}"}}]}}"#),
                )
            },
            oauth: true,
            args: &[],
            exit: 4,
            says: "refused",
            requests: 0,
        },
        Echo {
            name: "the OAuth token echoed in a 401",
            respond: |s| {
                if s.is_token_request() {
                    return token_ok();
                }
                error_json(
                    StatusCode::UNAUTHORIZED,
                    &format!("token {} is not valid", s.header("x-cap-api-oauth-token")),
                )
            },
            oauth: true,
            args: &["-vvv"],
            exit: 4,
            says: "server answered 401",
            requests: 2,
        },
        Echo {
            name: "the OAuth token JSON-escaped in a success's extra field",
            respond: |s| {
                if s.is_token_request() {
                    return token_ok();
                }
                json(
                    StatusCode::OK,
                    format!(
                        r#"{{"code":200,"status":"true","seen":"{}","file":{{"name":"a.png","version":1}},"secureFilePath":"https://s.example/a"}}"#,
                        ECHO_TOKEN.replace('/', "\\/")
                    ),
                )
            },
            oauth: true,
            args: &["-o", "records"],
            exit: 0,
            says: "",
            requests: 1,
        },
    ]
}

#[test]
fn echoing_servers_never_leak_a_secret() {
    let mut leaks = Vec::new();
    for case in echo_cases() {
        let (_runtime, url, hits) = echoing(case.respond);
        let home = tempfile::tempdir().unwrap();
        let report = home.path().join("report.jsonl");
        let mut cmd = common::bare_capfile(home.path());
        cmd.env("CAPFILE_BASE_URL", &url);
        if case.oauth {
            cmd.env("CAPFILE_CLIENT_KEY", "key")
                .env("CAPFILE_CLIENT_SECRET", ECHO_CLIENT_SECRET);
        } else {
            cmd.env("CAPFILE_USERNAME", "store.user")
                .env("CAPFILE_PASSWORD", ECHO_PASSWORD);
        }
        let output = run(cmd
            .args(["upload", "--retries", "0", "--report"])
            .arg(&report)
            .args(case.args)
            .arg(sample("sample.png")));
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(case.exit), "{}: {err}", case.name);
        assert!(
            err.contains(case.says),
            "{}: stderr lacks {:?}:\n{err}",
            case.name,
            case.says
        );
        assert_terminal_safe(&output);
        assert_eq!(hits.load(Ordering::SeqCst), case.requests, "{}: requests", case.name);
        let errors = err.lines().filter(|l| l.starts_with("capfile: error:")).count();
        // A refused credential adds the run's own line to the input's.
        let allowed = match case.exit {
            0 => 0..=0,
            4 => 1..=2,
            _ => 1..=1,
        };
        assert!(allowed.contains(&errors), "{}: error lines:\n{err}", case.name);
        let md5 = hex::encode(<md5::Md5 as md5::Digest>::digest(ECHO_PASSWORD.as_bytes()));
        let basic = {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(format!("store.user:{md5}"))
        };
        let written = std::fs::read_to_string(&report).unwrap_or_default();
        for (what, text) in [
            ("stdout", stdout(&output)),
            ("stderr", err.clone()),
            ("report", written),
        ] {
            for secret in [
                ECHO_PASSWORD,
                md5.as_str(),
                basic.as_str(),
                ECHO_CLIENT_SECRET,
                ECHO_TOKEN,
            ] {
                if holds_secret(&text, secret) {
                    leaks.push(format!("{}: {what} holds {secret:?}:\n{text}", case.name));
                }
            }
            // The MD5 is also inside the base64 of any text around it.
            if text.contains(&basic[8..40]) {
                leaks.push(format!("{}: {what} holds the Basic value's core:\n{text}", case.name));
            }
        }
    }
    assert!(leaks.is_empty(), "{} leaks:\n{}", leaks.len(), leaks.join("\n"));
}

/// User info that only the URL parser finds (`https:///u:pw@host`: the
/// extra slash hides it from a search for `://`) is never shown, whichever
/// way the URL came in.
#[test]
fn user_info_the_parser_finds_is_never_shown_by_any_route() {
    let urls = [
        "https:///u:Hunter2Pw@host.example",
        "https:\\\\u:Hunter2Pw@host.example",
        "https:////u:Hunter2Pw@host.example/x",
        "HTTPS:///u:Hunter2Pw@host.example:8443",
        "https:///Hunter2Pw@host.example",
        "u:Hunter2Pw@host.example",
    ];
    for url in urls {
        let home = tempfile::tempdir().unwrap();
        let config = home.path().join("c.toml");
        std::fs::write(
            &config,
            format!("[profiles.default]\nbase_url = {}\n", toml_string(url)),
        )
        .unwrap();
        let env_only = |cmd: &mut assert_cmd::Command| {
            cmd.env("CAPFILE_USERNAME", "u").env("CAPFILE_PASSWORD", "p");
        };
        let mut routes: Vec<(&str, assert_cmd::Command)> = Vec::new();
        let mut flag = common::bare_capfile(home.path());
        env_only(&mut flag);
        flag.args(["upload", "--dry-run", "--base-url", url])
            .arg(sample("sample.png"));
        routes.push(("flag", flag));
        let mut env = common::bare_capfile(home.path());
        env_only(&mut env);
        env.env("CAPFILE_BASE_URL", url)
            .args(["upload", "--dry-run"])
            .arg(sample("sample.png"));
        routes.push(("env", env));
        let mut file = common::bare_capfile(home.path());
        env_only(&mut file);
        file.env("CAPFILE_CONFIG", &config)
            .args(["upload", "--dry-run"])
            .arg(sample("sample.png"));
        routes.push(("config", file));
        let mut login = common::bare_capfile(home.path());
        login
            .args([
                "login",
                "--username",
                "u",
                "--password-stdin",
                "--insecure-storage",
                "--base-url",
                url,
            ])
            .write_stdin("p");
        routes.push(("login", login));
        let mut status = common::bare_capfile(home.path());
        status.env("CAPFILE_BASE_URL", url).arg("status");
        routes.push(("status", status));
        let mut status_file = common::bare_capfile(home.path());
        status_file.env("CAPFILE_CONFIG", &config).arg("status");
        routes.push(("status (config)", status_file));
        let mut set = common::bare_capfile(home.path());
        set.env("CAPFILE_CONFIG", home.path().join("other.toml"))
            .args(["config", "set", "base_url", url]);
        routes.push(("config set", set));
        for (route, mut cmd) in routes {
            let output = run(&mut cmd);
            let all = format!("{}{}", stdout(&output), stderr(&output));
            assert!(!all.contains("Hunter2Pw"), "{route} {url}: {all}");
            assert_ne!(output.status.code(), Some(0), "{route} {url}: {all}");
        }
    }
}

fn toml_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\"))
}

/// A stand-in on a bare socket: reads each request whole (head and
/// `Content-Length` body), then does what `answer` says with the socket.
fn raw_stand_in(answer: fn(&mut std::net::TcpStream)) -> (String, Arc<AtomicUsize>) {
    use std::io::{BufRead, BufReader, Read};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            counted.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; length];
            let _ = reader.read_exact(&mut body);
            answer(&mut stream);
        }
    });
    (url, hits)
}

/// A connection that fails after the whole request was sent is said to have
/// failed while receiving the answer, not while sending.
#[test]
fn a_connection_lost_in_the_answer_says_receiving() {
    use std::io::Write;
    type Answer = fn(&mut std::net::TcpStream);
    let modes: [(&str, Answer); 3] = [
        ("closed before any answer", |s| {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }),
        ("closed in the middle of the body", |s| {
            let _ = s.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{\"code\":",
            );
            let _ = s.shutdown(std::net::Shutdown::Both);
        }),
        ("closed in the middle of the head", |s| {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-ty");
            let _ = s.shutdown(std::net::Shutdown::Both);
        }),
    ];
    for (name, answer) in modes {
        let (url, hits) = raw_stand_in(answer);
        let home = tempfile::tempdir().unwrap();
        let output = run(capfile_for(&url, home.path())
            .args(["upload", "--retries", "0"])
            .arg(sample("sample.png")));
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{name}: {err}");
        assert!(
            err.contains("connection failed while receiving the answer from 127.0.0.1:"),
            "{name}: {err}"
        );
        assert!(!err.contains("while sending"), "{name}: {err}");
        assert_terminal_safe(&output);
        assert_eq!(hits.load(Ordering::SeqCst), 1, "{name}");
    }
}

/// A large answer is not copied into the record: `response` is left out and
/// `response_truncated` says so; a normal one is kept whole.
#[test]
fn a_large_answer_is_left_out_of_records_and_says_so() {
    fn large() -> Response {
        json(
            StatusCode::OK,
            format!(
                r#"{{"code":200,"status":"true","pad":"{}","file":{{"name":"a.png","version":1,"s3_url":"s3:/b/k.png"}},"secureFilePath":"https://s.example/a"}}"#,
                "x".repeat(1000 * 1000)
            ),
        )
    }
    fn small() -> Response {
        json(StatusCode::OK, answer(r#""a.png""#, "1", r#""https://s.example/a""#))
    }
    for (respond, truncated) in [(large as fn() -> Response, true), (small, false)] {
        let (_runtime, url, _hits) = stand_in(respond);
        let home = tempfile::tempdir().unwrap();
        let report = home.path().join("r.jsonl");
        let output = run(capfile_for(&url, home.path())
            .args(["upload", "-o", "records", "--report"])
            .arg(&report)
            .arg(sample("sample.png")));
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        for text in [stdout(&output), std::fs::read_to_string(&report).unwrap()] {
            assert_eq!(text.lines().count(), 1, "{text:.300}");
            assert!(text.len() < 20_000, "a record of {} bytes", text.len());
            let record: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
            assert_eq!(record["response_truncated"], truncated, "{text:.300}");
            assert_eq!(record["response"].is_null(), truncated, "{text:.300}");
            assert_eq!(record["secure_file_path"], "https://s.example/a");
        }
    }
}

/// `login` checks a client key and secret at the token endpoint: what that
/// endpoint echoes is scrubbed there too.
#[test]
fn login_against_an_echoing_token_endpoint_leaks_nothing() {
    fn echo_secret(s: &Seen) -> Response {
        let sent: serde_json::Value = serde_json::from_slice(&s.body).unwrap_or_default();
        let secret = sent["secret"].as_str().unwrap_or_default().to_string();
        let escaped = secret.replace('/', "\\/");
        json(
            StatusCode::BAD_REQUEST,
            format!(r#"{{"data":null,"errors":[{{"code":1,"message":"secret {escaped} / {secret} refused"}}]}}"#),
        )
    }
    let (_runtime, url, _hits) = echoing(echo_secret);
    let home = tempfile::tempdir().unwrap();
    let output = run(common::bare_capfile(home.path())
        .env("CAPFILE_CONFIG", home.path().join("c.toml"))
        .args(["login", "--auth", "oauth", "--client-key", "k", "--client-secret-stdin"])
        .args(["--base-url", &url, "--insecure-storage", "-vvv"])
        .write_stdin(ECHO_CLIENT_SECRET));
    let all = format!("{}{}", stdout(&output), stderr(&output));
    assert_ne!(output.status.code(), Some(0), "{all}");
    assert!(all.contains("refused"), "{all}");
    assert!(!holds_secret(&all, ECHO_CLIENT_SECRET), "{all}");
    assert_terminal_safe(&output);
}
