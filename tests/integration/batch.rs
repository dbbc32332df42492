//! Batches that scale and survive: concurrency under injected faults, retries
//! and `Retry-After`, partial failure, Ctrl-C, and progress on both kinds of
//! standard error.

use crate::common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use capfile::testing::emulator::Faults;
use common::{Service, distinct_images, rows, run, sample, stderr, stdout};

#[test]
fn three_hundred_images_through_503s_and_dropped_connections() {
    let service = Service::with_faults(Faults {
        fail_rate: 0.3,
        fail_status: 503,
        drop_rate: 0.05,
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let files = distinct_images(dir.path(), 300);
    let output = run(service
        .capfile()
        .args(["upload", "-j", "8", "--retries", "12", "-r"])
        .arg(dir.path()));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let rows = rows(&output);
    assert_eq!(rows.len(), 300);
    for (row, file) in rows.iter().zip(&files) {
        assert_eq!(row[0], file.file_name().unwrap().to_str().unwrap(), "input order");
        let (status, _, bytes) = service.fetch(&row[2]);
        assert_eq!(status, 200);
        assert_eq!(bytes, std::fs::read(file).unwrap(), "{}", row[0]);
    }
    let stats = service.stats();
    assert_eq!(stats.uploads_stored, 300, "{stats:?}");
    assert!(stats.faults_injected > 30, "faults were injected: {stats:?}");
}

/// When each file name was received, attempt by attempt.
type Hits = Arc<Mutex<HashMap<String, Vec<Instant>>>>;
/// The status and extra headers to answer for a file name's Nth attempt.
type Script = fn(&str, usize) -> (StatusCode, Vec<(&'static str, &'static str)>);

/// A file service stand-in whose answers a test scripts per file name and attempt.
struct Scripted {
    runtime: tokio::runtime::Runtime,
    url: String,
    hits: Hits,
}

impl Scripted {
    fn start(answer: Script) -> Scripted {
        let hits: Hits = Arc::default();
        let seen = hits.clone();
        let handler = move |Path((_ns, name)): Path<(String, String)>, _body: axum::body::Bytes| {
            let seen = seen.clone();
            async move {
                let attempt = {
                    let mut seen = seen.lock().unwrap();
                    let times = seen.entry(name.clone()).or_default();
                    times.push(Instant::now());
                    times.len()
                };
                let (status, headers) = answer(&name, attempt);
                let mut response = if status.is_success() {
                    let body = serde_json::json!({
                        "code": 200, "status": "true", "message": "Successfully uploaded file",
                        "file": {"name": name, "version": 1},
                        "secureFilePath": format!("https://files.example/{name}"),
                    });
                    (status, body.to_string()).into_response()
                } else {
                    let body =
                        r#"{"errors":[{"status":false,"code":9000,"message":"scripted failure"}],"warnings":[]}"#;
                    (status, body).into_response()
                };
                for (key, value) in headers {
                    response.headers_mut().insert(key, value.parse().unwrap());
                }
                response
            }
        };
        let app = Router::new()
            .route("/api_gateway/file-service/{namespace}/{name}", post(handler))
            .layer(axum::extract::DefaultBodyLimit::disable());
        let (runtime, url) = common::serve_app(app);
        Scripted { runtime, url, hits }
    }

    fn capfile(&self, home: &std::path::Path) -> assert_cmd::Command {
        common::capfile_for(&self.url, home)
    }

    fn attempts(&self, name: &str) -> Vec<Instant> {
        let _ = &self.runtime;
        self.hits.lock().unwrap().get(name).cloned().unwrap_or_default()
    }
}

#[test]
fn retry_after_is_honoured() {
    let server = Scripted::start(|_, attempt| match attempt {
        1 => (StatusCode::SERVICE_UNAVAILABLE, vec![("retry-after", "2")]),
        _ => (StatusCode::OK, vec![]),
    });
    let home = tempfile::tempdir().unwrap();
    let output = run(server
        .capfile(home.path())
        .args(["upload", "-v"])
        .arg(sample("sample.png")));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let attempts = server.attempts("sample.png");
    assert_eq!(attempts.len(), 2);
    let gap = attempts[1] - attempts[0];
    assert!(
        gap >= Duration::from_millis(1900),
        "retried after {gap:?}, not the 2 s asked"
    );
    assert!(
        stderr(&output).contains("attempt 1 failed (server answered 503"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn client_errors_are_never_retried() {
    let server = Scripted::start(|name, _| match name {
        "sample.png" => (StatusCode::UNAUTHORIZED, vec![]),
        _ => (StatusCode::BAD_REQUEST, vec![]),
    });
    let home = tempfile::tempdir().unwrap();
    let output = run(server
        .capfile(home.path())
        .args(["upload", "--retries", "5"])
        .arg(sample("sample.png")));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert_eq!(server.attempts("sample.png").len(), 1, "401 is not retried");

    let output = run(server
        .capfile(home.path())
        .args(["upload", "--retries", "5"])
        .arg(sample("sample.gif")));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(server.attempts("sample.gif").len(), 1, "400 is not retried");
    assert!(stderr(&output).contains("sample.gif: server answered 400 Bad Request: scripted failure"));
}

#[test]
fn partial_failure_exits_3_and_names_every_failed_file() {
    let server = Scripted::start(|name, _| match name {
        "sample.gif" => (StatusCode::UNSUPPORTED_MEDIA_TYPE, vec![]),
        "sample.webp" => (StatusCode::INTERNAL_SERVER_ERROR, vec![]),
        _ => (StatusCode::OK, vec![]),
    });
    let home = tempfile::tempdir().unwrap();
    let output = run(server
        .capfile(home.path())
        .args(["upload", "--json", "--retries", "1"])
        .args(["sample.png", "sample.gif", "sample.jpg", "sample.webp"].map(sample)));
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let docs: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names: Vec<&str> = docs.iter().map(|d| d["file"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["sample.png", "sample.jpg"]);
    let err = stderr(&output);
    // Grouped by cause, one input per line.
    let summary = &err[err.find("2 uploads failed:\n").expect("a grouped summary")..];
    assert!(
        summary.contains("  server answered 415 Unsupported Media Type: scripted failure (1):\n    "),
        "{summary}"
    );
    assert!(summary.contains("sample.gif\n"), "{summary}");
    assert!(
        summary.contains("  server answered 500 Internal Server Error: scripted failure (1):\n    "),
        "{summary}"
    );
    assert!(summary.contains("sample.webp\n"), "{summary}");
    assert!(err.contains("uploaded 2 of 4 files"), "{err}");
    assert_eq!(server.attempts("sample.webp").len(), 2, "500 retried once");
}

#[test]
fn progress_lines_for_logs_have_no_control_characters() {
    let service = Service::start();
    let output = run(service
        .capfile()
        .arg("upload")
        .args(["sample.png", "sample.jpg"].map(sample)));
    let err = stderr(&output);
    assert!(err.contains("uploaded") && err.contains("sample.jpg"), "{err}");
    assert!(
        !err.chars().any(|c| c.is_control() && c != '\n'),
        "control characters in non-terminal progress: {err:?}"
    );
    let quiet = run(service.capfile().args(["upload", "-q"]).arg(sample("sample.png")));
    assert_eq!(stderr(&quiet), "");
    assert_eq!(stdout(&quiet).lines().count(), 1);
    let no_progress = run(service
        .capfile()
        .args(["upload", "--no-progress"])
        .arg(sample("sample.png")));
    let err = stderr(&no_progress);
    assert!(!err.contains("as version"), "no per-file lines: {err}");
    assert!(err.contains("uploaded 1 of 1 file,"), "summary stays: {err}");
}

// `script -qec` is util-linux's.
#[cfg(target_os = "linux")]
#[test]
fn bars_are_drawn_on_a_terminal() {
    let service = Service::with_faults(Faults {
        latency: Duration::from_millis(400),
        ..Default::default()
    });
    let command = format!(
        "{} upload {} {} -j 1 2>&1",
        env!("CARGO_BIN_EXE_capfile"),
        sample("sample.png").display(),
        sample("sample.jpg").display()
    );
    // `script` runs the command in a pseudo-terminal and copies what it drew.
    let output = service
        .in_a_terminal(&command)
        .env_remove("NO_COLOR")
        .output()
        .expect("script (util-linux) runs");
    let screen = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{screen}");
    assert!(screen.contains("files"), "no total bar: {screen:?}");
    assert!(screen.contains("\x1b["), "no terminal drawing: {screen:?}");
    assert!(
        screen.contains("NAME") && screen.contains("SECURE URL"),
        "no table header on a terminal: {screen:?}"
    );
}

// Sends SIGINT with `kill`.
#[cfg(unix)]
#[test]
fn ctrl_c_stops_the_batch_and_reports_what_finished() {
    use std::io::{BufRead, Read};
    // Three uploads go through at once; the service holds every other one
    // for HELD, far longer than the test needs to interrupt capfile once it
    // has reported the three.
    const HELD: Duration = Duration::from_secs(30);
    let mut service = Service::with_config(|config| {
        config.upload_latency = (3..40).map(|i| (format!("img-{i:03}.png"), HELD)).collect();
        // Requests still held when the test stops the service are cut.
        config.shutdown_grace = Duration::ZERO;
    });
    let dir = tempfile::tempdir().unwrap();
    distinct_images(dir.path(), 40);
    let mut child = service
        .std_capfile()
        .args(["upload", "-j", "2", "-r", "--report"])
        .arg(dir.path().join("r.ndjson"))
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Each result line is written as soon as it is known: wait for three,
    // while two held uploads are in flight, then interrupt.
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    for _ in 0..3 {
        let read = out.read_line(&mut printed).unwrap();
        assert!(read > 0, "capfile ended before reporting three uploads");
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    out.read_to_string(&mut printed).unwrap();
    let mut output = child.wait_with_output().unwrap();
    output.stdout = printed.into_bytes();
    common::assert_clean(&output);
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(out.ends_with('\n'), "half a line: {out:?}");
    let printed = rows(&output);
    let names: Vec<&str> = printed.iter().map(|row| row[0].as_str()).collect();
    assert_eq!(names, ["img-000.png", "img-001.png", "img-002.png"]);
    for row in &printed {
        assert_eq!(row.len(), 3, "{row:?}");
        assert!(row[2].starts_with("http://"), "{row:?}");
    }
    let err = stderr(&output);
    assert!(err.contains("\ninterrupted: 3 finished, 37 not attempted\n"), "{err}");
    // The report holds every input: the three uploaded, the rest not attempted.
    let report = std::fs::read_to_string(dir.path().join("r.ndjson")).unwrap();
    let outcomes: Vec<String> = report
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["outcome"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(outcomes.len(), 40, "{report}");
    assert!(outcomes[..3].iter().all(|o| o == "uploaded"), "{report}");
    assert!(outcomes[3..].iter().all(|o| o == "not_attempted"), "{report}");
    // Nothing in flight at the interrupt was stored: once the service is done
    // with every request, it has stored exactly the three reported.
    let stats = service.stop();
    assert_eq!(stats.uploads_stored, 3, "stored");
}

#[test]
fn a_request_without_progress_times_out() {
    let service = Service::with_faults(Faults {
        latency: Duration::from_secs(6),
        ..Default::default()
    });
    // The answer would come after 6 s and succeed: the failure (not a timed
    // bound, which a loaded machine can break) shows that capfile gave up.
    let output = run(service
        .capfile()
        .args(["upload", "--timeout", "1", "--retries", "0"])
        .arg(sample("sample.png")));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("sample.png: no progress for 1 s"),
        "{}",
        stderr(&output)
    );
}
