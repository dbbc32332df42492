//! Shared test fixtures: the emulator on 127.0.0.1:0 in this process, and the
//! built `capfile` binary pointed at it with a clean environment.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use capfile::testing::emulator::{Config, Emulator, Faults};

/// The warning of a command that would use the keyring: tests have no
/// D-Bus session (see [`isolate`]).
pub const NO_KEYRING: &str =
    "capfile: warning: cannot use the OS keyring (Secret Service): there is no D-Bus session to reach it on\n";

/// What `login --insecure-storage` of the emulator's Basic user says on
/// standard error, for `profile` at `base_url` with HOME `home`.
pub fn logged_in_insecure(profile: &str, base_url: &str, home: &Path) -> String {
    let dir = home.join("config/capfile");
    format!(
        "logged in: profile `{profile}`, user `{}` at {base_url}; settings saved in {}, secret saved in {} \
         (plain text, mode 0600)\n\
         the password was not checked: the file service can only check a Basic password with an upload; \
         if it is wrong, the first upload fails with 401 (exit 4) and nothing is stored\n",
        capfile::testing::emulator::DEFAULT_USERNAME,
        dir.join("config.toml").display(),
        dir.join("credentials.toml").display(),
    )
}

/// `capfile -p PROFILE login` with the emulator's OAuth client key, its secret
/// on standard input, saved in credentials.toml (no keyring in tests).
#[track_caller]
pub fn login_oauth(service: &Service, profile: &str) -> Output {
    let output = run(bare_capfile(service.home.path())
        .args([
            "-p",
            profile,
            "login",
            "--base-url",
            &service.base_url(),
            "--auth",
            "oauth",
        ])
        .args([
            "--client-key",
            capfile::testing::emulator::DEFAULT_CLIENT_KEY,
            "--client-secret-stdin",
            "--insecure-storage",
        ])
        .write_stdin(capfile::testing::emulator::DEFAULT_CLIENT_SECRET));
    assert!(output.status.success(), "{}", stderr(&output));
    output
}

/// The emulator's password; tests check it never shows up in any output.
pub const PASSWORD: &str = capfile::testing::emulator::DEFAULT_PASSWORD;

/// A running emulator with its own data directory and async runtime.
pub struct Service {
    pub runtime: tokio::runtime::Runtime,
    pub emulator: Option<Emulator>,
    pub data: tempfile::TempDir,
    /// HOME / XDG dirs for the capfile processes, so no test reads real files.
    pub home: tempfile::TempDir,
}

impl Service {
    pub fn start() -> Service {
        Self::with_faults(Faults::default())
    }

    pub fn with_faults(faults: Faults) -> Service {
        Self::with_config(|config| config.faults = faults)
    }

    pub fn with_config(edit: impl FnOnce(&mut Config)) -> Service {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let data = tempfile::tempdir().expect("data dir");
        let mut config = Config::new(data.path().to_path_buf());
        edit(&mut config);
        let emulator = runtime
            .block_on(Emulator::start("127.0.0.1:0".parse().unwrap(), config))
            .expect("emulator starts");
        Service {
            runtime,
            emulator: Some(emulator),
            data,
            home: tempfile::tempdir().expect("home dir"),
        }
    }

    pub fn emulator(&self) -> &Emulator {
        self.emulator.as_ref().expect("emulator running")
    }

    pub fn base_url(&self) -> String {
        self.emulator().base_url()
    }

    /// Stops the emulator and starts a new one on the same data directory.
    pub fn restart(&mut self) {
        if let Some(old) = self.emulator.take() {
            self.runtime.block_on(old.shutdown());
        }
        // The old one's lock (flock) is shared with any child another test
        // forks at that moment, until the child's exec closes it: wait that
        // out, for a while.
        let mut tries = 0;
        let emulator = loop {
            let config = Config::new(self.data.path().to_path_buf());
            match self
                .runtime
                .block_on(Emulator::start("127.0.0.1:0".parse().unwrap(), config))
            {
                Err(err) if err.kind() == std::io::ErrorKind::ResourceBusy && tries < 100 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                started => break started.expect("emulator restarts"),
            }
        };
        self.emulator = Some(emulator);
    }

    /// `capfile` with Basic credentials for this emulator in the environment.
    pub fn capfile(&self) -> assert_cmd::Command {
        let mut cmd = bare_capfile(self.home.path());
        cmd.env("CAPFILE_BASE_URL", self.base_url())
            .env("CAPFILE_USERNAME", capfile::testing::emulator::DEFAULT_USERNAME)
            .env("CAPFILE_PASSWORD", PASSWORD);
        cmd
    }

    /// `capfile` with OAuth client credentials for this emulator in the
    /// environment.
    pub fn oauth_capfile(&self) -> assert_cmd::Command {
        let mut cmd = bare_capfile(self.home.path());
        cmd.env("CAPFILE_BASE_URL", self.base_url())
            .env("CAPFILE_CLIENT_KEY", capfile::testing::emulator::DEFAULT_CLIENT_KEY)
            .env(
                "CAPFILE_CLIENT_SECRET",
                capfile::testing::emulator::DEFAULT_CLIENT_SECRET,
            );
        cmd
    }

    /// [`Service::capfile`] as a plain `std::process::Command`, for spawning.
    pub fn std_capfile(&self) -> std::process::Command {
        let mut cmd = std_capfile(self.home.path());
        cmd.env("CAPFILE_BASE_URL", self.base_url())
            .env("CAPFILE_USERNAME", capfile::testing::emulator::DEFAULT_USERNAME)
            .env("CAPFILE_PASSWORD", PASSWORD);
        cmd
    }

    /// `script` (util-linux) set to run `shell_command` on a pseudo-terminal
    /// (TERM=xterm) with Basic credentials for this emulator in the
    /// environment; its standard output is what the terminal showed.
    pub fn in_a_terminal(&self, shell_command: &str) -> std::process::Command {
        let mut script = std::process::Command::new("script");
        isolate(&mut script, self.home.path());
        script
            .args(["-qec", shell_command, "/dev/null"])
            .env("CAPFILE_BASE_URL", self.base_url())
            .env("CAPFILE_USERNAME", capfile::testing::emulator::DEFAULT_USERNAME)
            .env("CAPFILE_PASSWORD", PASSWORD)
            .env("TERM", "xterm");
        script
    }

    /// What `shell_command` drew in a pseudo-terminal ([`Service::in_a_terminal`]),
    /// after it succeeded.
    #[track_caller]
    pub fn screen_of(&self, shell_command: &str) -> String {
        let output = self
            .in_a_terminal(shell_command)
            .output()
            .expect("script (util-linux) runs");
        let screen = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "{screen}");
        screen
    }

    /// GET a URL: status, content type and body.
    pub fn fetch(&self, url: &str) -> (u16, String, Vec<u8>) {
        self.runtime.block_on(async {
            let response = reqwest::get(url).await.expect("GET works");
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            (status, content_type, response.bytes().await.expect("body").to_vec())
        })
    }

    pub fn stats(&self) -> capfile::testing::emulator::Stats {
        self.emulator().stats()
    }

    /// Shuts the emulator down (requests in flight get its shutdown grace)
    /// and returns its final counters.
    pub fn stop(&mut self) -> capfile::testing::emulator::Stats {
        let emulator = self.emulator.take().expect("emulator running");
        self.runtime.block_on(emulator.shutdown_stats())
    }
}

/// `capfile` with no CAPFILE_* variables and a private HOME.
pub fn bare_capfile(home: &Path) -> assert_cmd::Command {
    assert_cmd::Command::from_std(std_capfile(home))
}

/// The same as a plain `std::process::Command`, for spawning.
pub fn std_capfile(home: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_capfile"));
    isolate(&mut cmd, home);
    cmd
}

/// Clears every CAPFILE_* variable and points HOME, the XDG directories and
/// D-Bus away from the real user's, so no test reads or writes their files or
/// keyring.
pub fn isolate(cmd: &mut std::process::Command, home: &Path) {
    for (name, _) in std::env::vars() {
        if name.starts_with("CAPFILE_") {
            cmd.env_remove(name);
        }
    }
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        // zbus falls back to $XDG_RUNTIME_DIR/bus: keep tests off the real
        // session's keyring.
        .env("XDG_RUNTIME_DIR", home.join("run"))
        .env("NO_COLOR", "1")
        // No proxy of the machine's: tests that want one set it.
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .env_remove("DBUS_SESSION_BUS_ADDRESS");
}

/// `count` copies of the sample PNG in `dir`, named image-00.png,
/// image-01.png, ...
pub fn sample_copies(dir: &Path, count: usize) -> Vec<PathBuf> {
    let bytes = std::fs::read(sample("sample.png")).unwrap();
    (0..count)
        .map(|i| {
            let path = dir.join(format!("image-{i:02}.png"));
            std::fs::write(&path, &bytes).unwrap();
            path
        })
        .collect()
}

/// `count` distinct small PNGs in `dir`, named img-000.png, img-001.png, ...:
/// the sample with a different trailer each, so every round trip is checked
/// against its own bytes.
pub fn distinct_images(dir: &Path, count: usize) -> Vec<PathBuf> {
    let png = std::fs::read(sample("sample.png")).unwrap();
    (0..count)
        .map(|i| {
            let path = dir.join(format!("img-{i:03}.png"));
            let mut bytes = png.clone();
            bytes.extend_from_slice(format!("capfile test image {i}").as_bytes());
            std::fs::write(&path, bytes).unwrap();
            path
        })
        .collect()
}

pub fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples").join(name)
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

/// Fails if a secret appears anywhere in the output, or if capfile panicked.
#[track_caller]
pub fn assert_clean(output: &Output) {
    let md5 = capfile::md5_hex(PASSWORD);
    for text in [stdout(output), stderr(output)] {
        assert!(!text.contains("panicked"), "capfile panicked:\n{text}");
        assert!(!text.contains(md5.expose()), "the password's MD5 leaked:\n{text}");
        assert!(
            !text.contains(&format!("{}:{PASSWORD}", capfile::testing::emulator::DEFAULT_USERNAME)),
            "the password leaked:\n{text}"
        );
    }
}

/// Runs a command, checks it is clean, and returns its output.
#[track_caller]
pub fn run(cmd: &mut assert_cmd::Command) -> Output {
    let output = cmd.output().expect("capfile runs");
    assert_clean(&output);
    output
}

/// The tab-separated result lines of a piped `capfile upload`.
#[track_caller]
pub fn rows(output: &Output) -> Vec<Vec<String>> {
    stdout(output)
        .lines()
        .map(|line| line.split('\t').map(str::to_string).collect())
        .collect()
}

/// Serves an axum app on 127.0.0.1:0 from its own runtime (kept alive by the
/// caller); returns the runtime and the base URL.
pub fn serve_app(app: axum::Router) -> (tokio::runtime::Runtime, String) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let url = spawn_app(&runtime, app);
    (runtime, url)
}

/// Serves an axum app on 127.0.0.1:0 on an existing runtime; returns its URL.
pub fn spawn_app(runtime: &tokio::runtime::Runtime, app: axum::Router) -> String {
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind 127.0.0.1:0");
    let url = format!("http://{}", listener.local_addr().expect("bound address"));
    runtime.spawn(async move { axum::serve(listener, app).await });
    url
}

/// `capfile` pointed at a stand-in server, with throwaway Basic credentials.
pub fn capfile_for(base_url: &str, home: &Path) -> assert_cmd::Command {
    let mut cmd = bare_capfile(home);
    cmd.env("CAPFILE_BASE_URL", base_url)
        .env("CAPFILE_USERNAME", "u")
        .env("CAPFILE_PASSWORD", "p");
    cmd
}

/// A run of the built binary and what it must do, in the manner of just's
/// `Test`: build it with the arguments, environment and standard input, state
/// the expected exit status and output, then [`Test::run`] runs it, checks that
/// no secret leaked and that it did not panic, and checks each expectation.
///
/// Exact by default: unless a test states otherwise, the run must exit 0 and
/// write nothing to standard output or standard error. A test loosens a stream
/// on purpose, with `stdout_like` / `stderr_like` (the whole text, where `[..]`
/// stands for any part of one line: a port, a request id, a timing),
/// `stderr_has` (pieces it must contain) or `stdout_any` / `stderr_any`
/// (anything goes, checked by the test itself from the output returned).
///
/// ```ignore
/// service.test().args(["upload", "-"]).status(2).stderr_has("--name").run();
/// ```
pub struct Test {
    cmd: assert_cmd::Command,
    status: i32,
    stdout: Expect,
    stderr: Expect,
}

/// What one output stream must be.
enum Expect {
    /// This, exactly.
    Exact(String),
    /// This, line for line, where `[..]` in a line matches any characters of
    /// that line (not a line break).
    Like(String),
    /// Each of these pieces, somewhere.
    Has(Vec<String>),
    /// Anything: the test checks the output it gets back.
    Any,
}

impl Expect {
    /// Adds a piece; a stream already stated whole (other than the default,
    /// empty) cannot also be stated in pieces: that is a mistake in the test.
    #[track_caller]
    fn add_piece(&mut self, piece: &str) {
        match self {
            Expect::Has(pieces) => pieces.push(piece.to_owned()),
            Expect::Exact(text) if !text.is_empty() => {
                panic!("a stream stated whole ({text:?}) cannot also be stated in pieces")
            }
            Expect::Like(pattern) => {
                panic!("a stream stated whole ({pattern:?}) cannot also be stated in pieces")
            }
            other => *other = Expect::Has(vec![piece.to_owned()]),
        }
    }

    #[track_caller]
    fn check(&self, stream: &str, text: &str, context: &str) {
        match self {
            Expect::Exact(expected) => assert_eq!(text, expected, "{stream}; {context}"),
            Expect::Like(pattern) => assert!(
                matches_like(pattern, text),
                "{stream} is not like the pattern\n{stream}:\n{text}\npattern:\n{pattern}\n{context}"
            ),
            Expect::Has(pieces) => {
                for piece in pieces {
                    assert!(
                        text.contains(piece.as_str()),
                        "{stream} lacks {piece:?}:\n{text}\n{context}"
                    );
                }
            }
            Expect::Any => {}
        }
    }
}

/// Whether `text` is `pattern` line for line, each `[..]` in a pattern line
/// matching any run of characters within the line.
pub fn matches_like(pattern: &str, text: &str) -> bool {
    let (patterns, lines) = (pattern.split('\n'), text.split('\n'));
    patterns.clone().count() == lines.clone().count() && patterns.zip(lines).all(|(p, l)| line_like(p, l))
}

fn line_like(pattern: &str, line: &str) -> bool {
    let parts: Vec<&str> = pattern.split("[..]").collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return pattern == line;
    };
    let Some(mut rest) = line.strip_prefix(first) else {
        return false;
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

#[test]
fn like_patterns_match_within_a_line_only() {
    for (pattern, text, like) in [
        ("", "", true),
        ("a\n", "a\n", true),
        ("a\n", "a", false),
        ("a", "b", false),
        ("[..]", "", true),
        ("[..]", "anything at all", true),
        ("[..]", "two\nlines", false),
        ("id [..]\n", "id 3f2a\n", true),
        ("id [..]\n", "id 3f2a\nmore\n", false),
        ("a[..]a", "a", false),
        ("a[..]a", "aa", true),
        ("a[..]b[..]b", "abb", true),
        ("a[..]b[..]b", "ab", false),
        ("x [..] y [..] z", "x 1 y 2 z", true),
        ("x [..] y [..] z", "x 1 z 2 y", false),
        ("in [..] s\nend\n", "in 0.2 s\nend\n", true),
        ("in [..] s\nend\n", "in 0.2 s\nEND\n", false),
    ] {
        assert_eq!(matches_like(pattern, text), like, "{pattern:?} against {text:?}");
    }
}

impl Test {
    /// A test of `cmd` (from [`Service::capfile`], [`bare_capfile`] or
    /// [`capfile_for`]): exit 0 and no output, unless stated otherwise.
    pub fn new(cmd: assert_cmd::Command) -> Test {
        Test {
            cmd,
            status: 0,
            stdout: Expect::Exact(String::new()),
            stderr: Expect::Exact(String::new()),
        }
    }

    pub fn arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> Test {
        self.cmd.arg(arg);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Test
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }

    pub fn env(mut self, name: &str, value: impl AsRef<std::ffi::OsStr>) -> Test {
        self.cmd.env(name, value);
        self
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Test {
        self.cmd.current_dir(dir);
        self
    }

    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Test {
        self.cmd.write_stdin(bytes.into());
        self
    }

    /// The exit status it must end with (0 unless stated).
    pub fn status(mut self, code: i32) -> Test {
        self.status = code;
        self
    }

    /// Its whole standard output (empty unless stated).
    pub fn stdout(mut self, text: &str) -> Test {
        self.stdout = Expect::Exact(text.to_owned());
        self
    }

    /// Its whole standard output, where `[..]` stands for any part of a line.
    pub fn stdout_like(mut self, pattern: &str) -> Test {
        self.stdout = Expect::Like(pattern.to_owned());
        self
    }

    /// A piece its standard output must contain (may be given more than once).
    #[track_caller]
    pub fn stdout_has(mut self, text: &str) -> Test {
        self.stdout.add_piece(text);
        self
    }

    /// Any standard output: the test checks what `run` returns.
    pub fn stdout_any(mut self) -> Test {
        self.stdout = Expect::Any;
        self
    }

    /// Its whole standard error (empty unless stated).
    pub fn stderr(mut self, text: &str) -> Test {
        self.stderr = Expect::Exact(text.to_owned());
        self
    }

    /// Its whole standard error, where `[..]` stands for any part of a line.
    pub fn stderr_like(mut self, pattern: &str) -> Test {
        self.stderr = Expect::Like(pattern.to_owned());
        self
    }

    /// A piece its standard error must contain (may be given more than once).
    #[track_caller]
    pub fn stderr_has(mut self, text: &str) -> Test {
        self.stderr.add_piece(text);
        self
    }

    /// Any standard error: the test checks what `run` returns.
    pub fn stderr_any(mut self) -> Test {
        self.stderr = Expect::Any;
        self
    }

    /// Runs it and checks the status and both streams; returns the output.
    #[track_caller]
    pub fn run(mut self) -> Output {
        let output = run(&mut self.cmd);
        let (out, err) = (stdout(&output), stderr(&output));
        assert_eq!(
            output.status.code(),
            Some(self.status),
            "exit status; stdout:\n{out}\nstderr:\n{err}"
        );
        self.stdout.check("stdout", &out, &format!("stderr:\n{err}"));
        self.stderr.check("stderr", &err, &format!("stdout:\n{out}"));
        output
    }
}

impl Service {
    /// A [`Test`] of `capfile` with this emulator's Basic credentials.
    pub fn test(&self) -> Test {
        Test::new(self.capfile())
    }

    /// The `[..]` pattern of a signed URL this emulator gives for a file
    /// with extension `ext` stored in the default namespace.
    pub fn url_like(&self, ext: &str) -> String {
        format!(
            "{}/files/rewards/100000/[..].{ext}?expires=[..]&signature=[..]",
            self.base_url()
        )
    }
}

/// Where a spawned capfile writes its own peak resident memory at its end
/// (`VmHWM`, in KiB): see [`own_peak_kib`].
pub const PEAK_FILE_VAR: &str = "CAPFILE_TEST_PEAK_FILE";

/// A child's own peak memory in KiB, as it wrote it to `peak_file`; `wait4`'s
/// maxrss (`reaped`) only when it wrote nothing, since that also counts the
/// test process's own peak, folded into the child's at its exec.
#[cfg(unix)]
pub fn own_peak_kib(peak_file: &Path, reaped: i64) -> i64 {
    let reported = std::fs::read_to_string(peak_file).unwrap_or_default();
    reported.trim().parse().unwrap_or(reaped)
}

/// Runs `cmd` to its end and returns its output and its own peak resident
/// memory in MiB, as capfile writes it at its end (`CAPFILE_TEST_PEAK_FILE`):
/// `wait4`'s maxrss of the child also counts this test process's own peak,
/// which Linux folds into the child's at its exec, and the process-wide
/// RUSAGE_CHILDREN counts every other test's children (nginx, squid).
#[cfg(unix)]
// Reaped with wait4 (for its rusage), which clippy does not see.
#[allow(clippy::zombie_processes)]
#[track_caller]
pub fn run_measured(mut cmd: std::process::Command) -> (Output, i64) {
    use std::io::Read;
    let peak_file = tempfile::NamedTempFile::new().unwrap();
    let mut child = cmd
        .env(PEAK_FILE_VAR, peak_file.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("capfile starts");
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        buf
    });
    let mut stderr = Vec::new();
    let _ = err.read_to_end(&mut stderr);
    let mut raw = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 writes into the status and the struct it is given; the
    // child is this one, not yet reaped.
    let reaped = unsafe { libc::wait4(child.id() as libc::pid_t, &mut raw, 0, &mut usage) };
    assert_eq!(reaped, child.id() as libc::pid_t, "wait4");
    let output = Output {
        status: std::os::unix::process::ExitStatusExt::from_raw(raw),
        stdout: out_reader.join().unwrap(),
        stderr,
    };
    assert_clean(&output);
    // The child's own peak, as it wrote it at its end; wait4's maxrss also
    // counts this test process's peak (folded in at the child's exec), so it
    // is only the fallback of a child that ended without writing it.
    (output, own_peak_kib(peak_file.path(), usage.ru_maxrss) / 1024)
}
