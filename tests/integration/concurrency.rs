//! How many uploads run at once (issue 22): `--jobs auto` (the default)
//! starts at 4 and finds the level as it goes, up to `--jobs-max`; `--jobs N`
//! holds N. Records note the level each upload started at, and `-v` tells
//! every change. The limiter's own rules are unit-tested with made-up
//! latencies in `batch::concurrency`; here the real binary runs against the
//! emulator. Nothing here is timed.

use crate::common;

use std::time::Duration;

use capfile::testing::emulator::{Faults, RateLimit};
use common::{Service, distinct_images, run, stderr, stdout};

/// The level each upload started at, in input order, from `-o records`.
fn levels(output: &std::process::Output) -> Vec<u64> {
    stdout(output)
        .lines()
        .map(|line| {
            let record: serde_json::Value = serde_json::from_str(line).expect("a JSON record");
            assert_eq!(record["outcome"], "uploaded", "{record}");
            record["concurrency"]
                .as_u64()
                .expect("an uploaded record notes its concurrency")
        })
        .collect()
}

fn upload(service: &Service, files: usize, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    distinct_images(dir.path(), files);
    let mut cmd = service.capfile();
    for (name, value) in env {
        cmd.env(name, value);
    }
    let output = run(cmd
        .args(["upload", "-v", "-o", "records", "-r"])
        .args(args)
        .arg(dir.path()));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    output
}

#[test]
fn auto_is_the_default_starts_at_four_and_raises_while_latency_is_flat() {
    let service = Service::start();
    // The same whether by default, by flag, by variable or in the file.
    let ways = [
        (vec![], vec![]),
        (vec!["-j", "auto"], vec![]),
        (vec![], vec![("CAPFILE_JOBS", "auto")]),
    ];
    for (args, env) in ways {
        let output = upload(&service, 30, &args, &env);
        let levels = levels(&output);
        assert_eq!(levels.len(), 30);
        assert_eq!(levels[..4], [4, 4, 4, 4], "{args:?} {env:?}: {levels:?}");
        assert!(levels.iter().all(|l| (1..=64).contains(l)), "{levels:?}");
        let err = stderr(&output);
        // The first window (4 uploads) has nothing to compare with and no
        // 429: the level doubles.
        assert!(
            err.contains("concurrency: 8 in flight (latency flat, throughput rising)"),
            "{err}"
        );
        assert!(levels.contains(&8), "{levels:?}");
    }
}

#[test]
fn a_number_holds_and_the_ceiling_bounds_auto() {
    let service = Service::start();
    for (args, env) in [(vec!["-j", "3"], vec![]), (vec![], vec![("CAPFILE_JOBS", "3")])] {
        let output = upload(&service, 20, &args, &env);
        assert_eq!(levels(&output), vec![3; 20], "{args:?} {env:?}");
        assert!(!stderr(&output).contains("concurrency:"), "{}", stderr(&output));
    }
    for (args, env) in [
        (vec!["--jobs-max", "2"], vec![]),
        (vec![], vec![("CAPFILE_JOBS_MAX", "2")]),
    ] {
        let output = upload(&service, 20, &args, &env);
        let levels = levels(&output);
        assert!(levels.iter().all(|&l| l <= 2), "{levels:?}");
        assert_eq!(levels[0], 2);
    }
}

#[test]
fn jobs_auto_is_kept_by_config_set_and_bad_values_are_refused_before_sending() {
    let service = Service::start();
    let output = run(service.capfile().args(["config", "set", "jobs", "auto"]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&run(service.capfile().args(["config", "get", "jobs"]))),
        "auto\n"
    );
    let output = run(service.capfile().args(["config", "set", "jobs", "12"]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&run(service.capfile().args(["config", "get", "jobs"]))), "12\n");
    let image = common::sample("sample.png");
    for (args, env, names) in [
        (vec!["-j", "0"], None, "--jobs"),
        (vec!["-j", "fast"], None, "--jobs"),
        (vec!["-j", "65"], None, "--jobs"),
        (vec!["--jobs-max", "0"], None, "--jobs-max"),
        (vec!["--http", "3"], None, "--http"),
        (vec![], Some(("CAPFILE_JOBS", "fast")), "CAPFILE_JOBS"),
        (vec![], Some(("CAPFILE_JOBS", "0")), "CAPFILE_JOBS"),
        (vec![], Some(("CAPFILE_HTTP", "h2")), "CAPFILE_HTTP"),
    ] {
        let mut cmd = service.capfile();
        if let Some((name, value)) = env {
            cmd.env(name, value);
        }
        let output = run(cmd.arg("upload").args(&args).arg(&image));
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?} {env:?}: {err}");
        assert!(err.contains(names), "{args:?} {env:?}: {err}");
    }
    assert_eq!(service.stats().upload_requests, 0);
}

#[test]
fn a_429_cuts_the_level_and_every_file_still_uploads() {
    let service = Service::with_faults(Faults {
        rate_limit: Some(RateLimit::new(10, Duration::from_secs(2), false)),
        ..Faults::default()
    });
    let output = upload(&service, 30, &[], &[]);
    assert_eq!(levels(&output).len(), 30);
    let err = stderr(&output);
    assert!(
        err.contains("in flight (the service said slow down, or an upload was retried or failed)"),
        "{err}"
    );
    assert_eq!(service.stats().uploads_stored, 30);
}

/// `--http 1.1` and the default speak HTTP/1.1 (`--http 2` against a
/// gateway that offers it: `real_network`).
#[test]
fn http_pins_the_version() {
    let service = Service::start();
    for (args, version) in [(vec!["--http", "1.1"], "HTTP/1.1"), (vec![], "HTTP/1.1")] {
        let output = run(service
            .capfile()
            .args(["upload", "-vv"])
            .args(&args)
            .arg(common::sample("sample.png")));
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {err}");
        assert!(err.contains(&format!("-> 200 OK over {version} in")), "{args:?}: {err}");
    }
}
