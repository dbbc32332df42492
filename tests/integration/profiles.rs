//! Profiles, `config`, `login` and `logout` through the built binary, against
//! the emulator in this process. No test here reaches a keyring: the D-Bus
//! session is removed (or replaced by a socket that never answers), so secrets
//! go to `credentials.toml` with `--insecure-storage`. The real Secret Service
//! is exercised by the `keyring` module. Unix only: file modes and a Unix
//! socket standing in for D-Bus.
#![cfg(unix)]

use crate::common;

use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use capfile::md5_hex;
use capfile::testing::emulator::{DEFAULT_CLIENT_KEY, DEFAULT_CLIENT_SECRET, DEFAULT_USERNAME};
use common::*;

fn config_dir(service: &Service) -> PathBuf {
    service.home.path().join("config").join("capfile")
}

fn config_path(service: &Service) -> PathBuf {
    config_dir(service).join("config.toml")
}

fn credentials_path(service: &Service) -> PathBuf {
    config_dir(service).join("credentials.toml")
}

/// `capfile` with nothing in the environment but this test's private dirs.
fn bare(service: &Service) -> assert_cmd::Command {
    bare_capfile(service.home.path())
}

fn write_config(service: &Service, text: &str) {
    std::fs::create_dir_all(config_dir(service)).unwrap();
    std::fs::write(config_path(service), text).unwrap();
}

fn login_basic(service: &Service, profile: &str) -> Output {
    let output = run(bare(service)
        .args(["-p", profile, "login", "--base-url", &service.base_url()])
        .args(["--username", DEFAULT_USERNAME, "--password-stdin", "--insecure-storage"])
        .write_stdin(format!("{PASSWORD}\n")));
    assert!(output.status.success(), "{}", stderr(&output));
    output
}

/// A D-Bus address whose socket accepts connections and never answers: a hung
/// keyring. Counts the connections; stops listening when dropped.
struct HungBus {
    dir: tempfile::TempDir,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl HungBus {
    fn start() -> HungBus {
        let dir = tempfile::tempdir().unwrap();
        let listener = UnixListener::bind(dir.path().join("bus")).unwrap();
        listener.set_nonblocking(true).unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, done) = (accepted.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut held = Vec::new();
            while !done.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        count.fetch_add(1, Ordering::Relaxed);
                        held.push(stream);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        HungBus { dir, accepted, stop }
    }

    fn address(&self) -> String {
        format!("unix:path={}", self.dir.path().join("bus").display())
    }
}

impl Drop for HungBus {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[test]
fn basic_upload_from_a_profile_saved_with_insecure_storage() {
    let service = Service::start();
    let output = login_basic(&service, "default");
    assert!(
        stderr(&output).contains("logged in: profile `default`"),
        "{}",
        stderr(&output)
    );
    let saved = std::fs::read_to_string(credentials_path(&service)).unwrap();
    assert!(saved.contains(md5_hex(PASSWORD).expose()), "the MD5 is what is kept");
    // The emulator's user and password are both `capfile`: the identity the
    // secret is bound to is not the password.
    let without_identity = saved.replace(&format!("identity = \"{DEFAULT_USERNAME}\""), "");
    assert!(
        !without_identity.contains(&format!("\"{PASSWORD}\"")),
        "never the password"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(credentials_path(&service))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let config = std::fs::read_to_string(config_path(&service)).unwrap();
    assert!(
        config.contains("auth = \"basic\"") && config.contains("username = \"capfile\""),
        "{config}"
    );
    assert!(!config.contains(md5_hex(PASSWORD).expose()));

    let output = run(bare(&service).arg("upload").arg(sample("sample.png")));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(rows(&output)[0][0], "sample.png");
    assert_eq!(service.stats().uploads_stored, 1);
}

#[test]
fn oauth_upload_from_a_profile() {
    let service = Service::start();
    common::login_oauth(&service, "ci");
    assert_eq!(service.stats().token_requests, 1, "login checks the secret");
    let config = std::fs::read_to_string(config_path(&service)).unwrap();
    assert!(
        config.contains("[profiles.ci]") && config.contains("auth = \"oauth\""),
        "{config}"
    );
    let output = run(bare(&service)
        .args(["--profile", "ci", "upload", "-o", "url"])
        .arg(sample("sample.png")));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).starts_with("http://127.0.0.1:"), "{}", stdout(&output));
    assert_eq!(service.stats().token_requests, 2);
    // The same through CAPFILE_PROFILE.
    let output = run(bare(&service)
        .env("CAPFILE_PROFILE", "ci")
        .arg("upload")
        .arg(sample("sample.png")));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!stdout(&output).contains(DEFAULT_CLIENT_SECRET));
    assert!(!stderr(&output).contains(DEFAULT_CLIENT_SECRET));
}

#[test]
fn a_wrong_oauth_secret_saves_nothing_and_exits_4() {
    let service = Service::start();
    let output = run(bare(&service)
        .args(["login", "--base-url", &service.base_url(), "--auth", "oauth"])
        .args([
            "--client-key",
            DEFAULT_CLIENT_KEY,
            "--client-secret-stdin",
            "--insecure-storage",
        ])
        .write_stdin("not-the-secret"));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("refused client key `capfile-local`"), "{err}");
    assert!(err.contains("nothing was saved"), "{err}");
    assert!(!err.contains("not-the-secret"));
    assert!(!config_dir(&service).exists(), "nothing is written");
    assert_eq!(service.stats().token_requests, 1);
}

#[test]
fn login_without_a_keyring_fails_fast_with_the_hint_and_writes_nothing() {
    let service = Service::start();
    let output = run(bare(&service)
        .args([
            "login",
            "--base-url",
            &service.base_url(),
            "--username",
            DEFAULT_USERNAME,
        ])
        .arg("--password-stdin")
        .write_stdin(PASSWORD));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("cannot use the OS keyring"), "{err}");
    assert!(err.contains("nothing was saved"), "{err}");
    assert!(err.contains("hint: pass --insecure-storage"), "{err}");
    // At once: with no session bus the keyring says so, rather than being
    // waited for until its time limit.
    assert!(!err.contains("did not answer"), "{err}");
    assert!(!config_dir(&service).exists(), "neither file is written");
}

#[test]
fn a_hung_keyring_costs_at_most_its_time_limit() {
    let service = Service::start();
    let bus = HungBus::start();
    let output = run(bare(&service)
        .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
        .args([
            "login",
            "--base-url",
            &service.base_url(),
            "--username",
            DEFAULT_USERNAME,
        ])
        .arg("--password-stdin")
        .write_stdin(PASSWORD));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("did not answer within 3 s"), "{err}");
    assert!(err.contains("--insecure-storage"), "{err}");
    // Each keyring operation connects afresh, so one connection means that
    // one time limit was waited out, not one per operation. (The count only
    // ever lags: the connection came 3 s before capfile gave up.)
    assert_eq!(bus.accepted.load(Ordering::SeqCst), 1, "connections to the keyring");
    assert!(!config_dir(&service).exists());
}

#[test]
fn a_secret_in_the_environment_never_touches_the_keyring() {
    let service = Service::start();
    let bus = HungBus::start();
    let output = run(service
        .capfile()
        .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
        .arg("upload")
        .arg(sample("sample.png")));
    assert!(output.status.success(), "{}", stderr(&output));
    // Had capfile asked the keyring, it would have connected here (and waited
    // out the time limit).
    assert_eq!(bus.accepted.load(Ordering::Relaxed), 0, "no connection to the keyring");
}

#[test]
fn login_never_takes_a_secret_as_an_argument() {
    let service = Service::start();
    for flag in ["--password", "--client-secret", "--secret", "--token"] {
        let output = run(bare(&service).args(["login", "--username", "u", flag, "hunter2"]));
        assert_eq!(output.status.code(), Some(2), "{flag}");
        assert!(!stderr(&output).contains("hunter2"), "{flag}: {}", stderr(&output));
    }
    // Without a terminal and without --password-stdin there is nothing to read.
    let output = run(bare(&service).args(["login", "--base-url", &service.base_url(), "--username", "u"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("pipe it to --password-stdin"),
        "{}",
        stderr(&output)
    );
    // Flags of the other auth kind are refused.
    let output = run(bare(&service)
        .args(["login", "--auth", "oauth", "--username", "u", "--password-stdin"])
        .write_stdin("x"));
    assert_eq!(output.status.code(), Some(2));
    assert!(!config_dir(&service).exists());
}

#[test]
fn logout_removes_the_secret_and_keeps_the_settings() {
    let service = Service::start();
    login_basic(&service, "default");
    let output = run(bare(&service).arg("logout"));
    assert!(output.status.success(), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("removed the secret of profile `default` from"), "{err}");
    assert!(err.contains("credentials.toml"), "{err}");
    let saved = std::fs::read_to_string(credentials_path(&service)).unwrap();
    assert!(!saved.contains(md5_hex(PASSWORD).expose()), "{saved}");
    let config = std::fs::read_to_string(config_path(&service)).unwrap();
    assert!(config.contains("username = \"capfile\""), "settings stay: {config}");

    let output = run(bare(&service).arg("upload").arg(sample("sample.png")));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(stderr(&output).contains("no saved password_md5 for profile `default`"));
    assert!(stderr(&output).contains("hint: run `capfile login`"));

    // Again: nothing is stored, which is not an error (the unreachable
    // keyring is said in a warning; see interactive.rs).
    let output = run(bare(&service).arg("logout"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).contains("nothing stored"), "{}", stderr(&output));
}

#[test]
fn a_credentials_file_others_can_read_warns() {
    use std::os::unix::fs::PermissionsExt;
    let service = Service::start();
    login_basic(&service, "default");
    std::fs::set_permissions(credentials_path(&service), std::fs::Permissions::from_mode(0o644)).unwrap();
    let output = run(bare(&service).arg("upload").arg(sample("sample.png")));
    assert!(output.status.success(), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("capfile: warning:") && err.contains("mode 0644"), "{err}");
    assert!(err.contains("chmod 600"), "{err}");
}

#[test]
fn precedence_is_flag_then_env_then_file_for_every_setting() {
    let service = Service::start();
    write_config(
        &service,
        &format!(
            "[profiles.default]\nbase_url = \"{}\"\nnamespace = \"fromfile\"\njobs = 2\nretries = 5\ntimeout = 30\noutput = \"url\"\nbody = \"raw\"\n",
            service.base_url()
        ),
    );
    let creds = |cmd: &mut assert_cmd::Command| {
        cmd.env("CAPFILE_USERNAME", DEFAULT_USERNAME)
            .env("CAPFILE_PASSWORD", PASSWORD);
    };
    let lines_of = |output: &Output| stderr(output);

    // The file alone.
    let mut cmd = bare(&service);
    creds(&mut cmd);
    let output = run(cmd.args(["-v", "upload", "--dry-run"]).arg(sample("sample.png")));
    assert!(output.status.success(), "{}", stderr(&output));
    let err = lines_of(&output);
    for line in [
        format!("base_url: {}/ (file)", service.base_url()),
        "namespace: fromfile (file)".into(),
        "jobs: 2 (file)".into(),
        "retries: 5 (file)".into(),
        "timeout: 30 (file)".into(),
        "output: url (file)".into(),
        "body: raw (file)".into(),
        "username: capfile (env CAPFILE_USERNAME)".into(),
        "secret: from env CAPFILE_PASSWORD".into(),
    ] {
        assert!(err.contains(&line), "missing {line:?} in\n{err}");
    }
    // `-o url` from the file: the plan goes to standard error.
    assert!(err.contains("/api_gateway/file-service/fromfile/sample.png"), "{err}");

    // The environment over the file.
    let port = service.base_url().rsplit(':').next().unwrap().to_string();
    let mut cmd = bare(&service);
    creds(&mut cmd);
    let output = run(cmd
        .env("CAPFILE_BASE_URL", format!("http://localhost:{port}"))
        .env("CAPFILE_NAMESPACE", "fromenv")
        .args(["-v", "upload", "--dry-run"])
        .arg(sample("sample.png")));
    let err = lines_of(&output);
    assert!(
        err.contains(&format!("base_url: http://localhost:{port}/ (env CAPFILE_BASE_URL)")),
        "{err}"
    );
    assert!(err.contains("namespace: fromenv (env CAPFILE_NAMESPACE)"), "{err}");
    assert!(err.contains("jobs: 2 (file)"), "{err}");

    // Flags over both.
    let mut cmd = bare(&service);
    creds(&mut cmd);
    let output = run(cmd
        .env("CAPFILE_BASE_URL", format!("http://localhost:{port}"))
        .env("CAPFILE_NAMESPACE", "fromenv")
        .args([
            "-v",
            "upload",
            "--dry-run",
            "--base-url",
            &format!("http://127.0.0.1:{port}"),
        ])
        .args([
            "-n",
            "fromflag",
            "-j",
            "3",
            "--retries",
            "1",
            "--timeout",
            "9",
            "-o",
            "json",
            "--body",
            "multipart",
        ])
        .arg(sample("sample.png")));
    let err = lines_of(&output);
    for line in [
        format!("base_url: http://127.0.0.1:{port}/ (flag)"),
        "namespace: fromflag (flag)".into(),
        "jobs: 3 (flag)".into(),
        "retries: 1 (flag)".into(),
        "timeout: 9 (flag)".into(),
        "output: json (flag)".into(),
        "body: multipart (flag)".into(),
    ] {
        assert!(err.contains(&line), "missing {line:?} in\n{err}");
    }

    // And a real upload takes the file's settings: raw body, url output.
    let mut cmd = bare(&service);
    creds(&mut cmd);
    let output = run(cmd.arg("upload").arg(sample("sample.png")));
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    assert_eq!(out.lines().count(), 1);
    assert!(out.starts_with("http://127.0.0.1:") && !out.contains('\t'), "{out}");
    // `config get` answers what an upload would use.
    let output = run(bare(&service)
        .env("CAPFILE_NAMESPACE", "fromenv")
        .args(["config", "get", "namespace"]));
    assert_eq!(stdout(&output), "fromenv\n");
    let output = run(bare(&service).args(["config", "get", "jobs"]));
    assert_eq!(stdout(&output), "2\n");
}

#[test]
fn config_set_keeps_a_comment_written_by_hand() {
    let service = Service::start();
    let text = "# capfile settings, written by hand\n\n[profiles.default]\n# the local emulator\nbase_url = \"http://127.0.0.1:7878\" # for now\njobs = 4 # four at once\n";
    write_config(&service, text);
    let output = run(bare(&service).args(["config", "set", "jobs", "8"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let output = run(bare(&service).args(["config", "set", "namespace", "solutions"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let output = run(bare(&service).args(["-p", "staging", "config", "set", "output", "json"]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        std::fs::read_to_string(config_path(&service)).unwrap(),
        "# capfile settings, written by hand\n\n[profiles.default]\n# the local emulator\nbase_url = \"http://127.0.0.1:7878\" # for now\njobs = 8 # four at once\nnamespace = \"solutions\"\n\n[profiles.staging]\noutput = \"json\"\n"
    );
    let output = run(bare(&service).args(["config", "unset", "namespace"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let written = std::fs::read_to_string(config_path(&service)).unwrap();
    assert!(
        !written.contains("namespace") && written.contains("# the local emulator"),
        "{written}"
    );
    let output = run(bare(&service).args(["config", "profiles"]));
    assert_eq!(stdout(&output), "default\nstaging\n");
}

#[test]
fn config_set_refuses_bad_values_and_unknown_keys() {
    let service = Service::start();
    for (key, value, expected) in [
        ("jobs", "0", "jobs must be from 1 to 64"),
        ("retries", "many", "retries must be an integer from 0 to 20"),
        ("timeout", "86401", "timeout must be from 1 to 86400"),
        ("base_url", "http://example.com", "not loopback"),
        ("auth", "token", "auth must be one of basic, oauth"),
        ("output", "yaml", "output must be one of table, json, url"),
        ("body", "form", "body must be one of multipart, raw"),
        ("namespace", "a/b", "namespace"),
        (
            "colour",
            "x",
            "unknown setting `colour`; valid settings: base_url, auth, username, client_key",
        ),
        ("password_md5", "x", "is a secret"),
    ] {
        let output = run(bare(&service).args(["config", "set", key, value]));
        assert_eq!(output.status.code(), Some(2), "{key}={value}");
        let err = stderr(&output);
        assert!(err.contains(expected), "{key}={value}: {err}");
        assert!(err.contains("config.toml"), "names the file it left alone: {err}");
    }
    assert!(!config_path(&service).exists());
}

#[test]
fn config_list_shows_origins_and_never_a_secret() {
    let service = Service::start();
    login_basic(&service, "default");
    let md5 = md5_hex(PASSWORD);
    let output = run(bare(&service)
        .env("CAPFILE_NAMESPACE", "solutions")
        .args(["config", "list"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    for line in [
        "profile: default (default)",
        &format!("base_url: {}/ (file)", service.base_url()),
        "auth: basic (file)",
        "username: capfile (file)",
        "client_key: (not set)",
        "namespace: solutions (env CAPFILE_NAMESPACE)",
        "jobs: auto (default)",
        "jobs_max: 64 (default)",
        "http: auto (default)",
        "password_md5: (credentials file)",
    ] {
        assert!(out.lines().any(|l| l == line), "missing {line:?} in\n{out}");
    }
    assert!(!out.contains(md5.expose()));

    let output = run(bare(&service)
        .env("CAPFILE_PASSWORD", PASSWORD)
        .args(["config", "list", "--json"]));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("one JSON document");
    assert_eq!(
        doc["password_md5"],
        serde_json::json!({"value": null, "origin": "env", "variable": "CAPFILE_PASSWORD"})
    );
    assert_eq!(doc["jobs"], serde_json::json!({"value": "auto", "origin": "default"}));
    assert_eq!(doc["jobs_max"], serde_json::json!({"value": 64, "origin": "default"}));
    assert_eq!(
        doc["username"],
        serde_json::json!({"value": "capfile", "origin": "file"})
    );
    assert!(!stdout(&output).contains(md5.expose()));

    let output = run(bare(&service).args(["config", "get", "password_md5"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(!stdout(&output).contains(md5.expose()));
}

#[test]
fn a_malformed_config_names_the_file_line_and_column() {
    let service = Service::start();
    write_config(&service, "[profiles.default]\njobs = 4\nnamespace = rewards\n");
    let expected = format!("{}:3:13: invalid TOML", config_path(&service).display());
    for args in [
        &["upload", "--dry-run"][..],
        &["config", "list"],
        &["config", "set", "jobs", "2"],
        &["login"],
    ] {
        let mut cmd = service.capfile();
        cmd.args(args);
        if args[0] == "upload" {
            cmd.arg(sample("sample.png"));
        }
        let output = run(&mut cmd);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
        assert!(stderr(&output).contains(&expected), "{args:?}: {}", stderr(&output));
    }
    write_config(&service, "[profiles.default]\njobs = \"four\"\n");
    let output = run(service.capfile().args(["config", "get", "jobs"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("config.toml:2:8: jobs must be an integer from 1 to 64"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_unknown_profile_lists_the_existing_ones() {
    let service = Service::start();
    write_config(
        &service,
        "[profiles.default]\njobs = 4\n\n[profiles.staging]\njobs = 2\n",
    );
    for args in [
        &["-p", "prod", "upload"][..],
        &["-p", "prod", "config", "get", "jobs"],
        &["-p", "prod", "config", "list"],
    ] {
        let mut cmd = service.capfile();
        cmd.args(args);
        if args.contains(&"upload") {
            cmd.arg(sample("sample.png"));
        }
        let output = run(&mut cmd);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let err = stderr(&output);
        assert!(err.contains("profile `prod` is not in"), "{err}");
        assert!(err.contains("existing profiles: default, staging"), "{err}");
        assert!(err.contains("capfile -p prod login"), "{err}");
    }
    assert_eq!(service.stats().upload_requests, 0);
    let output = run(service
        .capfile()
        .env("CAPFILE_PROFILE", "prod")
        .args(["config", "unset", "jobs"]));
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn the_config_flag_and_variable_move_both_files() {
    let service = Service::start();
    let elsewhere = tempfile::tempdir().unwrap();
    let path = elsewhere.path().join("capfile.toml");
    let output = run(bare(&service).env("CAPFILE_CONFIG", &path).args(["config", "path"]));
    assert_eq!(stdout(&output), format!("{}\n", path.display()));
    let output = run(bare(&service)
        .arg("--config")
        .arg(&path)
        .args([
            "login",
            "--base-url",
            &service.base_url(),
            "--username",
            DEFAULT_USERNAME,
        ])
        .args(["--password-stdin", "--insecure-storage"])
        .write_stdin(PASSWORD));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(path.exists() && elsewhere.path().join("credentials.toml").exists());
    assert!(!config_dir(&service).exists());
    let output = run(bare(&service)
        .env("CAPFILE_CONFIG", &path)
        .arg("upload")
        .arg(sample("sample.png")));
    assert!(output.status.success(), "{}", stderr(&output));
}
