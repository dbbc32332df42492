//! Hostile local conditions (issue 9): odd umasks, endless or huge config
//! files, signals in the middle of work, slow or idle clients of the local
//! file service, and two services on one data directory. Each test pins one
//! numbered case of the issue.

mod common;

use std::path::Path;
use std::process::Command;

use common::{bare_capfile, run, stderr};

/// Runs `capfile ARGS` under `umask MASK` in a shell, with an isolated home.
#[cfg(unix)]
fn capfile_under_umask(home: &Path, mask: &str, args: &str) -> std::process::Output {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("umask {mask}; exec \"$0\" {args}"))
        .arg(env!("CARGO_BIN_EXE_capfile"));
    common::isolate(&mut cmd, home);
    let output = cmd.output().expect("sh runs");
    common::assert_clean(&output);
    output
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("exists").permissions().mode() & 0o777
}

// Case 15: under umask 000 the config directory was created 0777; under
// umask 077 a new config.toml was still forced to 0644.
#[cfg(unix)]
#[test]
fn config_directories_are_private_and_new_files_respect_the_umask() {
    let home = tempfile::tempdir().unwrap();
    let output = capfile_under_umask(home.path(), "000", "config set namespace loose");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let dir = home.path().join("config").join("capfile");
    assert_eq!(mode(&home.path().join("config")), 0o700, "XDG_CONFIG_HOME created by capfile");
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("config.toml")), 0o644);

    let home = tempfile::tempdir().unwrap();
    let output = capfile_under_umask(home.path(), "077", "config set namespace tight");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let dir = home.path().join("config").join("capfile");
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("config.toml")), 0o600, "a umask of 077 is kept");

    // An existing file keeps its mode, whatever the umask of the edit.
    std::fs::set_permissions(
        dir.join("config.toml"),
        std::os::unix::fs::PermissionsExt::from_mode(0o640),
    )
    .unwrap();
    let output = capfile_under_umask(home.path(), "000", "config set jobs 2");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(mode(&dir.join("config.toml")), 0o640);
}

// Case 16: `--config /dev/zero` read until memory ran out.
#[cfg(unix)]
#[test]
fn an_endless_config_file_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let output = run(bare_capfile(home.path()).args(["--config", "/dev/zero", "config", "list"]));
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "capfile: error: /dev/zero: larger than 1 MiB, which no capfile file is\n"
    );
}

// Case 16: the same cap for a real file over 1 MiB.
#[test]
fn config_files_over_a_mebibyte_are_refused() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("big.toml");
    std::fs::write(&config, "# padding\n".repeat(110_000)).unwrap();
    let output = run(bare_capfile(home.path()).arg("--config").arg(&config).args(["config", "list"]));
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.starts_with("capfile: error: "), "{err}");
    assert!(err.contains(&format!("{}: larger than 1 MiB", config.display())), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

// Case 16: and for credentials.toml, read through the same function.
#[test]
fn a_credentials_file_over_a_mebibyte_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config.toml");
    std::fs::write(&config, "[profiles.default]\nusername = \"u\"\n").unwrap();
    let credentials = home.path().join("credentials.toml");
    std::fs::write(&credentials, "# padding\n".repeat(110_000)).unwrap();
    let output = run(bare_capfile(home.path()).arg("--config").arg(&config).args(["config", "list"]));
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains(&format!("capfile: error: {}: larger than 1 MiB", credentials.display())),
        "{err}"
    );
}
