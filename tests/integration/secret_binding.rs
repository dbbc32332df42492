//! A saved secret goes only to the origin and identity it was saved for
//! (issue 9, case 3), and the fixes of issue 10 item 7 that sit beside it:
//! no base URL is a usage error found before any secret is looked up, and
//! `config set` does not blame the config file for a value typed on the
//! command line.
//!
//! Secrets here live in `credentials.toml` (`login --insecure-storage`); the
//! D-Bus session is removed, so no test reaches a keyring. The same rules
//! against a real keyring are in the `keyring` module. The stand-in "other
//! host" counts every request it gets, and must get none.
#![cfg(unix)]

use crate::common;

use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::any;
use capfile::md5_hex;
use capfile::testing::emulator::{DEFAULT_CLIENT_KEY, DEFAULT_CLIENT_SECRET, DEFAULT_USERNAME};
use common::*;

fn config_dir(home: &Path) -> PathBuf {
    home.join("config").join("capfile")
}

/// A host that answers every request 200 and counts them: it must hear
/// nothing, so what it answers does not matter.
struct OtherHost {
    _runtime: tokio::runtime::Runtime,
    url: String,
    hits: Arc<AtomicUsize>,
}

impl OtherHost {
    fn start() -> OtherHost {
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let app = Router::new().fallback(any(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                StatusCode::OK
            }
        }));
        let (runtime, url) = serve_app(app);
        OtherHost {
            _runtime: runtime,
            url,
            hits,
        }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn login_basic(service: &Service) {
    let output = run(bare_capfile(service.home.path())
        .args(["login", "--base-url", &service.base_url()])
        .args(["--username", DEFAULT_USERNAME, "--password-stdin", "--insecure-storage"])
        .write_stdin(PASSWORD));
    assert!(output.status.success(), "{}", stderr(&output));
}

fn login_oauth(service: &Service) {
    let output = run(bare_capfile(service.home.path())
        .args(["login", "--base-url", &service.base_url(), "--auth", "oauth"])
        .args([
            "--client-key",
            DEFAULT_CLIENT_KEY,
            "--client-secret-stdin",
            "--insecure-storage",
        ])
        .write_stdin(DEFAULT_CLIENT_SECRET));
    assert!(output.status.success(), "{}", stderr(&output));
}

fn upload(cmd: &mut assert_cmd::Command) -> Output {
    upload_with(cmd, &[])
}

fn upload_with(cmd: &mut assert_cmd::Command, flags: &[&str]) -> Output {
    run(cmd.arg("upload").args(flags).arg(sample("sample.png")))
}

/// The one-line error and its hint, and nothing else on standard error.
fn error_and_hint(output: &Output) -> (String, String) {
    let err = stderr(output);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "one error line and one hint line:\n{err}");
    let error = lines[0].strip_prefix("capfile: error: ").expect("an error line");
    let hint = lines[1].strip_prefix("hint: ").expect("a hint line");
    (error.to_string(), hint.to_string())
}

#[test]
fn a_saved_secret_is_not_sent_to_the_host_base_url_names() {
    let service = Service::start();
    login_basic(&service);
    let other = OtherHost::start();

    let output = upload_with(&mut bare_capfile(service.home.path()), &["--base-url", &other.url]);
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    let (error, hint) = error_and_hint(&output);
    assert_eq!(
        error,
        format!(
            "the password_md5 saved for profile `default` (credentials file) is for {}, not for {} (base URL from --base-url); it was not sent",
            service.base_url(),
            other.url
        )
    );
    assert!(
        hint.contains(&format!("capfile -p NAME login --base-url {}", other.url))
            && hint.contains("CAPFILE_USERNAME and CAPFILE_PASSWORD in the environment"),
        "{hint}"
    );
    assert_eq!(other.hits(), 0, "the other host heard from capfile");
    assert_eq!(service.stats().upload_requests, 0);
}

#[test]
fn a_saved_secret_is_not_sent_to_the_host_capfile_base_url_names() {
    let service = Service::start();
    login_basic(&service);
    let other = OtherHost::start();

    let output = upload(bare_capfile(service.home.path()).env("CAPFILE_BASE_URL", &other.url));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    let (error, _) = error_and_hint(&output);
    assert!(
        error.contains("(base URL from CAPFILE_BASE_URL); it was not sent"),
        "{error}"
    );
    assert_eq!(other.hits(), 0, "the other host heard from capfile");

    // The profile's own host still gets it, and `config list` warns of the refusal.
    let output = upload(&mut bare_capfile(service.home.path()));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(service.stats().uploads_stored, 1);
    let output = run(bare_capfile(service.home.path())
        .env("CAPFILE_BASE_URL", &other.url)
        .args(["config", "list"]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("(base URL from CAPFILE_BASE_URL); an upload would not send it"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_saved_secret_is_not_paired_with_another_username() {
    let service = Service::start();
    login_basic(&service);

    let output = upload(bare_capfile(service.home.path()).env("CAPFILE_USERNAME", "other"));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    let (error, hint) = error_and_hint(&output);
    assert_eq!(
        error,
        format!(
            "the password_md5 saved for profile `default` (credentials file) belongs to user `{DEFAULT_USERNAME}`, not `other` (user from CAPFILE_USERNAME); it was not sent"
        )
    );
    assert!(hint.contains("log in as `other`"), "{hint}");
    assert_eq!(service.stats().upload_requests, 0, "nothing was sent");
}

#[test]
fn a_saved_client_secret_is_bound_the_same_way() {
    let service = Service::start();
    login_oauth(&service);
    let tokens_at_login = service.stats().token_requests;
    let other = OtherHost::start();

    let output = upload(bare_capfile(service.home.path()).env("CAPFILE_BASE_URL", &other.url));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    let (error, hint) = error_and_hint(&output);
    assert!(
        error.starts_with("the client_secret saved for profile `default`"),
        "{error}"
    );
    assert!(hint.contains("CAPFILE_CLIENT_KEY and CAPFILE_CLIENT_SECRET"), "{hint}");
    assert_eq!(other.hits(), 0, "no token was asked of the other host");

    let output = upload(bare_capfile(service.home.path()).env("CAPFILE_CLIENT_KEY", "someone-else"));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!(
            "belongs to client key `{DEFAULT_CLIENT_KEY}`, not `someone-else` (client key from CAPFILE_CLIENT_KEY)"
        )),
        "{}",
        stderr(&output)
    );
    assert_eq!(service.stats().token_requests, tokens_at_login);

    let output = upload(&mut bare_capfile(service.home.path()));
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn a_secret_from_the_environment_goes_to_the_host_it_is_given_with() {
    // The default profile is logged in for `service`; the environment names
    // another host and brings its own secret: the caller chose both.
    let service = Service::start();
    login_basic(&service);
    let elsewhere = Service::start();
    let output = upload(
        bare_capfile(service.home.path())
            .env("CAPFILE_BASE_URL", elsewhere.base_url())
            .env("CAPFILE_USERNAME", DEFAULT_USERNAME)
            .env("CAPFILE_PASSWORD", PASSWORD),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(elsewhere.stats().uploads_stored, 1);
    assert_eq!(service.stats().upload_requests, 0);
    let output = upload_with(
        bare_capfile(service.home.path()).env("CAPFILE_PASSWORD_MD5", md5_hex(PASSWORD).expose()),
        &["--base-url", &elsewhere.base_url()],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(elsewhere.stats().uploads_stored, 2);
}

/// Writes the files capfile 0.1.0's `login --insecure-storage` left: the
/// settings, and the secret with no origin or identity.
fn write_0_1_0_files(home: &Path, base_url: &str) {
    let dir = config_dir(home);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        format!("[profiles.default]\nbase_url = \"{base_url}\"\nauth = \"basic\"\nusername = \"{DEFAULT_USERNAME}\"\n"),
    )
    .unwrap();
    let credentials = dir.join("credentials.toml");
    std::fs::write(
        &credentials,
        format!(
            "[profiles.default]\npassword_md5 = \"{}\"\n",
            md5_hex(PASSWORD).expose()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&credentials, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn credentials_saved_by_0_1_0_still_work_for_their_profiles_host_only() {
    let service = Service::start();
    write_0_1_0_files(service.home.path(), &service.base_url());
    let other = OtherHost::start();

    let output = upload(&mut bare_capfile(service.home.path()));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(service.stats().uploads_stored, 1);

    let output = upload_with(&mut bare_capfile(service.home.path()), &["--base-url", &other.url]);
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!("is for {}, not for {}", service.base_url(), other.url)),
        "{}",
        stderr(&output)
    );
    assert_eq!(other.hits(), 0, "the other host heard from capfile");
    let output = upload(bare_capfile(service.home.path()).env("CAPFILE_USERNAME", "other"));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));

    // Logging in again saves the secret in the new shape, bound to its host.
    login_basic(&service);
    let saved = std::fs::read_to_string(config_dir(service.home.path()).join("credentials.toml")).unwrap();
    assert!(
        saved.contains(&format!("origin = \"{}\"", service.base_url()))
            && saved.contains(&format!("identity = \"{DEFAULT_USERNAME}\"")),
        "{saved}"
    );
}

#[test]
fn no_base_url_is_a_usage_error_before_any_credentials() {
    let home = tempfile::tempdir().unwrap();
    let output = upload(&mut bare_capfile(home.path()));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let (error, hint) = error_and_hint(&output);
    assert_eq!(error, "no base URL for the file service");
    assert!(hint.contains("--base-url"), "{hint}");
}

#[test]
fn no_base_url_is_found_before_the_keyring_is_asked() {
    // A profile with a username but no base URL: the secret would be looked
    // up in the keyring, which is a socket here that records who connects.
    let home = tempfile::tempdir().unwrap();
    let dir = config_dir(home.path());
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), "[profiles.default]\nusername = \"till\"\n").unwrap();
    let bus_dir = tempfile::tempdir().unwrap();
    let bus = UnixListener::bind(bus_dir.path().join("bus")).unwrap();
    let output = upload(bare_capfile(home.path()).env(
        "DBUS_SESSION_BUS_ADDRESS",
        format!("unix:path={}", bus_dir.path().join("bus").display()),
    ));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).starts_with("capfile: error: no base URL for the file service\n"),
        "{}",
        stderr(&output)
    );
    // A connection capfile made would wait in the backlog.
    bus.set_nonblocking(true).unwrap();
    assert!(bus.accept().is_err(), "capfile connected to the keyring");
}

#[test]
fn config_set_blames_the_value_typed_not_the_file() {
    let home = tempfile::tempdir().unwrap();
    let dir = config_dir(home.path());
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(&config, "[profiles.default]\njobs = 2\n").unwrap();
    for (key, value, expected) in [
        ("jobs", "0", "jobs must be from 1 to 64, not 0"),
        (
            "retries",
            "many",
            "retries must be an integer from 0 to 20, not \"many\"",
        ),
        (
            "colour",
            "x",
            "unknown setting `colour`; valid settings: base_url, auth, username, client_key, namespace, jobs, jobs_max, retries, timeout, rate, rate_wait, output, body, http, manifest, ca_bundle, keyring, policy",
        ),
    ] {
        let output = run(bare_capfile(home.path()).args(["config", "set", key, value]));
        assert_eq!(output.status.code(), Some(2), "{key}={value}");
        let (error, hint) = error_and_hint(&output);
        assert_eq!(error, expected, "{key}={value}");
        assert_eq!(hint, format!("{} was not changed", config.display()));
    }
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        "[profiles.default]\njobs = 2\n"
    );
    // A bad value in the file is still blamed on the file, with its place.
    std::fs::write(&config, "[profiles.default]\njobs = 0\n").unwrap();
    let output = run(bare_capfile(home.path()).args(["config", "set", "jobs", "3"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains(&format!("{}:2:8: jobs must be from 1 to 64", config.display())),
        "{}",
        stderr(&output)
    );
}
