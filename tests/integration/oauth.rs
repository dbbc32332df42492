//! OAuth at upload time: one token per run, shared by every file, renewed when
//! it expires in the middle of a batch.

use crate::common;

use std::path::Path;
use std::time::Duration;

use capfile::emulator::{DEFAULT_CLIENT_KEY, DEFAULT_CLIENT_SECRET, Faults};
use common::*;

/// `count` copies of the sample PNG under distinct names.
fn batch(dir: &Path, count: usize) -> Vec<std::path::PathBuf> {
    let bytes = std::fs::read(sample("sample.png")).unwrap();
    (0..count)
        .map(|i| {
            let path = dir.join(format!("image-{i:02}.png"));
            std::fs::write(&path, &bytes).unwrap();
            path
        })
        .collect()
}

fn oauth_capfile(service: &Service) -> assert_cmd::Command {
    let mut cmd = bare_capfile(service.home.path());
    cmd.env("CAPFILE_BASE_URL", service.base_url())
        .env("CAPFILE_CLIENT_KEY", DEFAULT_CLIENT_KEY)
        .env("CAPFILE_CLIENT_SECRET", DEFAULT_CLIENT_SECRET);
    cmd
}

#[test]
fn one_token_serves_a_twenty_file_batch() {
    let service = Service::start();
    let dir = tempfile::tempdir().unwrap();
    let files = batch(dir.path(), 20);
    let output = run(oauth_capfile(&service).args(["upload", "-j", "8"]).args(&files));
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
    let files = batch(dir.path(), 20);
    let output = run(oauth_capfile(&service).args(["upload", "-j", "2"]).args(&files));
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
    let files = batch(dir.path(), 5);
    let output = run(oauth_capfile(&service)
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
