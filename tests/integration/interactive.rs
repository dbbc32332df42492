//! Issue 13's interactive polish through the built binary: logout twice,
//! keyring errors in capfile's words, hints that name the profile and the
//! secret's source, login's stored base URL, inputs from a list.
//!
//! These run with no keyring reachable (`common::isolate` points D-Bus away).

use crate::common;

use common::*;

/// `capfile` in a private home with no keyring reachable.
fn bare(service: &Service) -> assert_cmd::Command {
    bare_capfile(service.home.path())
}

#[test]
fn logout_twice_is_not_an_error_and_the_keyring_is_one_plain_line() {
    let service = Service::start();
    for _ in 0..2 {
        let output = Test::new(bare(&service))
            .arg("logout")
            .status(0)
            .stderr_has("nothing stored")
            .stderr_has("there is no D-Bus session")
            .run();
        let err = stderr(&output);
        assert!(!err.contains("zbus") && !err.contains("os error"), "raw D-Bus text:\n{err}");
        assert_eq!(err.lines().count(), 2, "one warning, one note:\n{err}");
    }
}

#[test]
fn config_list_says_the_keyring_error_in_plain_words() {
    let service = Service::start();
    let output = Test::new(bare(&service)).args(["config", "list"]).status(0).run();
    let err = stderr(&output);
    assert!(!err.contains("zbus") && !err.contains("os error"), "raw D-Bus text:\n{err}");
    assert!(err.contains("cannot use the OS keyring"), "{err}");
}

#[test]
fn no_credentials_names_the_profile_in_use() {
    let service = Service::start();
    Test::new(bare(&service))
        .args(["-p", "demo", "config", "set", "base_url", &service.base_url()])
        .status(0)
        .run();
    Test::new(bare(&service))
        .args(["-p", "demo", "config", "set", "username", "someone"])
        .status(0)
        .run();
    Test::new(bare(&service))
        .args(["-p", "demo", "upload"])
        .arg(sample("sample.png"))
        .status(4)
        .stderr_has("hint: run `capfile -p demo login`")
        .run();
}

#[test]
fn a_refused_password_from_the_environment_says_so() {
    let service = Service::start();
    Test::new(bare(&service))
        .args(["-p", "demo", "config", "set", "namespace", "rewards"])
        .status(0)
        .run();
    let output = Test::new(bare(&service))
        .env("CAPFILE_BASE_URL", service.base_url())
        .env("CAPFILE_USERNAME", capfile::emulator::DEFAULT_USERNAME)
        .env("CAPFILE_PASSWORD", "not-the-password")
        .args(["-p", "demo", "upload"])
        .arg(sample("sample.png"))
        .status(4)
        .stderr_has("the environment's CAPFILE_PASSWORD was refused")
        .stderr_has("`capfile -p demo login`")
        .run();
    assert!(!stderr(&output).contains("set CAPFILE_PASSWORD"), "{}", stderr(&output));
}
