//! `capfile upload` end to end: the built binary against the emulator on a real
//! loopback socket.

use crate::common;

use common::{Service, Test, bare_capfile, rows, run, sample, stderr, stdout};

#[test]
fn each_sample_type_round_trips_as_multipart_and_raw() {
    let service = Service::start();
    for body in ["multipart", "raw"] {
        for (file, mime) in [
            ("sample.png", "image/png"),
            ("sample.jpg", "image/jpeg"),
            ("sample.gif", "image/gif"),
            ("sample.webp", "image/webp"),
        ] {
            let output = run(service.capfile().args(["upload", "--body", body]).arg(sample(file)));
            assert_eq!(output.status.code(), Some(0), "{file} {body}: {}", stderr(&output));
            let rows = rows(&output);
            assert_eq!(rows.len(), 1, "{file}: {rows:?}");
            assert_eq!(rows[0][0], file);
            let (status, content_type, bytes) = service.fetch(&rows[0][2]);
            assert_eq!(status, 200, "{file} {body}");
            assert_eq!(content_type, mime, "{file} {body}");
            assert_eq!(
                bytes,
                std::fs::read(sample(file)).unwrap(),
                "{file} {body}: bytes differ"
            );
        }
    }
    assert_eq!(service.stats().uploads_stored, 8);
}

#[test]
fn results_come_in_input_order() {
    // The service holds each upload longer the earlier its file comes, so
    // with four at once they finish in reverse: the order printed is capfile's.
    let service = Service::with_config(|config| {
        config.upload_latency = [("sample.webp", 900), ("sample.png", 600), ("sample.gif", 300)]
            .map(|(name, ms)| (name.to_owned(), std::time::Duration::from_millis(ms)))
            .to_vec();
    });
    let files = ["sample.webp", "sample.png", "sample.gif", "sample.jpg"];
    let output = run(service.capfile().args(["upload", "-j", "4"]).args(files.map(sample)));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let names: Vec<String> = rows(&output).into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(names, files);
}

#[test]
fn standard_input_needs_a_name_and_uploads_its_bytes() {
    let service = Service::start();
    let png = std::fs::read(sample("sample.png")).unwrap();
    service
        .test()
        .args(["upload", "-"])
        .stdin(png.clone())
        .status(2)
        .stderr("capfile: error: -: standard input needs --name\nnothing was uploaded\n")
        .run();

    let output = service
        .test()
        .args(["upload", "-", "--name", "from-stdin.png"])
        .stdin(png.clone())
        .stdout_like(&format!("from-stdin.png\t1\t{}\n", service.url_like("png")))
        .stderr_like("uploaded from-stdin.png (426 B) as version 1\nuploaded 1 of 1 file, 426 B in [..] s\n")
        .run();
    let rows = rows(&output);
    assert_eq!(rows[0][0], "from-stdin.png");
    assert_eq!(service.fetch(&rows[0][2]).2, png);
}

#[test]
fn placeholder_sends_no_body() {
    let service = Service::start();
    let output = service
        .test()
        .args(["upload", "--placeholder", "banner.png", "--json"])
        .stdout_any()
        .stderr_like("uploaded banner.png (0 B) as version 1\nuploaded 1 of 1 file, 0 B in [..] s\n")
        .run();
    let doc: serde_json::Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(doc["file"]["name"], "banner.png");
    assert_eq!(doc["file"]["fileSize"], "0");
    assert_eq!(doc["file"]["version"], 1);
}

#[test]
fn versions_count_up_and_survive_a_restart() {
    let mut service = Service::start();
    let upload = |service: &Service| {
        let output = run(service.capfile().arg("upload").arg(sample("sample.gif")));
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        rows(&output)[0][1].clone()
    };
    assert_eq!(upload(&service), "1");
    assert_eq!(upload(&service), "2");
    assert_eq!(upload(&service), "3");
    service.restart();
    assert_eq!(upload(&service), "4");
    // Another namespace counts on its own.
    let output = run(service
        .capfile()
        .args(["upload", "-n", "solutions"])
        .arg(sample("sample.gif")));
    assert_eq!(rows(&output)[0][1], "1");
}

#[test]
fn awkward_names_reach_the_server_intact() {
    let service = Service::start();
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "my banner.png",
        "sale #1.png",
        "100% off.png",
        "what?.png",
        "crème brûlée.png",
        "日本.png",
    ];
    for name in names {
        std::fs::copy(sample("sample.png"), dir.path().join(name)).unwrap();
    }
    let output = run(service.capfile().arg("upload").args(names.map(|n| dir.path().join(n))));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let got: Vec<String> = rows(&output).into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(got, names);
    // --name takes the same path.
    let output = run(service
        .capfile()
        .args(["upload", "--name", "a b#?%é.png", "--json"])
        .arg(sample("sample.png")));
    let doc: serde_json::Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(doc["file"]["name"], "a b#?%é.png");
}

#[test]
fn bad_names_are_refused_before_sending() {
    let service = Service::start();
    for name in ["", ".", "..", "a/b.png", "a\\b.png", "tab\there.png"] {
        let output = run(service
            .capfile()
            .args(["upload", "--name", name])
            .arg(sample("sample.png")));
        assert_eq!(output.status.code(), Some(2), "{name:?}: {}", stderr(&output));
    }
    assert_eq!(service.stats().upload_requests, 0);
}

#[test]
fn one_bad_input_refuses_the_whole_batch() {
    let service = Service::start();
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.png");
    std::fs::write(&empty, b"").unwrap();
    let text = dir.path().join("notes.png");
    std::fs::write(&text, b"just some text, named like an image\n").unwrap();
    let missing = dir.path().join("missing.png");
    let subdir = dir.path().join("folder");
    std::fs::create_dir(&subdir).unwrap();

    let output = run(service
        .capfile()
        .arg("upload")
        .arg(sample("sample.png"))
        .args([&empty, &text, &missing, &subdir]));
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    for expected in [
        "empty.png: file is empty",
        "notes.png: not an image",
        "missing.png: no such file or directory",
        "folder: is a directory",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    for line in err.lines().filter(|l| l.starts_with("capfile: error:")) {
        assert!(
            line.contains(dir.path().to_str().unwrap()),
            "error line names no file: {line}"
        );
    }
    assert!(stdout(&output).is_empty());
    assert_eq!(service.stats().upload_requests, 0, "nothing may be sent");
    assert_eq!(service.stats().uploads_stored, 0);
}

#[test]
fn a_text_file_goes_with_allow_any_type() {
    let service = Service::start();
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, b"plain text\n").unwrap();
    let output = run(service
        .capfile()
        .args(["upload", "--allow-any-type", "--json"])
        .arg(&text));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let doc: serde_json::Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(doc["file"]["content_type"], "application/octet-stream");
}

#[test]
fn duplicate_remote_names_are_refused() {
    let service = Service::start();
    service
        .test()
        .arg("upload")
        .args([sample("sample.png"), sample("sample.png")])
        .status(2)
        .stderr_has("remote name `sample.png` is also used by")
        .run();
    assert_eq!(service.stats().upload_requests, 0);
}

#[test]
fn a_wrong_password_exits_4_with_a_hint() {
    let service = Service::start();
    let output = run(service
        .capfile()
        .env("CAPFILE_PASSWORD", "not-the-password")
        .arg("upload")
        .arg(sample("sample.png")));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("401"), "{err}");
    assert!(
        err.contains("hint: the secret in the environment's CAPFILE_PASSWORD was refused"),
        "{err}"
    );
    assert!(!err.contains("not-the-password"));
    assert!(!err.contains(capfile::md5_hex("not-the-password").expose()));
    assert_eq!(service.stats().uploads_stored, 0);
}

#[test]
fn no_credentials_exits_4_before_sending() {
    let service = Service::start();
    let home = tempfile::tempdir().unwrap();
    Test::new(bare_capfile(home.path()))
        .env("CAPFILE_BASE_URL", service.base_url())
        .arg("upload")
        .arg(sample("sample.png"))
        .status(4)
        .stderr_has("hint: run `capfile login`")
        .run();
    assert_eq!(service.stats().upload_requests, 0);
}

#[test]
fn a_server_error_exits_1() {
    let service = Service::with_faults(capfile::testing::emulator::Faults {
        fail_rate: 1.0,
        fail_status: 500,
        ..Default::default()
    });
    let output = run(service
        .capfile()
        .args(["upload", "--retries", "1"])
        .arg(sample("sample.png")));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("sample.png: server answered 500"), "{err}");
    assert!(stdout(&output).is_empty());
    assert_eq!(service.stats().upload_requests, 2, "one try and one retry");
}

#[test]
fn plain_http_to_another_host_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let output = run(bare_capfile(home.path())
        .env("CAPFILE_BASE_URL", "http://example.com")
        .env("CAPFILE_USERNAME", "u")
        .env("CAPFILE_PASSWORD", "p")
        .arg("upload")
        .arg(sample("sample.png")));
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("CAPFILE_BASE_URL"), "{}", stderr(&output));
}

#[test]
fn output_forms_for_scripts() {
    let service = Service::start();
    let url = run(service
        .capfile()
        .args(["upload", "-o", "url"])
        .arg(sample("sample.jpg")));
    let line = stdout(&url);
    assert!(
        line.starts_with(&service.base_url()) && line.ends_with('\n') && line.lines().count() == 1,
        "{line}"
    );

    let json = run(service
        .capfile()
        .args(["upload", "--json"])
        .args([sample("sample.jpg"), sample("sample.png")]));
    let text = stdout(&json);
    let docs: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("NDJSON line"))
        .collect();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0]["file"]["name"], "sample.jpg");
    assert_eq!(docs[0]["file"]["version"], 2);
    assert_eq!(docs[1]["file"]["name"], "sample.png");
}

#[test]
fn dry_run_sends_nothing() {
    let service = Service::start();
    let output = run(service
        .capfile()
        .args(["upload", "--dry-run", "--name", "a b.png"])
        .arg(sample("sample.png")));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // The table's standard output is for results: the plan is on stderr.
    assert_eq!(stdout(&output), "");
    let err = stderr(&output);
    assert!(err.contains("/api_gateway/file-service/rewards/a%20b.png"), "{err}");
    assert!(err.contains("image/png"), "{err}");
    assert!(err.contains("the Basic password was not checked"), "{err}");
    // --json and -o records: a JSON object per input on standard output,
    // for `| jq`; -o url keeps standard output for URLs.
    for format in ["--json", "-orecords", "-ourl"] {
        let output = run(service
            .capfile()
            .args(["upload", "--dry-run", format, "--name", "a b.png"])
            .arg(sample("sample.png")));
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let out = stdout(&output);
        if format == "-ourl" {
            assert_eq!(out, "", "{format}");
            continue;
        }
        let plan: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(plan["action"], "upload", "{format}");
        assert_eq!(plan["content_type"], "image/png");
        assert!(plan["url"].as_str().unwrap().ends_with("/rewards/a%20b.png"), "{plan}");
    }
    assert_eq!(service.stats().upload_requests, 0);
}

/// --dry-run checks an OAuth key and secret with the token endpoint (which
/// creates nothing): a wrong secret is exit 4 there, not at the first upload.
#[test]
fn dry_run_checks_oauth_credentials() {
    let service = Service::start();
    let output = run(service
        .oauth_capfile()
        .args(["upload", "--dry-run"])
        .arg(sample("sample.png")));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("the token endpoint gave a token"),
        "{}",
        stderr(&output)
    );
    let output = run(service
        .oauth_capfile()
        .env("CAPFILE_CLIENT_SECRET", "wrong-secret")
        .args(["upload", "--dry-run"])
        .arg(sample("sample.png")));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    let stats = service.stats();
    assert_eq!((stats.upload_requests, stats.token_requests), (0, 2));
}
