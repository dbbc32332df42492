//! A record per input (`--report`, `-o records`), `--retry-from`, failing fast
//! on a dead host, and results that survive the progress bars.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use capfile::testing::emulator::Faults;

use crate::common::{self, Service, run, sample, stderr, stdout};

/// `count` copies of a sample PNG named img000.png, img001.png, ...
fn batch_dir(count: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(sample("sample.png")).unwrap();
    for i in 0..count {
        std::fs::write(dir.path().join(format!("img{i:03}.png")), &bytes).unwrap();
    }
    dir
}

fn records(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a record: {e}: {l}")))
        .collect()
}

/// The remote names the emulator stored (from its objects' metadata).
fn stored_names(data: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(data.join("objects")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let meta: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            names.push(meta["name"].as_str().unwrap().to_string());
        }
    }
    names.sort();
    names
}

fn by_outcome(records: &[serde_json::Value]) -> BTreeMap<String, BTreeSet<String>> {
    let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in records {
        map.entry(r["outcome"].as_str().unwrap().to_string())
            .or_default()
            .insert(r["name"].as_str().unwrap().to_string());
    }
    map
}

#[test]
fn every_input_is_reported_once_and_retry_from_sends_exactly_the_failed_ones() {
    let service = Service::with_faults(Faults {
        fail_rate: 0.3,
        ..Default::default()
    });
    let dir = batch_dir(300);
    let work = tempfile::tempdir().unwrap();
    let report = work.path().join("r.ndjson");
    let output = run(service
        .capfile()
        .args(["upload", "-r", "-j", "8", "--retries", "0", "-o", "url", "--report"])
        .arg(&report)
        .arg(dir.path()));
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    // Written as each input ended; sorted here into input order.
    let mut first = records(&std::fs::read_to_string(&report).unwrap());
    first.sort_by_key(|r| r["input"].as_str().unwrap().to_string());
    assert_eq!(first.len(), 300, "one record per input");
    let inputs: BTreeSet<&str> = first.iter().map(|r| r["input"].as_str().unwrap()).collect();
    assert_eq!(inputs.len(), 300, "every input exactly once");
    let outcomes = by_outcome(&first);
    let uploaded = outcomes["uploaded"].clone();
    let failed = outcomes["failed"].clone();
    assert_eq!(uploaded.len() + failed.len(), 300, "{outcomes:?}");
    assert!(!failed.is_empty());
    // The report agrees with what the emulator stored.
    assert_eq!(
        stored_names(service.data.path()),
        uploaded.iter().cloned().collect::<Vec<_>>()
    );
    for r in &first {
        assert_eq!(r["schema"], 1);
        assert_eq!(r["attempts"], 1, "--retries 0: {r}");
        assert_eq!(r["namespace"], "rewards");
        match r["outcome"].as_str().unwrap() {
            "uploaded" => {
                assert_eq!(r["status"], 200);
                assert!(r["secure_file_path"].is_string() && r["version"].is_u64(), "{r}");
                assert!(r["file_handle"].is_string() && r["response"].is_object(), "{r}");
            }
            _ => {
                assert_eq!(r["status"], 503, "{r}");
                assert!(r["error"].as_str().unwrap().contains("503"), "{r}");
            }
        }
    }
    // -o url printed the uploaded inputs' URLs, in input order.
    let urls: Vec<String> = first
        .iter()
        .filter(|r| r["outcome"] == "uploaded")
        .map(|r| r["secure_file_path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(stdout(&output).lines().collect::<Vec<_>>(), urls);
    // The summary groups the failures and lists at most ten.
    let err = stderr(&output);
    assert!(err.contains(&format!("{} uploads failed:", failed.len())), "{err}");
    assert!(
        err.contains(&format!("and {} more (see {})", failed.len() - 10, report.display())),
        "{err}"
    );
    let summary = &err[err
        .find("uploaded ")
        .map(|_| err.rfind("\nuploaded ").unwrap() + 1)
        .unwrap()..];
    assert!(summary.lines().count() <= 15, "a short summary: {summary}");

    // Retry only the failures, into the same report (the faults go on).
    let before = service.stats().upload_requests;
    let output = run(service
        .capfile()
        .args(["upload", "--retries", "0", "-o", "records", "--retry-from"])
        .arg(&report)
        .arg("--report")
        .arg(&report));
    assert!(matches!(output.status.code(), Some(0 | 1 | 3)), "{}", stderr(&output));
    assert_eq!(
        service.stats().upload_requests - before,
        failed.len() as u64,
        "one request per failed input"
    );
    let retried = records(&stdout(&output));
    let names: BTreeSet<String> = retried
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, failed, "exactly the failed ones, under their names");
    let all = records(&std::fs::read_to_string(&report).unwrap());
    assert_eq!(all.len(), 300 + failed.len(), "appended");
    let now_uploaded = by_outcome(&retried).remove("uploaded").unwrap_or_default();
    let expected: BTreeSet<String> = uploaded.union(&now_uploaded).cloned().collect();
    assert_eq!(
        stored_names(service.data.path()),
        expected.into_iter().collect::<Vec<_>>()
    );
}

#[test]
fn a_dead_host_stops_the_batch_with_one_grouped_message() {
    // A port that was just free: nothing listens on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = batch_dir(300);
    let work = tempfile::tempdir().unwrap();
    let report = work.path().join("r.ndjson");
    let home = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = run(common::capfile_for(&format!("http://127.0.0.1:{port}"), home.path())
        .args(["upload", "-r", "-o", "records", "--report"])
        .arg(&report)
        .arg(dir.path()));
    let took = started.elapsed();
    println!("300 inputs against a dead host took {took:?}");
    assert!(took.as_secs() < 20, "took {took:?}");
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert_eq!(err.matches("capfile: error:").count(), 1, "one message: {err}");
    assert!(err.contains("connection refused by 127.0.0.1:"), "{err}");
    assert!(
        err.contains(&format!(
            "hint: nothing listens on 127.0.0.1:{port} - is the service running"
        )),
        "{err}"
    );
    let printed = records(&stdout(&output));
    let reported = records(&std::fs::read_to_string(&report).unwrap());
    // The report is written as inputs end, standard output in input order.
    let key = |r: &serde_json::Value| r["input"].as_str().unwrap().to_string();
    let mut sorted_report = reported.clone();
    sorted_report.sort_by_key(key);
    assert_eq!(printed, sorted_report, "-o records and --report hold the same records");
    assert_eq!(printed.len(), 300);
    let inputs: Vec<PathBuf> = printed
        .iter()
        .map(|r| PathBuf::from(r["input"].as_str().unwrap()))
        .collect();
    let mut sorted = inputs.clone();
    sorted.sort();
    assert_eq!(inputs, sorted, "in input order");
    let outcomes = by_outcome(&printed);
    let failed = outcomes.get("failed").map_or(0, BTreeSet::len);
    assert!(failed <= 8, "only the first few were tried: {outcomes:?}");
    assert_eq!(outcomes["not_attempted"].len(), 300 - failed);
    assert!(!outcomes.contains_key("uploaded"));
}

#[test]
fn a_report_from_another_namespace_or_host_is_refused() {
    let service = Service::start();
    let work = tempfile::tempdir().unwrap();
    let report = work.path().join("r.ndjson");
    let output = run(service
        .capfile()
        .args(["upload", "-n", "one", "--report"])
        .arg(&report)
        .arg(sample("sample.png")));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let output = run(service
        .capfile()
        .args(["upload", "-n", "one", "--retry-from"])
        .arg(&report));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).contains("nothing to retry"), "{}", stderr(&output));
    let before = service.stats().upload_requests;
    let output = run(service
        .capfile()
        .args(["upload", "-n", "two", "--retry-from"])
        .arg(&report));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.starts_with("capfile: error: "), "{err}");
    assert!(err.contains("r.ndjson line 1 was written for"), "{err}");
    assert!(err.contains("namespace `one`"), "{err}");
    // Another host: refused too.
    let home = tempfile::tempdir().unwrap();
    let output = run(common::capfile_for("http://127.0.0.1:1", home.path())
        .args(["upload", "-n", "one", "--retry-from"])
        .arg(&report));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_eq!(service.stats().upload_requests, before, "nothing sent");
}

#[test]
fn records_go_to_standard_output_and_records_is_a_config_value() {
    let service = Service::start();
    let config = service.home.path().join("c.toml");
    std::fs::write(&config, "[profiles.default]\noutput = \"records\"\n").unwrap();
    let output = run(service
        .capfile()
        .arg("--config")
        .arg(&config)
        .arg("upload")
        .args(["sample.png", "sample.jpg"].map(sample)));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let printed = records(&stdout(&output));
    assert_eq!(printed.len(), 2);
    assert_eq!(printed[0]["name"], "sample.png");
    assert_eq!(printed[1]["name"], "sample.jpg");
    assert_eq!(printed[0]["outcome"], "uploaded");
    assert_eq!(printed[0]["profile"], "default");
    assert_eq!(printed[0]["origin"], service.base_url());
}

/// `text` without its terminal escape sequences (`ESC [ ... letter`).
#[cfg(target_os = "linux")]
fn visible(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Runs `capfile upload ARGS 2>/dev/null` on a pseudo-terminal with bars
/// drawn, and returns what the terminal showed.
#[cfg(target_os = "linux")]
fn on_a_terminal(service: &Service, args: &str, files: &[PathBuf]) -> String {
    let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let command = format!(
        "{} upload {args} -j 3 {}",
        env!("CARGO_BIN_EXE_capfile"),
        files.join(" ")
    );
    service.screen_of(&command)
}

// `script -qec` is util-linux's.
#[cfg(target_os = "linux")]
#[test]
fn results_printed_under_bars_are_whole_and_in_order() {
    let service = Service::with_faults(Faults {
        latency: std::time::Duration::from_millis(150),
        ..Default::default()
    });
    let dir = batch_dir(10);
    let files: Vec<PathBuf> = (0..10).map(|i| dir.path().join(format!("img{i:03}.png"))).collect();
    let screen = on_a_terminal(&service, "-o url", &files);
    assert!(screen.contains("files"), "bars were drawn: {screen:?}");
    // Every URL on a line of its own: after the line's clearing escapes, the
    // URL runs to the end of the line.
    let mut found = Vec::new();
    for line in screen.split(['\n', '\r']) {
        if let Some(at) = line.find("http://") {
            let url = &line[at..];
            assert!(!url.contains('\x1b'), "a bar frame inside a URL: {line:?}");
            // Written on a cleared line, not after a bar's text (which the
            // next frame would then draw over).
            assert_eq!(visible(&line[..at]).trim(), "", "a URL after a bar: {line:?}");
            found.push(url.trim_end().to_string());
        }
    }
    assert_eq!(found.len(), 10, "every URL shown: {screen:?}");
    for url in &found {
        // A whole secure URL ends in its 64-digit signature.
        let signature = url.rsplit("signature=").next().unwrap();
        assert!(
            signature.len() == 64 && signature.bytes().all(|b| b.is_ascii_hexdigit()),
            "a URL cut short: {url:?}"
        );
    }
    let expected: Vec<String> = (0..10).map(|i| format!("img{i:03}.png")).collect();

    let screen = on_a_terminal(&service, "--json", &files);
    let mut names = Vec::new();
    for line in screen.split(['\n', '\r']) {
        // A document's first line, `{`, starts on a cleared line.
        if visible(line).trim_end().ends_with('{') && !visible(line).trim_end().ends_with(": {") {
            assert_eq!(visible(line).trim(), "{", "a document after a bar: {line:?}");
        }
        if let Some(at) = line.find("\"name\": \"img") {
            let rest = &line[at + 9..];
            assert!(!rest.contains('\x1b'), "a bar frame inside the JSON: {line:?}");
            names.push(rest.trim_end().trim_end_matches(',').trim_matches('"').to_string());
        }
    }
    assert_eq!(names, expected, "every document whole, in input order: {screen:?}");
}

#[test]
fn the_report_holds_every_input_that_ended_even_after_a_crash() {
    use std::io::BufRead;
    // The first input is held far longer than the test runs; the others end,
    // but their results wait behind it for standard output.
    let service = Service::with_config(|config| {
        config.upload_latency = [("img000.png".to_string(), std::time::Duration::from_secs(60))]
            .into_iter()
            .collect();
        config.shutdown_grace = std::time::Duration::ZERO;
    });
    let dir = batch_dir(5);
    let work = tempfile::tempdir().unwrap();
    let report = work.path().join("r.ndjson");
    let mut child = service
        .std_capfile()
        .args(["upload", "-j", "2", "-r", "--report"])
        .arg(&report)
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Each input's record is written before it is told on standard error:
    // once the four are told, kill capfile as a crash would.
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut told = 0;
    let mut line = String::new();
    while told < 4 {
        line.clear();
        assert!(err.read_line(&mut line).unwrap() > 0, "capfile ended early");
        told += usize::from(line.starts_with("uploaded "));
    }
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(stdout(&output), "", "results wait behind the held input");
    let written = records(&std::fs::read_to_string(&report).unwrap());
    let names: BTreeSet<&str> = written.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        BTreeSet::from(["img001.png", "img002.png", "img003.png", "img004.png"])
    );
    assert!(written.iter().all(|r| r["outcome"] == "uploaded"));
}

#[test]
fn the_summary_and_the_records_count_retries() {
    let service = Service::with_faults(Faults {
        fail_rate: 0.3,
        retry_after: Some(0),
        ..Default::default()
    });
    let dir = batch_dir(10);
    let output = run(service
        .capfile()
        .args(["upload", "-r", "--retries", "8", "-o", "records"])
        .arg(dir.path()));
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    let printed = records(&stdout(&output));
    let attempts: u64 = printed.iter().map(|r| r["attempts"].as_u64().unwrap()).sum();
    assert_eq!(attempts, service.stats().upload_requests, "every request counted");
    let retries = attempts - 10;
    if retries > 0 {
        assert!(err.contains(&format!("\nretries: {retries}\n")), "{err}");
    } else {
        assert!(!err.contains("retries:"), "{err}");
    }
}
