//! `capfile status`: the profile's setup, checked against the emulator, with
//! each exit status (0 fine, 4 credentials missing or refused, 1 host
//! unreachable), no secret printed, nothing created, and the `--json` shape.

use crate::common;

use capfile::testing::emulator::{DEFAULT_CLIENT_KEY, DEFAULT_CLIENT_SECRET, DEFAULT_USERNAME};
use common::*;
use serde_json::Value;

/// `capfile status` with OAuth credentials for the emulator in the environment.
fn oauth(service: &Service, secret: &str) -> Test {
    let mut cmd = bare_capfile(service.home.path());
    cmd.env("CAPFILE_BASE_URL", service.base_url())
        .env("CAPFILE_CLIENT_KEY", DEFAULT_CLIENT_KEY)
        .env("CAPFILE_CLIENT_SECRET", secret);
    Test::new(cmd).arg("status")
}

/// Fails when the OAuth client secret shows anywhere (assert_clean covers the
/// Basic password).
fn assert_no_client_secret(output: &std::process::Output) {
    for text in [stdout(output), stderr(output)] {
        assert!(
            !text.contains(DEFAULT_CLIENT_SECRET),
            "the client secret leaked:\n{text}"
        );
        assert!(!text.contains("wrong-secret"), "the client secret leaked:\n{text}");
    }
}

/// A loopback port where nothing listens.
fn dead_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

/// The lines of a text status that say where the secret comes from, for a
/// secret in the environment.
const NO_KEYRING_ENV: &str = "warning: not used: the secret comes from env";
const NO_DBUS: &str = "cannot use the OS keyring (Secret Service): there is no D-Bus session to reach it on";
const HOST_OK: &str =
    "ok: answers over plain HTTP; the upload endpoint answered HTTP 405 to a GET, which creates nothing";
const PASSWORD_NOT_CHECKED: &str = "not checked: the file service can only check a Basic password with an upload; \
                                    if it is wrong, the first upload fails with 401 (exit 4) and nothing is stored";

/// The text status of the default profile with Basic credentials for
/// `user` in the environment, at `base_url`, whose host line is `host`.
fn basic_status(base_url: &str, user: &str, host: &str) -> String {
    format!(
        "profile default (default)\n  \
         base URL:       {base_url}/ (env CAPFILE_BASE_URL)\n  \
         auth:           basic (default)\n  \
         username:       {user} (env CAPFILE_USERNAME)\n  \
         password_md5:   from env CAPFILE_PASSWORD: ok: readable, and may be sent to this host\n  \
         keyring:        {NO_KEYRING_ENV} CAPFILE_PASSWORD; {NO_DBUS}\n  \
         host:           {host}\n  \
         password:       {PASSWORD_NOT_CHECKED}\n"
    )
}

/// The text status of the default profile with OAuth credentials in the
/// environment, at `base_url`, up to its host line `host`.
fn oauth_status(base_url: &str, host: &str) -> String {
    format!(
        "profile default (default)\n  \
         base URL:       {base_url}/ (env CAPFILE_BASE_URL)\n  \
         auth:           oauth (default)\n  \
         client_key:     {DEFAULT_CLIENT_KEY} (env CAPFILE_CLIENT_KEY)\n  \
         client_secret:  from env CAPFILE_CLIENT_SECRET: ok: readable, and may be sent to this host\n  \
         keyring:        {NO_KEYRING_ENV} CAPFILE_CLIENT_SECRET; {NO_DBUS}\n  \
         host:           {host}\n"
    )
}

fn json(output: &std::process::Output) -> Value {
    serde_json::from_str(&stdout(output)).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", stdout(output)))
}

#[test]
fn basic_credentials_in_the_environment_are_fine_and_the_password_is_not_checked() {
    let service = Service::start();
    service
        .test()
        .arg("status")
        .stdout(&basic_status(&service.base_url(), DEFAULT_USERNAME, HOST_OK))
        .run();
    // A check creates nothing.
    assert_eq!(service.stats().uploads_stored, 0);
}

#[test]
fn oauth_credentials_in_the_environment_get_a_token() {
    let service = Service::start();
    let output = oauth(&service, DEFAULT_CLIENT_SECRET)
        .stdout(&format!(
            "{}  token:          ok: the token endpoint gave a token\n",
            oauth_status(&service.base_url(), HOST_OK)
        ))
        .run();
    assert_no_client_secret(&output);
    assert_eq!(service.stats().token_requests, 1);
    assert_eq!(service.stats().uploads_stored, 0);
}

#[test]
fn a_wrong_oauth_secret_is_refused_with_exit_4() {
    let service = Service::start();
    let output = oauth(&service, "wrong-secret")
        .status(4)
        .stdout_like(&format!(
            "{}  token:          FAILED: the token endpoint refused the client key and secret (the client key or \
             secret was refused: Invalid client key and secret (request id [..])); the secret in the environment's \
             CAPFILE_CLIENT_SECRET was refused: check its value, or unset it to use the one `capfile login` saves\n",
            oauth_status(&service.base_url(), HOST_OK)
        ))
        .run();
    assert_no_client_secret(&output);
}

#[test]
fn no_credentials_is_exit_4_and_says_how_to_log_in() {
    let service = Service::start();
    let mut cmd = bare_capfile(service.home.path());
    cmd.env("CAPFILE_BASE_URL", service.base_url());
    Test::new(cmd)
        .arg("status")
        .status(4)
        .stdout(&format!(
            "profile default (default)\n  \
             base URL:       {}/ (env CAPFILE_BASE_URL)\n  \
             auth:           basic (default)\n  \
             username:       not set\n  \
             password_md5:   not found: FAILED: no credentials: profile `default` is not logged in and the \
             environment has none; run `capfile login`, or set CAPFILE_USERNAME and CAPFILE_PASSWORD (or \
             CAPFILE_CLIENT_KEY and CAPFILE_CLIENT_SECRET)\n  \
             keyring:        FAILED: {NO_DBUS}\n  \
             host:           {HOST_OK}\n  \
             password:       not checked: no credentials\n",
            service.base_url()
        ))
        .run();

    // Without even a base URL.
    Test::new(bare_capfile(service.home.path()))
        .arg("status")
        .status(4)
        .stdout(&format!(
            "profile default (default)\n  \
             base URL:       not set\n  \
             auth:           basic (default)\n  \
             username:       not set\n  \
             password_md5:   not found: FAILED: profile `default` has no base URL: run `capfile -p default login`, \
             or set CAPFILE_BASE_URL\n  \
             keyring:        FAILED: {NO_DBUS}\n  \
             host:           not checked: no base URL\n  \
             password:       not checked: no base URL\n"
        ))
        .run();
}

#[test]
fn a_host_that_does_not_answer_is_exit_1() {
    let home = tempfile::tempdir().unwrap();
    let dead = dead_port();
    let host = format!(
        "FAILED: cannot connect to {}: [..]",
        dead.strip_prefix("http://").unwrap()
    );
    Test::new(capfile_for(&dead, home.path()))
        .arg("status")
        .status(1)
        .stdout_like(&basic_status(&dead, "u", &host))
        .run();

    // OAuth: no token is asked for when the host does not answer.
    let mut cmd = bare_capfile(home.path());
    cmd.env("CAPFILE_BASE_URL", &dead)
        .env("CAPFILE_CLIENT_KEY", DEFAULT_CLIENT_KEY)
        .env("CAPFILE_CLIENT_SECRET", DEFAULT_CLIENT_SECRET);
    let output = Test::new(cmd)
        .arg("status")
        .status(1)
        .stdout_like(&format!(
            "{}  token:          not checked: the host does not answer\n",
            oauth_status(&dead, &host)
        ))
        .run();
    assert_no_client_secret(&output);
}

#[test]
fn json_has_one_entry_per_profile_and_the_exit() {
    let service = Service::start();
    let output = oauth(&service, DEFAULT_CLIENT_SECRET).arg("--json").stdout_any().run();
    assert_no_client_secret(&output);
    let doc = json(&output);
    assert_eq!(doc["exit"], 0);
    let profiles = doc["profiles"].as_array().unwrap();
    assert_eq!(profiles.len(), 1);
    let p = &profiles[0];
    assert_eq!(p["profile"], "default");
    assert_eq!(p["profile_origin"]["kind"], "default");
    assert_eq!(p["base_url"]["value"], format!("{}/", service.base_url()));
    assert_eq!(p["base_url"]["origin"]["kind"], "env");
    assert_eq!(p["base_url"]["origin"]["variable"], "CAPFILE_BASE_URL");
    assert_eq!(p["auth"]["value"], "oauth");
    assert_eq!(p["identity"]["key"], "client_key");
    assert_eq!(p["identity"]["value"], DEFAULT_CLIENT_KEY);
    assert_eq!(p["secret"]["key"], "client_secret");
    assert_eq!(p["secret"]["source"]["kind"], "env");
    assert_eq!(p["secret"]["source"]["variable"], "CAPFILE_CLIENT_SECRET");
    assert_eq!(p["secret"]["check"]["ok"], true);
    assert_eq!(p["host"]["ok"], true);
    assert_eq!(p["token"]["ok"], true);
    assert!(p["keyring"]["ok"].is_boolean(), "{p}");
    assert_eq!(p["exit"], 0);

    // A Basic profile has a `password` entry that was not checked.
    let output = service.test().args(["status", "--json"]).stdout_any().run();
    let p = &json(&output)["profiles"][0];
    assert_eq!(p["password"]["ok"], Value::Null);
    assert!(p.get("token").is_none(), "{p}");
}

#[test]
fn all_checks_every_profile_and_the_worst_exit_wins() {
    let service = Service::start();
    let home = service.home.path();
    // `ok`: logged in with the secret in credentials.toml.
    Test::new(bare_capfile(home))
        .args(["-p", "ok", "login", "--base-url", &service.base_url()])
        .args(["--username", DEFAULT_USERNAME, "--password-stdin", "--insecure-storage"])
        .stdin(PASSWORD)
        .stderr(&logged_in_insecure("ok", &service.base_url(), home))
        .run();
    // `gone`: a profile whose host does not answer, and no secret.
    Test::new(bare_capfile(home))
        .args(["-p", "gone", "config", "set", "base_url", &dead_port()])
        .status(0)
        .run();

    Test::new(bare_capfile(home))
        .args(["status", "-p", "ok"])
        .stdout(&format!(
            "profile ok (flag)\n  \
             base URL:       {}/ (file)\n  \
             auth:           basic (file)\n  \
             username:       {DEFAULT_USERNAME} (file)\n  \
             password_md5:   from credentials file {credentials}: ok: readable, and may be sent to this host\n  \
             keyring:        warning: not used: the secret comes from credentials file {credentials}; {NO_DBUS}\n  \
             host:           {HOST_OK}\n  \
             password:       {PASSWORD_NOT_CHECKED}\n",
            service.base_url(),
            credentials = home.join("config/capfile/credentials.toml").display(),
        ))
        .run();

    let output = Test::new(bare_capfile(home))
        .args(["status", "--all", "--json"])
        .status(4)
        .stdout_any()
        .run();
    let doc = json(&output);
    let profiles = doc["profiles"].as_array().unwrap();
    let names: Vec<&str> = profiles.iter().map(|p| p["profile"].as_str().unwrap()).collect();
    assert_eq!(names, ["ok", "gone"]);
    assert_eq!(profiles[0]["exit"], 0);
    assert_eq!(profiles[0]["secret"]["source"]["kind"], "credentials_file");
    assert_eq!(profiles[1]["exit"], 4);
    assert_eq!(profiles[1]["host"]["ok"], false);
    assert_eq!(doc["exit"], 4);
    assert_eq!(service.stats().uploads_stored, 0);
}

/// Each profile's refused secret gets that profile's own hint, naming where the
/// secret came from and the `login` that replaces it: not the first profile's
/// hint for every one (status --all checks several profiles in one process).
#[test]
fn all_gives_each_refused_profile_its_own_login_hint() {
    let service = Service::start();
    let home = service.home.path();
    let names = ["alpha", "beta", "gamma"];
    for name in names {
        common::login_oauth(&service, name);
    }
    // Every saved secret becomes one the emulator refuses.
    let file = home.join("config").join("capfile").join("credentials.toml");
    let saved = std::fs::read_to_string(&file).unwrap();
    assert_eq!(saved.matches(DEFAULT_CLIENT_SECRET).count(), names.len(), "{saved}");
    std::fs::write(&file, saved.replace(DEFAULT_CLIENT_SECRET, "wrong-secret")).unwrap();

    let output = Test::new(bare_capfile(home))
        .args(["status", "--all"])
        .status(4)
        .stdout_any()
        .run();
    assert_no_client_secret(&output);
    let out = stdout(&output);
    let tokens: Vec<&str> = out.lines().filter(|line| line.contains("token:")).collect();
    assert_eq!(tokens.len(), names.len(), "{out}");
    for (name, line) in names.iter().zip(&tokens) {
        let hint = format!(
            "the secret saved in {} for profile `{name}` was refused: run `capfile -p {name} login` again",
            file.display()
        );
        assert!(
            line.contains("the token endpoint refused the client key and secret"),
            "{line}"
        );
        assert!(line.contains(&hint), "{name}: {line}");
        for other in names.iter().filter(|other| *other != name) {
            assert!(!line.contains(&format!("`capfile -p {other} login`")), "{name}: {line}");
        }
    }
}
