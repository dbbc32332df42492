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
            panic!("{what}: still running {LIVENESS:?} after the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    common::assert_clean(&output);
    output
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
        let mut child = service
            .std_capfile()
            .args(["upload", "--no-progress", "--manifest"])
            .arg(&manifest)
            .arg(sample("sample.png"))
            .env("TMPDIR", temp.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
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
        // Part of an image, and standard input stays open: the spool waits.
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&png[..png.len() / 2]).unwrap();
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
