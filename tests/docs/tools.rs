//! What the tests need from the machine: the repository, the regenerate switch,
//! and the external tools (shells, `man`) that are optional locally but
//! required in CI.

use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The one command that rewrites every generated file.
pub const REGENERATE_COMMAND: &str = "CAPFILE_REGENERATE=1 cargo test --test docs";

/// The root of the source tree.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Whether this run writes the generated files instead of checking them.
pub fn regenerating() -> bool {
    flag("CAPFILE_REGENERATE")
}

fn flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Whether `program` can be run; when it cannot, either skips the calling test
/// (returns false, after saying so) or, under CAPFILE_REQUIRE_TOOLS, fails it.
pub fn available(program: &str, what: &str) -> bool {
    if find_in_path(program).is_some() {
        return true;
    }
    missing(what)
}

/// Like `available`, for something that is a file rather than a program.
pub fn file_available(path: &Path, what: &str) -> bool {
    if path.is_file() {
        return true;
    }
    missing(what)
}

fn missing(what: &str) -> bool {
    assert!(
        !flag("CAPFILE_REQUIRE_TOOLS"),
        "{what} is required (CAPFILE_REQUIRE_TOOLS is set) but is not installed; \
         .ci/run installs it with apt-get"
    );
    // Straight to the process's stderr, past libtest's capture, so the skip
    // shows in a normal `cargo test` run.
    let _ = writeln!(
        std::io::stderr(),
        "skipped: {what} is not installed here (CI installs it and requires it)"
    );
    false
}

pub fn find_in_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// Output of a finished command, for assertions that show everything.
pub struct Run {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn describe(&self) -> String {
        format!(
            "status: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// How long one shell or `man` may take before the test gives up on it.
const TIME_LIMIT: Duration = Duration::from_secs(60);

/// Runs `command` with no standard input, in a scratch home (a shell started
/// here must not read the developer's own rc files), and collects its output.
/// A command that runs past the time limit is killed and fails the test.
pub fn run(command: &mut Command, home: &Path) -> Run {
    let mut child = command
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("LC_ALL", "C.UTF-8")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let stdout = read_all(child.stdout.take());
    let stderr = read_all(child.stderr.take());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} did not finish within {TIME_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// Drains a pipe on its own thread, so a chatty child never blocks on it.
fn read_all(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}
