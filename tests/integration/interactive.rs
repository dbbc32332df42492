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

/// The progress line of one uploaded file (`size` as shown), version 1.
fn uploaded(path: &std::path::Path, size: &str) -> String {
    format!("uploaded {} ({size}) as version 1\n", path.display())
}

#[test]
fn logout_twice_is_not_an_error_and_the_keyring_is_one_plain_line() {
    let service = Service::start();
    let nothing = format!(
        "profile `default`: nothing stored in {}; nothing to remove\n",
        service.home.path().join("config/capfile/credentials.toml").display()
    );
    for _ in 0..2 {
        // No keyring on this host is said only with -v, in plain words (no
        // zbus or os error text): one detail, one note.
        Test::new(bare(&service))
            .args(["-v", "logout"])
            .stderr(&format!(
                "cannot use the OS keyring (Secret Service): there is no D-Bus session to reach it on; not \
                 checked for a secret\n{nothing}"
            ))
            .run();
        Test::new(bare(&service)).arg("logout").stderr(&nothing).run();
    }
}

#[test]
fn config_list_says_the_keyring_error_in_plain_words() {
    let service = Service::start();
    // The keyring's error in capfile's words (no zbus or os error text), once.
    Test::new(bare(&service))
        .args(["config", "list"])
        .stdout(
            "profile: default (default)\n\
             base_url: (not set)\n\
             auth: basic (default)\n\
             username: (not set)\n\
             client_key: (not set)\n\
             namespace: rewards (default)\n\
             jobs: auto (default)\n\
             jobs_max: 64 (default)\n\
             retries: 3 (default)\n\
             timeout: 60 (default)\n\
             rate: (not set)\n\
             rate_wait: 300 (default)\n\
             output: table (default)\n\
             body: multipart (default)\n\
             http: auto (default)\n\
             manifest: (not set)\n\
             ca_bundle: (not set)\n\
             keyring: native (default)\n\
             policy: (not set)\n\
             password_md5: (not set)\n",
        )
        .stderr(NO_KEYRING)
        .run();
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
        .env("CAPFILE_USERNAME", capfile::testing::emulator::DEFAULT_USERNAME)
        .env("CAPFILE_PASSWORD", "not-the-password")
        .args(["-p", "demo", "upload"])
        .arg(sample("sample.png"))
        .status(4)
        .stderr_has("the environment's CAPFILE_PASSWORD was refused")
        .stderr_has("`capfile -p demo login`")
        .run();
    assert!(!stderr(&output).contains("set CAPFILE_PASSWORD"), "{}", stderr(&output));
}

/// What a terminal shows of `screen`, line by line: escape sequences removed,
/// split where the cursor returns or moves down.
#[cfg(target_os = "linux")]
/// The rows a terminal `cols` columns wide shows one drawn segment on: it
/// wraps at the width, counted in display columns (a CJK character takes
/// two).
pub(crate) fn terminal_rows(segment: &str, cols: usize) -> Vec<String> {
    use unicode_width::UnicodeWidthChar;
    let mut rows = vec![String::new()];
    let mut used = 0;
    for c in segment.chars() {
        let width = c.width().unwrap_or(0);
        if used + width > cols {
            rows.push(String::new());
            used = 0;
        }
        used += width;
        rows.last_mut().unwrap().push(c);
    }
    rows
}

pub(crate) fn drawn_lines(screen: &str) -> Vec<String> {
    let mut text = String::new();
    let mut chars = screen.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.peek() == Some(&'[') {
                chars.next();
                // Parameters, then one final byte from @ to ~.
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
                // A cursor move ends what was drawn on that line.
                text.push('\n');
            }
            continue;
        }
        text.push(c);
    }
    text.split(['\r', '\n']).map(str::to_string).collect()
}

// `script -qec` is util-linux's.
#[cfg(target_os = "linux")]
#[test]
fn at_60_columns_no_bar_line_wraps() {
    let service = Service::with_faults(capfile::testing::emulator::Faults {
        latency: std::time::Duration::from_millis(600),
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, sample_name) in ["sample.png", "sample.jpg", "sample.gif"].iter().enumerate() {
        let path = dir
            .path()
            .join(format!("a-rather-long-name-for-the-spring-campaign-banner-{i}.png"));
        std::fs::copy(sample(sample_name), &path).unwrap();
        files.push(path.display().to_string());
    }
    let command = format!(
        "stty cols 60 rows 40; {} upload -j 2 {} 2>&1",
        env!("CARGO_BIN_EXE_capfile"),
        files.join(" ")
    );
    let screen = service.screen_of(&command);
    assert!(screen.contains("files ["), "no total bar: {screen:?}");
    assert!(screen.contains("uploading ["), "no file bar: {screen:?}");
    // Synchronized updates where the terminal has them.
    assert!(screen.contains("\x1b[?2026h"), "{screen:?}");
    // indicatif pads each bar line to the width and lets the terminal move
    // to the next line, so the screen's lines are 60-column chunks: each one
    // must hold a whole bar, never the wrapped tail of one.
    for segment in drawn_lines(&screen) {
        // Bar frames only (a table row's URL is never shortened).
        if !segment.contains(" [") || segment.contains("://") {
            continue;
        }
        for line in terminal_rows(&segment, 60) {
            if line.trim().is_empty() {
                continue;
            }
            let line = line.trim_start();
            let whole = line.contains(" [")
                && line.contains(']')
                && (["uploading", "queued", "waiting", "wait "]
                    .iter()
                    .any(|p| line.starts_with(p))
                    || line.contains(" files ["));
            assert!(whole, "a bar wrapped at 60 columns: {line:?}\n{screen:?}");
        }
    }
}

/// `en/banner.png` and `fr/banner.png` under one directory.
fn tree_repeating_a_base_name() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for lang in ["en", "fr"] {
        std::fs::create_dir(dir.path().join(lang)).unwrap();
        std::fs::copy(sample("sample.png"), dir.path().join(lang).join("banner.png")).unwrap();
    }
    dir
}

#[test]
fn a_tree_repeating_a_base_name_names_the_way_out() {
    let service = Service::start();
    let dir = tree_repeating_a_base_name();
    service
        .test()
        .args(["upload", "-r"])
        .arg(dir.path())
        .status(2)
        .stderr_has("hint: pass --name-from-path")
        .run();
    assert_eq!(service.stats().uploads_stored, 0);
    // The rows in input order; the progress lines as each upload ends.
    let url = service.url_like("png");
    service
        .test()
        .args(["upload", "-r", "--name-from-path"])
        .arg(dir.path())
        .stdout_like(&format!("en_banner.png\t1\t{url}\nfr_banner.png\t1\t{url}\n"))
        .stderr_has(&uploaded(&dir.path().join("en/banner.png"), "426 B"))
        .stderr_has(&uploaded(&dir.path().join("fr/banner.png"), "426 B"))
        .stderr_has("uploaded 2 of 2 files, 852 B in ")
        .run();
}

#[test]
fn files_from_a_list_or_nul_separated_standard_input() {
    let service = Service::start();
    let dir = tempfile::tempdir().unwrap();
    let spaced = dir.path().join("with space.png");
    std::fs::copy(sample("sample.png"), &spaced).unwrap();
    let list = dir.path().join("list.txt");
    std::fs::write(
        &list,
        format!("{}\n\n{}\n", spaced.display(), sample("sample.jpg").display()),
    )
    .unwrap();
    service
        .test()
        .args(["upload", "--files-from"])
        .arg(&list)
        .stdout_like(&format!(
            "with space.png\t1\t{}\nsample.jpg\t1\t{}\n",
            service.url_like("png"),
            service.url_like("jpg")
        ))
        .stderr_has(&uploaded(&spaced, "426 B"))
        .stderr_has(&uploaded(&sample("sample.jpg"), "1.4 KiB"))
        .stderr_has("uploaded 2 of 2 files, 1.9 KiB in ")
        .run();

    // find -print0 | capfile upload --files-from - -0
    let nul = format!(
        "{}\0{}\0",
        sample("sample.gif").display(),
        sample("sample.webp").display()
    );
    service
        .test()
        .args(["upload", "--files-from", "-", "-0"])
        .stdin(nul)
        .stdout_like(&format!(
            "sample.gif\t1\t{}\nsample.webp\t1\t{}\n",
            service.url_like("gif"),
            service.url_like("webp")
        ))
        .stderr_has(&format!("uploaded {} (", sample("sample.gif").display()))
        .stderr_has(&format!("uploaded {} (", sample("sample.webp").display()))
        .stderr_has("uploaded 2 of 2 files, ")
        .run();

    service
        .test()
        .args(["upload", "--files-from"])
        .arg(dir.path().join("missing.txt"))
        .status(2)
        .stderr_has("--files-from")
        .stderr_has("no such file")
        .run();
}

#[test]
fn serve_on_a_port_in_use_suggests_port_0() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let home = tempfile::tempdir().unwrap();
    Test::new(bare_capfile(home.path()))
        .args(["serve", "--addr", &addr, "--data"])
        .arg(home.path().join("data"))
        .status(1)
        .stderr_has("hint: ")
        .stderr_has("--addr 127.0.0.1:0")
        .run();
}

#[test]
fn stdin_uploads_are_reported_under_their_name() {
    let service = Service::start();
    let png = std::fs::read(sample("sample.png")).unwrap();
    service
        .test()
        .args(["upload", "-", "--name", "from-stdin.png"])
        .stdin(png)
        .stdout_like(&format!("from-stdin.png\t1\t{}\n", service.url_like("png")))
        .stderr_like("uploaded from-stdin.png (426 B) as version 1\nuploaded 1 of 1 file, 426 B in [..] s\n")
        .run();
}

#[test]
fn typos_in_keys_and_profiles_get_a_suggestion() {
    let service = Service::start();
    Test::new(bare(&service))
        .args(["config", "get", "base_ur"])
        .status(2)
        .stderr_has("hint: did you mean `base_url`?")
        .run();
    Test::new(bare(&service))
        .args(["-p", "staging", "config", "set", "namespace", "rewards"])
        .status(0)
        .run();
    Test::new(bare(&service))
        .args(["-p", "stagin", "config", "unset", "namespace"])
        .status(2)
        .stderr_has("hint: did you mean `-p staging`?")
        .run();
}

/// Every name a user types gets the same did-you-mean, worded for where it
/// was typed: a key after `config get/set/unset`, a profile after `-p` or as
/// `delete-profile`'s argument, an aws-style table in config.toml.
#[test]
fn every_typed_name_gets_one_suggestion_rule() {
    let service = Service::start();
    Test::new(bare(&service))
        .args(["-p", "prod", "config", "set", "namespace", "rewards"])
        .status(0)
        .run();
    let config_toml = service.home.path().join("config/capfile/config.toml");
    let before = std::fs::read(&config_toml).unwrap();
    for (args, hint) in [
        (&["config", "set", "job", "8"][..], "hint: did you mean `jobs`? ("),
        (&["config", "get", "namspace"], "hint: did you mean `namespace`?"),
        (&["config", "unset", "Jobs"], "hint: did you mean `jobs`?"),
        (&["-p", "prdo", "status"], "hint: did you mean `-p prod`?"),
        (&["-p", "PROD", "config", "list"], "hint: did you mean `-p prod`?"),
        (&["config", "delete-profile", "prdo"], "hint: did you mean `prod`?"),
        (&["-p", "prdo", "logout"], "hint: did you mean `-p prod`?"),
    ] {
        let output = Test::new(bare(&service)).args(args).status(2).stderr_has(hint).run();
        let err = stderr(&output);
        assert_eq!(
            err.lines().filter(|l| l.starts_with("capfile: error:")).count(),
            1,
            "{args:?}: {err}"
        );
        assert!(!err.contains("-p prod`?") || !args.contains(&"delete-profile"), "{err}");
    }
    assert_eq!(std::fs::read(&config_toml).unwrap(), before, "nothing was changed");
    for (table, hint) in [
        ("[default]\nnamespace = \"x\"\n", "did you mean [profiles.default]?"),
        ("[staging]\nnamespace = \"x\"\n", "did you mean [profiles.staging]?"),
    ] {
        std::fs::write(&config_toml, table).unwrap();
        Test::new(bare(&service))
            .args(["config", "list"])
            .status(2)
            .stderr_has(hint)
            .run();
    }
}

#[test]
fn delete_profile_removes_its_settings_and_secret() {
    let service = Service::start();
    Test::new(bare(&service))
        .args([
            "-p",
            "old",
            "login",
            "--insecure-storage",
            "--base-url",
            &service.base_url(),
        ])
        .args([
            "--username",
            capfile::testing::emulator::DEFAULT_USERNAME,
            "--password-stdin",
        ])
        .stdin(PASSWORD)
        .stderr(&logged_in_insecure("old", &service.base_url(), service.home.path()))
        .run();
    Test::new(bare(&service))
        .args(["-p", "kept", "config", "set", "namespace", "rewards"])
        .status(0)
        .run();
    let dir = service.home.path().join("config/capfile");
    Test::new(bare(&service))
        .args(["config", "delete-profile", "old"])
        .stderr(&format!(
            "capfile: warning: cannot use the OS keyring (Secret Service): there is no D-Bus session to reach it \
             on; not checked for a secret of profile `old`\n\
             removed the secret of profile `old` from {}\n\
             deleted profile `old` from {}\n",
            dir.join("credentials.toml").display(),
            dir.join("config.toml").display()
        ))
        .run();
    Test::new(bare(&service))
        .args(["config", "profiles"])
        .stdout("kept\n")
        .run();
    let saved = std::fs::read_to_string(service.home.path().join("config/capfile/credentials.toml")).unwrap();
    assert!(!saved.contains("old"), "{saved}");
    Test::new(bare(&service))
        .args(["config", "delete-profile", "old"])
        .status(2)
        .stderr(&format!(
            "capfile: error: profile `old` is not in {}; existing profiles: kept\n\
             hint: create it with `capfile -p old login` or `capfile -p old config set KEY VALUE`\n",
            dir.join("config.toml").display()
        ))
        .run();
}

#[test]
fn clap_errors_share_capfile_s_prefix() {
    let home = tempfile::tempdir().unwrap();
    let output = Test::new(bare_capfile(home.path()))
        .args(["upload", "--bogus"])
        .status(2)
        .stderr_has("capfile: error: unexpected argument '--bogus'")
        .run();
    assert!(!stderr(&output).starts_with("error:"), "{}", stderr(&output));
}

#[test]
fn version_says_commit_target_and_tls() {
    let home = tempfile::tempdir().unwrap();
    let output = Test::new(bare_capfile(home.path()))
        .arg("version")
        .stdout_like(&format!(
            "capfile {}\ncommit: [..]\ntarget: [..]-[..]\ntls: rustls (ring crypto provider)\n",
            env!("CARGO_PKG_VERSION")
        ))
        .run();
    let out = stdout(&output);
    assert!(!out.contains("commit: \n"), "a commit is named:\n{out}");
}
