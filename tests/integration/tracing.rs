//! Requests you can trace: the server's request id and message in every
//! error line, Capillary's error shapes, token expiry (498) and refused keys
//! (320001), `-vv`/`-vvv` request tracing, `serve -v`, and retries told in a
//! log.

use crate::common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use capfile::testing::emulator::{Config, DEFAULT_CLIENT_SECRET, ErrorShape, Faults, RequestLog};
use common::*;

/// The last line of a piped upload that did not send every file.
const RETRY_FROM: &str =
    "to retry only what did not upload next time, add --report FILE; then run capfile upload --retry-from FILE\n";

/// Keeps every request the emulator logs.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<RequestLog>>>);

impl Log {
    fn install(&self, config: &mut Config) {
        let log = self.clone();
        config.log = Some(Arc::new(move |request: &RequestLog| {
            log.0.lock().unwrap().push(request.clone());
        }));
    }

    fn requests(&self) -> Vec<RequestLog> {
        self.0.lock().unwrap().clone()
    }
}

#[test]
fn each_capillary_error_shape_gives_its_message_and_the_request_id() {
    for shape in [ErrorShape::Errors, ErrorShape::Response, ErrorShape::Flat] {
        let log = Log::default();
        let service = Service::with_config(|config| {
            config.faults = Faults {
                fail_rate: 1.0,
                fail_status: 500,
                error_shape: shape,
                ..Faults::default()
            };
            log.install(config);
        });
        // The request id is the one the emulator logged: checked below.
        let output = service
            .test()
            .args(["upload", "--retries", "0"])
            .arg(sample("sample.png"))
            .status(1)
            .stderr_any()
            .run();
        let requests = log.requests();
        assert_eq!(requests.len(), 1, "{shape:?}");
        assert_eq!(requests[0].fault, Some("fail"));
        let err = stderr(&output);
        let expected = format!(
            "capfile: error: {}: server answered 500 Internal Server Error: \
             Service unavailable (fault injected by the capfile emulator) (request id {})\n\
             uploaded 0 of 1 file, 0 B in [..] s\n{RETRY_FROM}",
            sample("sample.png").display(),
            requests[0].request_id
        );
        assert!(
            matches_like(&expected, &err),
            "{shape:?}:\n{err}\nis not like\n{expected}"
        );
    }
}

#[test]
fn a_token_answered_498_is_renewed_once_and_the_upload_retried() {
    // The emulator's clock jumps an hour once it has issued the first token:
    // capfile still believes that token good, the emulator calls it expired.
    let clock = capfile::testing::emulator::Clock::default();
    let jumped = Arc::new(AtomicBool::new(false));
    let service = Service::with_config(|config| {
        config.faults.expired_token_498 = true;
        config.clock = clock.clone();
        let (clock, jumped) = (clock.clone(), jumped.clone());
        config.log = Some(Arc::new(move |request: &RequestLog| {
            if request.path == "/v3/oauth/token/generate" && !jumped.swap(true, Ordering::SeqCst) {
                clock.advance(Duration::from_secs(3600));
            }
        }));
    });
    let dir = tempfile::tempdir().unwrap();
    let files = sample_copies(dir.path(), 3);
    let output = run(service
        .oauth_capfile()
        .args(["upload", "-j", "1", "--retries", "0"])
        .args(&files));
    assert!(output.status.success(), "{}", stderr(&output));
    let stats = service.stats();
    assert_eq!(stats.uploads_stored, 3);
    assert_eq!(stats.auth_failures, 1, "one 498: {stats:?}");
    assert_eq!(stats.token_requests, 2, "renewed once: {stats:?}");
}

#[test]
fn a_refused_client_key_is_error_320001_exit_4_after_one_token_request() {
    let service = Service::start();
    let output = run(service
        .oauth_capfile()
        .env("CAPFILE_CLIENT_SECRET", "not-the-secret")
        .arg("upload")
        .arg(sample("sample.png")));
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(4), "{err}");
    assert!(
        err.contains("sample.png: the client key or secret was refused: Invalid client key and secret (request id "),
        "{err}"
    );
    assert!(!err.contains("not-the-secret"), "{err}");
    assert_eq!(service.stats().token_requests, 1, "a refused key is not asked again");
    assert_eq!(service.stats().upload_requests, 0);
}

/// The fixed first part of every token the emulator issues (a JWT header).
const JWT_HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

fn http_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with("http: POST ")).collect()
}

#[test]
fn vv_prints_one_line_per_request_with_no_secret() {
    let log = Log::default();
    let service = Service::with_config(|config| log.install(config));
    let dir = tempfile::tempdir().unwrap();
    let files = sample_copies(dir.path(), 3);
    let output = run(service.oauth_capfile().args(["upload", "-vv", "-j", "1"]).args(&files));
    let (out, err) = (stdout(&output), stderr(&output));
    assert!(output.status.success(), "{err}");
    let requests = log.requests();
    assert_eq!(requests.len(), 4, "a token and three uploads");
    let lines = http_lines(&err);
    assert_eq!(lines.len(), requests.len(), "{err}");
    let base = service.base_url();
    assert_eq!(
        lines[0].split(" in ").next(),
        Some(format!("http: POST {base}/v3/oauth/token/generate -> 200 OK over HTTP/1.1").as_str()),
        "{err}"
    );
    for request in &requests {
        let line = lines
            .iter()
            .find(|l| l.contains(&format!("request id {}", request.request_id)))
            .unwrap_or_else(|| panic!("no line for {request:?}:\n{err}"));
        assert!(
            line.contains(&format!("POST {base}{} -> 200 OK over HTTP/1.1 in ", request.path)),
            "{line}"
        );
        assert!(line.ends_with(", attempt 1"), "{line}");
    }
    let size = std::fs::metadata(&files[0]).unwrap().len();
    assert!(
        lines[1].contains(&format!(", sent {size} B, ")),
        "the file's bytes: {}",
        lines[1]
    );
    assert!(!err.contains(DEFAULT_CLIENT_SECRET) && !out.contains(DEFAULT_CLIENT_SECRET));
    assert!(!err.contains(JWT_HEADER), "a token leaked:\n{err}");
    // The secure URLs' signatures are results, never trace.
    for url in out.lines().filter_map(|row| row.split('\t').nth(2)) {
        let signature = url.split("signature=").nth(1).expect("a signed URL");
        assert!(!err.contains(signature), "a signature leaked:\n{err}");
    }
}

#[test]
fn vvv_adds_redacted_headers_and_the_start_of_an_error_body() {
    let log = Log::default();
    let service = Service::with_config(|config| {
        config.faults = Faults {
            fail_rate: 1.0,
            fail_status: 500,
            ..Faults::default()
        };
        log.install(config);
    });
    let output = service
        .test()
        .args(["upload", "-vvv", "--retries", "1"])
        .arg(sample("sample.png"))
        .status(1)
        .stderr_any()
        .run();
    let err = stderr(&output);
    let lines = http_lines(&err);
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].ends_with("attempt 1") && lines[1].ends_with("attempt 2"),
        "{err}"
    );
    assert!(err.contains("http:   > authorization: REDACTED\n"), "{err}");
    let id = &log.requests()[1].request_id;
    assert!(err.contains(&format!("http:   < x-cap-requestid: {id}\n")), "{err}");
    assert!(
        err.contains(r#"http:   < body: {"errors":[{"status":false,"code":500,"message":"Service unavailable"#),
        "{err}"
    );
    // No Basic header value, in any encoding.
    let basic = capfile::md5_hex(PASSWORD);
    assert!(!err.contains(basic.expose()));
    assert!(!err.contains("Basic "), "{err}");
}

#[test]
fn retries_are_one_line_each_in_a_log_at_the_default_verbosity() {
    let service = Service::with_faults(Faults {
        fail_rate: 1.0,
        fail_status: 503,
        retry_after: Some(0),
        ..Faults::default()
    });
    let sample = sample("sample.png");
    let answer = "server answered 503 Service Unavailable: Service unavailable (fault injected by the capfile \
                  emulator) (request id [..])";
    let failed = format!("capfile: error: {}: {answer}\n", sample.display());
    service
        .test()
        .args(["upload", "--retries", "2"])
        .arg(&sample)
        .status(1)
        .stderr_like(&format!(
            "{path}: attempt 1 failed ({answer}); retrying in 0.0 s\n\
             {path}: attempt 2 failed ({answer}); retrying in 0.0 s\n\
             {failed}\
             uploaded 0 of 1 file, 0 B in [..] s\n\
             retries: 2\n{RETRY_FROM}",
            path = sample.display()
        ))
        .run();
    // --quiet keeps them out.
    service
        .test()
        .args(["upload", "-q", "--retries", "2"])
        .arg(&sample)
        .status(1)
        .stderr_like(&failed)
        .run();
}

#[cfg(unix)]
#[test]
fn serve_v_logs_one_line_per_request() {
    use std::io::{BufRead, BufReader, Read};
    let home = tempfile::tempdir().unwrap();
    let mut child = std_capfile(home.path())
        .args(["serve", "-v", "--addr", "127.0.0.1:0", "--fail-rate", "1", "--data"])
        .arg(home.path().join("data"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    let base = first
        .split("service at ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_string();
    let upload = run(capfile_for(&base, home.path())
        .env("CAPFILE_USERNAME", capfile::testing::emulator::DEFAULT_USERNAME)
        .env("CAPFILE_PASSWORD", PASSWORD)
        .args(["upload", "--retries", "0"])
        .arg(sample("sample.png")));
    assert_eq!(upload.status.code(), Some(1), "{}", stderr(&upload));
    let id = stderr(&upload)
        .split("(request id ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap()
        .to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut rest = String::new();
    reader.read_to_string(&mut rest).unwrap();
    child.wait().unwrap();
    let lines: Vec<&str> = rest.lines().filter(|l| l.starts_with("POST ")).collect();
    assert_eq!(lines.len(), 1, "{rest}");
    assert!(
        lines[0].starts_with("POST /api_gateway/file-service/rewards/sample.png 503 in "),
        "{rest}"
    );
    assert!(lines[0].ends_with(&format!(" ms (fault: fail) id {id}")), "{rest}");
}
