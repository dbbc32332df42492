//! `upload --local`, the README's first command: it starts the local file
//! service in-process on its address (here not the default one), and the secure URL it prints
//! serves the exact bytes once `capfile serve` runs on the same data directory.

use crate::common;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{bare_capfile, rows, run, sample, stderr};

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn fetch(url: &str) -> Option<(u16, Vec<u8>)> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let response = reqwest::get(url).await.ok()?;
        let status = response.status().as_u16();
        Some((status, response.bytes().await.ok()?.to_vec()))
    })
}

/// A loopback address with a port that was free a moment ago: the port 0 the
/// system gave a listener that is then closed. (`upload --local` puts the
/// address in the URL before it binds, so it cannot take port 0 itself.)
fn free_local_addr() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("bound address").to_string()
}

#[test]
fn local_upload_then_serve_returns_the_same_bytes() {
    // CAPFILE_LOCAL_ADDR stands in for the default 127.0.0.1:7878, so that a
    // `capfile serve` someone runs while testing does not get in the way.
    let addr = free_local_addr();
    let home = tempfile::tempdir().unwrap();
    let output = run(bare_capfile(home.path())
        .env("CAPFILE_LOCAL_ADDR", &addr)
        .args(["upload", "--local", "-v"])
        .arg(sample("sample.webp")));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!("started the local file service at {addr}")),
        "{}",
        stderr(&output)
    );
    let url = rows(&output)[0][2].clone();
    assert!(url.starts_with(&format!("http://{addr}/")), "{url}");

    // The in-process service is gone with the command; `serve` on the same
    // data directory (the default one, under XDG_DATA_HOME) honours the URL.
    let child = common::std_capfile(home.path())
        .args(["serve", "--addr", &addr])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _guard = Killed(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    let fetched = loop {
        if let Some(answer) = fetch(&url) {
            break answer;
        }
        assert!(Instant::now() < deadline, "capfile serve did not come up");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(fetched.0, 200);
    assert_eq!(fetched.1, std::fs::read(sample("sample.webp")).unwrap());
}
