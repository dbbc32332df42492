//! Unit tests of the manifest.

mod durability;

use super::*;
use crate::error::ErrorKind;
use sha2::{Digest, Sha256};
use time::macros::datetime;

pub(super) const WAIT: LockWait = LockWait::Wait(Duration::from_secs(60));

pub(super) fn binding() -> Binding {
    Binding {
        origin: "https://eu.api.capillarytech.com".into(),
        namespace: "rewards".into(),
        body: "multipart".into(),
    }
}

pub(super) fn entry(seed: u8) -> Entry {
    Entry {
        sha256: hex::encode([seed; 32]),
        size: 100 + u64::from(seed),
        content_type: "image/png".into(),
        version: seed.to_string(),
        file_handle: Some(format!("handle-{seed}")),
        s3_url: Some(format!("s3:/bucket/rewards/{seed}.png")),
        secure_file_path: format!("https://s3.example/{seed}.png?X-Amz-Date=20240508T034059Z&X-Amz-Expires=3600"),
        url_expires_at: Some(datetime!(2024-05-08 04:40:59 UTC)),
        uploaded_at: datetime!(2024-05-08 03:41:00 UTC),
    }
}

/// Opens with a wait: another test's `Command::spawn` forks this process
/// and the child holds copies of every open file until it execs, which
/// can keep a just-released lock busy for a moment.
pub(super) fn open(path: &Path) -> Manifest {
    Manifest::open(path, &binding(), WAIT).expect("open")
}

#[test]
fn round_trip_keeps_every_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("assets.manifest.toml");
    let mut manifest = open(&path);
    let mut bare = entry(2);
    bare.file_handle = None;
    bare.s3_url = None;
    bare.url_expires_at = None;
    manifest.record("a.png", entry(1)).unwrap();
    manifest.record("dir/with \"quotes\" é.png", bare.clone()).unwrap();
    manifest.finish().unwrap();
    assert!(!sibling(&path, ".journal").exists());

    let manifest = open(&path);
    assert_eq!(manifest.lookup("a.png"), Some(&entry(1)));
    assert_eq!(manifest.lookup("dir/with \"quotes\" é.png"), Some(&bare));
    assert_eq!(manifest.entries().count(), 2);
}

#[test]
fn output_is_sorted_and_stable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.toml");
    let mut manifest = open(&path);
    for name in ["c.png", "a.png", "b/z.png", "b.png"] {
        manifest.record(name, entry(7)).unwrap();
    }
    manifest.finish().unwrap();
    let first = fs::read_to_string(&path).unwrap();
    let names: Vec<&str> = first.lines().filter(|l| l.starts_with("[files.")).collect();
    assert_eq!(
        names,
        [
            "[files.\"a.png\"]",
            "[files.\"b.png\"]",
            "[files.\"b/z.png\"]",
            "[files.\"c.png\"]"
        ]
    );
    let keys: Vec<&str> = first
        .split("[files.\"a.png\"]")
        .nth(1)
        .unwrap()
        .split("\n\n")
        .next()
        .unwrap()
        .lines()
        .filter_map(|l| l.split(" = ").next())
        .filter(|k| !k.is_empty())
        .collect();
    assert_eq!(
        keys,
        [
            "sha256",
            "size",
            "content_type",
            "version",
            "file_handle",
            "s3_url",
            "secure_file_path",
            "url_expires_at",
            "uploaded_at"
        ]
    );
    assert!(first.starts_with("# capfile upload manifest"), "{first}");
    assert!(first.contains("url_expires_at = \"2024-05-08T04:40:59Z\""), "{first}");

    // Re-recording the same entries in another order gives the same bytes.
    let mut manifest = open(&path);
    for name in ["b.png", "a.png", "c.png", "b/z.png"] {
        manifest.record(name, entry(7)).unwrap();
    }
    manifest.finish().unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), first);
}

#[test]
fn unchanged_manifest_is_not_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.toml");
    let mut manifest = open(&path);
    manifest.record("a.png", entry(1)).unwrap();
    manifest.finish().unwrap();
    // A hand-added comment survives a run that recorded nothing.
    let edited = format!("{}# kept\n", fs::read_to_string(&path).unwrap());
    fs::write(&path, &edited).unwrap();
    open(&path).finish().unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), edited);
}

#[test]
fn decisions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.toml");
    let mut manifest = open(&path);
    let e = entry(1);
    manifest.record("a.png", e.clone()).unwrap();
    let before = datetime!(2024-05-08 04:00:00 UTC);
    let after = datetime!(2024-05-08 05:00:00 UTC);
    let refresh = Policy {
        force: false,
        refresh_expired: true,
    };
    let keep = Policy {
        force: false,
        refresh_expired: false,
    };
    let force = Policy {
        force: true,
        refresh_expired: false,
    };
    let hash = Some(e.sha256.as_str());
    let other = hex::encode([9u8; 32]);

    assert_eq!(
        manifest.decide("b.png", e.size, None, before, refresh),
        Decision::Upload(Reason::New)
    );
    assert_eq!(
        manifest.decide("a.png", e.size + 1, None, before, refresh),
        Decision::Upload(Reason::Changed)
    );
    assert_eq!(
        manifest.decide("a.png", e.size, None, before, refresh),
        Decision::HashFirst
    );
    assert_eq!(
        manifest.decide("a.png", e.size, hash, before, refresh),
        Decision::Skip(&e)
    );
    assert_eq!(
        manifest.decide("a.png", e.size, Some(&e.sha256.to_uppercase()), before, refresh),
        Decision::Skip(&e)
    );
    assert_eq!(
        manifest.decide("a.png", e.size, Some(&other), before, refresh),
        Decision::Upload(Reason::Changed)
    );
    assert_eq!(
        manifest.decide("a.png", e.size, None, after, refresh),
        Decision::Upload(Reason::Expired)
    );
    assert_eq!(manifest.decide("a.png", e.size, hash, after, keep), Decision::Skip(&e));
    assert_eq!(
        manifest.decide("a.png", e.size, hash, before, force),
        Decision::Upload(Reason::Forced)
    );

    assert!(manifest.must_hash_first("a.png", e.size, before, refresh));
    assert!(!manifest.must_hash_first("a.png", e.size, after, refresh));
    assert!(manifest.must_hash_first("a.png", e.size, after, keep));
    assert!(!manifest.must_hash_first("a.png", e.size + 1, before, refresh));
    assert!(!manifest.must_hash_first("new.png", 5, before, refresh));
    assert!(!manifest.must_hash_first("a.png", e.size, before, force));

    // Within the margin counts as expired; without an expiry, never.
    assert!(e.url_expired(datetime!(2024-05-08 04:36:00 UTC)));
    assert!(!e.url_expired(datetime!(2024-05-08 04:35:00 UTC)));
    let forever = Entry {
        url_expires_at: None,
        ..e.clone()
    };
    assert!(!forever.url_expired(after));
}

#[test]
fn expiry_of_an_aws_url() {
    // The sample response in the vendor notes
    // (shared/api/upload-images-to-file-service.md).
    let sample = "https://eucrm-solutions.s3-eu-west-1.amazonaws.com/rewards/100606/b21f3aea-ad38-4634-82a4-db2aaa0b.png?X-Amz-Security-Token=FwoGZXIvYXdzEJ3%2F%2F%2F%2F%2F%2F%2F%2F%2F%2FwEaDPltNW6lwqLl1xXlfyLIAaxPIuF7uCnnmqOoXU72eVlsn0Lut7GRbf7kme0GYrC8dqLV4UeWGGwizdrjT2QcANwqoAJRYQDvHYHndQuRt8Rvs3%2B%2BaXtUaW6YYekA65tkH%2BeSg2YaEoTRGuep7rOxHGSmpCaxJ767Za3vi6B3CpeYh5U1LZOeJHS5v3uLCdTHleIj8mutjwoX1OuWlPxEwxAtOOABU7ISXrJxTwVfMWANzfuxNyN2jR0kKpRNHq%2FozXEsVuw2owTyr9VK6wwCeMS5MDVZjANIKI7k67EGMi0%2F6Je5Y9Alnn8IgGBzdYmeEub7mDk1%2FBzhZwySJ4O1osP2n6iWFi%2FEyeaPeco%3D&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20240508T034059Z&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Credential=ASIAXKEP2EMBVBC5UMM3%2F20240508%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Signature=86c114267239ef985ff81c32ad0fa1d6b0618c70e42c2a74217ea1e5d6eec1a8";
    assert_eq!(expiry_of(sample), Some(datetime!(2024-05-08 04:40:59 UTC)));
    assert_eq!(expiry_of("https://s3.example/a.png"), None);
    assert_eq!(
        expiry_of("https://s3.example/a.png?X-Amz-Date=2024&X-Amz-Expires=3600"),
        None
    );
    assert_eq!(
        expiry_of("https://s3.example/a.png?X-Amz-Date=20240508T034059Z&X-Amz-Expires=-1"),
        None
    );
    assert_eq!(expiry_of("not a url"), None);
}

#[test]
fn expiry_of_an_emulator_url() {
    // The shape of src/emulator/signing.rs's `UrlSigner::sign` (private there).
    let url = "http://127.0.0.1:4321/files/rewards/1/a.png?expires=1715139659&signature=0a1b2c";
    assert_eq!(expiry_of(url), Some(datetime!(2024-05-08 03:40:59 UTC)));
    assert_eq!(expiry_of("http://127.0.0.1:1/files/x?expires=soon&signature=ab"), None);
}

#[test]
fn a_failed_record_names_the_journal_and_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.toml");
    let mut manifest = open(&path);
    let journal = sibling(&path, ".journal");
    fs::create_dir(&journal).unwrap();
    let err = manifest.record("a.png", entry(1)).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("cannot write {}: ", journal.display())),
        "{err}"
    );
    assert_eq!(err.kind(), ErrorKind::Failure);
    assert_eq!(manifest.lookup("a.png"), None);
}

#[test]
fn a_binding_names_the_origin_only() {
    let url = url::Url::parse("https://EU.api.capillarytech.com:443/v1/api_gateway?x=1").unwrap();
    assert_eq!(
        Binding::new(&url, "rewards", "raw").origin,
        "https://eu.api.capillarytech.com"
    );
    let url = url::Url::parse("http://127.0.0.1:8080/").unwrap();
    assert_eq!(Binding::new(&url, "rewards", "raw").origin, "http://127.0.0.1:8080");
}

#[test]
fn times_round_trip() {
    let at = datetime!(2024-05-08 03:40:59.75 UTC);
    assert_eq!(format_time(at), "2024-05-08T03:40:59Z");
    assert_eq!(
        parse_time("2024-05-08T03:40:59Z"),
        Some(datetime!(2024-05-08 03:40:59 UTC))
    );
    for bad in [
        "2024-05-08 03:40:59Z",
        "2024-13-08T03:40:59Z",
        "2024-05-08T03:40:59+01:00",
        "",
        "2024-05-08T03:4a:59Z",
        // Each separator in turn is wrong, missing or doubled.
        "2024/05-08T03:40:59Z",
        "2024-05/08T03:40:59Z",
        "2024-05-08t03:40:59Z",
        "2024-05-08T03-40:59Z",
        "2024-05-08T03:40-59Z",
        "2024-05-08T03:40:59z",
        "2024-05-08T03:40:59",
        "2024-05-08T03:40:59ZZ",
        "+2024-05-08T03:40:59Z",
        "2024-5-08T03:40:59Z",
        "2024-05-08T03:40:59.5Z",
        "2024-02-30T03:40:59Z",
        "2024-05-08T24:00:00Z",
    ] {
        assert_eq!(parse_time(bad), None, "{bad}");
    }
}

#[test]
fn amz_dates_parse_only_their_own_format() {
    assert_eq!(
        super::expiry::parse_amz_date("20240508T034059Z"),
        Some(datetime!(2024-05-08 03:40:59 UTC))
    );
    for bad in [
        "20240508 034059Z",
        "20240508T034059",
        "20240508T034059z",
        "2024-05-08T03:40:59Z",
        "20241308T034059Z",
        "2024050aT034059Z",
        "20240508T0340591Z",
        "",
    ] {
        assert_eq!(super::expiry::parse_amz_date(bad), None, "{bad}");
    }
}

#[test]
fn an_amz_url_expires_at_its_date_plus_its_seconds() {
    let url = "https://b.s3.amazonaws.com/k.png?X-Amz-Date=20240508T034059Z&X-Amz-Expires=3600&X-Amz-Signature=ab";
    assert_eq!(expiry_of(url), Some(datetime!(2024-05-08 04:40:59 UTC)));
    let bad_date = "https://b/k.png?X-Amz-Date=20240508-034059Z&X-Amz-Expires=3600";
    assert_eq!(expiry_of(bad_date), None);
    assert_eq!(
        expiry_of("https://h/f.png?expires=1715139659"),
        Some(datetime!(2024-05-08 03:40:59 UTC))
    );
    assert_eq!(expiry_of("https://h/f.png"), None);
}

#[test]
fn hashing_streamed_and_whole_agree() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.bin");
    let data: Vec<u8> = (0..HASH_BUFFER * 2 + 17).map(|i| (i % 251) as u8).collect();
    fs::write(&path, &data).unwrap();
    let mut streamed = ContentHasher::new();
    for chunk in data.chunks(10_000) {
        streamed.update(chunk);
    }
    assert_eq!(streamed.size(), data.len() as u64);
    let whole = hash_file(&path).unwrap();
    assert_eq!(streamed.finish(), whole);
    assert_eq!(whole.0, hex::encode(Sha256::digest(&data)));
    assert_eq!(
        ContentHasher::new().finish().0,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

/// Guarantee 6 (linear in the work): a parse scans its text for line
/// numbers a bounded number of times, not once per entry (which made 20,000
/// entries take 100 s). Counted, not timed; the time is in bench/run.sh.
#[test]
fn parse_scans_the_text_a_bounded_number_of_times() {
    for count in [1_usize, 100, 2_000] {
        let entries: BTreeMap<String, Entry> = (0..count)
            .map(|i| (format!("img/{i:05}.png"), entry((i % 250) as u8)))
            .collect();
        let text = format::render(&binding(), &entries);
        format::scanned::take();
        // Both ways of reading it: a table at a time, and (as for any error)
        // as one document.
        let parsed = format::parse_manifest(Path::new("m.toml"), text.as_bytes(), &binding()).unwrap();
        assert_eq!(parsed.len(), count);
        let whole = format::parse_whole(Path::new("m.toml"), text.as_bytes(), &binding()).unwrap();
        assert_eq!(whole, parsed);
        let scanned = format::scanned::take();
        assert!(
            scanned <= 2 * text.len(),
            "{count} entries: scanned {scanned} bytes of a {}-byte text",
            text.len()
        );
    }
}

#[test]
fn line_index_agrees_with_counting_newlines() {
    for text in ["", "a", "\n", "a\nb", "a\n\nb\n", "[x]\nk = 1\n\n[y]\n"] {
        let lines = format::Lines::of(text);
        for offset in 0..=text.len() {
            assert_eq!(
                lines.line(Some(offset..offset)),
                format::line_of(text, Some(offset..offset)),
                "{text:?} at {offset}"
            );
        }
        assert_eq!(lines.line(None), None);
    }
}

/// Reading a table at a time gives what parsing the whole document gives,
/// or leaves the text to the whole parse; it never gives something else.
#[test]
fn reading_by_table_agrees_with_the_whole_parse() {
    let entries: BTreeMap<String, Entry> = (0..5_u8).map(|i| (format!("img/{i}.png"), entry(i))).collect();
    let good = format::render(&binding(), &entries);
    let path = Path::new("m.toml");
    let whole = |text: &str| format::parse_whole(path, text.as_bytes(), &binding()).ok();
    let by_table = |text: &str| format::parse_by_table(path, text, &binding());
    assert_eq!(by_table(&good), Some(entries.clone()));
    assert_eq!(whole(&good), Some(entries.clone()));

    let line = "[files.\"img/2.png\"]";
    let variants = [
        // Taken a table at a time.
        (good.replace(line, &format!("# a comment\n{line}")), true),
        (good.replace("\r\n", "\n").replace('\n', "\r\n"), true),
        (good.replace(line, "[files.'img/2.png']"), true),
        (
            format!(
                "{good}\n[files.\"new.png\"]\n{}",
                &good[good.find(line).unwrap() + line.len() + 1..]
            ),
            false,
        ),
        // Left to the whole parse (which may accept or refuse them).
        (good.replace(line, " [files.\"img/2.png\"]"), false),
        // `[files]` after `[files."img/0.png"]` is valid TOML, either way.
        (good.replace(line, "[files]\n[files.\"img/2.png\"]"), true),
        (good.replace(line, "[files.\"img/1.png\"]"), false),
        (good.replace(line, "[other]\nx = 1\n[files.\"img/2.png\"]"), false),
        (
            good.replace("version = \"2\"", "version = '''\n[files.\"x\"]\n'''"),
            false,
        ),
        (good.replace("version = \"2\"", "version = \"2\\t\""), false),
        (good.replace("[manifest]", "files = 1\n[manifest]"), false),
        (
            good.replace(line, "[files.\"img/2.png\".sub]\nx = 1\n[files.\"img/2.png\"]"),
            false,
        ),
        (
            good.replace(
                "origin = \"https://eu.api.capillarytech.com\"",
                "origin = \"https://other.example\"",
            ),
            false,
        ),
    ];
    for (i, (text, taken)) in variants.into_iter().enumerate() {
        let fast = by_table(&text);
        assert_eq!(fast.is_some(), taken, "variant {i}: {text}");
        if let Some(fast) = fast {
            assert_eq!(Some(fast), whole(&text), "{text}");
        }
    }
}
