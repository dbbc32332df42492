//! `capfile inspect` and upload policies (issue 23), against real images of
//! every format (tests/fixtures/images) and the emulator: each policy rule
//! refuses a batch with its one-line message and the emulator sees no
//! request; unreadable headers are errors naming the file; the default
//! max_pixels refuses a 100,000 x 100,000 PNG header; the emulator's own
//! size limit answers 413 beside the client-side refusal.

use std::path::{Path, PathBuf};

use capfile::testing::emulator::Faults;

use crate::common::{NO_KEYRING, Service, Test, bare_capfile, stdout};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/images")
        .join(name)
}

/// Copies fixtures into `dir` (so messages name them by their base name).
fn copy(dir: &Path, names: &[&str]) -> Vec<PathBuf> {
    names
        .iter()
        .map(|name| {
            let to = dir.join(name);
            std::fs::copy(fixture(name), &to).unwrap();
            to
        })
        .collect()
}

/// A config file holding `[policies.p]` with `rules`.
fn config_with(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// What `upload --dry-run` of one file says on standard error.
fn dry_run(service: &Service, namespace: &str, name: &str, bytes: u64) -> String {
    let content_type = if name.ends_with(".png") {
        "image/png"
    } else {
        "image/jpeg"
    };
    format!(
        "POST {}/api_gateway/file-service/{namespace}/{name}  {bytes} bytes  {content_type}\n\
         dry run: 1 file checked, 1 would be uploaded; the Basic password was not checked (only an upload \
         checks it); nothing sent\n",
        service.base_url()
    )
}

/// A PNG header declaring `width` x `height`, and nothing after it.
fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    png.extend(width.to_be_bytes());
    png.extend(height.to_be_bytes());
    png.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
    // The image data begins, and the file is cut there: only the header is whole.
    png.extend(b"\0\0\x10\0IDAT");
    png
}

/// (rules of policy p, fixture that breaks them, what the line says after
/// `FILE: ` and before ` (policy p)`)
const RULES: &[(&str, &str, &str)] = &[
    ("max_bytes = 200", "rgb-60x20.png", "210 bytes is over max_bytes 200"),
    (
        "min_bytes = 1000",
        "badge-90x90.png",
        "280 bytes is under min_bytes 1000",
    ),
    ("size = \"90x90\"", "rgb-60x20.png", "60x20 is not 90x90"),
    (
        "size = \"90x90\"",
        "no-size.svg",
        "no intrinsic size, so size cannot be checked",
    ),
    ("min_width = 61", "rgb-60x20.png", "width 60 is under min_width 61"),
    ("max_width = 59", "rgb-60x20.png", "width 60 is over max_width 59"),
    ("min_height = 21", "rgb-60x20.png", "height 20 is under min_height 21"),
    ("max_height = 19", "rgb-60x20.png", "height 20 is over max_height 19"),
    ("aspect = \"1:1\"", "rgb-60x20.png", "60x20 is not 1:1"),
    (
        "aspect = \"3:1\"\naspect_tolerance = 0.2",
        "rgb-40x40.jpg",
        "40x40 is not 3:1",
    ),
    (
        "aspect = \"4:3\"\naspect_tolerance = 0",
        "viewbox-300x100.svg",
        "300x100 is not 4:3",
    ),
    (
        "formats = [\"png\", \"jpeg\", \"webp\"]",
        "anim-3frames-10x10.gif",
        "format gif is not one of png, jpeg, webp",
    ),
    (
        "formats = [\"png\"]",
        "grid-10x10.heic",
        "format heic is not one of png",
    ),
    ("color = \"rgb\"", "cmyk-16x16.jpg", "colour cmyk is not rgb"),
    ("color = \"rgb\"", "cmyk-12x8.tif", "colour cmyk is not rgb"),
    ("color = \"rgb\"", "grey-30x30.png", "colour grey is not rgb"),
    (
        "animated = false",
        "anim-3frames-10x10.gif",
        "animated (3 frames) is not allowed",
    ),
    (
        "animated = false",
        "anim-2frames-10x10.webp",
        "animated (2 frames) is not allowed",
    ),
    ("animated = true", "still-60x20.webp", "not animated"),
    (
        "max_pixels = 1199",
        "rgb-60x20.png",
        "60x20 (1200 pixels) is over max_pixels 1199",
    ),
    (
        "gps = \"refuse\"",
        "rotated-gps-32x24.jpg",
        "carries a GPS location (gps = refuse)",
    ),
];

#[test]
fn each_rule_refuses_the_batch_with_its_line_and_nothing_is_sent() {
    let service = Service::start();
    for (rules, file, says) in RULES {
        let dir = tempfile::tempdir().unwrap();
        let config = config_with(dir.path(), &format!("[policies.p]\n{rules}\n"));
        let bad = copy(dir.path(), &[file]).remove(0);
        // A file that meets the rule goes in the same batch, and is not sent either.
        let good = dir.path().join("good.txt");
        std::fs::write(&good, b"not an image, sent as is").unwrap();
        let line = format!("capfile: error: {}: {says} (policy p)\n", bad.display());
        for dry_run in [false, true] {
            let mut test = service
                .test()
                .env("CAPFILE_CONFIG", &config)
                .args(["upload", "--allow-any-type", "--policy", "p"])
                .arg(&good)
                .arg(&bad);
            if dry_run {
                test = test.arg("--dry-run");
            }
            let out = test
                .status(2)
                .stderr_has(&line)
                .stderr_has("nothing was uploaded")
                .run();
            assert_eq!(stdout(&out), "", "{rules}");
        }
        assert_eq!(service.stats().upload_requests, 0, "{rules}: something was sent");
    }
}

#[test]
fn an_image_that_meets_every_rule_is_uploaded() {
    let service = Service::start();
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(
        dir.path(),
        "[policies.badge]\nsize = \"90x90\"\naspect = \"1:1\"\nmax_bytes = 1000\nmin_bytes = 100\n\
         formats = [\"png\"]\ncolor = \"rgb\"\nanimated = false\ngps = \"refuse\"\nmax_pixels = 8100\n\
         min_width = 90\nmax_width = 90\nmin_height = 90\nmax_height = 90\n",
    );
    let files = copy(dir.path(), &["badge-90x90.png"]);
    service
        .test()
        .env("CAPFILE_CONFIG", &config)
        .args(["upload", "--policy", "badge"])
        .args(&files)
        .stdout_like(&format!("badge-90x90.png\t1\t{}\n", service.url_like("png")))
        .stderr_like(&format!(
            "uploaded {} (280 B) as version 1\nuploaded 1 of 1 file, 280 B in [..] s\n",
            files[0].display()
        ))
        .run();
    assert_eq!(service.stats().uploads_stored, 1);
}

#[test]
fn every_breach_of_a_batch_is_reported_one_line_per_file() {
    let service = Service::start();
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(
        dir.path(),
        "# reward art\n[policies.reward-art]\naspect = \"1:1\"\nmax_bytes = 250\ncolor = \"rgb\"\n",
    );
    let files = copy(
        dir.path(),
        &["rgb-60x20.png", "badge-90x90.png", "cmyk-16x16.jpg", "rgb-40x40.jpg"],
    );
    let name = |f: &str| dir.path().join(f).display().to_string();
    service
        .test()
        .env("CAPFILE_CONFIG", &config)
        .args(["upload", "--policy", "reward-art"])
        .args(&files)
        .status(2)
        .stderr(&format!(
            "capfile: error: {}: 60x20 is not 1:1 (policy reward-art)\n\
             capfile: error: {}: 280 bytes is over max_bytes 250 (policy reward-art)\n\
             capfile: error: {}: 308 bytes is over max_bytes 250; colour cmyk is not rgb (policy reward-art)\n\
             capfile: error: {}: 684 bytes is over max_bytes 250 (policy reward-art)\n\
             nothing was uploaded\n",
            name("rgb-60x20.png"),
            name("badge-90x90.png"),
            name("cmyk-16x16.jpg"),
            name("rgb-40x40.jpg"),
        ))
        .run();
    assert_eq!(service.stats().upload_requests, 0);
}

#[test]
fn a_100000_by_100000_png_header_is_refused_by_the_default_max_pixels() {
    let service = Service::start();
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.png");
    std::fs::write(&huge, png_header(100_000, 100_000)).unwrap();
    let line = format!(
        "capfile: error: {}: 100000x100000 (10000000000 pixels) is over the default max_pixels 100000000\n",
        huge.display()
    );
    for command in [&["upload"][..], &["upload", "--dry-run"]] {
        service
            .test()
            .args(command)
            .arg(&huge)
            .status(2)
            .stderr(&format!("{line}nothing was uploaded\n"))
            .run();
    }
    // inspect says what the header declares, and the breach.
    service
        .test()
        .arg("inspect")
        .arg(&huge)
        .status(2)
        .stdout(&format!(
            "{}\tpng\t100000\t100000\t41\trgb\t8\tyes\t1\t\tno\tno\tno\tno\n",
            huge.display()
        ))
        .stderr(&format!("{line}1 file inspected\n"))
        .run();
    // Just under the default passes the check (and the upload).
    let ok = dir.path().join("ok.png");
    std::fs::write(&ok, png_header(10_000, 10_000)).unwrap();
    service
        .test()
        .args(["upload", "--dry-run"])
        .arg(&ok)
        .stderr(&dry_run(&service, "rewards", "ok.png", 41))
        .run();
    assert_eq!(service.stats().upload_requests, 0);
}

#[test]
fn a_truncated_or_hostile_header_is_an_error_naming_the_file_never_a_panic() {
    let service = Service::start();
    let dir = tempfile::tempdir().unwrap();
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for name in [
        "rgb-60x20.png",
        "rgb-40x40.jpg",
        "anim-3frames-10x10.gif",
        "still-60x20.webp",
        "rgb-16x16.avif",
    ] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        for cut in [16, 24, 30] {
            cases.push((format!("cut{cut}-{name}"), bytes[..cut].to_vec()));
        }
    }
    // A JPEG whose segment length is under 2, a PNG whose first chunk is not
    // IHDR, a GIF whose block is unknown, a WebP with no image chunk.
    cases.push(("len.jpg".into(), b"\xff\xd8\xff\xe0\x00\x01abcdefgh".to_vec()));
    cases.push((
        "chunk.png".into(),
        b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDX\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\0\0\0\0".to_vec(),
    ));
    cases.push(("block.gif".into(), b"GIF89a\x01\0\x01\0\0\0\0\x99".to_vec()));
    cases.push(("empty.webp".into(), b"RIFF\x04\0\0\0WEBPJUNK\0\0\0\0".to_vec()));
    for (name, bytes) in &cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        // One line naming the file and the cause, whatever the cause.
        for (command, end) in [("upload", "nothing was uploaded"), ("inspect", "1 file inspected")] {
            service
                .test()
                .arg(command)
                .arg(&path)
                .status(2)
                .stderr_like(&format!("capfile: error: {}: [..]\n{end}\n", path.display()))
                .run();
        }
    }
    assert_eq!(service.stats().upload_requests, 0);
}

#[test]
fn inspect_shows_each_formats_fields_as_tsv_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    copy(dir.path(), &["rotated-gps-32x24.jpg", "cmyk-16x16.jpg", "no-size.svg"]);
    Test::new(bare_capfile(home.path()))
        .current_dir(dir.path())
        .args(["inspect", "rotated-gps-32x24.jpg", "cmyk-16x16.jpg", "no-size.svg"])
        .stdout(
            "rotated-gps-32x24.jpg\tjpeg\t32\t24\t3452\trgb\t8\tno\t1\t6\tyes\tyes\tyes\tno\n\
             cmyk-16x16.jpg\tjpeg\t16\t16\t308\tcmyk\t8\tno\t1\t\tno\tno\tno\tno\n\
             no-size.svg\tsvg\t\t\t62\t\t\tno\t1\t\tno\tno\tno\tno\n",
        )
        .stderr("3 files inspected\n")
        .run();
    // (file, field, value) from --json
    let checks: &[(&str, &str, serde_json::Value)] = &[
        ("cmyk-16x16.jpg", "color", "cmyk".into()),
        ("anim-3frames-10x10.gif", "frames", 3.into()),
        ("anim-3frames-10x10.gif", "animated", true.into()),
        ("anim-2frames-10x10.webp", "frames", 2.into()),
        ("rotated-gps-32x24.jpg", "orientation", 6.into()),
        ("rotated-gps-32x24.jpg", "gps", true.into()),
        ("alpha-16x16.avif", "format", "avif".into()),
        ("alpha-16x16.avif", "alpha", true.into()),
        ("grid-10x10.heic", "format", "heic".into()),
        ("grid-10x10.heic", "width", 10.into()),
        ("grid-10x10.heic", "bit_depth", 10.into()),
        ("icon-32.ico", "width", 32.into()),
        ("rgb-20x10.bmp", "height", 10.into()),
        ("cmyk-12x8.tif", "color", "cmyk".into()),
        ("viewbox-300x100.svg", "width", 300.into()),
        ("no-size.svg", "width", serde_json::Value::Null),
    ];
    for (file, field, want) in checks {
        let out = Test::new(bare_capfile(home.path()))
            .args(["inspect", "--json"])
            .arg(fixture(file))
            .stdout_any()
            .stderr("1 file inspected\n")
            .run();
        let line: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
        assert_eq!(&line[field], want, "{file} {field}: {line}");
        assert_eq!(line["violations"], serde_json::json!([]));
    }
}

#[test]
fn inspect_walks_directories_with_r_and_skips_what_is_not_an_image() {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    copy(&dir.path().join("sub"), &["badge-90x90.png"]);
    copy(dir.path(), &["rgb-40x40.jpg"]);
    std::fs::write(dir.path().join("notes.txt"), "text").unwrap();
    let name = |f: &str| dir.path().join(f).display().to_string();
    Test::new(bare_capfile(home.path()))
        .args(["inspect", "-r"])
        .arg(dir.path())
        .stdout(&format!(
            "{}\tjpeg\t40\t40\t684\trgb\t8\tno\t1\t\tno\tno\tno\tno\n\
             {}\tpng\t90\t90\t280\trgb\t8\tyes\t1\t\tno\tno\tno\tno\n",
            name("rgb-40x40.jpg"),
            name("sub/badge-90x90.png")
        ))
        .stderr("2 files inspected\n")
        .run();
}

#[test]
fn the_emulator_refuses_an_oversized_file_with_413_where_a_policy_refuses_it_before_sending() {
    let service = Service::with_faults(Faults {
        max_upload_bytes: Some(200),
        ..Faults::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let files = copy(dir.path(), &["rgb-60x20.png"]);
    // Server-side: sent, answered 413 in Capillary's error shape (whose
    // message the record carries), not stored.
    let out = service
        .test()
        .args(["upload", "-o", "records"])
        .args(&files)
        .status(1)
        .stdout_any()
        .stderr_like(&format!(
            "capfile: error: {}: server answered 413 Payload Too Large: File size 210 bytes exceeds the maximum \
             of 200 bytes (request id [..])\n\
             uploaded 0 of 1 file, 0 B in [..] s\n\
             to retry only what did not upload next time, add --report FILE; then run capfile upload \
             --retry-from FILE\n",
            files[0].display()
        ))
        .run();
    let record: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(record["status"], 413, "{record}");
    assert!(
        record["error"]
            .as_str()
            .unwrap()
            .contains("File size 210 bytes exceeds the maximum of 200 bytes"),
        "{record}"
    );
    let stats = service.stats();
    assert_eq!((stats.upload_requests, stats.uploads_stored), (1, 0));
    // Client-side: the same limit as a policy refuses it with nothing sent.
    let config = config_with(dir.path(), "[policies.small]\nmax_bytes = 200\n");
    service
        .test()
        .env("CAPFILE_CONFIG", &config)
        .args(["upload", "--policy", "small"])
        .args(&files)
        .status(2)
        .stderr_has("210 bytes is over max_bytes 200 (policy small)")
        .run();
    assert_eq!(service.stats().upload_requests, 1, "the policy sent nothing more");
}

#[test]
fn records_carry_width_height_and_format() {
    let service = Service::start();
    let dir = tempfile::tempdir().unwrap();
    let files = copy(dir.path(), &["badge-90x90.png", "no-size.svg"]);
    // The two go up in parallel: their lines come in either order.
    let out = service
        .test()
        .args(["upload", "-o", "records"])
        .args(&files)
        .stdout_any()
        .stderr_has(&format!("uploaded {} (280 B) as version 1\n", files[0].display()))
        .stderr_has(&format!("uploaded {} (62 B) as version 1\n", files[1].display()))
        .stderr_has("uploaded 2 of 2 files, 342 B in ")
        .run();
    let records: Vec<serde_json::Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let fields: Vec<_> = records
        .iter()
        .map(|r| (r["width"].clone(), r["height"].clone(), r["format"].clone()))
        .collect();
    assert_eq!(
        fields,
        [
            (90.into(), 90.into(), "png".into()),
            (serde_json::Value::Null, serde_json::Value::Null, "svg".into())
        ]
    );
}

#[test]
fn the_policy_comes_from_the_flag_the_environment_the_namespace_or_the_profile() {
    let service = Service::start();
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(
        dir.path(),
        "[policies.tiny]\nmax_bytes = 10\n[policies.square]\naspect = \"1:1\"\n[policies.open]\n\
         [profiles.default]\npolicy = \"tiny\"\n[profiles.default.policies]\nbadges = \"square\"\n",
    );
    let files = copy(dir.path(), &["rgb-60x20.png"]);
    // (extra args, extra env, the policy named in the refusal and its
    // breach, or None)
    type Case<'a> = (&'a [&'a str], Option<&'a str>, Option<(&'a str, &'a str)>);
    let tiny = Some(("tiny", "210 bytes is over max_bytes 10"));
    let square = Some(("square", "60x20 is not 1:1"));
    let cases: &[Case] = &[
        (&[], None, tiny),
        (&["-n", "badges"], None, square),
        (&["-n", "badges", "--policy", "open"], None, None),
        (&["-n", "badges"], Some("open"), None),
        (&["--policy", "square"], Some("tiny"), square),
    ];
    for (args, env, refused_by) in cases {
        let mut test = service
            .test()
            .env("CAPFILE_CONFIG", &config)
            .args(["upload", "--dry-run"])
            .args(*args)
            .args(&files);
        if let Some(policy) = env {
            test = test.env("CAPFILE_POLICY", policy);
        }
        match refused_by {
            Some((policy, breach)) => test
                .status(2)
                .stderr(&format!(
                    "capfile: error: {}: {breach} (policy {policy})\nnothing was uploaded\n",
                    files[0].display()
                ))
                .run(),
            None => test.stderr(&dry_run(&service, "badges", "rgb-60x20.png", 210)).run(),
        };
    }
    service
        .test()
        .env("CAPFILE_CONFIG", &config)
        .args(["upload", "--policy", "squar"])
        .args(&files)
        .status(2)
        .stderr(&format!(
            "capfile: error: --policy names policy `squar`, which {} does not define\n\
             hint: policies: tiny, square, open\n",
            config.display()
        ))
        .run();
    assert_eq!(service.stats().upload_requests, 0);
}

#[test]
fn config_sets_lists_and_checks_policy_rules_keeping_comments() {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let config = config_with(
        dir.path(),
        "# loyalty art\n[policies.reward-art] # square\naspect = \"1:1\" # shape\n",
    );
    let capfile = || Test::new(bare_capfile(home.path())).env("CAPFILE_CONFIG", &config);
    capfile()
        .args(["config", "set", "policies.reward-art.max_bytes", "200000"])
        .status(0)
        .run();
    capfile()
        .args(["config", "set", "policies.reward-art.formats", "png, jpeg,webp"])
        .status(0)
        .run();
    capfile()
        .args(["config", "set", "policies.badge.size", "90x90"])
        .status(0)
        .run();
    capfile()
        .args(["config", "set", "policy.badges", "badge"])
        .status(0)
        .run();
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.starts_with("# loyalty art\n[policies.reward-art] # square\naspect = \"1:1\" # shape\n"),
        "{text}"
    );
    assert!(text.contains("formats = [\"png\", \"jpeg\", \"webp\"]"), "{text}");
    // (key, value, why) refused, each leaving the file as it was
    let rules = "max_bytes, min_bytes, size, min_width, max_width, min_height, max_height, aspect, \
                 aspect_tolerance, formats, color, animated, max_pixels, gps, fit, strip_metadata, \
                 auto_orient, reencode, convert, quality";
    for (key, value, why) in [
        (
            "policies.reward-art.max_bytes",
            "0",
            "max_bytes must be an integer from 1, not \"0\"".to_string(),
        ),
        (
            "policies.reward-art.aspect",
            "square",
            "aspect must be WIDTH:HEIGHT, e.g. \"3:1\", not \"square\"".to_string(),
        ),
        (
            "policies.reward-art.formats",
            "png,jxl",
            "formats: unknown format \"jxl\"; known: png, jpeg, gif, webp, bmp, tiff, ico, avif, heic, svg".to_string(),
        ),
        (
            "policies.reward-art.color",
            "rgba",
            "color must be one of rgb, grey, cmyk, palette, not \"rgba\"".to_string(),
        ),
        (
            "policies.reward-art.colour",
            "rgb",
            format!("unknown policy rule `colour`; valid rules: {rules}"),
        ),
        (
            "policies.reward-art",
            "1",
            format!("`policies.reward-art` names a policy, not a rule: use policies.reward-art.RULE; rules: {rules}"),
        ),
        (
            "policies.a.b.gps",
            "refuse",
            format!("unknown policy rule `b.gps`; valid rules: {rules}"),
        ),
        (
            "policy.badges",
            "no such!",
            "policy name \"no such!\" may hold only letters, digits, `-` and `_`".to_string(),
        ),
    ] {
        capfile()
            .args(["config", "set", key, value])
            .status(2)
            .stderr(&format!(
                "capfile: error: {why}\nhint: {} was not changed\n",
                config.display()
            ))
            .run();
    }
    assert_eq!(std::fs::read_to_string(&config).unwrap(), text);
    capfile()
        .args(["config", "get", "policies.reward-art.formats"])
        .stdout("png,jpeg,webp\n")
        .run();
    capfile()
        .args(["config", "get", "policy.badges"])
        .stdout("badge\n")
        .run();
    // The policy lines close the list (the settings before them are
    // interactive::config_list_says_the_keyring_error_in_plain_words's).
    capfile()
        .args(["config", "list"])
        .stdout_has(
            "\npassword_md5: (not set)\n\
             policies.reward-art.max_bytes: 200000 (file)\n\
             policies.reward-art.aspect: 1:1 (file)\n\
             policies.reward-art.formats: png,jpeg,webp (file)\n\
             policies.badge.size: 90x90 (file)\n\
             policy.badges: badge (file)\n",
        )
        .stderr(NO_KEYRING)
        .run();
    capfile()
        .args(["config", "unset", "policies.reward-art.aspect"])
        .status(0)
        .run();
    capfile()
        .args(["config", "get", "policies.reward-art.aspect"])
        .status(1)
        .stderr(
            "capfile: error: `policies.reward-art.aspect` is not set for profile `default`\n\
             hint: set it with `capfile config set policies.reward-art.aspect VALUE`\n",
        )
        .run();
    // A bad rule written by hand is refused with its line and column.
    let bad = config_with(dir.path(), "[policies.x]\nmax_bytes = \"big\"\n");
    Test::new(bare_capfile(home.path()))
        .env("CAPFILE_CONFIG", &bad)
        .args(["inspect"])
        .arg(fixture("rgb-40x40.jpg"))
        .status(2)
        .stderr(&format!(
            "capfile: error: {}:2:13: policies.x: max_bytes must be an integer from 1\n",
            bad.display()
        ))
        .run();
}
