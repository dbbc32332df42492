//! Images made to fit on the way out (issue 24), against the emulator: what
//! the service stores is fetched back and inspected with `capfile inspect`.
//! Every test checks that the sources' bytes and mtimes are unchanged and
//! that no temporary file is left behind (TMPDIR is the test's own).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use crate::common::{Service, Test, bare_capfile, stderr, stdout};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/images")
        .join(name)
}

/// The sources of a test, as they were before it.
struct Sources(Vec<(PathBuf, Vec<u8>, SystemTime)>);

impl Sources {
    fn of(paths: &[PathBuf]) -> Sources {
        Sources(
            paths
                .iter()
                .map(|p| (p.clone(), std::fs::read(p).unwrap(), mtime(p)))
                .collect(),
        )
    }

    fn assert_unchanged(&self) {
        for (path, bytes, time) in &self.0 {
            assert_eq!(&std::fs::read(path).unwrap(), bytes, "{} was written", path.display());
            assert_eq!(&mtime(path), time, "{}'s mtime changed", path.display());
        }
    }
}

fn mtime(path: &Path) -> SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

/// A test directory: the sources, and a TMPDIR of its own.
struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    fn new() -> Dir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("tmp")).unwrap();
        Dir { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn add(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn test(&self, service: &Service) -> Test {
        service.test().env("TMPDIR", self.path().join("tmp"))
    }

    fn assert_no_spool(&self) {
        let left: Vec<_> = std::fs::read_dir(self.path().join("tmp")).unwrap().collect();
        assert!(left.is_empty(), "temporary files left: {left:?}");
    }
}

/// The standard error of a piped upload of one file (`size` as shown) that
/// became `version`.
fn uploaded_one(source: &Path, size: &str, version: usize) -> String {
    format!(
        "uploaded {} ({size}) as version {version}\nuploaded 1 of 1 file, {size} in [..] s\n",
        source.display()
    )
}

/// The record lines of `-o records`.
fn records(out: &std::process::Output) -> Vec<serde_json::Value> {
    stdout(out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// What `capfile inspect --json` says of `bytes`.
fn inspect(bytes: &[u8]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sent");
    std::fs::write(&path, bytes).unwrap();
    let out = bare_capfile(dir.path())
        .args(["inspect", "--json"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(stdout(&out).trim()).unwrap()
}

/// The bytes the service stored for a record.
fn stored(service: &Service, record: &serde_json::Value) -> Vec<u8> {
    let (status, _, body) = service.fetch(record["secure_file_path"].as_str().unwrap());
    assert_eq!(status, 200);
    body
}

/// The orientation-6 JPEG with GPS, with the ICC profile of icc-20x20.jpg
/// added after its SOI.
fn turned_gps_icc_jpeg() -> Vec<u8> {
    let turned = std::fs::read(fixture("rotated-gps-32x24.jpg")).unwrap();
    let icc = std::fs::read(fixture("icc-20x20.jpg")).unwrap();
    let at = icc.windows(2).position(|w| w == [0xFF, 0xE2]).unwrap();
    let len = usize::from(u16::from_be_bytes([icc[at + 2], icc[at + 3]]));
    assert_eq!(&icc[at + 4..at + 16], b"ICC_PROFILE\0");
    let mut out = turned[..2].to_vec();
    out.extend_from_slice(&icc[at..at + 2 + len]);
    out.extend_from_slice(&turned[2..]);
    out
}

#[test]
fn a_turned_jpeg_with_gps_is_never_sideways_loses_gps_and_keeps_icc() {
    let service = Service::start();
    // (flags, width x height sent, orientation sent)
    type Case = (&'static [&'static str], (u64, u64), Option<u64>);
    let cases: &[Case] = &[
        (&["--strip-metadata"], (32, 24), Some(6)),
        (&["--strip-metadata", "--auto-orient"], (24, 32), None),
        (&["--auto-orient"], (24, 32), None),
        (&["--strip-metadata", "--fit", "16x16"], (12, 16), None),
        (&["--fit", "8x100", "--quality", "50"], (8, 11), None),
    ];
    for (version, (flags, (w, h), orientation)) in cases.iter().enumerate() {
        let dir = Dir::new();
        let source = dir.add("photo.jpg", &turned_gps_icc_jpeg());
        let before = Sources::of(std::slice::from_ref(&source));
        let out = dir
            .test(&service)
            .args(["upload", "-o", "records", "--name", "photo.jpg"])
            .args(*flags)
            .arg(&source)
            .stdout_any()
            .stderr_like(&uploaded_one(&source, "5.9 KiB", version + 1))
            .run();
        let record = records(&out).remove(0);
        let sent = stored(&service, &record);
        let facts = inspect(&sent);
        assert_eq!(facts["gps"], false, "{flags:?}: {facts}");
        assert_eq!(facts["xmp"], false, "{flags:?}: {facts}");
        assert_eq!(facts["icc"], true, "{flags:?}: {facts}");
        assert_eq!(
            (facts["width"].as_u64(), facts["height"].as_u64()),
            (Some(*w), Some(*h)),
            "{flags:?}"
        );
        assert_eq!(facts["orientation"].as_u64(), *orientation, "{flags:?}: {facts}");
        // The record says what was done and what was sent.
        assert_eq!(record["sent_sha256"], hex::encode(Sha256::digest(&sent)), "{flags:?}");
        assert_eq!(record["sent_bytes"], sent.len() as u64);
        assert_eq!(record["original_width"], 32);
        assert_eq!(record["original_height"], 24);
        assert_eq!(
            (record["width"].as_u64(), record["height"].as_u64()),
            (Some(*w), Some(*h))
        );
        assert!(!record["transforms"].as_array().unwrap().is_empty(), "{record}");
        before.assert_unchanged();
        dir.assert_no_spool();
    }
}

#[test]
fn stripping_a_jpeg_leaves_its_pixels_alone() {
    let service = Service::start();
    let dir = Dir::new();
    let bytes = turned_gps_icc_jpeg();
    let source = dir.add("photo.jpg", &bytes);
    let out = dir
        .test(&service)
        .args(["upload", "-o", "records", "--strip-metadata"])
        .arg(&source)
        .stdout_any()
        .stderr_like(&uploaded_one(&source, "5.9 KiB", 1))
        .run();
    let sent = stored(&service, &records(&out).remove(0));
    let scan = |b: &[u8]| b.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    assert_eq!(&sent[scan(&sent)..], &bytes[scan(&bytes)..]);
    assert!(sent.len() < bytes.len());
}

#[test]
fn animations_are_refused_for_resizing_with_a_clear_message_and_nothing_is_sent() {
    let service = Service::start();
    for (name, frames) in [("anim-3frames-10x10.gif", 3), ("anim-2frames-10x10.webp", 2)] {
        for flags in [
            &["--fit", "4x4"][..],
            &["--convert", "png"][..],
            &["--auto-orient", "--fit", "5x5"][..],
        ] {
            let dir = Dir::new();
            let source = dir.add(name, &std::fs::read(fixture(name)).unwrap());
            let before = Sources::of(std::slice::from_ref(&source));
            let line = format!(
                "capfile: error: {}: animated ({frames} frames): capfile does not resize, rotate or convert animations",
                source.display()
            );
            dir.test(&service)
                .arg("upload")
                .args(flags)
                .arg(&source)
                .status(2)
                .stderr_has(&line)
                .stderr_has("nothing was uploaded")
                .run();
            before.assert_unchanged();
            dir.assert_no_spool();
        }
    }
    assert_eq!(service.stats().upload_requests, 0);
}

#[test]
fn cmyk_is_refused_for_pixel_work_and_says_why() {
    let service = Service::start();
    let dir = Dir::new();
    let source = dir.add("cmyk.jpg", &std::fs::read(fixture("cmyk-16x16.jpg")).unwrap());
    dir.test(&service)
        .args(["upload", "--fit", "8x8"])
        .arg(&source)
        .status(2)
        .stderr_has("cmyk.jpg: CMYK: capfile does not convert CMYK to sRGB (--fit 8x8)")
        .run();
    assert_eq!(service.stats().upload_requests, 0);
}

/// A JPEG of noise (hard to compress): `w` x `h` at quality 95.
fn noisy_jpeg(w: u32, h: u32) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(24);
    let pixels: Vec<u8> = (0..w * h * 3).map(|_| rng.u8(..)).collect();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 95)
        .encode(&pixels, w, h, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

#[test]
fn max_bytes_meets_the_budget_or_fails_naming_the_size_reached() {
    let service = Service::start();
    let bytes = noisy_jpeg(200, 150);
    let size = bytes.len() as u64;
    for (version, budget) in [size / 2, size / 3, size / 5].into_iter().enumerate() {
        let dir = Dir::new();
        let source = dir.add("noise.jpg", &bytes);
        let before = Sources::of(std::slice::from_ref(&source));
        let out = dir
            .test(&service)
            .args([
                "upload",
                "-o",
                "records",
                "--reencode",
                "--max-bytes",
                &budget.to_string(),
            ])
            .arg(&source)
            .stdout_any()
            .stderr_like(&uploaded_one(&source, "72.2 KiB", version + 1))
            .run();
        let record = records(&out).remove(0);
        let sent = stored(&service, &record);
        assert!(sent.len() as u64 <= budget, "{} > {budget}", sent.len());
        assert_eq!(record["sent_bytes"], sent.len() as u64);
        before.assert_unchanged();
        dir.assert_no_spool();
    }
    let stored_before = service.stats().uploads_stored;
    for (flags, says) in [
        (
            &["--reencode", "--max-bytes", "500"][..],
            "at quality 20 is over --max-bytes 500".to_string(),
        ),
        (
            &["--max-bytes", "500"][..],
            format!("{size} bytes is over --max-bytes 500"),
        ),
    ] {
        let dir = Dir::new();
        let source = dir.add("noise.jpg", &bytes);
        let before = Sources::of(std::slice::from_ref(&source));
        dir.test(&service)
            .arg("upload")
            .args(flags)
            .arg(&source)
            .status(1)
            .stderr_has(&says)
            .stderr_has("noise.jpg")
            .run();
        before.assert_unchanged();
        dir.assert_no_spool();
    }
    assert_eq!(
        service.stats().uploads_stored,
        stored_before,
        "an image over budget was stored"
    );
}

#[test]
fn a_rerun_with_the_manifest_sends_nothing_and_a_changed_setting_sends_again() {
    let service = Service::start();
    let dir = Dir::new();
    let sources: Vec<PathBuf> = ["a.jpg", "b.jpg"]
        .iter()
        .map(|n| dir.add(n, &turned_gps_icc_jpeg()))
        .collect();
    let sources = vec![
        sources[0].clone(),
        dir.add("c.jpg", &noisy_jpeg(40, 30)),
        sources[1].clone(),
    ];
    let before = Sources::of(&sources);
    let manifest = dir.path().join("manifest.toml");
    let sizes = ["5.9 KiB", "3.6 KiB", "5.9 KiB"];
    // The files go up in parallel, so each line is a piece; the summary too.
    let uploaded = |test: Test, version: u32| {
        sources
            .iter()
            .zip(sizes)
            .fold(test, |test, (source, size)| {
                test.stderr_has(&format!(
                    "uploaded {} ({size}) as version {version}\n",
                    source.display()
                ))
            })
            .stderr_has("uploaded 3 of 3 files, 15.4 KiB in ")
    };
    let run = |fit: &str, expect: &dyn Fn(Test) -> Test| {
        let test = dir
            .test(&service)
            .args([
                "upload",
                "-o",
                "records",
                "--strip-metadata",
                "--fit",
                fit,
                "--manifest",
            ])
            .arg(&manifest)
            .args(&sources)
            .stdout_any();
        expect(test).run()
    };
    let outcomes = |out: &std::process::Output| -> Vec<String> {
        records(out)
            .iter()
            .map(|r| r["outcome"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(outcomes(&run("16x16", &|t| uploaded(t, 1))), ["uploaded"; 3]);
    let sent = service.stats().upload_requests;
    // The same settings: skipped from the manifest before any job starts,
    // so nothing is decoded, and nothing is sent.
    let again = run("16x16", &|t| {
        t.stderr_like("nothing to upload: 3 files unchanged (skipped), 0 B in [..] s\n")
    });
    assert_eq!(outcomes(&again), ["skipped"; 3]);
    assert_eq!(service.stats().upload_requests, sent);
    // The dry run plans as the run decides: keyed by the source and the
    // settings, so the same settings skip and a changed one is `changed`.
    let planned = |fit: &str| -> Vec<String> {
        let out = dir
            .test(&service)
            .args([
                "upload",
                "--dry-run",
                "-o",
                "records",
                "--strip-metadata",
                "--fit",
                fit,
                "--manifest",
            ])
            .arg(&manifest)
            .args(&sources)
            .stdout_any()
            .stderr_has("dry run: 3 files checked, ")
            .stderr_has("; nothing sent\n")
            .run();
        records(&out)
            .iter()
            .map(|r| format!("{} {}", r["action"].as_str().unwrap(), r["reason"].as_str().unwrap()))
            .collect()
    };
    assert_eq!(planned("16x16"), ["skip unchanged"; 3]);
    assert_eq!(planned("10x10"), ["upload changed"; 3]);
    assert_eq!(service.stats().upload_requests, sent);
    // A changed setting sends every one again.
    assert_eq!(outcomes(&run("10x10", &|t| uploaded(t, 2))), ["uploaded"; 3]);
    assert_eq!(service.stats().upload_requests, sent + 3);
    before.assert_unchanged();
    dir.assert_no_spool();
}

#[test]
fn a_policy_makes_an_image_fit_instead_of_refusing_it() {
    let service = Service::start();
    let dir = Dir::new();
    let source = dir.add("photo.jpg", &turned_gps_icc_jpeg());
    let before = Sources::of(std::slice::from_ref(&source));
    let refuse = dir.add(
        "refuse.toml",
        b"[policies.p]\nmax_width = 16\nmax_height = 16\ngps = \"refuse\"\n",
    );
    dir.test(&service)
        .env("CAPFILE_CONFIG", &refuse)
        .args(["upload", "--policy", "p"])
        .arg(&source)
        .status(2)
        .stderr_has("width 32 is over max_width 16")
        .run();
    assert_eq!(service.stats().upload_requests, 0);
    let fit = dir.add(
        "fit.toml",
        b"[policies.p]\nmax_width = 16\nmax_height = 16\ngps = \"refuse\"\nfit = \"16x16\"\nstrip_metadata = true\n",
    );
    let out = dir
        .test(&service)
        .env("CAPFILE_CONFIG", &fit)
        .args(["upload", "-o", "records", "--policy", "p"])
        .arg(&source)
        .stdout_any()
        .stderr_like(&uploaded_one(&source, "5.9 KiB", 1))
        .run();
    let facts = inspect(&stored(&service, &records(&out).remove(0)));
    assert_eq!(
        (facts["width"].as_u64(), facts["height"].as_u64()),
        (Some(12), Some(16))
    );
    assert_eq!(facts["gps"], false);
    before.assert_unchanged();
    dir.assert_no_spool();
}

/// Polls `dir` until a file appears in it.
fn wait_for_a_file_in(dir: &Path) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::fs::read_dir(dir).unwrap().next().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "no file appeared in {}",
            dir.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

// The spooled image of an upload held by the service is removed when
// capfile is stopped by Ctrl-C (SIGINT) or SIGTERM.
#[cfg(unix)]
#[test]
fn an_interrupted_upload_leaves_no_temporary_file() {
    use std::time::{Duration, Instant};
    let service = Service::with_config(|config| {
        config.upload_latency = vec![("held.jpg".to_string(), Duration::from_secs(60))];
        config.shutdown_grace = Duration::ZERO;
    });
    for signal in ["-INT", "-TERM"] {
        let dir = Dir::new();
        let source = dir.add("held.jpg", &turned_gps_icc_jpeg());
        let before = Sources::of(std::slice::from_ref(&source));
        let mut child = service
            .std_capfile()
            .args(["upload", "--no-progress", "--strip-metadata"])
            .arg(&source)
            .env("TMPDIR", dir.path().join("tmp"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        wait_for_a_file_in(&dir.path().join("tmp"));
        let killed = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "capfile did not stop at {signal}");
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        // 128 + the signal: 130 for SIGINT, 143 for SIGTERM.
        let expected = if signal == "-TERM" { 143 } else { 130 };
        assert_eq!(status.code(), Some(expected), "{signal}: {err}");
        before.assert_unchanged();
        dir.assert_no_spool();
    }
}

#[test]
fn inspect_apply_shows_what_each_file_would_become_and_sends_nothing() {
    let service = Service::start();
    let dir = Dir::new();
    let photo = dir.add("photo.jpg", &turned_gps_icc_jpeg());
    let anim = dir.add("anim.gif", &std::fs::read(fixture("anim-3frames-10x10.gif")).unwrap());
    let before = Sources::of(&[photo.clone(), anim.clone()]);
    dir.test(&service)
        .args(["inspect", "--apply", "--fit", "16x16", "--strip-metadata"])
        .arg(&photo)
        .arg(&anim)
        .stdout_like(&format!(
            "{}: jpeg 32x24 {} bytes -> jpeg 12x16 [..] bytes (auto-orient (6), fit 24x32->12x16, strip-metadata \
             (re-encoded), quality 85)\n{}: sent as it is (gif 10x10 138 bytes)\n",
            photo.display(),
            turned_gps_icc_jpeg().len(),
            anim.display()
        ))
        .stderr("2 files inspected\n")
        .run();
    // JSON: before and after, and what was done; the animation refused.
    let out = dir
        .test(&service)
        .args(["inspect", "--json", "--fit", "4x4"])
        .arg(&photo)
        .arg(&anim)
        .status(2)
        .stdout_any()
        .stderr_has("anim.gif: animated (3 frames)")
        .run();
    let line: serde_json::Value = serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    assert_eq!(line["before"]["gps"], true);
    assert_eq!(
        (line["after"]["width"].as_u64(), line["after"]["height"].as_u64()),
        (Some(3), Some(4))
    );
    assert_eq!(line["after"]["icc"], true);
    assert_eq!(service.stats().upload_requests, 0);
    before.assert_unchanged();
    dir.assert_no_spool();
}

#[test]
fn a_decompression_bomb_header_is_refused_before_anything_is_sent_even_when_it_would_fit() {
    let service = Service::start();
    let dir = Dir::new();
    // A PNG header declaring 100,000 x 100,000 pixels, cut after IHDR.
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    png.extend(100_000u32.to_be_bytes());
    png.extend(100_000u32.to_be_bytes());
    png.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
    png.extend(b"\0\0\x10\0IDAT");
    let bomb = dir.add("bomb.png", &png);
    dir.test(&service)
        .args(["upload", "--fit", "100x100"])
        .arg(&bomb)
        .status(2)
        .stderr_has("bomb.png: 100000x100000 (10000000000 pixels) is over max_pixels 100000000")
        .run();
    assert_eq!(service.stats().upload_requests, 0);
    dir.assert_no_spool();
}
