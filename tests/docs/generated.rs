//! The drift check: every generated file, compared with its committed copy.
//!
//! A generated tree is a set of files under a few directories of the source
//! tree. Checking it reports three kinds of drift: a file that should exist
//! and does not, a file whose content differs (with a unified diff), and a file
//! in those directories that is no longer generated. Regenerating writes the
//! set and removes the leftovers, so the directories hold exactly the set.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use capfile::completions;
use capfile::testing::cli::Shell;
use clap::ValueEnum;

use crate::tools::{REGENERATE_COMMAND, regenerating, repo};

/// Generated files by path relative to the repository root.
pub type Files = BTreeMap<PathBuf, String>;

/// The directories that hold nothing but generated files.
pub const GENERATED_DIRS: [&str; 2] = ["completions", "man"];

/// Serializes the tests that read or write the committed directories, so a
/// regenerating run never races a reading one.
pub static TREE: Mutex<()> = Mutex::new(());

/// Completion scripts and man pages, as this build generates them.
pub fn generated_files() -> Files {
    let mut files = Files::new();
    for shell in Shell::value_variants() {
        let path = Path::new("completions").join(completions::file_name(*shell));
        files.insert(path, completions::script(*shell));
    }
    for (name, page) in crate::man::pages() {
        files.insert(Path::new("man").join(name), page);
    }
    files
}

#[derive(Debug)]
pub enum Drift {
    Missing(PathBuf),
    Stale { path: PathBuf, diff: String },
    Unexpected(PathBuf),
}

impl Drift {
    pub fn path(&self) -> &Path {
        match self {
            Drift::Missing(path) | Drift::Unexpected(path) | Drift::Stale { path, .. } => path,
        }
    }
}

/// Compares the files under `root` with `expected`, which must only hold paths
/// inside `dirs`.
pub fn check(root: &Path, dirs: &[&str], expected: &Files) -> Vec<Drift> {
    let mut drift = Vec::new();
    for (path, want) in expected {
        match std::fs::read_to_string(root.join(path)) {
            Err(_) => drift.push(Drift::Missing(path.clone())),
            Ok(have) if have != *want => drift.push(Drift::Stale {
                path: path.clone(),
                diff: unified_diff(path, &have, want),
            }),
            Ok(_) => {}
        }
    }
    for path in committed(root, dirs) {
        if !expected.contains_key(&path) {
            drift.push(Drift::Unexpected(path));
        }
    }
    drift
}

/// Every file under `dirs` of `root`, relative to `root`, sorted.
pub fn committed(root: &Path, dirs: &[&str]) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            return;
        };
        for entry in entries.flatten() {
            let path = dir.join(entry.file_name());
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                walk(root, &path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    for dir in dirs {
        walk(root, Path::new(dir), &mut out);
    }
    out.sort();
    out
}

/// Makes the files under `dirs` of `root` exactly `expected`.
pub fn write(root: &Path, dirs: &[&str], expected: &Files) {
    for path in committed(root, dirs) {
        if !expected.contains_key(&path) {
            std::fs::remove_file(root.join(&path)).unwrap();
        }
    }
    for (path, content) in expected {
        let full = root.join(path);
        if std::fs::read_to_string(&full).ok().as_deref() != Some(content.as_str()) {
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(&full, content).unwrap();
        }
    }
}

/// The failure message: every drifted file, its diff, and the command.
pub fn report(drift: &[Drift]) -> String {
    let mut text = String::new();
    for item in drift {
        match item {
            Drift::Missing(path) => {
                let _ = writeln!(text, "missing: {} is generated but not committed", path.display());
            }
            Drift::Unexpected(path) => {
                let _ = writeln!(
                    text,
                    "unexpected: {} is committed but no longer generated",
                    path.display()
                );
            }
            Drift::Stale { path, diff } => {
                let _ = writeln!(
                    text,
                    "stale: {} differs from what this build generates:",
                    path.display()
                );
                text.push_str(diff);
            }
        }
    }
    let _ = write!(
        text,
        "\nThe committed files are out of date. Regenerate them with\n\n    {REGENERATE_COMMAND}\n\nthen review and commit the changes."
    );
    text
}

fn unified_diff(path: &Path, committed: &str, generated: &str) -> String {
    let name = path.display().to_string();
    similar::TextDiff::from_lines(committed, generated)
        .unified_diff()
        .context_radius(3)
        .header(&format!("{name} (committed)"), &format!("{name} (generated)"))
        .to_string()
}

/// Checks the committed copies of `expected`, or rewrites them when
/// regenerating.
pub fn verify(dirs: &[&str], expected: &Files) {
    let root = repo();
    if regenerating() {
        write(root, dirs, expected);
        return;
    }
    let drift = check(root, dirs, expected);
    assert!(drift.is_empty(), "{}", report(&drift));
}

#[test]
fn committed_completions_and_man_pages_are_up_to_date() {
    let _tree = TREE.lock().unwrap_or_else(|e| e.into_inner());
    verify(&GENERATED_DIRS, &generated_files());
}

/// Changes nothing in the source tree: it proves, on a scratch copy, that the
/// check above looks at every committed file and would catch each one going
/// stale, going missing, or being left over.
#[test]
fn the_drift_check_covers_every_committed_file() {
    let _tree = TREE.lock().unwrap_or_else(|e| e.into_inner());
    let expected = generated_files();

    // What is committed is exactly what is generated, by name.
    let committed: Vec<PathBuf> = committed(repo(), &GENERATED_DIRS);
    let generated: Vec<PathBuf> = expected.keys().cloned().collect();
    assert_eq!(
        committed, generated,
        "the committed files in completions/ and man/ are not the generated set; \
         run {REGENERATE_COMMAND}"
    );
    for dir in GENERATED_DIRS {
        assert!(
            generated.iter().any(|p| p.starts_with(dir)),
            "nothing is generated into {dir}/"
        );
    }

    let scratch = tempfile::tempdir().unwrap();
    write(scratch.path(), &GENERATED_DIRS, &expected);
    assert!(check(scratch.path(), &GENERATED_DIRS, &expected).is_empty());

    for path in &committed {
        let full = scratch.path().join(path);
        let fresh = std::fs::read_to_string(&full).unwrap();

        // A stale copy: one line changed in the middle of the file.
        let mut lines: Vec<&str> = fresh.lines().collect();
        let middle = lines.len() / 2;
        lines.insert(middle, "a line this build does not generate");
        std::fs::write(&full, lines.join("\n") + "\n").unwrap();
        let drift = check(scratch.path(), &GENERATED_DIRS, &expected);
        assert!(
            matches!(drift.as_slice(), [Drift::Stale { path: p, diff }]
                if p == path && diff.contains("-a line this build does not generate")),
            "a stale {} was not reported alone: {drift:?}",
            path.display()
        );
        let message = report(&drift);
        assert!(message.contains(REGENERATE_COMMAND), "{message}");

        // A missing copy.
        std::fs::remove_file(&full).unwrap();
        let drift = check(scratch.path(), &GENERATED_DIRS, &expected);
        assert!(
            matches!(drift.as_slice(), [Drift::Missing(p)] if p == path),
            "a missing {} was not reported alone: {drift:?}",
            path.display()
        );
        std::fs::write(&full, &fresh).unwrap();
    }

    // A file left over in each directory.
    for dir in GENERATED_DIRS {
        let leftover = Path::new(dir).join("capfile-old.txt");
        std::fs::write(scratch.path().join(&leftover), "old\n").unwrap();
        let drift = check(scratch.path(), &GENERATED_DIRS, &expected);
        assert!(
            matches!(drift.as_slice(), [Drift::Unexpected(p)] if *p == leftover),
            "a leftover {} was not reported alone: {drift:?}",
            leftover.display()
        );
        assert_eq!(drift[0].path(), leftover);
        // Regenerating removes it again.
        write(scratch.path(), &GENERATED_DIRS, &expected);
        assert!(check(scratch.path(), &GENERATED_DIRS, &expected).is_empty());
    }
}

#[test]
fn the_completions_command_prints_the_generated_script() {
    for shell in Shell::value_variants() {
        let name = shell.to_possible_value().unwrap().get_name().to_owned();
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_capfile"))
            .args(["completions", &name])
            .output()
            .unwrap();
        assert!(output.status.success(), "{name}: {output:?}");
        assert!(output.stderr.is_empty(), "{name}: {output:?}");
        assert_eq!(
            String::from_utf8(output.stdout).unwrap(),
            completions::script(*shell),
            "{name}"
        );
    }
}
