//! The real OS keyring: login stores the secret there, another process reads it
//! and uploads, logout removes it; checked from outside capfile with
//! `secret-tool` (Secret Service) or `keyctl` (kernel keyring).
//!
//! They are `#[ignore]`d, so a plain `cargo test` lists them as ignored with
//! the reason, and run when asked with `--ignored`: CAPFILE_TEST_KEYRING=1 in a
//! D-Bus session with an unlocked keyring (`.ci/run` runs them inside
//! `dbus-run-session` with gnome-keyring), or CAPFILE_TEST_KEYRING=keyutils
//! (`.ci/run` runs them again under `keyctl session`). Run without a keyring
//! named, they fail rather than pass having checked nothing.
#![cfg(target_os = "linux")]

use crate::common;

use std::process::Command;

use capfile::md5_hex;
use capfile::testing::emulator::{DEFAULT_CLIENT_KEY, DEFAULT_CLIENT_SECRET, DEFAULT_USERNAME};
use common::*;

/// Which real keyring the tests run against.
enum Backend {
    /// The Secret Service on this D-Bus session bus.
    SecretService(String),
    /// The Linux kernel keyring (`CAPFILE_KEYRING=keyutils`).
    Kernel,
}

/// Why the tests of this module are ignored by default.
const NEEDS_KEYRING: &str = "needs a real keyring: CAPFILE_TEST_KEYRING=1 in a D-Bus session, \
                             or =keyutils under `keyctl session`, with --ignored (see .ci/run)";

/// The keyring asked for by CAPFILE_TEST_KEYRING.
#[track_caller]
fn backend() -> Backend {
    match std::env::var("CAPFILE_TEST_KEYRING").as_deref() {
        Ok("1" | "secret-service") => Backend::SecretService(
            std::env::var("DBUS_SESSION_BUS_ADDRESS").expect("CAPFILE_TEST_KEYRING=1 needs a D-Bus session"),
        ),
        Ok("keyutils") => Backend::Kernel,
        _ => panic!("{NEEDS_KEYRING}"),
    }
}

impl Backend {
    /// How capfile names the keyring in its messages.
    fn label(&self) -> &'static str {
        match self {
            Backend::SecretService(_) => "Secret Service",
            Backend::Kernel => "Linux kernel keyring",
        }
    }

    /// The secret the keyring holds for a profile, asked from outside
    /// capfile; the entry must be capfile's JSON object, bound to `origin`.
    fn secret(&self, profile: &str, origin: &str) -> Option<String> {
        let value = self.lookup(profile)?;
        let entry: serde_json::Value = serde_json::from_str(&value).expect("the entry is JSON");
        assert_eq!(entry["origin"], origin, "bound to the login's origin");
        assert!(entry["identity"].is_string() && entry["kind"].is_string(), "{entry}");
        Some(entry["secret"].as_str().expect("a secret").to_string())
    }

    /// Saves a bare secret for a profile from outside capfile, as capfile
    /// 0.1.0 did.
    fn store_bare(&self, profile: &str, secret: &str) {
        let mut command = match self {
            Backend::SecretService(_) => {
                let mut command = Command::new("secret-tool");
                command.args(["store", "--label=capfile", "service", "capfile", "username", profile]);
                command
            }
            Backend::Kernel => {
                let mut command = Command::new("keyctl");
                command.args(["padd", "user", &format!("keyring:{profile}@capfile"), "@s"]);
                command
            }
        };
        let mut child = command
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("the keyring tool runs");
        use std::io::Write;
        child.stdin.take().unwrap().write_all(secret.as_bytes()).unwrap();
        assert!(child.wait().unwrap().success(), "the bare secret was stored");
    }

    /// What the keyring holds for a profile, asked from outside capfile.
    fn lookup(&self, profile: &str) -> Option<String> {
        let read = |args: &[&str]| {
            let output = Command::new(args[0])
                .args(&args[1..])
                .output()
                .unwrap_or_else(|e| panic!("{} runs: {e}", args[0]));
            output
                .status
                .success()
                .then(|| String::from_utf8(output.stdout).unwrap())
                .filter(|s| !s.is_empty())
        };
        match self {
            Backend::SecretService(_) => read(&["secret-tool", "lookup", "service", "capfile", "username", profile]),
            Backend::Kernel => {
                let id = read(&["keyctl", "request", "user", &format!("keyring:{profile}@capfile")])?;
                read(&["keyctl", "pipe", id.trim()])
            }
        }
    }
}

/// A profile name no other run uses, so tests never meet each other's entries.
fn unique_profile(tag: &str) -> String {
    format!("test-{tag}-{}-{}", std::process::id(), fastrand::u32(..))
}

/// capfile in the test's private directories, using the chosen keyring.
fn capfile(service: &Service, backend: &Backend) -> assert_cmd::Command {
    let mut cmd = bare_capfile(service.home.path());
    match backend {
        Backend::SecretService(bus) => cmd.env("DBUS_SESSION_BUS_ADDRESS", bus),
        Backend::Kernel => cmd.env("CAPFILE_KEYRING", "keyutils"),
    };
    cmd
}

#[test]
#[ignore = "needs a real keyring (CAPFILE_TEST_KEYRING; see .ci/run)"]
fn basic_login_upload_logout_through_the_keyring() {
    let backend = backend();
    let service = Service::start();
    let profile = unique_profile("basic");

    let output = run(capfile(&service, &backend)
        .args(["-p", &profile, "login", "--base-url", &service.base_url()])
        .args(["--username", DEFAULT_USERNAME, "--password-stdin"])
        .write_stdin(PASSWORD));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!("secret saved in the OS keyring ({})", backend.label())),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        backend.secret(&profile, &service.base_url()).as_deref(),
        Some(md5_hex(PASSWORD).expose())
    );
    let config_dir = service.home.path().join("config/capfile");
    assert!(!config_dir.join("credentials.toml").exists(), "no plain-text copy");
    let config = std::fs::read_to_string(config_dir.join("config.toml")).unwrap();
    assert!(!config.contains(md5_hex(PASSWORD).expose()));

    let output = run(capfile(&service, &backend).args(["-p", &profile, "config", "list"]));
    assert!(
        stdout(&output).contains("password_md5: (keyring)"),
        "{}",
        stdout(&output)
    );

    // Another process reads the secret from the keyring and uploads.
    let output = run(capfile(&service, &backend)
        .args(["-p", &profile, "-v", "upload"])
        .arg(sample("sample.png")));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("secret: from keyring"), "{}", stderr(&output));
    assert_eq!(service.stats().uploads_stored, 1);

    let output = run(capfile(&service, &backend).args(["-p", &profile, "logout"]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!(
            "removed the secret of profile `{profile}` from the OS keyring"
        )),
        "{}",
        stderr(&output)
    );
    assert_eq!(backend.lookup(&profile), None, "logout removed it from the keyring");
    let output = run(capfile(&service, &backend).args(["-p", &profile, "logout"]));
    assert!(output.status.success());
    assert!(stderr(&output).contains("nothing stored"), "{}", stderr(&output));

    let output = run(capfile(&service, &backend)
        .args(["-p", &profile, "upload"])
        .arg(sample("sample.png")));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
}

#[test]
#[ignore = "needs a real keyring (CAPFILE_TEST_KEYRING; see .ci/run)"]
fn oauth_secret_in_the_keyring_and_insecure_storage_moves_it_out() {
    let backend = backend();
    let service = Service::start();
    let profile = unique_profile("oauth");

    let output = run(capfile(&service, &backend)
        .args([
            "-p",
            &profile,
            "login",
            "--base-url",
            &service.base_url(),
            "--auth",
            "oauth",
        ])
        .args(["--client-key", DEFAULT_CLIENT_KEY, "--client-secret-stdin"])
        .write_stdin(DEFAULT_CLIENT_SECRET));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        backend.secret(&profile, &service.base_url()).as_deref(),
        Some(DEFAULT_CLIENT_SECRET)
    );

    let output = run(capfile(&service, &backend)
        .args(["-p", &profile, "upload"])
        .arg(sample("sample.png")));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(service.stats().token_requests, 2, "one at login, one for the upload");

    // Moving to plain-text storage takes the secret out of the keyring, where
    // it would otherwise shadow the file.
    let output = run(capfile(&service, &backend)
        .args([
            "-p",
            &profile,
            "login",
            "--auth",
            "oauth",
            "--client-secret-stdin",
            "--insecure-storage",
        ])
        .write_stdin(DEFAULT_CLIENT_SECRET));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("removed the older secret"),
        "{}",
        stderr(&output)
    );
    assert_eq!(backend.lookup(&profile), None);
    let output = run(capfile(&service, &backend).args(["-p", &profile, "config", "list"]));
    assert!(
        stdout(&output).contains("client_secret: (credentials file)"),
        "{}",
        stdout(&output)
    );

    // And back: a keyring login removes the plain-text copy.
    let output = run(capfile(&service, &backend)
        .args(["-p", &profile, "login", "--client-secret-stdin"])
        .write_stdin(DEFAULT_CLIENT_SECRET));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("removed the older plain-text secret"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        backend.secret(&profile, &service.base_url()).as_deref(),
        Some(DEFAULT_CLIENT_SECRET)
    );

    let output = run(capfile(&service, &backend).args(["-p", &profile, "logout"]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(backend.lookup(&profile), None);
}

#[test]
#[ignore = "needs a real keyring (CAPFILE_TEST_KEYRING; see .ci/run)"]
fn a_keyring_secret_goes_only_to_its_host_its_user_and_as_its_kind() {
    let backend = backend();
    let service = Service::start();
    let other = Service::start();
    let profile = unique_profile("bound");
    let output = run(capfile(&service, &backend)
        .args(["-p", &profile, "login", "--base-url", &service.base_url()])
        .args(["--username", DEFAULT_USERNAME, "--password-stdin"])
        .write_stdin(PASSWORD));
    assert!(output.status.success(), "{}", stderr(&output));

    // Another host, by flag or environment: refused, and it hears nothing.
    let output = run(capfile(&service, &backend)
        .args(["-p", &profile, "upload", "--base-url", &other.base_url()])
        .arg(sample("sample.png")));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!(
            "(keyring) is for {}, not for {}",
            service.base_url(),
            other.base_url()
        )),
        "{}",
        stderr(&output)
    );
    let output = run(capfile(&service, &backend)
        .env("CAPFILE_BASE_URL", other.base_url())
        .args(["-p", &profile, "upload"])
        .arg(sample("sample.png")));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert_eq!(other.stats().upload_requests, 0, "the other host heard nothing");

    // Another user with the saved hash: refused.
    let output = run(capfile(&service, &backend)
        .env("CAPFILE_USERNAME", "other")
        .args(["-p", &profile, "upload"])
        .arg(sample("sample.png")));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(stderr(&output).contains("belongs to user"), "{}", stderr(&output));
    assert_eq!(service.stats().upload_requests, 0);

    // Switched to OAuth by hand: the saved MD5 is not a client secret.
    for (key, value) in [("auth", "oauth"), ("client_key", DEFAULT_CLIENT_KEY)] {
        let output = run(capfile(&service, &backend).args(["-p", &profile, "config", "set", key, value]));
        assert!(output.status.success(), "{}", stderr(&output));
    }
    let output = run(capfile(&service, &backend)
        .args(["-p", &profile, "upload"])
        .arg(sample("sample.png")));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("no saved client_secret"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        service.stats().token_requests,
        0,
        "the MD5 was not offered as a client secret"
    );

    let output = run(capfile(&service, &backend).args(["-p", &profile, "logout"]));
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
#[ignore = "needs a real keyring (CAPFILE_TEST_KEYRING; see .ci/run)"]
fn a_bare_entry_saved_by_0_1_0_works_for_its_profile_only() {
    let backend = backend();
    let service = Service::start();
    let other = Service::start();
    let profile = unique_profile("legacy");
    let config_dir = service.home.path().join("config/capfile");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(
        config_dir.join("config.toml"),
        format!(
            "[profiles.{profile}]\nbase_url = \"{}\"\nauth = \"basic\"\nusername = \"{DEFAULT_USERNAME}\"\n",
            service.base_url()
        ),
    )
    .unwrap();
    backend.store_bare(&profile, md5_hex(PASSWORD).expose());

    let output = run(capfile(&service, &backend)
        .args(["-p", &profile, "upload"])
        .arg(sample("sample.png")));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(service.stats().uploads_stored, 1);

    let output = run(capfile(&service, &backend)
        .args(["-p", &profile, "upload", "--base-url", &other.base_url()])
        .arg(sample("sample.png")));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert_eq!(other.stats().upload_requests, 0, "the other host heard nothing");

    // After `config set auth oauth` its kind is unknown: refused, not sent
    // as a client secret.
    for (key, value) in [("auth", "oauth"), ("client_key", DEFAULT_CLIENT_KEY)] {
        let output = run(capfile(&service, &backend).args(["-p", &profile, "config", "set", key, value]));
        assert!(output.status.success(), "{}", stderr(&output));
    }
    let output = run(capfile(&service, &backend)
        .args(["-p", &profile, "upload"])
        .arg(sample("sample.png")));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(stderr(&output).contains("by capfile 0.1.0"), "{}", stderr(&output));
    assert_eq!(service.stats().token_requests, 0);

    let output = run(capfile(&service, &backend).args(["-p", &profile, "logout"]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(backend.lookup(&profile), None);
}

/// A login to the kernel keyring records `keyring = "keyutils"` in the
/// profile, so `status` and `upload` find the secret without
/// CAPFILE_KEYRING. (The Secret Service is the platform's: nothing to record.)
#[test]
#[ignore = "needs a real keyring (CAPFILE_TEST_KEYRING; see .ci/run)"]
fn the_keyring_chosen_at_login_is_kept_in_the_profile() {
    let backend = backend();
    let service = Service::start();
    let profile = unique_profile("chosen");
    let output = run(capfile(&service, &backend)
        .args(["-p", &profile, "login", "--base-url", &service.base_url()])
        .args(["--username", DEFAULT_USERNAME, "--password-stdin"])
        .write_stdin(format!("{}\n", capfile::testing::emulator::DEFAULT_PASSWORD)));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let config = std::fs::read_to_string(service.home.path().join("config/capfile/config.toml")).unwrap();
    let kernel = matches!(backend, Backend::Kernel);
    assert_eq!(config.contains("keyring = \"keyutils\""), kernel, "{config}");
    // Without the variable (the Secret Service's bus stays, as a session has it).
    let mut cmd = bare_capfile(service.home.path());
    if let Backend::SecretService(bus) = &backend {
        cmd.env("DBUS_SESSION_BUS_ADDRESS", bus);
    }
    let output = run(cmd.args(["-p", &profile, "upload"]).arg(sample("sample.png")));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let output = run(capfile(&service, &backend).args(["-p", &profile, "logout"]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}
