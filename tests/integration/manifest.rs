//! The upload manifest (`--manifest FILE`, issue 12): re-runs send only what
//! changed, counted at the emulator.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::{Service, run, sample, stderr, stdout};

/// `count` distinct PNGs (the sample with a different trailing byte each)
/// named img000.png, img001.png, ...
fn batch_dir(count: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(sample("sample.png")).unwrap();
    for i in 0..count {
        let mut b = bytes.clone();
        b.extend_from_slice(format!("{i:05}").as_bytes());
        std::fs::write(dir.path().join(format!("img{i:03}.png")), &b).unwrap();
    }
    dir
}

fn records(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a record: {e}: {l}")))
        .collect()
}

type Entries = BTreeMap<String, BTreeMap<String, String>>;

/// The manifest's entries: remote name -> field -> value (as text).
fn entries(path: &Path) -> Entries {
    let text = std::fs::read_to_string(path).unwrap();
    let doc: toml_edit::DocumentMut = text
        .parse()
        .unwrap_or_else(|e| panic!("manifest does not parse: {e}\n{text}"));
    let mut out = Entries::new();
    if let Some(files) = doc.get("files").and_then(|f| f.as_table()) {
        for (name, entry) in files.iter() {
            let fields = entry
                .as_table()
                .unwrap()
                .iter()
                .map(|(k, v)| {
                    let v = v.as_value().unwrap();
                    (
                        k.to_string(),
                        v.as_str()
                            .map_or_else(|| v.to_string().trim().to_string(), str::to_string),
                    )
                })
                .collect();
            out.insert(name.to_string(), fields);
        }
    }
    out
}

/// `capfile upload -o records --manifest M DIR/*` (sorted inputs).
fn upload(service: &Service, manifest: &Path, files: &[PathBuf], extra: &[&str]) -> std::process::Output {
    let mut cmd = service.capfile();
    cmd.args(["upload", "--no-progress", "--manifest"])
        .arg(manifest)
        .args(extra)
        .args(files);
    run(&mut cmd)
}

fn files_of(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

#[test]
fn a_second_run_over_unchanged_files_sends_nothing_and_skips_every_input() {
    let service = Service::start();
    let dir = batch_dir(5);
    let work = tempfile::tempdir().unwrap();
    let manifest = work.path().join("assets.capfile.toml");
    let files = files_of(dir.path());

    let first = upload(&service, &manifest, &files, &["-o", "records"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert_eq!(service.stats().upload_requests, 5);
    let recorded = entries(&manifest);
    assert_eq!(recorded.len(), 5, "{recorded:?}");
    let first_records = records(&stdout(&first));

    let second = upload(&service, &manifest, &files, &["-o", "records"]);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert_eq!(service.stats().upload_requests, 5, "the second run sent nothing");
    let second_records = records(&stdout(&second));
    assert_eq!(second_records.len(), 5);
    for (before, after) in first_records.iter().zip(&second_records) {
        assert_eq!(after["outcome"], "skipped", "{after}");
        assert_eq!(after["version"], before["version"]);
        assert_eq!(after["secure_file_path"], before["secure_file_path"]);
        assert_eq!(after["url_expired"], false);
    }
    assert!(
        stderr(&second).contains("nothing to upload: 5 files unchanged (skipped)"),
        "{}",
        stderr(&second)
    );
    // Unchanged bytes: nothing rewritten.
    assert_eq!(entries(&manifest), recorded);
    // The table and -o url show the recorded values; --json shows nothing.
    let table = upload(&service, &manifest, &files, &[]);
    let first_url = first_records[0]["secure_file_path"].as_str().unwrap();
    assert!(
        stdout(&table).starts_with(&format!("img000.png\t1\t{first_url}\n")),
        "{}",
        stdout(&table)
    );
    let urls = upload(&service, &manifest, &files, &["-o", "url"]);
    assert_eq!(stdout(&urls).lines().next(), Some(first_url));
    let json = upload(&service, &manifest, &files, &["--json"]);
    assert_eq!(stdout(&json), "");
    assert_eq!(service.stats().upload_requests, 5);
    assert!(!work.path().join("assets.capfile.toml.journal").exists());
}

#[test]
fn a_changed_file_is_sent_and_its_entry_updated_and_a_renamed_one_under_its_new_name() {
    let service = Service::start();
    let dir = batch_dir(3);
    let work = tempfile::tempdir().unwrap();
    let manifest = work.path().join("m.toml");
    let first = upload(&service, &manifest, &files_of(dir.path()), &[]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let before = entries(&manifest);

    // img001 changes (same size, other bytes); img002 is renamed.
    let changed = dir.path().join("img001.png");
    let mut bytes = std::fs::read(&changed).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&changed, &bytes).unwrap();
    std::fs::rename(dir.path().join("img002.png"), dir.path().join("renamed.png")).unwrap();

    let second = upload(&service, &manifest, &files_of(dir.path()), &["-o", "records"]);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert_eq!(service.stats().upload_requests, 3 + 2);
    let outcomes: BTreeMap<String, String> = records(&stdout(&second))
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        BTreeMap::from([
            ("img000.png".into(), "skipped".into()),
            ("img001.png".into(), "uploaded".into()),
            ("renamed.png".into(), "uploaded".into()),
        ])
    );
    let after = entries(&manifest);
    assert_eq!(after["img000.png"], before["img000.png"]);
    assert_ne!(after["img001.png"]["sha256"], before["img001.png"]["sha256"]);
    assert_eq!(after["img001.png"]["version"], "2");
    assert_eq!(after["renamed.png"]["version"], "1");
    // The old name's entry stays: the file is still stored under it.
    assert_eq!(after["img002.png"], before["img002.png"]);
    // --force sends everything again and refreshes every entry.
    let forced = upload(&service, &manifest, &files_of(dir.path()), &["--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
    assert_eq!(service.stats().upload_requests, 5 + 3);
    assert_eq!(entries(&manifest)["img000.png"]["version"], "2");
}

#[test]
fn a_manifest_of_another_host_or_namespace_is_refused_before_anything_is_sent() {
    let service = Service::start();
    let dir = batch_dir(1);
    let work = tempfile::tempdir().unwrap();
    let manifest = work.path().join("m.toml");
    let files = files_of(dir.path());
    assert_eq!(upload(&service, &manifest, &files, &[]).status.code(), Some(0));
    let text = std::fs::read(&manifest).unwrap();

    let other = Service::start();
    let mut cmd = other.capfile();
    cmd.args(["upload", "--manifest"]).arg(&manifest).args(&files);
    let refused = run(&mut cmd);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    let err = stderr(&refused);
    assert!(err.starts_with("capfile: error: manifest "), "{err}");
    assert!(err.contains("belongs to origin"), "{err}");
    assert_eq!(other.stats().upload_requests, 0);

    let refused = upload(&service, &manifest, &files, &["-n", "elsewhere"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("namespace"), "{}", stderr(&refused));
    assert_eq!(service.stats().upload_requests, 1);
    assert_eq!(std::fs::read(&manifest).unwrap(), text, "left as it was");
}

#[test]
fn dry_run_lists_what_would_be_sent_and_skipped_and_changes_nothing() {
    let service = Service::start();
    let dir = batch_dir(2);
    let work = tempfile::tempdir().unwrap();
    let manifest = work.path().join("m.toml");
    assert_eq!(
        upload(&service, &manifest, &files_of(dir.path()), &[]).status.code(),
        Some(0)
    );
    let text = std::fs::read(&manifest).unwrap();
    // Other content (a whole image: inputs have their headers read).
    std::fs::copy(sample("sample.gif"), dir.path().join("img001.png")).unwrap();
    std::fs::copy(sample("sample.png"), dir.path().join("new.png")).unwrap();

    let plan = upload(&service, &manifest, &files_of(dir.path()), &["--dry-run"]);
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    // The plain plan goes to standard error: standard output is for results.
    assert_eq!(stdout(&plan), "");
    let out = stderr(&plan);
    let lines: Vec<&str> = out
        .lines()
        .filter(|l| ["skip ", "changed ", "new "].iter().any(|p| l.starts_with(p)))
        .collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("skip img000.png  unchanged, version 1"), "{out}");
    assert!(
        lines[1].starts_with("changed POST ") && lines[1].contains("/img001.png  "),
        "{out}"
    );
    assert!(
        lines[2].starts_with("new POST ") && lines[2].contains("/new.png  "),
        "{out}"
    );
    assert!(
        stderr(&plan).contains("2 would be uploaded, 1 skipped"),
        "{}",
        stderr(&plan)
    );
    // With -o records, the plan is one JSON object per input on standard output.
    let plan = upload(
        &service,
        &manifest,
        &files_of(dir.path()),
        &["--dry-run", "-o", "records"],
    );
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let objects: Vec<serde_json::Value> = stdout(&plan)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let actions: Vec<(&str, &str)> = objects
        .iter()
        .map(|o| (o["action"].as_str().unwrap(), o["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        [("skip", "unchanged"), ("upload", "changed"), ("upload", "new")]
    );
    assert!(
        objects[2]["url"].as_str().unwrap().ends_with("/new.png"),
        "{}",
        objects[2]
    );
    assert_eq!(service.stats().upload_requests, 2, "nothing sent");
    assert_eq!(std::fs::read(&manifest).unwrap(), text, "left as it was");
}

#[test]
fn expired_urls_are_uploaded_again_unless_no_refresh_which_never_prints_them_as_valid() {
    // URLs that live 60 s are within the 5 minute margin: expired at once.
    let service = Service::with_config(|config| config.url_ttl = std::time::Duration::from_secs(60));
    let dir = batch_dir(2);
    let work = tempfile::tempdir().unwrap();
    let manifest = work.path().join("m.toml");
    let files = files_of(dir.path());
    assert_eq!(upload(&service, &manifest, &files, &[]).status.code(), Some(0));
    assert!(entries(&manifest)["img000.png"].contains_key("url_expires_at"));

    let refreshed = upload(&service, &manifest, &files, &["-o", "records"]);
    assert_eq!(refreshed.status.code(), Some(0), "{}", stderr(&refreshed));
    assert_eq!(service.stats().upload_requests, 4, "re-uploaded for fresh URLs");
    assert!(records(&stdout(&refreshed)).iter().all(|r| r["outcome"] == "uploaded"));
    assert_eq!(entries(&manifest)["img000.png"]["version"], "2");

    let kept = upload(&service, &manifest, &files, &["--no-refresh", "-o", "records"]);
    assert_eq!(kept.status.code(), Some(0), "{}", stderr(&kept));
    for r in records(&stdout(&kept)) {
        assert_eq!(r["outcome"], "skipped", "{r}");
        assert_eq!(r["url_expired"], true, "{r}");
    }
    let urls = upload(&service, &manifest, &files, &["--no-refresh", "-o", "url"]);
    assert_eq!(urls.status.code(), Some(0), "{}", stderr(&urls));
    assert_eq!(stdout(&urls), "", "an expired URL is never printed as valid");
    assert!(
        stderr(&urls).contains("img000.png: skipped (unchanged), and its recorded URL has expired"),
        "{}",
        stderr(&urls)
    );
    let table = upload(&service, &manifest, &files, &["--no-refresh"]);
    let out = stdout(&table);
    assert!(
        out.starts_with("img000.png\t2\t(expired; run without --no-refresh"),
        "{out}"
    );
    assert!(!out.contains("http"), "{out}");
    assert_eq!(service.stats().upload_requests, 4);
}

#[test]
fn sigkill_mid_batch_leaves_every_printed_upload_in_the_manifest() {
    use std::io::BufRead;
    let service = Service::with_faults(capfile::testing::emulator::Faults {
        latency: std::time::Duration::from_millis(20),
        ..Default::default()
    });
    let dir = batch_dir(200);
    let work = tempfile::tempdir().unwrap();
    let manifest = work.path().join("m.toml");
    let mut child = crate::common::std_capfile(service.home.path())
        .args(["upload", "--no-progress", "-j", "4", "-o", "url", "--manifest"])
        .arg(&manifest)
        .args(files_of(dir.path()))
        .env("CAPFILE_BASE_URL", service.base_url())
        .env("CAPFILE_USERNAME", capfile::testing::emulator::DEFAULT_USERNAME)
        .env("CAPFILE_PASSWORD", crate::common::PASSWORD)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut printed = Vec::new();
    let mut line = String::new();
    while printed.len() < 40 {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "capfile ended early");
        printed.push(line.trim_end().to_string());
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // Whatever was already in the pipe was printed too.
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    printed.extend(rest.lines().map(str::to_string));
    assert!(printed.len() < 200, "killed mid-batch");

    // The next run folds the journal in: every printed upload is skipped.
    let sent_before = service.stats().upload_requests;
    let again = upload(&service, &manifest, &files_of(dir.path()), &["-o", "records"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let recs = records(&stdout(&again));
    let skipped_urls: std::collections::BTreeSet<&str> = recs
        .iter()
        .filter(|r| r["outcome"] == "skipped")
        .map(|r| r["secure_file_path"].as_str().unwrap())
        .collect();
    for url in &printed {
        assert!(
            skipped_urls.contains(url.as_str()),
            "printed but not in the manifest: {url}"
        );
    }
    // Everything not skipped was sent (at least once: a retry under load may
    // add a request), and every input is one or the other.
    let uploaded = recs.iter().filter(|r| r["outcome"] == "uploaded").count();
    assert_eq!(uploaded + skipped_urls.len(), 200);
    assert!(service.stats().upload_requests - sent_before >= uploaded as u64);
    assert_eq!(entries(&manifest).len(), 200);
}

#[test]
fn two_concurrent_runs_on_one_manifest_keep_every_entry() {
    let service = Service::with_faults(capfile::testing::emulator::Faults {
        latency: std::time::Duration::from_millis(10),
        ..Default::default()
    });
    let dir = batch_dir(40);
    let work = tempfile::tempdir().unwrap();
    let manifest = work.path().join("m.toml");
    let files = files_of(dir.path());
    let spawn = |half: &[PathBuf]| {
        crate::common::std_capfile(service.home.path())
            .args(["upload", "--no-progress", "--manifest"])
            .arg(&manifest)
            .args(half)
            .env("CAPFILE_BASE_URL", service.base_url())
            .env("CAPFILE_USERNAME", capfile::testing::emulator::DEFAULT_USERNAME)
            .env("CAPFILE_PASSWORD", crate::common::PASSWORD)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let a = spawn(&files[..20]);
    let b = spawn(&files[20..]);
    let a = a.wait_with_output().unwrap();
    let b = b.wait_with_output().unwrap();
    assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
    assert_eq!(b.status.code(), Some(0), "{}", stderr(&b));
    let all = entries(&manifest);
    assert_eq!(all.len(), 40, "{:?}", all.keys());
    assert_eq!(service.stats().upload_requests, 40);
}

#[test]
fn force_and_no_refresh_without_a_manifest_are_usage_errors() {
    let service = Service::start();
    let dir = batch_dir(1);
    for flag in ["--force", "--no-refresh"] {
        let mut cmd = service.capfile();
        cmd.args(["upload", flag]).args(files_of(dir.path()));
        let out = run(&mut cmd);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert_eq!(
            stderr(&out),
            format!(
                "capfile: error: {flag} needs a manifest: --manifest FILE, CAPFILE_MANIFEST or the profile's `manifest`\n"
            )
        );
    }
    assert_eq!(service.stats().upload_requests, 0);
}

/// Guarantee 4 for a manifest: the fields capfile prints from an entry get
/// the same checks as a server's answer. A hand-edited or hostile value is
/// refused with the file and line of the field (exit 2, nothing printed or
/// sent), never printed raw by `--dry-run` (where an escape sequence or a tab
/// in `version` forged a TSV row).
#[test]
fn a_manifest_with_a_hostile_printed_field_is_refused_with_its_line() {
    let service = Service::start();
    let dir = batch_dir(2);
    let work = tempfile::tempdir().unwrap();
    let manifest = work.path().join("m.toml");
    let files = files_of(dir.path());
    assert_eq!(upload(&service, &manifest, &files, &[]).status.code(), Some(0));
    let good = std::fs::read_to_string(&manifest).unwrap();
    let hostile: &[(&str, &str)] = &[
        ("version", "1\tforged\trow"),
        ("version", "1\nskip evil.png"),
        ("version", "\u{1b}]0;owned\u{7}"),
        ("version", "javascript:alert(1)"),
        ("version", "-1"),
        ("version", "1.5"),
        ("version", " 1"),
        ("version", "\u{202E}1"),
        ("secure_file_path", "javascript:alert(1)"),
        ("secure_file_path", "file:///etc/passwd"),
        ("secure_file_path", "data:text/html,<script>x</script>"),
        ("secure_file_path", "/relative/a.png"),
        ("secure_file_path", "https://a.example/x\nhttps://evil.example/x"),
        ("secure_file_path", "https://a.example/\u{1b}[2J"),
        ("secure_file_path", "https://a.example/x y"),
        ("secure_file_path", "https://a.example/x\u{2028}y"),
        ("secure_file_path", "https://a.example/x\u{85}"),
        ("secure_file_path", ""),
        ("content_type", "image/png\u{1b}[31m"),
        ("content_type", "image/png\u{202E}gnp.exe"),
        ("file_handle", "abc\u{200B}"),
        ("s3_url", "s3:/b/a.png\r\nforged"),
    ];
    for (field, value) in hostile {
        let mut doc: toml_edit::DocumentMut = good.parse().unwrap();
        doc["files"]["img000.png"][field] = toml_edit::value(*value);
        let text = doc.to_string();
        std::fs::write(&manifest, &text).unwrap();
        let header = text.lines().position(|l| l == "[files.\"img000.png\"]").unwrap();
        let line = header
            + 1
            + text
                .lines()
                .skip(header)
                .position(|l| l.starts_with(&format!("{field} = ")))
                .unwrap();

        let sent = service.stats().upload_requests;
        let out = upload(&service, &manifest, &files, &["--dry-run"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{field} = {value:?}: {err}");
        assert_eq!(stdout(&out), "", "{field} = {value:?}: nothing printed");
        assert!(
            err.starts_with(&format!(
                "capfile: error: {}:{line}: entry \"img000.png\": {field} ",
                manifest.display()
            )),
            "{field} = {value:?}: {err}"
        );
        assert!(
            value.is_empty() || !err.contains(*value),
            "{field} = {value:?}: not echoed: {err}"
        );
        assert_eq!(service.stats().upload_requests, sent, "nothing sent");
        // A real upload is refused the same way, and the manifest kept.
        let out = upload(&service, &manifest, &files, &[]);
        assert_eq!(out.status.code(), Some(2), "{field} = {value:?}: {}", stderr(&out));
        assert_eq!(service.stats().upload_requests, sent, "nothing sent");
        assert_eq!(std::fs::read_to_string(&manifest).unwrap(), text);
    }
    // The check refuses only what is hostile: an empty version (an answer
    // that had none) and a plain URL still load.
    let mut doc: toml_edit::DocumentMut = good.parse().unwrap();
    doc["files"]["img000.png"]["version"] = toml_edit::value("");
    std::fs::write(&manifest, doc.to_string()).unwrap();
    let out = upload(&service, &manifest, &files, &["--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
