//! OAuth at upload time: one token per run, shared by every file, renewed when
//! it expires in the middle of a batch.

use crate::common;

use std::time::Duration;

use capfile::testing::emulator::{DEFAULT_CLIENT_SECRET, Faults};
use common::*;

#[test]
fn one_token_serves_a_twenty_file_batch() {
    let service = Service::start();
    let dir = tempfile::tempdir().unwrap();
    let files = sample_copies(dir.path(), 20);
    let output = run(service.oauth_capfile().args(["upload", "-j", "8"]).args(&files));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(rows(&output).len(), 20);
    let stats = service.stats();
    assert_eq!(stats.uploads_stored, 20);
    assert_eq!(stats.token_requests, 1, "one token for the whole batch");
    assert_eq!(stats.auth_failures, 0);
    assert!(!stderr(&output).contains(DEFAULT_CLIENT_SECRET));
}

#[test]
fn a_token_that_expires_mid_batch_is_renewed() {
    // Tokens live 2 s; each request takes 250 ms, so 20 files two at a time
    // take about 2.5 s and outlive the first token.
    let service = Service::with_config(|config| {
        config.token_ttl = Duration::from_secs(2);
        config.faults = Faults {
            latency: Duration::from_millis(250),
            ..Faults::default()
        };
    });
    let dir = tempfile::tempdir().unwrap();
    let files = sample_copies(dir.path(), 20);
    let output = run(service.oauth_capfile().args(["upload", "-j", "2"]).args(&files));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(rows(&output).len(), 20);
    let stats = service.stats();
    assert_eq!(stats.uploads_stored, 20);
    assert!(stats.token_requests >= 2, "renewed: {stats:?}");
    assert!(
        stats.token_requests < 10,
        "reused while valid, not fetched per file: {stats:?}"
    );
}

#[test]
fn a_wrong_client_secret_exits_4_after_one_token_request() {
    let service = Service::start();
    let dir = tempfile::tempdir().unwrap();
    let files = sample_copies(dir.path(), 5);
    let output = run(service
        .oauth_capfile()
        .env("CAPFILE_CLIENT_SECRET", "not-the-secret")
        .arg("upload")
        .args(&files));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("hint: the secret in the environment's CAPFILE_CLIENT_SECRET was refused"),
        "{err}"
    );
    assert!(!err.contains("not-the-secret"));
    assert_eq!(service.stats().uploads_stored, 0);
    assert_eq!(service.stats().upload_requests, 0, "no upload is sent without a token");
}
