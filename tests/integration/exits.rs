//! Exit statuses at the edges (issue 18's smaller cases): output that cannot
//! be written is a failure for every command, including `--help` and
//! `--version`, with a hint worded for the command; `logout` succeeds only
//! when the secret cannot remain.
#![cfg(unix)]

use std::process::Stdio;

use crate::common::{self, Service, sample, stderr};

fn dev_full() -> std::fs::File {
    std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap()
}

/// `--help` and `--version` to a full disk exited 0, as if they had been
/// shown. Every way of asking for help or the version now fails (exit 1)
/// with the one-line error other write failures give.
#[test]
fn help_and_version_that_cannot_be_written_fail() {
    let home = tempfile::tempdir().unwrap();
    let asks: &[&[&str]] = &[
        &["--help"],
        &["-h"],
        &["--version"],
        &["-V"],
        &["upload", "--help"],
        &["help"],
        &["help", "upload"],
        &["config", "--help"],
    ];
    for args in asks {
        let output = common::std_capfile(home.path())
            .args(*args)
            .stdout(dev_full())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        common::assert_clean(&output);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(
            err, "capfile: error: cannot write to standard output: No space left on device (os error 28)\n",
            "{args:?}"
        );
    }
    // Written in full, they still succeed; a reader that leaves early
    // (a closed pipe) is not an error either.
    for args in asks {
        let output = common::std_capfile(home.path()).args(*args).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{args:?}: {}", stderr(&output));
        let mut child = common::std_capfile(home.path())
            .args(*args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{args:?} | closed: {}", stderr(&output));
    }
}

/// The hint after results that could not be written spoke of finished
/// uploads after `capfile version`. It now says so only for a command that
/// uploads.
#[test]
fn the_results_lost_hint_is_worded_for_the_command() {
    let service = Service::start();
    let upload_hint = "any upload that finished is stored";
    let cases: &[(&[&str], bool)] = &[
        (&["version"], false),
        (&["completions", "bash"], false),
        (&["config", "path"], false),
        (&["upload", "--dry-run", "-o", "records"], false),
        (&["upload", "-o", "url"], true),
    ];
    for (args, uploads) in cases {
        let mut cmd = service.std_capfile();
        cmd.args(*args);
        if args[0] == "upload" {
            cmd.arg(sample("sample.png"));
        }
        let output = cmd.stdout(dev_full()).stderr(Stdio::piped()).output().unwrap();
        common::assert_clean(&output);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("capfile: error: cannot write results to standard output: No space left on device"),
            "{args:?}: {err}"
        );
        assert_eq!(err.contains(upload_hint), *uploads, "{args:?}: {err}");
        assert!(err.contains("hint: "), "{args:?}: {err}");
    }
}

/// A keyring that is there but does not answer (a D-Bus session whose bus
/// never replies: a hung or locked keyring) may still hold the secret:
/// `logout` exited 0 with a warning. It now fails (exit 1), says the secret
/// may remain, and how to remove it. With no keyring at all (no D-Bus
/// session) nothing can remain there, and it still exits 0 with a warning.
#[test]
fn logout_fails_when_a_reachable_keyring_does_not_answer() {
    let home = tempfile::tempdir().unwrap();
    let bus = home.path().join("bus");
    // Accepts connections (the kernel does, into the backlog) and never answers.
    let _silent = std::os::unix::net::UnixListener::bind(&bus).unwrap();
    let output = common::std_capfile(home.path())
        .args(["-p", "demo", "logout"])
        .env("DBUS_SESSION_BUS_ADDRESS", format!("unix:path={}", bus.display()))
        .output()
        .unwrap();
    common::assert_clean(&output);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with("capfile: error: the OS keyring (Secret Service) did not answer within"),
        "{err}"
    );
    assert!(err.contains("the secret of profile `demo` may remain there"), "{err}");
    assert!(
        err.contains("hint: ") && err.contains("secret-tool clear service capfile username demo"),
        "{err}"
    );

    // No D-Bus session at all: nothing can be stored there. (The profile
    // exists: an unknown one is a typo, refused with a suggestion.)
    let config = home.path().join("config/capfile");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("config.toml"), "[profiles.demo]\nnamespace = \"rewards\"\n").unwrap();
    let output = common::std_capfile(home.path())
        .args(["-p", "demo", "logout"])
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", home.path().join("none").display()),
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).contains("nothing stored"), "{}", stderr(&output));
}
