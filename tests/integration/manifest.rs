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
    assert!(stderr(&second).contains("5 skipped (unchanged)"), "{}", stderr(&second));
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
