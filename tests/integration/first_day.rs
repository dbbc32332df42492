//! The first day with a real account (issue 21): errors that agree with
//! themselves and never go missing.

use crate::common;

use common::*;

/// A loopback base URL where nothing listens (a port that was just free).
fn dead_base_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

/// `-q` drops progress and the summary, never an error: every input that
/// failed is named on standard error, whatever the batch size, retries or
/// output format.
#[test]
fn quiet_never_hides_a_failure() {
    let home = tempfile::tempdir().unwrap();
    let base = dead_base_url();
    let files = ["sample.png", "sample.jpg", "sample.gif"].map(sample);
    for count in [1, 2, 3] {
        for retries in ["0", "1"] {
            for output in ["table", "url", "json"] {
                let out = run(capfile_for(&base, home.path())
                    .args(["-q", "upload", "--retries", retries, "-o", output])
                    .args(&files[..count]));
                let err = stderr(&out);
                assert_eq!(out.status.code(), Some(1), "{count} {retries} {output}: {err}");
                assert!(stdout(&out).is_empty(), "{count}: {}", stdout(&out));
                assert!(
                    err.contains("127.0.0.1"),
                    "the cause is said ({count}, {retries}, {output}): {err:?}"
                );
                for file in &files[..count] {
                    assert!(
                        err.contains(&*file.to_string_lossy()),
                        "{} is named ({count}, {retries}, {output}): {err:?}",
                        file.display()
                    );
                }
                assert!(!err.contains("uploaded 0 of"), "no summary with -q: {err}");
            }
        }
    }
}

/// And a quiet run that succeeds says nothing at all on standard error.
#[test]
fn quiet_success_is_silent() {
    let service = Service::start();
    service
        .test()
        .args(["-q", "upload", "-o", "url"])
        .arg(sample("sample.png"))
        .stdout_like(&format!("{}\n", service.url_like("png")))
        .stderr("")
        .run();
}

/// Attempts and retries are counted one way everywhere: every "retrying"
/// line is a retry that happened, the summary's `retries: N` counts the same
/// lines, and the fail-fast stop speaks of attempts, which fits a batch of one.
#[test]
fn retry_lines_and_the_retries_count_agree() {
    let home = tempfile::tempdir().unwrap();
    let base = dead_base_url();
    let files = ["sample.png", "sample.jpg", "sample.gif"].map(sample);
    for count in [1, 3] {
        for retries in [0u32, 1, 2, 3, 5] {
            let out = run(capfile_for(&base, home.path())
                .args(["upload", "-j", "1", "--retries", &retries.to_string()])
                .args(&files[..count]));
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(1), "{err}");
            let retry_lines = err.lines().filter(|l| l.contains("; retrying in ")).count();
            let counted = err
                .lines()
                .find_map(|l| l.strip_prefix("retries: "))
                .map_or(0, |n| n.parse::<usize>().unwrap());
            assert_eq!(retry_lines, counted, "{count} files, --retries {retries}:\n{err}");
            assert!(retry_lines <= retries as usize * count, "{err}");
            assert!(!err.contains("uploads in a row"), "{err}");
            // Three systemic attempts in a row stop the batch: a batch of one
            // gets there only with two retries or more.
            let attempts = if count == 1 { retries as usize + 1 } else { 3 };
            let stop = err.lines().find(|l| l.contains("stopped after"));
            if attempts >= 3 {
                let stop = stop.unwrap_or_else(|| panic!("a stop line:\n{err}"));
                assert!(
                    stop.contains("stopped after 3 failed attempts in a row: connection refused"),
                    "{stop}"
                );
            } else {
                assert_eq!(stop, None, "{err}");
                assert_eq!(retry_lines, retries as usize, "{err}");
            }
        }
    }
}

/// An empty secret (`CAPFILE_PASSWORD=`, as CI gives a fork's pull request)
/// is said to be empty, never "set it": for each credential variable, alone
/// or with others, for upload, --dry-run and status.
#[test]
fn an_empty_credential_variable_is_called_empty() {
    let service = Service::start();
    let home = tempfile::tempdir().unwrap();
    for (empty, set) in [
        (&["CAPFILE_PASSWORD"][..], &[("CAPFILE_USERNAME", "capfile")][..]),
        (&["CAPFILE_PASSWORD_MD5"], &[("CAPFILE_USERNAME", "capfile")]),
        (&["CAPFILE_CLIENT_SECRET"], &[("CAPFILE_CLIENT_KEY", "k")]),
        (&["CAPFILE_USERNAME", "CAPFILE_PASSWORD"], &[]),
        (
            &["CAPFILE_CLIENT_KEY", "CAPFILE_CLIENT_SECRET", "CAPFILE_PASSWORD"],
            &[],
        ),
    ] {
        for args in [&["upload"][..], &["upload", "--dry-run"]] {
            let mut cmd = bare_capfile(home.path());
            cmd.env("CAPFILE_BASE_URL", service.base_url());
            for name in empty {
                cmd.env(name, "");
            }
            for (name, value) in set {
                cmd.env(name, value);
            }
            let out = run(cmd.args(args).arg(sample("sample.png")));
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(4), "{empty:?} {args:?}: {err}");
            let first = err.lines().next().unwrap_or_default();
            assert!(first.starts_with("capfile: error: no credentials"), "{first}");
            for name in empty {
                assert!(first.contains(name), "{name} is named: {first}");
            }
            assert!(first.ends_with("set but empty"), "{first}");
            assert!(!err.contains("or set CAPFILE_"), "no hint to set what is set: {err}");
        }
    }
    let out = run(bare_capfile(home.path())
        .env("CAPFILE_BASE_URL", service.base_url())
        .env("CAPFILE_USERNAME", "capfile")
        .env("CAPFILE_PASSWORD", "")
        .arg("status"));
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("CAPFILE_PASSWORD is set but empty"),
        "{}",
        stdout(&out)
    );
    assert_eq!(service.stats().upload_requests, 0);
}

/// A base URL that carries the endpoint path is refused wherever a base URL
/// enters (flag, environment, `config set`, `login`), naming the one to use,
/// and nothing is sent or saved.
#[test]
fn a_base_url_with_the_endpoint_path_is_refused_everywhere() {
    let service = Service::start();
    let home = tempfile::tempdir().unwrap();
    let right = service.base_url();
    let wrong = format!("{right}/api_gateway/file-service/rewards");
    let suggestion = format!("use \"{right}\"");
    let png = sample("sample.png");
    let png = png.to_str().unwrap();
    /// How a base URL enters: a name, the arguments, and a variable to set.
    type Route<'a> = (&'a str, Vec<&'a str>, Option<(&'a str, &'a str)>);
    let routes: [Route; 4] = [
        ("flag", vec!["upload", "--base-url", &wrong, png], None),
        ("env", vec!["upload", png], Some(("CAPFILE_BASE_URL", &wrong))),
        ("config set", vec!["config", "set", "base_url", &wrong], None),
        (
            "login",
            vec![
                "login",
                "--insecure-storage",
                "--base-url",
                &wrong,
                "--username",
                "capfile",
                "--password-stdin",
            ],
            None,
        ),
    ];
    for (route, args, env) in routes {
        let mut cmd = bare_capfile(home.path());
        cmd.env("CAPFILE_USERNAME", "capfile")
            .env("CAPFILE_PASSWORD", "capfile");
        if let Some((name, value)) = env {
            cmd.env(name, value);
        }
        if route == "login" {
            cmd.env_remove("CAPFILE_PASSWORD").write_stdin("capfile\n");
        }
        let out = run(cmd.args(&args));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{route}: {err}");
        assert!(err.contains(&suggestion), "{route}: {err}");
        assert!(
            !home.path().join("config/capfile/config.toml").exists() || route != "config set",
            "{route}"
        );
    }
    assert!(!home.path().join("config/capfile/credentials.toml").exists());
    assert_eq!(service.stats().upload_requests, 0);
}

/// `status` checks the upload endpoint with a GET, which creates nothing: a
/// 404 there (a base URL with a wrong path) is a failure, never "ok".
#[test]
fn status_fails_when_the_upload_endpoint_is_not_found() {
    let service = Service::start();
    let home = tempfile::tempdir().unwrap();
    for (base, ok) in [
        (service.base_url(), true),
        (format!("{}/v2", service.base_url()), false),
    ] {
        let out = run(bare_capfile(home.path())
            .env("CAPFILE_BASE_URL", &base)
            .env("CAPFILE_USERNAME", "capfile")
            .env("CAPFILE_PASSWORD", "capfile")
            .arg("status"));
        let text = stdout(&out);
        let host = text
            .lines()
            .find(|l| l.trim_start().starts_with("host:"))
            .unwrap_or_default();
        if ok {
            assert!(host.contains("ok:") && host.contains("HTTP 405"), "{text}");
        } else {
            assert_eq!(out.status.code(), Some(1), "{text}");
            assert!(host.contains("FAILED") && host.contains("404"), "{text}");
        }
    }
    let stats = service.stats();
    assert_eq!(
        (stats.upload_requests, stats.uploads_stored),
        (0, 0),
        "a GET creates nothing"
    );
}

/// A Basic login cannot check the password (the service checks it only with
/// an upload): login says so plainly and says how the first upload will show
/// a wrong one; an OAuth login, which is checked, does not say it.
#[test]
fn a_basic_login_says_the_password_was_not_checked() {
    let service = Service::start();
    let home = tempfile::tempdir().unwrap();
    let out = run(bare_capfile(home.path())
        .args(["login", "--insecure-storage", "--base-url", &service.base_url()])
        .args(["--username", "capfile", "--password-stdin"])
        .write_stdin("wrong-password\n"));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("the password was not checked"), "{err}");
    assert!(err.contains("the first upload fails with 401 (exit 4)"), "{err}");
    let upload = run(bare_capfile(home.path()).arg("upload").arg(sample("sample.png")));
    assert_eq!(upload.status.code(), Some(4), "as login said: {}", stderr(&upload));
    assert_eq!(service.stats().uploads_stored, 0);
    let out = run(bare_capfile(home.path())
        .args([
            "-p",
            "o",
            "login",
            "--insecure-storage",
            "--auth",
            "oauth",
            "--base-url",
            &service.base_url(),
        ])
        .args([
            "--client-key",
            capfile::testing::emulator::DEFAULT_CLIENT_KEY,
            "--client-secret-stdin",
        ])
        .write_stdin(format!("{}\n", capfile::testing::emulator::DEFAULT_CLIENT_SECRET)));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("not checked"), "{}", stderr(&out));
}

/// `upload -` on a terminal says it is reading standard input, instead of
/// waiting in silence; Ctrl-D ends the image, and what was typed is no image.
#[test]
fn reading_standard_input_on_a_terminal_says_so() {
    use rexpect::session::spawn_command;
    let service = Service::start();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_capfile"));
    isolate(&mut cmd, service.home.path());
    cmd.env("CAPFILE_BASE_URL", service.base_url())
        .env("CAPFILE_USERNAME", "capfile")
        .env("CAPFILE_PASSWORD", "capfile")
        .env("TERM", "dumb")
        .args(["upload", "-", "--name", "typed.png"]);
    let mut session = spawn_command(cmd, Some(20_000)).expect("capfile starts on a pty");
    session
        .exp_string("reading the image from standard input (a terminal): end it with Ctrl-D")
        .unwrap();
    session.send_line("not an image").unwrap();
    session.send_control('d').unwrap();
    let rest = session.exp_eof().unwrap();
    let status = session.process().wait().unwrap();
    assert!(
        matches!(status, rexpect::process::WaitStatus::Exited(_, 2)),
        "{status:?}\n{rest}"
    );
    assert!(rest.contains("not an image") || rest.contains("image"), "{rest}");
    assert_eq!(service.stats().upload_requests, 0);
}

/// A manifest that cannot be opened (its folder is missing) is an input
/// error: exit 2 and nothing sent, as for `--report`.
#[test]
fn a_manifest_that_cannot_be_opened_is_exit_2() {
    let service = Service::start();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-folder/m.capfile.toml");
    for extra in [&[][..], &["--dry-run"]] {
        service
            .test()
            .args(["upload", "--manifest"])
            .arg(&missing)
            .args(extra)
            .arg(sample("sample.png"))
            .status(2)
            .stderr_has("no-such-folder")
            .run();
    }
    assert_eq!(service.stats().upload_requests, 0);
}

/// The summary tells how to retry only what failed: with `--retry-from` and
/// the report when there is one, or how to get one; and it counts 429 waits
/// apart from the retries they do not use up.
#[test]
fn after_failures_the_summary_says_how_to_retry() {
    let home = tempfile::tempdir().unwrap();
    let base = dead_base_url();
    let report = home.path().join("run report.jsonl");
    let out = run(capfile_for(&base, home.path())
        .args(["upload", "--retries", "0", "--report"])
        .arg(&report)
        .arg(sample("sample.png")));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "to retry only what did not upload: capfile upload --retry-from '{}'",
            report.display()
        )),
        "{err}"
    );
    let out = run(capfile_for(&base, home.path())
        .args(["upload", "--retries", "0"])
        .arg(sample("sample.png")));
    assert!(stderr(&out).contains("add --report FILE"), "{}", stderr(&out));
}

/// 429s do not use up --retries, so the summary does not count the re-sends
/// after them as retries: against a rate limit and nothing else, the summary
/// has a rate-limit line and no `retries:` line.
#[test]
fn re_sends_after_429s_are_not_counted_as_retries() {
    use capfile::testing::emulator::{Faults, RateLimit};
    let service = Service::with_faults(Faults {
        rate_limit: Some(RateLimit::new(2, std::time::Duration::from_secs(1), true)),
        ..Faults::default()
    });
    let dir = tempfile::tempdir().unwrap();
    distinct_images(dir.path(), 6);
    let out = run(service.capfile().args(["upload", "-j", "6", "-r"]).arg(dir.path()));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("rate limit: the service answered 429"), "{err}");
    assert!(!err.lines().any(|l| l.starts_with("retries:")), "{err}");
}

/// The table on a real terminal, at 40 and 200 columns, with a CJK name: the
/// URL (about 150 columns from the emulator) wraps at 40 whatever is done,
/// so no name is cut there; at 200 everything fits whole; VERSION starts in
/// one column by display width.
#[cfg(target_os = "linux")]
#[test]
fn the_table_on_a_terminal_at_40_and_200_columns() {
    use unicode_width::UnicodeWidthStr;
    let service = Service::start();
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "横幅バナー春キャンペーン.png",
        "a-rather-long-name-for-the-spring-banner.png",
        "b.png",
    ];
    let mut files = Vec::new();
    for (name, source) in names.iter().zip(["sample.png", "sample.jpg", "sample.gif"]) {
        let path = dir.path().join(name);
        std::fs::copy(sample(source), &path).unwrap();
        files.push(format!("'{}'", path.display()));
    }
    for cols in [40, 200] {
        let command = format!(
            "stty cols {cols} rows 50; {} upload --no-progress {} 2>/dev/null",
            env!("CARGO_BIN_EXE_capfile"),
            files.join(" ")
        );
        let screen = service.screen_of(&command).replace('\r', "");
        let lines: Vec<&str> = screen.lines().filter(|l| !l.trim().is_empty()).collect();
        assert!(lines[0].starts_with("NAME"), "{cols}: {screen}");
        let version_column = |line: &str| {
            let at = line
                .find("  ")
                .map(|i| i + line[i..].find(|c: char| c != ' ').unwrap())
                .unwrap();
            line[..at].width()
        };
        let header_at = version_column(lines[0]);
        for name in names {
            let row = lines
                .iter()
                .find(|l| l.starts_with(name))
                .unwrap_or_else(|| panic!("{cols} columns: {name} is not whole:\n{screen}"));
            assert_eq!(version_column(row), header_at, "{cols}: {row:?}\n{screen}");
            assert!(row.contains("http://127.0.0.1:"), "{row}");
        }
    }
}

/// Bars on a real terminal: one line each at 40 and 200 columns with a name
/// on every file bar (a CJK one too), "waiting … rate limit (N s)" while
/// `--rate` holds an upload back (never "uploading 0 B" with an ETA), and no
/// ETA before a file has finished.
#[cfg(target_os = "linux")]
#[test]
fn bars_stay_one_line_and_say_when_they_wait() {
    use unicode_width::UnicodeWidthStr;
    let service = Service::with_faults(capfile::testing::emulator::Faults {
        latency: std::time::Duration::from_millis(300),
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, source) in ["sample.png", "sample.jpg", "sample.gif", "sample.webp"]
        .iter()
        .enumerate()
    {
        let name = if i == 0 {
            "横幅バナー春キャンペーン.png".to_string()
        } else {
            format!("a-long-name-for-banner-{i}.png")
        };
        let path = dir.path().join(name);
        std::fs::copy(sample(source), &path).unwrap();
        files.push(format!("'{}'", path.display()));
    }
    for cols in [40usize, 200] {
        let command = format!(
            "stty cols {cols} rows 40; {} upload -j 4 --rate 2/2s {} 2>&1 >/dev/null",
            env!("CARGO_BIN_EXE_capfile"),
            files.join(" ")
        );
        let screen = service.screen_of(&command);
        if cols == 200 {
            assert!(
                screen.contains("waiting [") && screen.contains(": rate limit ("),
                "{screen:?}"
            );
        } else {
            assert!(
                screen.contains("wait 2 s [") || screen.contains("wait 1 s ["),
                "{screen:?}"
            );
        }
        // indicatif pads each bar line to the width and lets the terminal
        // wrap: the screen's lines are chunks of `cols` columns, and each must
        // hold one whole bar.
        let chunks = crate::interactive::drawn_lines(&screen)
            .into_iter()
            .flat_map(|segment| crate::interactive::terminal_rows(&segment, cols));
        for chunk in chunks {
            let line = chunk.trim_end();
            if line.trim().is_empty() || !line.contains('[') {
                continue;
            }
            assert!(
                line.contains(" [") && line.contains(']'),
                "{cols}: a bar wrapped: {line:?}\n{screen:?}"
            );
            assert!(
                line.width() < cols,
                "{cols}: a bar line is {} wide: {line:?}",
                line.width()
            );
            assert!(!(line.contains("uploading") && line.contains("ETA")), "{line:?}");
            let bar_text = line.trim_start();
            if bar_text.starts_with("uploading") || bar_text.starts_with("waiting") || bar_text.starts_with("queued") {
                let after = line.rsplit(']').next().unwrap_or_default();
                assert!(
                    after.trim().chars().any(|c| c.is_alphanumeric()),
                    "{cols}: a bar with no name: {line:?}"
                );
            }
            if bar_text.contains("0/4 files") {
                assert!(!line.contains("ETA"), "no ETA before a file has finished: {line:?}");
            }
        }
    }
}

/// `-r` says how many files it passed over and why, and `-v` names each one,
/// where the same files given by name would be errors.
#[cfg(unix)]
#[test]
fn recursive_uploads_say_what_they_skipped() {
    let service = Service::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(sample("sample.png"), dir.path().join("a.png")).unwrap();
    std::fs::copy(sample("sample.png"), dir.path().join(".hidden.png")).unwrap();
    std::fs::write(dir.path().join("empty.png"), b"").unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"spring campaign\n").unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/readme.md"), b"# read me\n").unwrap();
    let fifo = dir.path().join("pipe.png");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    service
        .test()
        .args(["upload", "--dry-run", "-r"])
        .arg(dir.path())
        .stderr(&format!(
            "-r skipped 5 files: 1 hidden, 1 empty, 2 not images, 1 not a regular file (-v lists them)\n\
             POST {}/api_gateway/file-service/rewards/a.png  426 bytes  image/png\n\
             dry run: 1 file checked, 1 would be uploaded; the Basic password was not checked (only an upload \
             checks it); nothing sent\n",
            service.base_url()
        ))
        .run();
    // -v lists them in the walk's (sorted) order; the settings it also shows
    // are another test's business.
    let skipped: String = [
        (".hidden.png", "hidden"),
        ("empty.png", "empty"),
        ("notes.txt", "not an image"),
        ("pipe.png", "not a regular file"),
        ("sub/readme.md", "not an image"),
    ]
    .iter()
    .map(|(name, why)| format!("skipped {}: {why}\n", dir.path().join(name).display()))
    .collect();
    service
        .test()
        .args(["-v", "upload", "--dry-run", "-r"])
        .arg(dir.path())
        .stderr_has(&format!(
            "-r skipped 5 files: 1 hidden, 1 empty, 2 not images, 1 not a regular file\n{skipped}"
        ))
        .stderr_has(&format!(
            "\nPOST {}/api_gateway/file-service/rewards/a.png  426 bytes  image/png\n\
             dry run: 1 file checked, 1 would be uploaded; the Basic password was not checked (only an upload \
             checks it); nothing sent\n",
            service.base_url()
        ))
        .run();
    assert_eq!(service.stats().upload_requests, 0);
}

/// With the secret in the environment, a keyring that cannot be reached is
/// not a failure in `status` (a warning that it is not used), and `logout`
/// on a host with no keyring at all does not warn about it every time.
#[test]
fn no_keyring_is_said_only_where_it_matters() {
    let service = Service::start();
    let out = run(service.capfile().arg("status"));
    let text = stdout(&out);
    let keyring = text.lines().find(|l| l.trim_start().starts_with("keyring:")).unwrap();
    assert!(
        keyring.contains("warning: not used: the secret comes from env CAPFILE_PASSWORD"),
        "{text}"
    );
    assert!(!keyring.contains("FAILED"), "{text}");
    assert_eq!(out.status.code(), Some(0), "{text}");
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config/capfile");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.toml"),
        "[profiles.default]\nnamespace = \"rewards\"\n",
    )
    .unwrap();
    let out = run(bare_capfile(home.path()).arg("logout"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    let out = run(bare_capfile(home.path()).args(["-v", "logout"]));
    assert!(stderr(&out).contains("not checked for a secret"), "{}", stderr(&out));
}

/// `upload --local` finds `capfile serve --addr 127.0.0.1:0` (the serve
/// help's own example) through the data directory, wherever its port is;
/// `serve` says how to use it from another shell; and a listener at the
/// default address that is not capfile's emulator is refused before the file
/// or the default credentials reach it.
#[test]
fn local_finds_the_running_emulator_and_refuses_a_stranger() {
    use std::io::{BufRead, BufReader, Read};
    let home = tempfile::tempdir().unwrap();
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let mut serve = std_capfile(home.path())
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(serve.stderr.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap()
        .to_string();
    let _ = lines.next();
    let export = lines.next().unwrap().unwrap();
    assert!(
        export.contains(&format!(
            "export CAPFILE_BASE_URL={url} CAPFILE_USERNAME=capfile CAPFILE_PASSWORD=capfile"
        )),
        "{export}"
    );
    let out = run(bare_capfile(home.path())
        .env("CAPFILE_LOCAL_ADDR", &dead)
        .args(["-v", "upload", "--local"])
        .arg(sample("sample.png")));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(rows(&out)[0][2].starts_with(&format!("{url}/")), "{:?}", rows(&out));
    assert!(
        stderr(&out).contains(&format!("base_url: {url}/ (--local)")),
        "{}",
        stderr(&out)
    );
    unsafe { libc::kill(serve.id() as i32, libc::SIGINT) };
    serve.wait().unwrap();

    // A stranger on the default address: it gets no file and no credentials.
    let stranger = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = stranger.local_addr().unwrap().to_string();
    let seen = std::thread::spawn(move || {
        let mut seen = Vec::new();
        stranger.set_nonblocking(false).unwrap();
        for stream in stranger.incoming().take(1) {
            let mut stream = stream.unwrap();
            stream
                .set_read_timeout(Some(std::time::Duration::from_secs(3)))
                .unwrap();
            let mut buf = [0u8; 4096];
            if let Ok(n) = stream.read(&mut buf) {
                seen.extend_from_slice(&buf[..n]);
            }
            let _ = std::io::Write::write_all(&mut stream, b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi");
        }
        seen
    });
    let out = run(bare_capfile(home.path())
        .env("CAPFILE_LOCAL_ADDR", &addr)
        .args(["upload", "--local"])
        .arg(sample("sample.png")));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("not capfile's local file service"), "{err}");
    let seen = String::from_utf8_lossy(&seen.join().unwrap()).into_owned();
    assert!(
        !seen.contains("POST") && !seen.to_ascii_lowercase().contains("authorization"),
        "{seen}"
    );
}

/// Ctrl-C in a terminal leaves no stale bar above the summary: once the
/// summary begins, no bar is drawn again.
#[cfg(target_os = "linux")]
#[test]
fn ctrl_c_leaves_no_bar_behind() {
    let service = Service::with_faults(capfile::testing::emulator::Faults {
        latency: std::time::Duration::from_millis(3000),
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    distinct_images(dir.path(), 4);
    let command = format!(
        "stty cols 100 rows 40; timeout -s INT 1.5 {} upload -j 2 -r '{}' 2>&1 >/dev/null; true",
        env!("CARGO_BIN_EXE_capfile"),
        dir.path().display()
    );
    let output = service
        .in_a_terminal(&command)
        .output()
        .expect("script (util-linux) runs");
    let screen = String::from_utf8_lossy(&output.stdout).into_owned();
    let summary = screen
        .find("interrupted")
        .unwrap_or_else(|| panic!("no summary: {screen:?}"));
    let after = &screen[summary..];
    assert!(
        !after.contains(" ["),
        "a bar was drawn after the summary began: {after:?}"
    );
    assert!(!after.contains("\u{1b}[?2026h"), "a frame after the summary: {after:?}");
    // The last frame before the summary cleared its lines.
    let before = &screen[..summary];
    let last_clear = before.rfind("\u{1b}[2K").unwrap_or(0);
    assert!(
        !before[last_clear..].contains("uploading ["),
        "{:?}",
        &before[last_clear..]
    );
}
