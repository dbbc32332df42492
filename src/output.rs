//! The only place that writes to standard output and standard error.
//!
//! Standard output carries results only (tables, JSON documents, URLs), so that
//! scripts can parse it; everything else (errors, warnings, progress, summaries)
//! goes to standard error. The `Printer` knows whether each stream is a terminal,
//! which decides between the human forms (aligned table, pretty JSON, bars) and the
//! script forms (tab-separated lines, NDJSON, one plain line per event).

use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::error::Error;
use crate::settings::{ColorChoice, Env};

/// How much is said on standard error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose(u8),
}

/// Decides where bytes go and in which form.
#[derive(Debug)]
pub struct Printer {
    verbosity: Verbosity,
    color: bool,
    stdout_tty: bool,
    stderr_tty: bool,
    /// Set once standard output is closed by its reader (`| head -1`): results
    /// are then dropped quietly while the work itself goes on.
    stdout_closed: AtomicBool,
    /// Why results could not be written, when it was not the reader leaving
    /// (a full disk, a closed descriptor): the run then fails at the end.
    stdout_error: Mutex<Option<String>>,
    /// The progress bars being drawn, if any: other stderr output is written
    /// above them instead of through them.
    bars: Mutex<Option<MultiProgress>>,
}

impl Printer {
    /// A printer for `--color`, `--quiet` and `--verbose`; `NO_COLOR` and
    /// `TERM` come from `env`.
    pub fn new(color: ColorChoice, quiet: bool, verbose: u8, env: &Env) -> Printer {
        let stderr_tty = io::stderr().is_terminal();
        let color = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                stderr_tty
                    && env.get_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && env.get_os("TERM").is_none_or(|t| t != "dumb")
            }
        };
        let verbosity = if quiet {
            Verbosity::Quiet
        } else if verbose > 0 {
            Verbosity::Verbose(verbose)
        } else {
            Verbosity::Normal
        };
        Printer {
            verbosity,
            color,
            stdout_tty: io::stdout().is_terminal(),
            stderr_tty,
            stdout_closed: AtomicBool::new(false),
            stdout_error: Mutex::new(
                STDOUT_CLOSED_AT_START
                    .load(Ordering::Relaxed)
                    .then(|| "standard output is closed".to_string()),
            ),
            bars: Mutex::new(None),
        }
    }

    pub fn stdout_is_terminal(&self) -> bool {
        self.stdout_tty
    }

    pub fn stderr_is_terminal(&self) -> bool {
        self.stderr_tty
    }

    pub fn is_quiet(&self) -> bool {
        self.verbosity == Verbosity::Quiet
    }

    pub fn verbosity(&self) -> Verbosity {
        self.verbosity
    }

    /// Writes a block of result text to standard output. Each call writes whole
    /// lines in one `write_all`, so an interrupted run never leaves half a line.
    ///
    /// A reader that goes away (`| head -1`, a broken pipe) is not an error, as
    /// with ripgrep: the rest is dropped quietly. Any other write error (a full
    /// disk, a closed descriptor) means results are lost: it is remembered, and
    /// `stdout_failure` turns it into a failed run at the end.
    pub fn result(&self, text: &str) {
        if text.is_empty() || self.stdout_closed.load(Ordering::Relaxed) {
            return;
        }
        if self.stdout_failure().is_some() {
            self.stdout_closed.store(true, Ordering::Relaxed);
            return;
        }
        let mut out = io::stdout().lock();
        let written = out.write_all(text.as_bytes()).and_then(|()| out.flush());
        if let Err(err) = written {
            self.stdout_closed.store(true, Ordering::Relaxed);
            if err.kind() != io::ErrorKind::BrokenPipe
                && let Ok(mut failure) = self.stdout_error.lock()
            {
                *failure = Some(err.to_string());
            }
        }
    }

    /// Why results could not be written to standard output, if they could not.
    pub fn stdout_failure(&self) -> Option<String> {
        self.stdout_error.lock().ok().and_then(|failure| failure.clone())
    }

    /// `capfile: error: ...` and, where one helps, a hint line.
    pub fn error(&self, err: &Error) {
        let mut text = format!(
            "{}: {}\n",
            self.paint("capfile: error", RED),
            escape_control(err.message())
        );
        if let Some(hint) = err.hint() {
            text.push_str(&format!("{}: {}\n", self.paint("hint", CYAN), escape_control(hint)));
        }
        self.stderr(&text);
    }

    /// A question on standard error, on the line where the answer is typed.
    pub fn prompt(&self, question: &str) {
        self.stderr(question);
    }

    pub fn warn(&self, message: &str) {
        self.stderr(&format!(
            "{}: {}\n",
            self.paint("capfile: warning", YELLOW),
            escape_control(message)
        ));
    }

    /// Ordinary progress and summary lines; dropped with `--quiet`.
    pub fn note(&self, message: &str) {
        if self.verbosity >= Verbosity::Normal {
            self.stderr(&format!("{}\n", escape_control(message)));
        }
    }

    /// Detail shown with `-v` (level 1) or `-vv` (level 2).
    pub fn detail(&self, level: u8, message: &str) {
        if let Verbosity::Verbose(v) = self.verbosity
            && v >= level
        {
            self.stderr(&format!("{}\n", self.paint(&escape_control(message), DIM)));
        }
    }

    fn stderr(&self, text: &str) {
        let write = || {
            // A closed standard error leaves nowhere to complain to.
            let _ = io::stderr().lock().write_all(text.as_bytes());
        };
        match self.bars.lock().ok().and_then(|bars| bars.clone()) {
            Some(bars) => bars.suspend(write),
            None => write(),
        }
    }

    /// Progress for a batch of `files` uploads of `bytes` in all: bars on a
    /// terminal, nothing otherwise (the finished-file lines are `note`s).
    pub fn batch_progress(self: &Arc<Self>, files: u64, bytes: u64, enabled: bool) -> BatchProgress {
        if !enabled || !self.stderr_tty || self.is_quiet() {
            return BatchProgress {
                printer: self.clone(),
                bars: None,
            };
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10));
        let total = multi.add(ProgressBar::new(bytes));
        total.set_style(total_style());
        total.set_prefix(format!("0/{files} files"));
        total.enable_steady_tick(Duration::from_millis(200));
        if let Ok(mut bars) = self.bars.lock() {
            *bars = Some(multi.clone());
        }
        BatchProgress {
            printer: self.clone(),
            bars: Some(Bars {
                multi,
                total,
                files,
                finished: AtomicU64::new(0),
            }),
        }
    }

    fn paint(&self, text: &str, style: &str) -> String {
        if self.color {
            format!("\x1b[{style}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

fn total_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{prefix:>14} [{bar:30.cyan/blue}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
}

fn file_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix:>14} [{bar:30}] {bytes}/{total_bytes} {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

struct Bars {
    multi: MultiProgress,
    total: ProgressBar,
    files: u64,
    finished: AtomicU64,
}

/// The progress display of one batch.
pub struct BatchProgress {
    printer: Arc<Printer>,
    bars: Option<Bars>,
}

impl BatchProgress {
    /// A bar for one file in flight (nothing when bars are off).
    pub fn start_file(&self, label: &str, size: u64) -> FileProgress {
        let bar = self.bars.as_ref().map(|bars| {
            let bar = bars.multi.insert_before(&bars.total, ProgressBar::new(size));
            bar.set_style(file_style());
            bar.set_prefix("uploading");
            bar.set_message(label.to_string());
            bar
        });
        FileProgress {
            label: label.to_string(),
            printer: self.printer.clone(),
            bar,
            total: self.bars.as_ref().map(|b| b.total.clone()),
            sent: AtomicU64::new(0),
        }
    }

    /// Whether bars are drawn (standard error is a terminal, progress is on).
    pub fn draws_bars(&self) -> bool {
        self.bars.is_some()
    }

    /// Counts a finished file (done or failed) on the total bar.
    pub fn file_finished(&self) {
        if let Some(bars) = &self.bars {
            let finished = bars.finished.fetch_add(1, Ordering::Relaxed) + 1;
            bars.total.set_prefix(format!("{finished}/{} files", bars.files));
        }
    }

    /// Removes the bars, leaving the lines written above them.
    pub fn finish(&self) {
        if let Some(bars) = &self.bars {
            bars.total.finish_and_clear();
            let _ = bars.multi.clear();
            if let Ok(mut slot) = self.printer.bars.lock() {
                *slot = None;
            }
        }
    }
}

impl Drop for BatchProgress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Progress of one upload: bytes handed to the connection, from the body stream.
pub struct FileProgress {
    label: String,
    printer: Arc<Printer>,
    bar: Option<ProgressBar>,
    total: Option<ProgressBar>,
    sent: AtomicU64,
}

impl crate::api::Progress for FileProgress {
    fn sent(&self, bytes: u64) {
        self.sent.fetch_add(bytes, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
        }
        if let Some(total) = &self.total {
            total.inc(bytes);
        }
    }

    fn restart(&self) {
        // A retry sends the file again from its first byte: the total counts
        // each byte once.
        let sent = self.sent.swap(0, Ordering::Relaxed);
        if let Some(total) = &self.total {
            total.set_position(total.position().saturating_sub(sent));
        }
        if let Some(bar) = &self.bar {
            bar.set_position(0);
        }
    }

    fn retrying(&self, attempt: u32, delay: Duration, cause: &crate::api::ApiError) {
        if let Some(bar) = &self.bar {
            bar.set_prefix(format!("retry {attempt}"));
        }
        self.printer.detail(
            1,
            &format!(
                "{}: attempt {attempt} failed ({cause}); retrying in {:.1} s",
                self.label,
                delay.as_secs_f64()
            ),
        );
    }

    fn rate_limited(&self, wait: Duration, new_pause: bool, cause: &crate::api::ApiError) {
        if let Some(bar) = &self.bar {
            bar.set_prefix(format!("wait {:.0} s", wait.as_secs_f64().ceil()));
        }
        // The answer that paused every upload is news; those sent before it
        // only wait for the same pause.
        let text = format!(
            "{}: {cause}; waiting {:.1} s for the rate limit",
            self.label,
            wait.as_secs_f64()
        );
        if new_pause {
            self.printer.note(&text);
        } else {
            self.printer.detail(1, &text);
        }
    }
}

impl Drop for FileProgress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Set by `main` when standard output was already closed as the process
/// started (`capfile ... >&-`). Rust's runtime reopens a closed standard stream
/// on /dev/null before `main`, where writes would then vanish without an error.
pub static STDOUT_CLOSED_AT_START: AtomicBool = AtomicBool::new(false);

const RED: &str = "1;31";
const YELLOW: &str = "1;33";
const CYAN: &str = "36";
const DIM: &str = "2";

/// One row of the upload table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub name: String,
    pub version: String,
    pub secure_url: String,
}

/// The table form: aligned with a header on a terminal, tab-separated otherwise.
pub fn render_table(rows: &[Row], terminal: bool) -> String {
    let mut out = String::new();
    if !terminal {
        for row in rows {
            out.push_str(&format!(
                "{}\t{}\t{}\n",
                escape_control(&row.name),
                escape_control(&row.version),
                escape_control(&row.secure_url)
            ));
        }
        return out;
    }
    let header = Row {
        name: "NAME".into(),
        version: "VERSION".into(),
        secure_url: "SECURE URL".into(),
    };
    let rows: Vec<Row> = rows
        .iter()
        .map(|r| Row {
            name: escape_control(&r.name).into_owned(),
            version: escape_control(&r.version).into_owned(),
            secure_url: escape_control(&r.secure_url).into_owned(),
        })
        .collect();
    let name_width = rows
        .iter()
        .chain([&header])
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(0);
    let version_width = rows.iter().chain([&header]).map(|r| r.version.len()).max().unwrap_or(0);
    for row in std::iter::once(&header).chain(&rows) {
        out.push_str(&format!(
            "{:<name_width$}  {:<version_width$}  {}\n",
            row.name, row.version, row.secure_url
        ));
    }
    out
}

/// The server's JSON with the whitespace outside strings removed, so it fits on
/// one line. Tokens are copied byte for byte: no key is reordered and no number
/// reformatted, which re-serialising through a JSON value could do.
pub fn json_compact(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(text.len());
    let mut strings = StringTracker::default();
    for c in text.chars() {
        if strings.step(c) || !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

/// Follows JSON text character by character to tell string literals, whose
/// every character counts, from the structure between them.
#[derive(Default)]
struct StringTracker {
    in_string: bool,
    escaped: bool,
}

impl StringTracker {
    /// Whether `c`, the next character, belongs to a string (quotes included).
    fn step(&mut self, c: char) -> bool {
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if c == '\\' {
                self.escaped = true;
            } else if c == '"' {
                self.in_string = false;
            }
            true
        } else {
            self.in_string = c == '"';
            self.in_string
        }
    }
}

/// The server's JSON indented by two spaces for reading on a terminal; like
/// `json_compact`, it keeps every token exactly as received.
pub fn json_pretty(raw: &[u8]) -> String {
    let compact = json_compact(raw);
    let mut out = String::with_capacity(compact.len() * 2);
    let mut depth = 0usize;
    let mut strings = StringTracker::default();
    let mut chars = compact.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    while let Some(c) = chars.next() {
        if strings.step(c) {
            // JSON strings may hold DEL and the C1 controls raw (U+009B is a
            // one-character CSI to some terminals): on a terminal they are
            // written as the equivalent \u escape.
            if c.is_control() {
                out.push_str(&format!("\\u{:04x}", c as u32));
            } else {
                out.push(c);
            }
            continue;
        }
        match c {
            '{' | '[' => {
                out.push(c);
                let close = if c == '{' { '}' } else { ']' };
                if chars.peek() == Some(&close) {
                    out.push(close);
                    chars.next();
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            _ => out.push(c),
        }
    }
    out
}

/// Text from outside capfile (a server, a file name) made safe to print on one
/// line: control characters (C0, DEL, C1) and the Unicode bidirectional
/// overrides are written as visible escapes (`\n`, `\t`, `\r`, `\x1b`,
/// `\u{202e}`), so nothing received can move the cursor, retitle the window,
/// start a new line or reorder what is shown.
pub fn escape_control(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) && (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A local path for messages, quoted as coreutils quotes names that hold
/// control characters: `'a'$'\033''b'`, so a file name cannot write escape
/// sequences to the terminal. Ordinary names are shown as they are.
pub fn quote_path(text: &str) -> String {
    if !text.chars().any(needs_escape) {
        return text.to_string();
    }
    let mut out = String::new();
    let mut quoted_run = false;
    for c in text.chars() {
        if needs_escape(c) {
            if quoted_run {
                out.push('\'');
                quoted_run = false;
            }
            match c {
                '\n' => out.push_str("$'\\n'"),
                '\t' => out.push_str("$'\\t'"),
                '\r' => out.push_str("$'\\r'"),
                c if (c as u32) < 0x100 => out.push_str(&format!("$'\\{:03o}'", c as u32)),
                c => out.push_str(&format!("$'\\u{:04x}'", c as u32)),
            }
        } else {
            if !quoted_run {
                out.push('\'');
                quoted_run = true;
            }
            if c == '\'' {
                out.push_str("'\\''");
            } else {
                out.push(c);
            }
        }
    }
    if quoted_run {
        out.push('\'');
    }
    out
}

/// Bytes in the units people read: `51 B`, `1.2 MiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(escape_control("plain.png"), "plain.png");
        assert_eq!(
            escape_control("\x1b]0;title\x07\x1b[31mred\n\t\r\u{9b}\u{7f}"),
            "\\x1b]0;title\\x07\\x1b[31mred\\n\\t\\r\\x9b\\x7f"
        );
        assert_eq!(escape_control("a\u{202e}b"), "a\\u{202e}b");
    }

    #[test]
    fn paths_with_control_characters_are_quoted_as_coreutils_does() {
        assert_eq!(quote_path("dir/a b.png"), "dir/a b.png");
        assert_eq!(quote_path("a\x1bb"), "'a'$'\\033''b'");
        assert_eq!(quote_path("\nx'y"), "$'\\n''x'\\''y'");
    }

    #[test]
    fn table_and_tsv_keep_one_line_per_row() {
        let row = Row {
            name: "\x1b]0;pwned\x07a.png".into(),
            version: "1\n2\t3".into(),
            secure_url: "https://s/a".into(),
        };
        for terminal in [false, true] {
            let text = render_table(std::slice::from_ref(&row), terminal);
            assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
            assert_eq!(text.lines().count(), if terminal { 2 } else { 1 }, "{text:?}");
        }
        assert_eq!(
            render_table(&[row], false).matches('\t').count(),
            2,
            "a tab in a value must not add a column"
        );
    }

    #[test]
    fn pretty_json_escapes_raw_c1_controls_in_strings() {
        let raw = "{\"name\":\"a\u{9b}31mb\u{7f}\"}".as_bytes();
        let pretty = json_pretty(raw);
        assert!(pretty.contains("a\\u009b31mb\\u007f"), "{pretty}");
        let reparsed: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        let original: serde_json::Value = serde_json::from_slice(raw).unwrap();
        assert_eq!(reparsed, original);
    }

    fn row(name: &str, version: &str, url: &str) -> Row {
        Row {
            name: name.into(),
            version: version.into(),
            secure_url: url.into(),
        }
    }

    #[test]
    fn table_for_scripts_is_tab_separated_without_header() {
        let rows = [row("a.png", "1", "http://x/a"), row("b b.png", "12", "http://x/b")];
        assert_eq!(
            render_table(&rows, false),
            "a.png\t1\thttp://x/a\nb b.png\t12\thttp://x/b\n"
        );
    }

    #[test]
    fn table_on_terminal_is_aligned_with_header() {
        let rows = [row("a.png", "1", "u1"), row("longer-name.png", "12", "u2")];
        let text = render_table(&rows, true);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "NAME             VERSION  SECURE URL");
        assert_eq!(lines[1], "a.png            1        u1");
        assert_eq!(lines[2], "longer-name.png  12       u2");
    }

    #[test]
    fn compact_json_keeps_tokens_and_string_whitespace() {
        let raw = br#"{ "b": 1.50, "a" : "x  y\" }", "n": [ 1e2 , null ] }"#;
        assert_eq!(json_compact(raw), r#"{"b":1.50,"a":"x  y\" }","n":[1e2,null]}"#);
    }

    #[test]
    fn pretty_json_indents_and_keeps_order() {
        let raw = br#"{"z":1,"a":{"k":[]},"s":"{,}"}"#;
        assert_eq!(
            json_pretty(raw),
            "{\n  \"z\": 1,\n  \"a\": {\n    \"k\": []\n  },\n  \"s\": \"{,}\"\n}"
        );
    }

    #[test]
    fn bytes_are_human_readable() {
        assert_eq!(human_bytes(51), "51 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024), "3.0 MiB");
    }
}
