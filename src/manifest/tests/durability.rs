//! The manifest survives kills and concurrent runs.

use super::super::*;
use super::{WAIT, binding, entry, open};
use crate::error::{Error, ErrorKind};
use std::sync::mpsc;

#[test]
fn a_killed_run_is_folded_in_from_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.toml");
    let mut manifest = open(&path);
    manifest.record("old.png", entry(1)).unwrap();
    manifest.finish().unwrap();

    let mut manifest = open(&path);
    manifest.record("a.png", entry(2)).unwrap();
    manifest.record("old.png", entry(3)).unwrap();
    drop(manifest); // killed: no finish
    let journal = sibling(&path, ".journal");
    assert!(journal.exists());
    // The manifest on disk still parses and has the old entry.
    assert!(fs::read_to_string(&path).unwrap().contains("[files.\"old.png\"]"));

    let manifest = open(&path);
    assert_eq!(manifest.lookup("a.png"), Some(&entry(2)));
    assert_eq!(manifest.lookup("old.png"), Some(&entry(3)));
    // Folded in and compacted at once: the journal is gone, the file has both.
    assert!(!journal.exists());
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains("[files.\"a.png\"]"), "{text}");
    drop(manifest);
    assert_eq!(open(&path).lookup("a.png"), Some(&entry(2)));
}

#[test]
fn a_journal_without_a_manifest_is_folded_in() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.toml");
    let mut manifest = open(&path);
    manifest.record("a.png", entry(2)).unwrap();
    drop(manifest);
    assert!(!path.exists());
    assert_eq!(open(&path).lookup("a.png"), Some(&entry(2)));
    assert!(path.exists());
}

#[test]
fn a_torn_last_journal_line_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.toml");
    let mut manifest = open(&path);
    manifest.record("a.png", entry(1)).unwrap();
    manifest.record("b.png", entry(2)).unwrap();
    drop(manifest);
    let journal = sibling(&path, ".journal");
    // SIGKILL in the middle of writing a third line.
    let mut file = OpenOptions::new().append(true).open(&journal).unwrap();
    let line = serde_json::to_string(&JournalLine::of("c.png", &entry(3))).unwrap();
    file.write_all(&line.as_bytes()[..line.len() / 2]).unwrap();
    drop(file);

    let mut manifest = open(&path);
    assert!(manifest.lookup("a.png").is_some() && manifest.lookup("b.png").is_some());
    assert_eq!(manifest.lookup("c.png"), None);
    // New lines after a torn one are never lost.
    manifest.record("d.png", entry(4)).unwrap();
    drop(manifest);
    let manifest = open(&path);
    assert_eq!(manifest.lookup("d.png"), Some(&entry(4)));
    assert_eq!(manifest.entries().count(), 3);
}

#[test]
fn a_torn_journal_header_leaves_an_empty_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.toml");
    fs::write(sibling(&path, ".journal"), b"{\"journal\":1,\"ori").unwrap();
    let manifest = open(&path);
    assert_eq!(manifest.entries().count(), 0);
}

#[test]
fn a_bad_complete_journal_line_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.toml");
    let mut manifest = open(&path);
    manifest.record("a.png", entry(1)).unwrap();
    drop(manifest);
    let journal = sibling(&path, ".journal");
    let mut file = OpenOptions::new().append(true).open(&journal).unwrap();
    file.write_all(b"garbage\n").unwrap();
    drop(file);
    let err = Manifest::open(&path, &binding(), WAIT).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage);
    assert_eq!(
        err.to_string(),
        format!("{}:3: invalid journal entry", journal.display())
    );
    assert!(journal.exists());
}

#[test]
fn another_binding_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.toml");
    let mut manifest = open(&path);
    manifest.record("a.png", entry(1)).unwrap();
    manifest.finish().unwrap();
    let before = fs::read(&path).unwrap();
    for (field, other) in [
        (
            "origin",
            Binding {
                origin: "http://127.0.0.1:8080".into(),
                ..binding()
            },
        ),
        (
            "namespace",
            Binding {
                namespace: "other".into(),
                ..binding()
            },
        ),
        (
            "body",
            Binding {
                body: "raw".into(),
                ..binding()
            },
        ),
    ] {
        let err = Manifest::open(&path, &other, WAIT).unwrap_err();
        assert!(
            matches!(err, ManifestError::WrongBinding { field: f, .. } if f == field),
            "{err}"
        );
        assert_eq!(err.kind(), ErrorKind::Usage);
        assert!(
            err.to_string()
                .starts_with(&format!("manifest {} belongs to {field} ", path.display()))
        );
        assert_eq!(Error::from(err).exit().code(), 2);
    }
    assert_eq!(fs::read(&path).unwrap(), before);

    // A journal of another binding is refused too.
    let mut manifest = Manifest::open(&dir.path().join("n.toml"), &binding(), WAIT).unwrap();
    manifest.record("a.png", entry(1)).unwrap();
    drop(manifest);
    let other = Binding {
        origin: "http://127.0.0.1:8080".into(),
        ..binding()
    };
    let err = Manifest::open(&dir.path().join("n.toml"), &other, WAIT).unwrap_err();
    assert!(matches!(err, ManifestError::WrongBinding { .. }), "{err}");
}

#[test]
fn an_unparsable_manifest_names_the_line_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.toml");
    let mut manifest = open(&path);
    manifest.record("a.png", entry(1)).unwrap();
    manifest.record("b.png", entry(2)).unwrap();
    manifest.finish().unwrap();
    let good = fs::read_to_string(&path).unwrap();
    let line_of_b = good.lines().position(|l| l == "[files.\"b.png\"]").unwrap() + 1;

    // A merge conflict left in the file.
    let broken = good.replacen("[files.\"b.png\"]", "<<<<<<< HEAD\n[files.\"b.png\"]", 1);
    fs::write(&path, &broken).unwrap();
    let err = Manifest::open(&path, &binding(), WAIT).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage);
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!("{}:{line_of_b}: invalid TOML", path.display())),
        "{shown}"
    );
    assert!(!shown.contains('\n'), "{shown}");
    assert_eq!(fs::read_to_string(&path).unwrap(), broken);

    // A bad value names its own line.
    let bad_size = good.replacen("size = 102", "size = \"big\"", 1);
    let size_line = bad_size.lines().position(|l| l == "size = \"big\"").unwrap() + 1;
    fs::write(&path, &bad_size).unwrap();
    let err = Manifest::open(&path, &binding(), WAIT).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:{size_line}: entry \"b.png\": size is not a non-negative integer",
            path.display()
        )
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), bad_size);

    // Something that is not a manifest at all.
    fs::write(&path, "[profile]\nx = 1\n").unwrap();
    let err = Manifest::open(&path, &binding(), WAIT).unwrap_err();
    assert!(err.to_string().contains("not a capfile manifest"), "{err}");

    // A newer format.
    fs::write(&path, good.replacen("format = 1", "format = 2", 1)).unwrap();
    let err = Manifest::open(&path, &binding(), WAIT).unwrap_err();
    assert!(err.to_string().contains("format 2 is not supported"), "{err}");
}

#[test]
fn a_second_opener_fails_at_once_when_told_not_to_wait() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.toml");
    let first = open(&path);
    let err = Manifest::open(&path, &binding(), LockWait::Fail).unwrap_err();
    assert!(matches!(err, ManifestError::Busy { waited: None, .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::Failure);
    assert_eq!(
        err.to_string(),
        format!(
            "manifest {} is in use by another capfile process (lock file {}.lock)",
            path.display(),
            path.display()
        )
    );
    let err = Manifest::open(&path, &binding(), LockWait::Wait(Duration::from_millis(1))).unwrap_err();
    assert!(err.to_string().contains("(waited 0 s; lock file "), "{err}");
    drop(first);
    open(&path);
}

#[test]
fn two_runs_on_one_manifest_keep_all_entries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.toml");
    let mut first = open(&path);
    let (waiting_tx, waiting_rx) = mpsc::channel();
    let second = std::thread::spawn({
        let path = path.clone();
        move || {
            let mut notice = || waiting_tx.send(()).unwrap();
            let mut manifest =
                Manifest::open_with_notice(&path, &binding(), LockWait::Wait(Duration::from_secs(600)), &mut notice)
                    .unwrap();
            for i in 0..20 {
                manifest.record(&format!("second/{i}.png"), entry(i)).unwrap();
            }
            manifest.finish().unwrap();
        }
    });
    // The second is waiting for the lock: only then does the first work.
    waiting_rx.recv().unwrap();
    for i in 0..20 {
        first.record(&format!("first/{i}.png"), entry(i)).unwrap();
    }
    first.finish().unwrap();
    second.join().unwrap();

    let manifest = open(&path);
    assert_eq!(manifest.entries().count(), 40);
    for i in 0..20 {
        assert_eq!(manifest.lookup(&format!("first/{i}.png")), Some(&entry(i)));
        assert_eq!(manifest.lookup(&format!("second/{i}.png")), Some(&entry(i)));
    }
}

/// Run by `a_sigkilled_process_loses_nothing_it_reported` in a child
/// process: records entries until killed, printing each name once
/// `record` has returned. Does nothing in a normal test run.
#[test]
fn sigkill_child() {
    let Some(path) = std::env::var_os("CAPFILE_MANIFEST_KILL_CHILD") else {
        return;
    };
    let mut manifest = open(Path::new(&path));
    let mut stdout = io::stdout().lock();
    for i in 0u32.. {
        let name = format!("batch/{i}.png");
        manifest.record(&name, entry((i % 200) as u8)).unwrap();
        writeln!(stdout, "recorded {name}").unwrap();
        stdout.flush().unwrap();
    }
}

#[cfg(unix)]
#[test]
fn a_sigkilled_process_loses_nothing_it_reported() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.toml");
    let mut manifest = open(&path);
    manifest.record("before.png", entry(1)).unwrap();
    manifest.finish().unwrap();

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "manifest::tests::durability::sigkill_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CAPFILE_MANIFEST_KILL_CHILD", &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut reported = Vec::new();
    while reported.len() < 200 {
        let line = lines.next().expect("the child ended early").unwrap();
        if let Some(name) = line.strip_prefix("recorded ") {
            reported.push(name.to_string());
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // Whatever it printed before it died counts too.
    reported.extend(
        lines
            .map_while(Result::ok)
            .filter_map(|l| l.strip_prefix("recorded ").map(str::to_string)),
    );

    let manifest = open(&path);
    assert!(manifest.lookup("before.png").is_some());
    for name in &reported {
        assert!(
            manifest.lookup(name).is_some(),
            "{name} was reported but is not in the manifest"
        );
    }
    drop(manifest);
    // And the manifest on disk parses without the journal.
    assert!(!sibling(&path, ".journal").exists());
    let text = fs::read_to_string(&path).unwrap();
    assert!(toml_edit::Document::parse(text.as_str()).is_ok());
}

/// A journal line with a value a server's answer could not have carried
/// (it was hand-edited or forged) is refused like one that does not parse,
/// never folded into the manifest.
#[test]
fn a_journal_line_with_a_hostile_printed_field_is_refused() {
    let hostile: [fn(&mut Entry); 4] = [
        |e| e.version = "1\t\u{1b}[2J".into(),
        |e| e.secure_file_path = "javascript:alert(1)".into(),
        |e| e.secure_file_path = "https://a.example/x\nhttps://evil.example".into(),
        |e| e.s3_url = Some("s3:/b\u{2028}x".into()),
    ];
    for spoil in hostile {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.toml");
        let mut manifest = open(&path);
        let mut bad = entry(1);
        spoil(&mut bad);
        manifest.record("a.png", bad.clone()).unwrap();
        drop(manifest);
        let err = Manifest::open(&path, &binding(), WAIT).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage, "{bad:?}: {err}");
        assert_eq!(
            err.to_string(),
            format!("{}.journal:2: invalid journal entry", path.display())
        );
        assert!(!path.exists(), "nothing folded in");
    }
}
