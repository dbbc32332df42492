//! Requests you can trace: the server's request id and message in every
//! error line, Capillary's error shapes, token expiry (498) and refused keys
//! (320001), `-vv`/`-vvv` request tracing, `serve -v`, and retries told in a
//! log.

use crate::common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use capfile::emulator::{Config, DEFAULT_CLIENT_KEY, DEFAULT_CLIENT_SECRET, ErrorShape, Faults, RequestLog};
use common::*;

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

fn oauth_capfile(service: &Service) -> assert_cmd::Command {
    let mut cmd = bare_capfile(service.home.path());
    cmd.env("CAPFILE_BASE_URL", service.base_url())
        .env("CAPFILE_CLIENT_KEY", DEFAULT_CLIENT_KEY)
        .env("CAPFILE_CLIENT_SECRET", DEFAULT_CLIENT_SECRET);
    cmd
}

/// `count` copies of the sample PNG under distinct names.
fn images(dir: &std::path::Path, count: usize) -> Vec<std::path::PathBuf> {
    let bytes = std::fs::read(sample("sample.png")).unwrap();
    (0..count)
        .map(|i| {
            let path = dir.join(format!("image-{i:02}.png"));
            std::fs::write(&path, &bytes).unwrap();
            path
        })
        .collect()
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
        let output = service
            .test()
            .args(["upload", "--retries", "0"])
            .arg(sample("sample.png"))
            .status(1)
            .run();
        let requests = log.requests();
        assert_eq!(requests.len(), 1, "{shape:?}");
        assert_eq!(requests[0].fault, Some("fail"));
        let err = stderr(&output);
        assert!(
            err.contains(&format!(
                "sample.png: server answered 500 Internal Server Error: \
                 Service unavailable (fault injected by the capfile emulator) (request id {})\n",
                requests[0].request_id
            )),
            "{shape:?}:\n{err}"
        );
    }
}

#[test]
fn a_token_answered_498_is_renewed_once_and_the_upload_retried() {
    // The emulator's clock jumps an hour once it has issued the first token:
    // capfile still believes that token good, the emulator calls it expired.
    let clock = capfile::emulator::Clock::default();
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
    let files = images(dir.path(), 3);
    let output = run(oauth_capfile(&service)
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
    let output = run(oauth_capfile(&service)
        .env("CAPFILE_CLIENT_SECRET", "not-the-secret")
        .arg("upload")
        .arg(sample("sample.png")));
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(4), "{err}");
    assert!(
        err.contains("sample.png: the client key or secret was refused (Invalid client key and secret) (request id "),
        "{err}"
    );
    assert!(!err.contains("not-the-secret"), "{err}");
    assert_eq!(service.stats().token_requests, 1, "a refused key is not asked again");
    assert_eq!(service.stats().upload_requests, 0);
}
