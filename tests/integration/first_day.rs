//! The first day with a real account (issue 21): errors that agree with
//! themselves and never go missing.

use crate::common;

use common::*;

/// A loopback base URL where nothing listens (a port that was just free).
fn dead_base_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

/// `-q` drops progress and the summary, never an error: every input that
/// failed is named on standard error, whatever the batch size, retries or
/// output format.
#[test]
fn quiet_never_hides_a_failure() {
    let home = tempfile::tempdir().unwrap();
    let base = dead_base_url();
    let files = ["sample.png", "sample.jpg", "sample.gif"].map(sample);
    for count in [1, 2, 3] {
        for retries in ["0", "1"] {
            for output in ["table", "url", "json"] {
                let out = run(capfile_for(&base, home.path())
                    .args(["-q", "upload", "--retries", retries, "-o", output])
                    .args(&files[..count]));
                let err = stderr(&out);
                assert_eq!(out.status.code(), Some(1), "{count} {retries} {output}: {err}");
                assert!(stdout(&out).is_empty(), "{count}: {}", stdout(&out));
                assert!(
                    err.contains("127.0.0.1"),
                    "the cause is said ({count}, {retries}, {output}): {err:?}"
                );
                for file in &files[..count] {
                    assert!(
                        err.contains(&*file.to_string_lossy()),
                        "{} is named ({count}, {retries}, {output}): {err:?}",
                        file.display()
                    );
                }
                assert!(!err.contains("uploaded 0 of"), "no summary with -q: {err}");
            }
        }
    }
}

/// And a quiet run that succeeds says nothing at all on standard error.
#[test]
fn quiet_success_is_silent() {
    let service = Service::start();
    service
        .test()
        .args(["-q", "upload", "-o", "url"])
        .arg(sample("sample.png"))
        .status(0)
        .stderr("")
        .run();
}
