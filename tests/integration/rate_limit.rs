//! Living within a rate limit (issue 14): the emulator's limit, the adaptive
//! pace capfile learns from 429s, the `--rate` a user sets, and the bound on
//! waiting. Times are printed for the record, never asserted.

use crate::common;

use std::time::{Duration, Instant};

use capfile::testing::emulator::{Faults, RateLimit};
use common::{Service, distinct_images, rows, run, sample, stderr};

fn limited(requests: u32, window: Duration, retry_after: bool) -> Service {
    Service::with_faults(Faults {
        rate_limit: Some(RateLimit::new(requests, window, retry_after)),
        ..Faults::default()
    })
}

/// 40 files, `-j 8`, against 10 uploads per 2 s; returns the output.
fn forty_files(service: &Service, extra: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    distinct_images(dir.path(), 40);
    let started = Instant::now();
    let output = run(service
        .capfile()
        .args(["upload", "-j", "8", "-r"])
        .args(extra)
        .arg(dir.path()));
    let stats = service.stats();
    // For the record (ideal: 40 files at 5 a second, 8 s).
    eprintln!(
        "40 files {extra:?}: {:.1} s, {} requests, {} answered 429",
        started.elapsed().as_secs_f64(),
        stats.upload_requests,
        stats.rate_limited
    );
    output
}

#[test]
fn forty_files_through_a_limit_without_retry_after_all_upload() {
    let service = limited(10, Duration::from_secs(2), false);
    let output = forty_files(&service, &[]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert_eq!(rows(&output).len(), 40);
    let stats = service.stats();
    assert_eq!(stats.uploads_stored, 40, "{stats:?}");
    assert!(stats.rate_limited > 0, "the limit was met: {stats:?}");
    assert!(
        stats.upload_requests < 80,
        "fewer than 2 requests per file on average: {stats:?}"
    );
    // The summary says how many 429s there were and how long was waited.
    let summary = format!(
        "rate limit: the service answered 429 {} time{}; uploads waited",
        stats.rate_limited,
        if stats.rate_limited == 1 { "" } else { "s" }
    );
    assert!(err.contains(&summary), "{err}");
    // The pause is shown as it starts, with its length and the request id.
    assert!(
        err.lines().any(|line| line
            .contains("server answered 429 Too Many Requests: Rate limit exceeded for this API key (request id ")
            && line.contains("); waiting")),
        "{err}"
    );
}

#[test]
fn with_rate_set_to_the_limit_no_429_at_all() {
    let service = limited(10, Duration::from_secs(2), false);
    let output = forty_files(&service, &["--rate", "10/2s"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    let stats = service.stats();
    assert_eq!(stats.uploads_stored, 40, "{stats:?}");
    assert_eq!(stats.rate_limited, 0, "{stats:?}");
    assert_eq!(stats.upload_requests, 40, "{stats:?}");
    assert!(!err.contains("rate limit:"), "no 429, no rate line: {err}");
}

#[test]
fn the_rate_comes_from_the_environment_or_the_profile_too() {
    let service = limited(3, Duration::from_secs(60), false);
    let files = ["sample.png", "sample.jpg", "sample.gif"].map(sample);
    let output = run(service
        .capfile()
        .env("CAPFILE_RATE", "3/min")
        .args(["-v", "upload"])
        .args(&files));
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(err.contains("rate: 3/min (env CAPFILE_RATE)"), "{err}");
    assert!(err.contains("rate_wait: 300 (default)"), "{err}");

    let set = run(service.capfile().args(["config", "set", "rate", "100/1min"]));
    assert!(set.status.success(), "{}", stderr(&set));
    let get = run(service.capfile().args(["config", "get", "rate"]));
    assert_eq!(common::stdout(&get), "100/min\n");
    let list = run(service.capfile().args(["config", "list", "--json"]));
    let doc: serde_json::Value = serde_json::from_str(&common::stdout(&list)).unwrap();
    assert_eq!(doc["rate"], serde_json::json!({"value": "100/min", "origin": "file"}));
    assert_eq!(doc["rate_wait"], serde_json::json!({"value": 300, "origin": "default"}));
}

#[test]
fn a_bad_rate_is_a_one_line_usage_error() {
    let service = Service::start();
    for (source, expected) in [
        (
            "--rate",
            "capfile: error: --rate: \"fast\" is not a rate like 100/min, 10/2s or 5000/h",
        ),
        (
            "env",
            "capfile: error: CAPFILE_RATE: \"fast\" is not a rate like 100/min, 10/2s or 5000/h",
        ),
    ] {
        let mut cmd = service.capfile();
        cmd.arg("upload");
        if source == "env" {
            cmd.env("CAPFILE_RATE", "fast");
        } else {
            cmd.args(["--rate", "fast"]);
        }
        let output = run(cmd.arg(sample("sample.png")));
        assert_eq!(output.status.code(), Some(2), "{source}");
        let err = stderr(&output);
        assert!(err.starts_with(expected), "{source}: {err}");
        assert_eq!(service.stats().upload_requests, 0);
    }
    let output = run(service.capfile().args(["config", "set", "rate", "0/min"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("rate: \"0/min\": the rate must allow at least one request"));
}

#[test]
fn retry_after_from_the_limit_is_obeyed() {
    let service = limited(5, Duration::from_secs(2), true);
    let dir = tempfile::tempdir().unwrap();
    distinct_images(dir.path(), 12);
    let started = Instant::now();
    // No retries: waiting for the rate limit does not use them up.
    let output = run(service
        .capfile()
        .args(["upload", "-j", "4", "--retries", "0", "-r"])
        .arg(dir.path()));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let stats = service.stats();
    eprintln!(
        "12 files, 5 per 2 s with Retry-After: {:.1} s, {stats:?}",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(stats.uploads_stored, 12, "{stats:?}");
    assert!(stats.upload_requests < 24, "{stats:?}");
}

#[test]
fn waiting_for_the_rate_limit_has_its_own_bound() {
    // One upload a minute: the second file meets a 429, and may not wait.
    let service = limited(1, Duration::from_secs(60), false);
    let output = run(service
        .capfile()
        .args(["upload", "-j", "1", "--retries", "5", "--max-rate-wait", "0"])
        .args(["sample.png", "sample.jpg"].map(sample)));
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(3), "{err}");
    assert!(
        err.contains("sample.jpg: server answered 429 Too Many Requests: Rate limit exceeded for this API key (still limited after waiting 0 s for the rate limit; see --max-rate-wait)"),
        "{err}"
    );
    // The 429 used up no retries: it was not retried at all.
    assert_eq!(service.stats().upload_requests, 2);
}

#[test]
fn the_emulator_limit_answers_capillarys_error_shape_per_credential() {
    let service = limited(1, Duration::from_secs(60), true);
    let url = format!("{}/api_gateway/file-service/rewards/a.png", service.base_url());
    let basic = format!(
        "Basic {}",
        base64_of(&format!(
            "{}:{}",
            capfile::testing::emulator::DEFAULT_USERNAME,
            capfile::md5_hex(common::PASSWORD).expose()
        ))
    );
    let (first, second, oauth) = service.runtime.block_on(async {
        let client = reqwest::Client::new();
        let post = |auth: &str| {
            client
                .post(&url)
                .header("authorization", auth)
                .header("content-type", "image/png")
                .body(std::fs::read(sample("sample.png")).unwrap())
                .send()
        };
        let first = post(&basic).await.unwrap();
        let second = post(&basic).await.unwrap();
        let request = serde_json::json!({
            "key": capfile::testing::emulator::DEFAULT_CLIENT_KEY,
            "secret": capfile::testing::emulator::DEFAULT_CLIENT_SECRET,
        });
        let answer = client
            .post(format!("{}/v3/oauth/token/generate", service.base_url()))
            .header("content-type", "application/json")
            .body(request.to_string())
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let token: serde_json::Value = serde_json::from_slice(&answer).unwrap();
        let oauth = client
            .post(&url)
            .header("x-cap-api-oauth-token", token["data"]["accessToken"].as_str().unwrap())
            .header("content-type", "image/png")
            .body(std::fs::read(sample("sample.png")).unwrap())
            .send()
            .await
            .unwrap();
        (first, second, oauth)
    });
    assert_eq!(first.status(), 200);
    assert_eq!(second.status(), 429);
    let retry_after: u64 = second.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let body: serde_json::Value = serde_json::from_slice(&service.runtime.block_on(second.bytes()).unwrap()).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "errors": [{"status": false, "code": 429, "message": "Rate limit exceeded for this API key"}],
            "warnings": [],
        })
    );
    // The OAuth client has a window of its own.
    assert_eq!(oauth.status(), 200);
    let stats = service.stats();
    assert_eq!((stats.rate_limited, stats.uploads_stored), (1, 2), "{stats:?}");
}

#[test]
fn serve_refuses_a_bad_rate_limit() {
    let home = tempfile::tempdir().unwrap();
    let output =
        run(common::bare_capfile(home.path()).args(["serve", "--addr", "127.0.0.1:0", "--rate-limit", "lots"]));
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("--rate-limit") && err.contains("is not a rate like 100/min"),
        "{err}"
    );
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}
