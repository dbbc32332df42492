//! Guarantee 5 (issue 18): every wait ends, and a signal ends it. Each test
//! signals the real binary while it waits and checks that it ends (within a
//! generous liveness bound, not a speed target) with the signal's exit status
//! (130 SIGINT, 143 SIGTERM, 129 SIGHUP) and leaves no temporary file.
#![cfg(unix)]

use std::io::{BufRead, Write};
use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{self, Service, sample, stderr};

/// Long enough for a loaded machine, far shorter than any wait under test.
const LIVENESS: Duration = Duration::from_secs(10);

/// Each signal that stops `upload`, and its exit status.
const SIGNALS: [(libc::c_int, i32); 3] = [(libc::SIGINT, 130), (libc::SIGTERM, 143), (libc::SIGHUP, 129)];

fn signal(child: &Child, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) on the child we spawned and have not yet waited for.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
}

/// Waits for `child` up to [`LIVENESS`]; kills it and fails if it is still running.
fn ends_soon(mut child: Child, what: &str) -> Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > LIVENESS {
            let _ = child.kill();
            panic!("{what}: still running after {LIVENESS:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    common::assert_clean(&output);
    output
}

/// `capfile upload --manifest MANIFEST sample.png` started in the background,
/// its temporary files in `temp`, its output piped.
fn upload_with_manifest(service: &Service, manifest: &Path, temp: &Path) -> Child {
    service
        .std_capfile()
        .args(["upload", "--no-progress", "--manifest"])
        .arg(manifest)
        .arg(sample("sample.png"))
        .env("TMPDIR", temp)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Reads standard error line by line until one contains `needle`.
fn stderr_until(child: &mut Child, needle: &str) -> String {
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(err.read_line(&mut line).unwrap() > 0, "ended before {needle:?}: {seen}");
        seen.push_str(&line);
        if line.contains(needle) {
            // The rest is drained by a thread, so capfile never blocks on it.
            std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
            return seen;
        }
    }
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Waiting for another run's manifest lock (up to 10 minutes) ended only
/// with the wait: Ctrl-C was ignored. Now each signal ends it at once.
#[test]
fn a_signal_ends_the_wait_for_a_manifest_lock() {
    let service = Service::start();
    for (sig, code) in SIGNALS {
        let work = tempfile::tempdir().unwrap();
        let temp = tempfile::tempdir().unwrap();
        let manifest = work.path().join("m.toml");
        // Another run holds the lock.
        let held = std::fs::File::create(work.path().join("m.toml.lock")).unwrap();
        held.lock().unwrap();
        let mut child = upload_with_manifest(&service, &manifest, temp.path());
        stderr_until(&mut child, "waiting for");
        signal(&child, sig);
        let output = ends_soon(child, &format!("signal {sig}"));
        assert_eq!(output.status.code(), Some(code), "signal {sig}");
        assert_eq!(service.stats().upload_requests, 0, "nothing sent");
        assert_eq!(entries(work.path()), ["m.toml.lock"], "signal {sig}: nothing written");
        assert!(entries(temp.path()).is_empty(), "signal {sig}: temp files left");
        drop(held);
    }
}

/// SIGTERM and SIGHUP killed the process while it spooled standard input,
/// leaving the spool in the temp directory. Each signal now stops the spool
/// the way Ctrl-C does: the spool is removed and nothing is sent.
#[test]
fn a_signal_while_stdin_is_spooled_removes_the_spool() {
    let service = Service::start();
    let png = std::fs::read(sample("sample.png")).unwrap();
    for (sig, code) in SIGNALS {
        let temp = tempfile::tempdir().unwrap();
        let mut child = service
            .std_capfile()
            .args(["upload", "--no-progress", "--name", "a.png", "-"])
            .env("TMPDIR", temp.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The start of an image, more than the 4 KiB sniffed before the
        // spool begins, and standard input stays open: the spool waits.
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&png).unwrap();
        stdin.write_all(&[0u8; 8192]).unwrap();
        let start = Instant::now();
        while entries(temp.path()).is_empty() {
            assert!(start.elapsed() < LIVENESS, "no spool file appeared");
            std::thread::sleep(Duration::from_millis(20));
        }
        signal(&child, sig);
        let output = ends_soon(child, &format!("signal {sig}"));
        drop(stdin);
        assert_eq!(output.status.code(), Some(code), "signal {sig}: {}", stderr(&output));
        assert!(stderr(&output).contains("interrupted"), "{}", stderr(&output));
        assert!(
            entries(temp.path()).is_empty(),
            "signal {sig}: left {:?}",
            entries(temp.path())
        );
        assert_eq!(service.stats().upload_requests, 0, "nothing sent");
    }
}

/// A stand-in service on 127.0.0.1:0 that answers every request with
/// `respond`, counting them; the upload command for it, spawned.
struct StandIn {
    _runtime: tokio::runtime::Runtime,
    url: String,
    hits: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl StandIn {
    fn new(respond: impl Fn() -> axum::response::Response + Clone + Send + Sync + 'static) -> StandIn {
        let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = hits.clone();
        let app = axum::Router::new().fallback(axum::routing::any(move |body: axum::body::Body| {
            let counted = counted.clone();
            let respond = respond.clone();
            async move {
                let _ = axum::body::to_bytes(body, usize::MAX).await;
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                respond()
            }
        }));
        let (runtime, url) = common::serve_app(app);
        StandIn {
            _runtime: runtime,
            url,
            hits,
        }
    }

    fn hits(&self) -> usize {
        self.hits.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn upload(&self, home: &Path, args: &[&str]) -> std::process::Command {
        let mut cmd = common::std_capfile(home);
        cmd.env("CAPFILE_BASE_URL", &self.url)
            .env("CAPFILE_USERNAME", "u")
            .env("CAPFILE_PASSWORD", "p")
            .args(["upload", "--no-progress"])
            .args(args)
            .arg(sample("sample.png"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }
}

/// `Retry-After: 0` (or a date in the past) on every 429 made ~650 requests
/// a second, forever, and never tripped `--max-rate-wait`: a zero wait added
/// nothing to the total. Each 429 now pauses for at least a second, which
/// counts, so the run gives up after about `--max-rate-wait`.
#[test]
fn a_zero_or_past_retry_after_still_counts_towards_max_rate_wait() {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    for retry_after in ["0", "Thu, 01 Jan 1970 00:00:00 GMT", "00", "  0  "] {
        let service = StandIn::new(move || {
            (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, retry_after)],
                r#"{"errors":[{"code":429,"message":"slow down"}]}"#,
            )
                .into_response()
        });
        let home = tempfile::tempdir().unwrap();
        let child = service.upload(home.path(), &["--max-rate-wait", "3"]).spawn().unwrap();
        let output = ends_soon(child, &format!("Retry-After: {retry_after}"));
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "Retry-After: {retry_after}: {err}");
        assert!(err.contains("see --max-rate-wait"), "{err}");
        // About one request a second for 3 s, not hundreds.
        assert!(
            (2..=6).contains(&service.hits()),
            "Retry-After: {retry_after}: {} requests",
            service.hits()
        );
    }
}

/// An answer whose body drips one byte at a time: each byte fed the idle
/// timer, so an answer at one byte every 2 s never timed out. The whole
/// answer must now come within `--timeout` of its headers, whatever its
/// status or whether it would end some day.
#[test]
fn an_answer_that_drips_ends_at_the_timeout() {
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};
    fn drip(status: StatusCode, text: &'static str) -> Response {
        let bytes = futures_util::stream::unfold(0usize, move |at| async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            // Past the text, spaces: valid JSON padding, forever.
            let byte = text.as_bytes().get(at).copied().unwrap_or(b' ');
            Some((Ok::<_, std::io::Error>(bytes::Bytes::from(vec![byte])), at + 1))
        });
        (
            status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            axum::body::Body::from_stream(bytes),
        )
            .into_response()
    }
    const ANSWER: &str = r#"{"code":200,"file":{"name":"a.png","version":1},"secureFilePath":"https://s.example/a"}"#;
    type Respond = fn() -> Response;
    let cases: [(&str, Respond); 3] = [
        ("a success that never ends", || drip(StatusCode::OK, "")),
        ("a 500 that never ends", || drip(StatusCode::INTERNAL_SERVER_ERROR, "")),
        // Would complete after ~18 s: still past the deadline.
        ("a success that would end late", || drip(StatusCode::OK, ANSWER)),
    ];
    for (name, respond) in cases {
        let service = StandIn::new(respond);
        let home = tempfile::tempdir().unwrap();
        let child = service
            .upload(home.path(), &["--timeout", "2", "--retries", "0"])
            .spawn()
            .unwrap();
        let output = ends_soon(child, name);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{name}: {err}");
        assert!(
            err.contains("the answer was still incomplete 2 s after it began (--timeout)"),
            "{name}: {err}"
        );
        assert_eq!(service.hits(), 1, "{name}");
    }
}

/// Reading and parsing the manifest happen before anything is sent and could
/// take long (a manifest on a FIFO nobody writes to blocked for good, and
/// Ctrl-C, already caught, was ignored). They now run where a signal ends
/// the wait. (Where the bounded reader refuses such a file before reading,
/// that refusal, exit 2, is just as good: the point is that it ends.)
#[test]
fn a_signal_ends_a_manifest_read_that_blocks() {
    let service = Service::start();
    for (sig, code) in SIGNALS {
        let work = tempfile::tempdir().unwrap();
        let temp = tempfile::tempdir().unwrap();
        let manifest = work.path().join("m.toml");
        let c_path = std::ffi::CString::new(manifest.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo(3) with a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let child = upload_with_manifest(&service, &manifest, temp.path());
        std::thread::sleep(Duration::from_millis(500));
        // Not `signal`: the process may have ended already (refused).
        // SAFETY: kill(2) on the child we spawned and have not yet waited for.
        unsafe { libc::kill(libc::pid_t::try_from(child.id()).unwrap(), sig) };
        let output = ends_soon(child, &format!("signal {sig}"));
        let status = output.status.code();
        assert!(
            status == Some(code) || status == Some(2),
            "signal {sig}: {status:?}: {}",
            stderr(&output)
        );
        assert_eq!(service.stats().upload_requests, 0, "nothing sent");
        assert!(entries(temp.path()).is_empty(), "signal {sig}: temp files left");
    }
}

/// SIGTERM and SIGHUP in the middle of a batch stop it as Ctrl-C does (the
/// batch's "interrupted" summary, what finished kept), with their own exit
/// status, where they killed the process before.
#[test]
fn sigterm_and_sighup_stop_a_batch_like_ctrl_c() {
    let mut service = Service::with_config(|config| {
        config.upload_latency = [("held.png".to_string(), Duration::from_secs(30))].into();
        config.shutdown_grace = Duration::ZERO;
    });
    for (sig, code) in &SIGNALS[1..] {
        let work = tempfile::tempdir().unwrap();
        let temp = tempfile::tempdir().unwrap();
        let held = work.path().join("held.png");
        std::fs::copy(sample("sample.png"), &held).unwrap();
        let mut child = service
            .std_capfile()
            .args(["upload", "--no-progress", "-v", "--report"])
            .arg(work.path().join("r.ndjson"))
            .arg(&held)
            .env("TMPDIR", temp.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // `-v` says what it uses before it sends; the upload is then held.
        stderr_until(&mut child, "profile:");
        std::thread::sleep(Duration::from_millis(300));
        signal(&child, *sig);
        let output = ends_soon(child, &format!("signal {sig}"));
        assert_eq!(output.status.code(), Some(*code), "signal {sig}: {}", stderr(&output));
        let report = std::fs::read_to_string(work.path().join("r.ndjson")).unwrap();
        assert!(
            report.contains("not_attempted") || report.contains("interrupted"),
            "{report}"
        );
        assert!(entries(temp.path()).is_empty(), "signal {sig}: temp files left");
    }
    service.stop();
}
