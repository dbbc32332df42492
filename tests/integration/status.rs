//! `capfile status`: the profile's setup, checked against the emulator, with
//! each exit status (0 fine, 4 credentials missing or refused, 1 host
//! unreachable), no secret printed, nothing created, and the `--json` shape.

use crate::common;

use capfile::emulator::{DEFAULT_CLIENT_KEY, DEFAULT_CLIENT_SECRET, DEFAULT_USERNAME};
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

/// Standard output with runs of spaces made one, so the checks do not depend
/// on the column widths.
fn text(output: &std::process::Output) -> String {
    stdout(output)
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn json(output: &std::process::Output) -> Value {
    serde_json::from_str(&stdout(output)).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", stdout(output)))
}

#[test]
fn basic_credentials_in_the_environment_are_fine_and_the_password_is_not_checked() {
    let service = Service::start();
    let output = service.test().arg("status").status(0).run();
    let out = text(&output);
    assert!(out.contains(&service.base_url()), "{out}");
    assert!(out.contains("env CAPFILE_BASE_URL"), "{out}");
    assert!(
        out.contains(&format!("username: {DEFAULT_USERNAME} (env CAPFILE_USERNAME)")),
        "{out}"
    );
    assert!(out.contains("from env CAPFILE_PASSWORD: ok"), "{out}");
    assert!(out.contains("answers over plain HTTP"), "{out}");
    assert!(
        out.contains("password: not checked: the file service can only check a Basic password with an upload; if it is wrong, the first upload fails with 401 (exit 4)"),
        "{out}"
    );
    // A check creates nothing.
    assert_eq!(service.stats().uploads_stored, 0);
}

#[test]
fn oauth_credentials_in_the_environment_get_a_token() {
    let service = Service::start();
    let output = oauth(&service, DEFAULT_CLIENT_SECRET).status(0).run();
    assert_no_client_secret(&output);
    let out = text(&output);
    assert!(
        out.contains("client_key: capfile-local (env CAPFILE_CLIENT_KEY)"),
        "{out}"
    );
    assert!(out.contains("token: ok: the token endpoint gave a token"), "{out}");
    assert_eq!(service.stats().token_requests, 1);
    assert_eq!(service.stats().uploads_stored, 0);
}

#[test]
fn a_wrong_oauth_secret_is_refused_with_exit_4() {
    let service = Service::start();
    let output = oauth(&service, "wrong-secret").status(4).run();
    assert_no_client_secret(&output);
    let out = text(&output);
    assert!(out.contains("token: FAILED: the token endpoint refused"), "{out}");
}

#[test]
fn no_credentials_is_exit_4_and_says_how_to_log_in() {
    let service = Service::start();
    let mut cmd = bare_capfile(service.home.path());
    cmd.env("CAPFILE_BASE_URL", service.base_url());
    let output = Test::new(cmd).arg("status").status(4).run();
    let out = text(&output);
    assert!(out.contains("username: not set"), "{out}");
    assert!(out.contains("not found: FAILED: no credentials"), "{out}");
    assert!(out.contains("capfile login"), "{out}");

    // Without even a base URL.
    let output = Test::new(bare_capfile(service.home.path()))
        .arg("status")
        .status(4)
        .run();
    assert!(text(&output).contains("base URL: not set"), "{}", stdout(&output));
}

#[test]
fn a_host_that_does_not_answer_is_exit_1() {
    let home = tempfile::tempdir().unwrap();
    let output = Test::new(capfile_for(&dead_port(), home.path()))
        .arg("status")
        .status(1)
        .run();
    let out = text(&output);
    assert!(out.contains("host: FAILED: cannot connect to 127.0.0.1:"), "{out}");

    // OAuth: no token is asked for when the host does not answer.
    let mut cmd = bare_capfile(home.path());
    cmd.env("CAPFILE_BASE_URL", dead_port())
        .env("CAPFILE_CLIENT_KEY", DEFAULT_CLIENT_KEY)
        .env("CAPFILE_CLIENT_SECRET", DEFAULT_CLIENT_SECRET);
    let output = Test::new(cmd).arg("status").status(1).run();
    assert_no_client_secret(&output);
    assert!(stdout(&output).contains("not checked: the host does not answer"));
}

#[test]
fn json_has_one_entry_per_profile_and_the_exit() {
    let service = Service::start();
    let output = oauth(&service, DEFAULT_CLIENT_SECRET).arg("--json").status(0).run();
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
    let output = service.test().args(["status", "--json"]).status(0).run();
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
        .status(0)
        .run();
    // `gone`: a profile whose host does not answer, and no secret.
    Test::new(bare_capfile(home))
        .args(["-p", "gone", "config", "set", "base_url", &dead_port()])
        .status(0)
        .run();

    let output = Test::new(bare_capfile(home))
        .args(["status", "-p", "ok"])
        .status(0)
        .run();
    assert!(stdout(&output).contains("from credentials file"), "{}", stdout(&output));

    let output = Test::new(bare_capfile(home))
        .args(["status", "--all", "--json"])
        .status(4)
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
        Test::new(bare_capfile(home))
            .args([
                "-p",
                name,
                "login",
                "--base-url",
                &service.base_url(),
                "--auth",
                "oauth",
            ])
            .args([
                "--client-key",
                DEFAULT_CLIENT_KEY,
                "--client-secret-stdin",
                "--insecure-storage",
            ])
            .stdin(DEFAULT_CLIENT_SECRET)
            .status(0)
            .run();
    }
    // Every saved secret becomes one the emulator refuses.
    let file = home.join("config").join("capfile").join("credentials.toml");
    let saved = std::fs::read_to_string(&file).unwrap();
    assert_eq!(saved.matches(DEFAULT_CLIENT_SECRET).count(), names.len(), "{saved}");
    std::fs::write(&file, saved.replace(DEFAULT_CLIENT_SECRET, "wrong-secret")).unwrap();

    let output = Test::new(bare_capfile(home)).args(["status", "--all"]).status(4).run();
    assert_no_client_secret(&output);
    let out = text(&output);
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
