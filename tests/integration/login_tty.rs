//! Interactive `capfile login` on a pseudo-terminal: it asks for what the
//! flags did not give, and the secret is typed without echo.
//!
//! rexpect turns the terminal's echo off before starting the program; that
//! would hide the secret whatever capfile did, so the command runs through
//! `stty echo` first. The typed username then shows on the screen (echo is on)
//! and the password must not.
#![cfg(unix)]

use crate::common;

use std::process::Command;

use capfile::md5_hex;
use common::*;
use rexpect::session::spawn_command;

const USERNAME: &str = "till-7";
const PASSWORD: &str = "Hidden-Pw-42";

/// capfile on a terminal with echo on, in this test's private directories.
fn capfile_on_a_terminal(home: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("stty echo && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_capfile"))
        .args(args);
    common::isolate(&mut cmd, home);
    cmd.env("TERM", "dumb");
    cmd
}

#[test]
fn interactive_login_prompts_and_hides_the_password() {
    let service = Service::with_config(|config| {
        config.username = USERNAME.into();
        config.password = PASSWORD.into();
    });
    let home = service.home.path();
    let cmd = capfile_on_a_terminal(home, &["login", "--insecure-storage"]);
    let mut session = spawn_command(cmd, Some(20_000)).expect("capfile starts on a pty");
    let mut screen = String::new();

    screen += &session.exp_string("Base URL of the Capillary API host: ").unwrap();
    session.send_line(&service.base_url()).unwrap();
    screen += &session.exp_string("Authentication (basic or oauth) [basic]: ").unwrap();
    session.send_line("").unwrap();
    screen += &session.exp_string("Username (till login): ").unwrap();
    session.send_line(USERNAME).unwrap();
    screen += &session.exp_string("Password: ").unwrap();
    session.send_line(PASSWORD).unwrap();
    screen += &session.exp_eof().unwrap();
    let status = session.process().wait().unwrap();

    assert!(
        matches!(status, rexpect::process::WaitStatus::Exited(_, 0)),
        "{status:?}\n{screen}"
    );
    assert!(
        screen.contains(USERNAME),
        "echo is on, so typed answers show:\n{screen}"
    );
    assert!(screen.contains("logged in: profile `default`"), "{screen}");
    assert!(!screen.contains(PASSWORD), "the password was echoed:\n{screen}");
    assert!(!screen.contains(md5_hex(PASSWORD).expose()), "{screen}");

    // What was typed unseen is what was saved: an upload with it succeeds.
    let saved = std::fs::read_to_string(home.join("config/capfile/credentials.toml")).unwrap();
    assert!(saved.contains(md5_hex(PASSWORD).expose()));
    let output = run(bare_capfile(home).arg("upload").arg(sample("sample.png")));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(service.stats().uploads_stored, 1);
}

#[test]
fn flags_skip_their_questions_and_password_stdin_on_a_terminal_still_hides() {
    let service = Service::with_config(|config| {
        config.username = USERNAME.into();
        config.password = PASSWORD.into();
    });
    let home = service.home.path();
    let base = service.base_url();
    let cmd = capfile_on_a_terminal(
        home,
        &[
            "login",
            "--base-url",
            &base,
            "--username",
            USERNAME,
            "--password-stdin",
            "--insecure-storage",
        ],
    );
    let mut session = spawn_command(cmd, Some(20_000)).expect("capfile starts on a pty");
    let mut screen = session.exp_string("Password: ").unwrap();
    session.send_line(PASSWORD).unwrap();
    screen += &session.exp_eof().unwrap();
    assert!(!screen.contains("Base URL") && !screen.contains("Username"), "{screen}");
    assert!(screen.contains("logged in"), "{screen}");
    assert!(!screen.contains(PASSWORD), "{screen}");
}

/// With no keyring to save in, login says so at once and asks nothing.
#[test]
fn no_keyring_is_one_early_message_and_no_prompts() {
    let service = Service::start();
    let home = service.home.path();
    let cmd = capfile_on_a_terminal(home, &["login"]);
    let mut session = spawn_command(cmd, Some(20_000)).expect("capfile starts on a pty");
    let screen = session.exp_eof().unwrap();
    let status = session.process().wait().unwrap();
    assert!(
        matches!(status, rexpect::process::WaitStatus::Exited(_, 1)),
        "{status:?}\n{screen}"
    );
    assert!(!screen.contains("Base URL") && !screen.contains(": \r"), "{screen}");
    assert!(screen.contains("cannot use the OS keyring"), "{screen}");
    assert!(screen.contains("--insecure-storage"), "{screen}");
    assert!(screen.contains("CAPFILE_KEYRING=keyutils"), "{screen}");
    let errors = screen.matches("capfile: error:").count();
    assert_eq!(errors, 1, "{screen}");
}

/// Typos are asked again: a host without a scheme (https:// is offered), a
/// bad auth kind (`Basic` in any case is fine), an empty password; Ctrl-D
/// ends on a fresh line.
#[test]
fn typos_are_asked_again_and_ctrl_d_ends_on_a_new_line() {
    let service = Service::with_config(|config| {
        config.username = USERNAME.into();
        config.password = PASSWORD.into();
    });
    let home = service.home.path();
    let cmd = capfile_on_a_terminal(home, &["login", "--insecure-storage"]);
    let mut session = spawn_command(cmd, Some(20_000)).expect("capfile starts on a pty");
    let mut screen = String::new();

    screen += &session.exp_string("Base URL of the Capillary API host: ").unwrap();
    session.send_line("eu.api.capillarytech.com").unwrap();
    screen += &session
        .exp_string("Base URL of the Capillary API host [https://eu.api.capillarytech.com]: ")
        .unwrap();
    session.send_line(&service.base_url()).unwrap();
    screen += &session.exp_string("Authentication (basic or oauth) [basic]: ").unwrap();
    session.send_line("bsaic").unwrap();
    screen += &session.exp_string("Authentication (basic or oauth) [basic]: ").unwrap();
    session.send_line("Basic").unwrap();
    screen += &session.exp_string("Username (till login): ").unwrap();
    session.send_line(USERNAME).unwrap();
    screen += &session.exp_string("Password: ").unwrap();
    session.send_line("").unwrap();
    screen += &session.exp_string("empty").unwrap();
    screen += &session.exp_string("Password: ").unwrap();
    session.send_line(PASSWORD).unwrap();
    screen += &session.exp_eof().unwrap();
    let status = session.process().wait().unwrap();
    assert!(
        matches!(status, rexpect::process::WaitStatus::Exited(_, 0)),
        "{status:?}\n{screen}"
    );
    assert!(screen.contains("settings saved in"), "{screen}");
    assert!(!screen.contains(PASSWORD), "{screen}");
    // Saved as `config set` would: no `/` added after the host.
    let config = std::fs::read_to_string(home.join("config/capfile/config.toml")).unwrap();
    assert!(
        config.contains(&format!("base_url = \"{}\"", service.base_url().trim_end_matches('/'))),
        "{config}"
    );

    // Ctrl-D at a question: the error starts on a line of its own.
    let cmd = capfile_on_a_terminal(home, &["-p", "other", "login", "--insecure-storage"]);
    let mut session = spawn_command(cmd, Some(20_000)).expect("capfile starts on a pty");
    session.exp_string("Base URL of the Capillary API host: ").unwrap();
    session.send_control('d').unwrap();
    let screen = session.exp_eof().unwrap();
    assert!(screen.starts_with("\r\ncapfile: error: no answer"), "{screen:?}");
}
