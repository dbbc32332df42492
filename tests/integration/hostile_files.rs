//! Hostile files (issue 18, guarantees 1 and 2): every file capfile reads is
//! bounded, and it writes only files that are its own.
//!
//! Each case runs the real binary against the emulator, under a watchdog (a
//! case that never ends fails, generously late, rather than hanging the
//! suite): `/dev/zero`, `/dev/urandom`, a FIFO, a socket, a symlink to
//! `/dev/zero`, sparse huge files, given as an input, a `--files-from` list
//! (both separators, named or on standard input), a `--retry-from` report, a
//! manifest, its journal and lock, a config file and standard input. Each ends
//! with exit 2, one error line naming the cause, and nothing sent; the
//! children's peak memory is checked with getrusage.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use proptest::prelude::*;

use crate::common::{self, Service, sample};

/// Far longer than any case takes; only a hang reaches it.
const WATCHDOG: Duration = Duration::from_secs(60);

/// Runs `cmd` with `stdin`, killing it if it outlives the watchdog.
// Reaped with wait4 (for its rusage), which clippy does not see.
#[allow(clippy::zombie_processes)]
fn run_watched(mut cmd: Command, stdin: Stdio) -> Output {
    let peak_file = tempfile::NamedTempFile::new().unwrap();
    let mut child = cmd
        .env(common::PEAK_FILE_VAR, peak_file.path())
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("capfile starts");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    // Reaped with wait4. Its peak memory is the one it wrote at its end
    // (CAPFILE_TEST_PEAK_FILE): wait4's maxrss also counts this test
    // process's own peak, folded into the child's at its exec, and the
    // process-wide RUSAGE_CHILDREN every other test's children.
    let pid = child.id() as libc::pid_t;
    let started = Instant::now();
    let status = loop {
        let mut raw = 0;
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: wait4 writes into the status and the struct it is given.
        let reaped = unsafe { libc::wait4(pid, &mut raw, libc::WNOHANG, &mut usage) };
        if reaped == pid {
            let own = common::own_peak_kib(peak_file.path(), usage.ru_maxrss);
            PEAK_RSS_KIB.with(|peak| peak.set(peak.get().max(own)));
            break std::os::unix::process::ExitStatusExt::from_raw(raw);
        }
        if started.elapsed() > WATCHDOG {
            let _ = child.kill();
            // SAFETY: as above; blocking until the killed child is reaped.
            unsafe { libc::wait4(pid, &mut raw, 0, &mut usage) };
            panic!("capfile did not end within {WATCHDOG:?}: {cmd:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    }
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// A file of `len` zero bytes that takes no room on disk.
fn sparse(path: &Path, len: u64) {
    File::create(path).unwrap().set_len(len).unwrap();
}

thread_local! {
    /// The largest peak memory (KiB) of the children `run_watched` reaped on
    /// this test's thread.
    static PEAK_RSS_KIB: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
}

/// The peak resident memory of the largest child this test ran.
fn children_peak_rss_mib() -> i64 {
    PEAK_RSS_KIB.with(std::cell::Cell::get) / 1024
}

/// The hostile things, made once in one folder.
struct Zoo {
    dir: tempfile::TempDir,
    _socket: std::os::unix::net::UnixListener,
}

impl Zoo {
    fn new() -> Zoo {
        let dir = tempfile::tempdir().unwrap();
        let p = |name: &str| dir.path().join(name);
        mkfifo(&p("fifo.png"));
        std::os::unix::fs::symlink("/dev/zero", p("zero.png")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", p("zero.toml")).unwrap();
        // 20 MiB with no newline: one line longer than any cap.
        sparse(&p("one-long-line.txt"), 20 << 20);
        sparse(&p("huge.toml"), 10 << 30);
        fs::write(p("bm.txt"), "BMW is a car maker, not a bitmap.\n".repeat(4)).unwrap();
        let socket = std::os::unix::net::UnixListener::bind(p("socket.png")).unwrap();
        Zoo { dir, _socket: socket }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_string()
    }
}

enum In {
    Null,
    Zero,
    Urandom,
}

struct Case {
    name: &'static str,
    args: Vec<String>,
    stdin: In,
    says: &'static str,
}

fn case(name: &'static str, args: &[&str], stdin: In, says: &'static str) -> Case {
    Case {
        name,
        args: args.iter().map(|s| s.to_string()).collect(),
        stdin,
        says,
    }
}

fn cases(zoo: &Zoo) -> Vec<Case> {
    let fifo = zoo.path("fifo.png");
    let zero_link = zoo.path("zero.png");
    let long = zoo.path("one-long-line.txt");
    let socket = zoo.path("socket.png");
    let png = sample("sample.png").to_str().unwrap().to_string();
    let chardev = "a character device";
    vec![
        // As an input.
        case("input /dev/zero", &["/dev/zero"], In::Null, chardev),
        case("input /dev/urandom", &["/dev/urandom"], In::Null, chardev),
        case("input FIFO", &[&fifo], In::Null, "a FIFO"),
        case("input socket", &[&socket], In::Null, "a socket"),
        case("input symlink to /dev/zero", &[&zero_link], In::Null, chardev),
        case(
            "input text starting BM",
            &[&zoo.path("bm.txt")],
            In::Null,
            "not an image",
        ),
        // As a --files-from list.
        case("list /dev/zero", &["--files-from", "/dev/zero"], In::Null, chardev),
        case(
            "list /dev/zero -0",
            &["--files-from", "/dev/zero", "-0"],
            In::Null,
            chardev,
        ),
        case("list FIFO", &["--files-from", &fifo], In::Null, "a FIFO"),
        case(
            "list one long line",
            &["--files-from", &long],
            In::Null,
            "line 1 is longer than",
        ),
        case(
            "list one long entry -0",
            &["--files-from", &long, "-0"],
            In::Null,
            "more than 10000000 lines",
        ),
        case(
            "list stdin zeros",
            &["--files-from", "-"],
            In::Zero,
            "line 1 is longer than",
        ),
        case(
            "list stdin zeros -0",
            &["--files-from", "-", "-0"],
            In::Zero,
            "more than 10000000 lines",
        ),
        // As a --retry-from report.
        case("retry /dev/zero", &["--retry-from", "/dev/zero"], In::Null, chardev),
        case("retry FIFO", &["--retry-from", &fifo], In::Null, "a FIFO"),
        case(
            "retry symlink to /dev/zero",
            &["--retry-from", &zero_link],
            In::Null,
            chardev,
        ),
        case(
            "retry one long line",
            &["--retry-from", &long],
            In::Null,
            "line 1 is longer than",
        ),
        // As a manifest.
        case(
            "manifest symlink to /dev/zero",
            &[&png, "--manifest", &zoo.path("zero.toml")],
            In::Null,
            chardev,
        ),
        case("manifest FIFO", &[&png, "--manifest", &fifo], In::Null, "a FIFO"),
        case(
            "manifest sparse 10 GiB",
            &[&png, "--manifest", &zoo.path("huge.toml")],
            In::Null,
            "larger than",
        ),
        // Standard input.
        case("stdin zeros", &["-", "--name", "z.png"], In::Zero, "not an image"),
        case("stdin urandom", &["-", "--name", "z.png"], In::Urandom, "not an image"),
    ]
}

#[test]
fn hostile_files_end_at_once_with_one_line_and_bounded_memory() {
    let service = Service::start();
    let zoo = Zoo::new();
    let tmp = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for case in cases(&zoo) {
        let mut cmd = service.std_capfile();
        cmd.arg("upload").args(&case.args).env("TMPDIR", tmp.path());
        let stdin = match case.stdin {
            In::Null => Stdio::null(),
            In::Zero => File::open("/dev/zero").unwrap().into(),
            In::Urandom => File::open("/dev/urandom").unwrap().into(),
        };
        let output = run_watched(cmd, stdin);
        common::assert_clean(&output);
        let err = String::from_utf8_lossy(&output.stderr).into_owned();
        let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("capfile: error:")).collect();
        let ok = output.status.code() == Some(2)
            && errors.len() == 1
            && errors[0].contains(case.says)
            && output.stdout.is_empty();
        if !ok {
            failures.push(format!(
                "{}: exit {:?}, stderr:\n{err}",
                case.name,
                output.status.code()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(service.stats().upload_requests, 0, "nothing is sent");
    // Nothing spooled is left behind.
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0, "TMPDIR holds leftovers");
    let peak = children_peak_rss_mib();
    assert!(peak < 300, "a child peaked at {peak} MiB");
}

#[test]
fn a_config_that_is_not_a_regular_file_is_refused_without_blocking() {
    let zoo = Zoo::new();
    for (config, says) in [
        (zoo.path("fifo.png"), "a FIFO"),
        ("/dev/zero".to_string(), "a character device"),
    ] {
        let home = tempfile::tempdir().unwrap();
        let mut cmd = common::std_capfile(home.path());
        cmd.args(["--config", &config, "config", "list"]);
        let output = run_watched(cmd, Stdio::null());
        let err = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(2), "{config}: {err}");
        assert!(err.contains(says), "{config}: {err}");
    }
}

#[test]
fn a_credentials_file_that_is_a_fifo_is_refused_without_blocking() {
    let service = Service::start();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    fs::write(
        &config,
        "[profiles.default]\nauth = \"basic\"\nusername = \"capfile\"\n",
    )
    .unwrap();
    mkfifo(&dir.path().join("credentials.toml"));
    let mut cmd = common::std_capfile(service.home.path());
    cmd.env("CAPFILE_BASE_URL", service.base_url())
        .arg("--config")
        .arg(&config)
        .arg("upload")
        .arg(sample("sample.png"));
    let output = run_watched(cmd, Stdio::null());
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_ne!(output.status.code(), Some(0), "{err}");
    assert!(err.contains("a FIFO"), "{err}");
    assert_eq!(service.stats().upload_requests, 0);
}

#[test]
fn endless_image_on_stdin_stops_at_the_spool_cap_and_leaves_nothing() {
    let service = Service::start();
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = service.std_capfile();
    cmd.args(["upload", "-", "--name", "big.png"])
        .env("TMPDIR", tmp.path())
        .env("CAPFILE_TEST_SPOOL_LIMIT", "1048576");
    // A PNG header, then zeros without end.
    let mut child_input = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child_input.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let png = fs::read(sample("sample.png")).unwrap();
        let _ = stdin.write_all(&png[..64]);
        let zeros = vec![0u8; 64 * 1024];
        while stdin.write_all(&zeros).is_ok() {}
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child_input.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > WATCHDOG {
            let _ = child_input.kill();
            panic!("capfile kept spooling an endless standard input");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    writer.join().unwrap();
    let mut err = String::new();
    child_input.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("larger than 1 MiB"), "{err}");
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0, "the spool is removed");
    assert_eq!(service.stats().upload_requests, 0);
}

/// A file that is not a capfile report, with its bytes and mtime.
fn snapshot(path: &Path) -> (Vec<u8>, std::time::SystemTime) {
    (fs::read(path).unwrap(), fs::metadata(path).unwrap().modified().unwrap())
}

/// A record line as capfile writes it, from a real run.
fn real_report(service: &Service, dir: &Path) -> PathBuf {
    let report = dir.join("good.ndjson");
    let output = service
        .capfile()
        .args(["upload", "--report"])
        .arg(&report)
        .arg(sample("sample.png"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    report
}

#[test]
fn report_is_appended_only_when_it_is_a_capfile_report() {
    let service = Service::start();
    let dir = tempfile::tempdir().unwrap();
    let good = fs::read(real_report(&service, dir.path())).unwrap();
    let png = fs::read(sample("sample.png")).unwrap();
    let refused: Vec<(&str, Vec<u8>)> = vec![
        ("notes.txt", b"first line\nlast line, no newline".to_vec()),
        ("notes-nl.txt", b"one\ntwo\n".to_vec()),
        ("b.png", png),
        ("one-word.txt", b"x".to_vec()),
        ("json.ndjson", b"{\"a\":1}\n".to_vec()),
        ("good-then-text.ndjson", [good.clone(), b"hello\n".to_vec()].concat()),
        ("text-then-good.ndjson", [b"hello\n".to_vec(), good.clone()].concat()),
        (
            "schema-2.ndjson",
            String::from_utf8(good.clone())
                .unwrap()
                .replace("\"schema\":1", "\"schema\":2")
                .into_bytes(),
        ),
    ];
    let before = service.stats().upload_requests;
    for (name, bytes) in &refused {
        let path = dir.path().join(name);
        fs::write(&path, bytes).unwrap();
        let old = snapshot(&path);
        std::thread::sleep(Duration::from_millis(5));
        let output = run_watched(
            {
                let mut cmd = service.std_capfile();
                cmd.args(["upload", "--report"]).arg(&path).arg(sample("sample.png"));
                cmd
            },
            Stdio::null(),
        );
        let err = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains("not a capfile report"), "{name}: {err}");
        assert_eq!(snapshot(&path), old, "{name} was modified");
    }
    assert_eq!(service.stats().upload_requests, before, "nothing was sent");

    // A real report with a torn last record: only that record is trimmed.
    let torn_path = dir.path().join("torn.ndjson");
    fs::write(&torn_path, [&good[..], &good[..good.len() / 2]].concat()).unwrap();
    let output = service
        .capfile()
        .args(["upload", "--report"])
        .arg(&torn_path)
        .arg(sample("sample.png"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = fs::read(&torn_path).unwrap();
    assert!(text.starts_with(&good), "the whole records are kept");
    assert_eq!(text.iter().filter(|b| **b == b'\n').count(), 2);
    // An empty file is a report with no records.
    let empty = dir.path().join("empty.ndjson");
    fs::write(&empty, "").unwrap();
    let output = service
        .capfile()
        .args(["upload", "--report"])
        .arg(&empty)
        .arg(sample("sample.png"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn report_to_special_files_works_or_says_why() {
    let service = Service::start();
    let dir = tempfile::tempdir().unwrap();
    // /dev/null: written to, no error.
    let output = service
        .capfile()
        .args(["upload", "--report", "/dev/null"])
        .arg(sample("sample.png"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    // A process substitution (a pipe as /dev/fd/N).
    let out = dir.path().join("from-pipe.ndjson");
    let script = format!(
        "\"$0\" upload --report >(cat > '{}') '{}'; code=$?; wait; exit $code",
        out.display(),
        sample("sample.png").display()
    );
    let cmd = service.std_capfile();
    let exe = cmd.get_program().to_owned();
    let mut bash = Command::new("bash");
    bash.arg("-c").arg(&script).arg(exe);
    for (key, value) in cmd.get_envs() {
        match value {
            Some(value) => bash.env(key, value),
            None => bash.env_remove(key),
        };
    }
    let output = run_watched(bash, Stdio::null());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    // `wait` in bash does not wait for a process substitution everywhere.
    let started = Instant::now();
    while !fs::read_to_string(&out).unwrap_or_default().ends_with('\n') && started.elapsed() < WATCHDOG {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(fs::read_to_string(&out).unwrap().contains("\"outcome\":\"uploaded\""));
    // A FIFO nobody reads, a directory, a socket: refused before sending.
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let _socket = std::os::unix::net::UnixListener::bind(dir.path().join("sock")).unwrap();
    let before = service.stats().upload_requests;
    for (path, says) in [
        (fifo, "no process reads it"),
        (dir.path().to_path_buf(), "a directory"),
        (dir.path().join("sock"), "a socket"),
    ] {
        let mut cmd = service.std_capfile();
        cmd.args(["upload", "--report"]).arg(&path).arg(sample("sample.png"));
        let output = run_watched(cmd, Stdio::null());
        let err = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(2), "{}: {err}", path.display());
        assert!(err.contains(says), "{}: {err}", path.display());
        assert!(!err.contains("Invalid argument"), "{err}");
    }
    assert_eq!(service.stats().upload_requests, before);
}

#[test]
fn manifest_lock_and_journal_are_never_followed_through_a_symlink() {
    let service = Service::start();
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    fs::write(&victim, "keep me\n").unwrap();
    for suffix in [".lock", ".journal"] {
        let manifest = dir.path().join(format!("m{suffix}.toml"));
        let side = PathBuf::from(format!("{}{suffix}", manifest.display()));
        std::os::unix::fs::symlink(&victim, &side).unwrap();
        let mut cmd = service.std_capfile();
        cmd.args(["upload", "--manifest"])
            .arg(&manifest)
            .arg(sample("sample.png"));
        let output = run_watched(cmd, Stdio::null());
        let err = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(2), "{suffix}: {err}");
        assert!(err.contains("symbolic link"), "{suffix}: {err}");
        assert_eq!(fs::read_to_string(&victim).unwrap(), "keep me\n");
    }
    assert_eq!(service.stats().upload_requests, 0);
}

/// A stand-in service that runs `on_first` when the first upload's headers
/// arrive (before its body is read), then answers every upload as stored.
fn stand_in(on_first: impl Fn() + Send + Sync + 'static) -> (tokio::runtime::Runtime, String) {
    use axum::response::IntoResponse;
    let on_first = std::sync::Arc::new(on_first);
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let app = axum::Router::new().fallback(axum::routing::any(move |body: axum::body::Body| {
        let (on_first, seen) = (on_first.clone(), seen.clone());
        async move {
            if seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                on_first();
            }
            let _ = axum::body::to_bytes(body, usize::MAX).await;
            let body = r#"{"code":200,"status":"true","file":{"name":"a.png","version":1},"secureFilePath":"https://files.example/a.png"}"#;
            ([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response()
        }
    }));
    common::serve_app(app)
}

#[test]
fn an_input_swapped_for_a_fifo_after_the_check_fails_and_the_run_ends() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.png");
    let b = dir.path().join("b.png");
    fs::copy(sample("sample.png"), &a).unwrap();
    fs::copy(sample("sample.png"), &b).unwrap();
    // While a is sent (-j 1 sends a first), b becomes a FIFO nobody writes.
    let swapped = b.clone();
    let (_runtime, url) = stand_in(move || {
        fs::remove_file(&swapped).unwrap();
        mkfifo(&swapped);
    });
    let home = tempfile::tempdir().unwrap();
    let mut cmd = common::std_capfile(home.path());
    cmd.env("CAPFILE_BASE_URL", &url)
        .env("CAPFILE_USERNAME", "u")
        .env("CAPFILE_PASSWORD", "p")
        .args(["upload", "-j", "1", "--retries", "0"])
        .arg(&a)
        .arg(&b);
    let output = run_watched(cmd, Stdio::null());
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(3), "{err}");
    assert!(err.contains("a FIFO"), "{err}");
}

#[test]
fn an_input_that_grows_while_it_is_sent_fails() {
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("b.png");
    // Far larger than what the sockets hold: it is still being read when it
    // grows, as the stand-in sees the request's headers.
    let mut big = fs::read(sample("sample.png")).unwrap();
    big.resize(64 << 20, 7);
    fs::write(&b, &big).unwrap();
    let grown = b.clone();
    let (_runtime, url) = stand_in(move || {
        use std::io::Write;
        let mut file = fs::OpenOptions::new().append(true).open(&grown).unwrap();
        file.write_all(b"appended while it was sent").unwrap();
    });
    let home = tempfile::tempdir().unwrap();
    let mut cmd = common::std_capfile(home.path());
    cmd.env("CAPFILE_BASE_URL", &url)
        .env("CAPFILE_USERNAME", "u")
        .env("CAPFILE_PASSWORD", "p")
        .args(["upload", "--retries", "0"])
        .arg(&b);
    let output = run_watched(cmd, Stdio::null());
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.contains("changed size"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    /// Random contents that are not a capfile report are never modified.
    #[test]
    fn random_non_reports_are_never_modified(bytes in proptest::collection::vec(any::<u8>(), 1..400)) {
        // Not a report (or a report's torn first record): skip those few.
        prop_assume!(!bytes.starts_with(b"{") && !bytes.iter().all(|b| b.is_ascii_whitespace()));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.ndjson");
        fs::write(&path, &bytes).unwrap();
        let old = snapshot(&path);
        let home = tempfile::tempdir().unwrap();
        // Nothing listens there: a refused report never gets that far.
        let output = common::bare_capfile(home.path())
            .env("CAPFILE_BASE_URL", "http://127.0.0.1:9")
            .env("CAPFILE_USERNAME", "u")
            .env("CAPFILE_PASSWORD", "p")
            .args(["upload", "--dry-run", "--report"])
            .arg(&path)
            .arg(sample("sample.png"))
            .output()
            .unwrap();
        prop_assert_eq!(output.status.code(), Some(2), "{}", String::from_utf8_lossy(&output.stderr));
        prop_assert_eq!(snapshot(&path), old);
    }
}

#[test]
fn a_non_utf8_input_path_is_kept_in_the_record_and_retried() {
    use base64::Engine;
    use std::os::unix::ffi::OsStrExt;
    let service = Service::start();
    let dir = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.png");
    let path = dir.path().join(name);
    fs::copy(sample("sample.png"), &path).unwrap();
    let report = dir.path().join("r.ndjson");
    let output = service
        .capfile()
        .args(["upload", "--name", "cafe.png", "--report"])
        .arg(&report)
        .arg(&path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let line = fs::read_to_string(&report).unwrap();
    let mut record: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    let bytes = base64::engine::general_purpose::STANDARD.encode(path.as_os_str().as_bytes());
    assert_eq!(record["input_bytes"], serde_json::json!(bytes), "{line}");
    // As if it had failed: --retry-from finds the file by its bytes.
    record["outcome"] = "failed".into();
    fs::write(&report, format!("{line}{record}\n")).unwrap();
    let before = service.stats().uploads_stored;
    let output = service
        .capfile()
        .args(["upload", "--retry-from"])
        .arg(&report)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(service.stats().uploads_stored, before + 1);
}
