//! Snapshots of `--help`: what users read, reviewed as text in every change
//! that alters it. They live in `tests/snapshots/help/`, one file per command,
//! and are checked and regenerated like the other generated files.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::generated::{Files, verify};

const SNAPSHOT_DIR: &str = "tests/snapshots/help";

/// The help screens, as `capfile ARGS` prints them, by snapshot file name.
const SCREENS: &[(&str, &[&str])] = &[
    ("capfile.txt", &["--help"]),
    ("capfile-short.txt", &["-h"]),
    ("capfile-upload.txt", &["upload", "--help"]),
    ("capfile-inspect.txt", &["inspect", "--help"]),
    ("capfile-login.txt", &["login", "--help"]),
    ("capfile-logout.txt", &["logout", "--help"]),
    ("capfile-status.txt", &["status", "--help"]),
    ("capfile-config.txt", &["config", "--help"]),
    ("capfile-serve.txt", &["serve", "--help"]),
    ("capfile-completions.txt", &["completions", "--help"]),
];

/// Runs the real binary, as a user would, with a fixed width and none of the
/// variables whose values clap shows in help. No stream may be a terminal:
/// clap would take the width of the developer's terminal from any of them.
fn help(args: &[&str]) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_capfile"));
    command
        .args(args)
        .env("COLUMNS", "100")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("CAPFILE_") {
            command.env_remove(name);
        }
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "capfile {args:?}: {output:?}");
    assert!(output.stderr.is_empty(), "capfile {args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

fn screens() -> Files {
    SCREENS
        .iter()
        .map(|(name, args)| {
            let text = format!("$ capfile {}\n{}", args.join(" "), help(args));
            (Path::new(SNAPSHOT_DIR).join(name), text)
        })
        .collect()
}

#[test]
fn help_matches_the_snapshots() {
    verify(&[SNAPSHOT_DIR], &screens());
}

#[test]
fn long_help_teaches() {
    let screens = screens();
    let screen = |name: &str| screens[&PathBuf::from(SNAPSHOT_DIR).join(name)].clone();

    let top = screen("capfile.txt");
    for needle in ["Environment:", "Files:", "Exit codes:", "130  interrupted", "NO_COLOR"] {
        assert!(top.contains(needle), "capfile --help lacks {needle:?}");
    }
    // upload, login and config end with real examples.
    for name in ["capfile-upload.txt", "capfile-login.txt", "capfile-config.txt"] {
        let text = screen(name);
        let examples = text
            .rfind("\nExamples:\n")
            .unwrap_or_else(|| panic!("{name} has no examples"));
        let tail = &text[examples..];
        assert!(!tail.contains("Options:"), "{name}: examples are not last");
        let commands = tail.lines().filter(|l| l.starts_with("  ") && !l.starts_with("  #"));
        assert!(commands.count() >= 3, "{name}: {tail}");
    }
}

#[test]
fn every_flag_is_documented() {
    use clap::CommandFactory;
    fn walk(cmd: &clap::Command, path: &str) {
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if matches!(id, "help" | "version") {
                continue;
            }
            assert!(
                arg.get_help().is_some_and(|h| !h.to_string().trim().is_empty()),
                "{path} {id} has no help"
            );
        }
        let valued = cmd.get_arguments().filter(|a| a.get_action().takes_values());
        for value in valued.flat_map(|a| a.get_possible_values()) {
            assert!(
                value.get_help().is_some(),
                "{path}: value {} has no help",
                value.get_name()
            );
        }
        for sub in cmd.get_subcommands() {
            assert!(sub.get_about().is_some(), "{path} {} has no about", sub.get_name());
            walk(sub, &format!("{path} {}", sub.get_name()));
        }
    }
    let mut cmd = capfile::testing::cli::Cli::command();
    cmd.build();
    walk(&cmd, "capfile");
}
