//! Progress bars for a batch of uploads: one bar per file in flight above a
//! total bar, drawn on standard error only when it is a terminal. Without bars,
//! retries and rate-limit waits are told as lines through the printer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Printer;

impl Printer {
    /// Progress for a batch of `files` uploads of `bytes` in all: bars on a
    /// terminal, nothing otherwise (the finished-file lines are `note`s).
    pub fn batch_progress(self: &Arc<Self>, files: u64, bytes: u64, enabled: bool) -> BatchProgress {
        // Bars are drawn straight onto the process's standard error, never
        // into an injected buffer.
        if !enabled || !self.err.is_terminal() || !self.err.is_process_stderr() || self.is_quiet() {
            return BatchProgress {
                printer: self.clone(),
                bars: None,
            };
        }
        let multi = MultiProgress::with_draw_target(draw_target());
        let total = multi.add(ProgressBar::new(bytes));
        total.set_style(total_style(&Widths::now(files, bytes)));
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
}

/// Bars fit the terminal: each line is at most one column short of its
/// width. As it narrows the total bar drops its rate, then its ETA; a file bar
/// shortens its file name in the middle. Bars run from 10 to 30 columns.
const MIN_BAR: usize = 10;
const MAX_BAR: usize = 30;
/// The fewest columns a file name is shortened to.
const MIN_NAME: usize = 12;
/// The widest a byte count is drawn (`1023.99 KiB`).
const BYTES: usize = 11;
/// ` 1023.99 KiB/s`.
const RATE: usize = 14;
/// ` ETA 59m` (indicatif's short form).
const ETA: usize = 8;

/// The columns a batch's bars have to fit in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Widths {
    /// The terminal's width.
    columns: usize,
    /// The prefix column (`12/340 files`, `uploading`, `retry 2`).
    prefix: usize,
    /// `{bytes}/{total_bytes}` of the total bar.
    total_bytes: usize,
}

impl Widths {
    /// For the terminal on standard error as it is now.
    fn now(files: u64, bytes: u64) -> Widths {
        let columns = super::render::terminal_columns(super::render::Stream::Stderr).map_or(80, usize::from);
        Widths::new(columns, files, bytes)
    }

    fn new(columns: usize, files: u64, bytes: u64) -> Widths {
        let files = files.to_string().len();
        Widths {
            columns,
            // `N/N files`, and at least `wait 300 s`.
            prefix: (2 * files + 7).max(10),
            total_bytes: BYTES + 1 + indicatif::BinaryBytes(bytes).to_string().len(),
        }
    }

    /// The columns to fill: one short of the width, so the cursor never
    /// reaches the last column.
    fn room(&self) -> usize {
        self.columns.saturating_sub(1)
    }
}

/// The total bar's layout: (bar width, with rate, with ETA).
fn total_layout(widths: &Widths) -> (usize, bool, bool) {
    let fixed = widths.prefix + 4 + widths.total_bytes;
    for (rate, eta) in [(true, true), (false, true), (false, false)] {
        let needs = fixed + if rate { RATE } else { 0 } + if eta { ETA } else { 0 };
        if widths.room() >= needs + MIN_BAR {
            return (MAX_BAR.min(widths.room() - needs), rate, eta);
        }
    }
    (widths.room().saturating_sub(fixed).max(1), false, false)
}

fn total_style(widths: &Widths) -> ProgressStyle {
    let (bar, rate, eta) = total_layout(widths);
    let prefix = widths.prefix;
    let mut template = format!("{{prefix:>{prefix}}} [{{bar:{bar}.cyan/blue}}] {{bytes}}/{{total_bytes}}");
    if rate {
        template.push_str(" {binary_bytes_per_sec}");
    }
    if eta {
        template.push_str(" ETA {eta}");
    }
    ProgressStyle::with_template(&template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// `label` in `max` columns: a path too long keeps its file name, shortened
/// in the middle when even that is too long.
fn short_label(label: &str, max: usize) -> String {
    if super::render::display_width(label) <= max {
        return label.to_string();
    }
    let name = label.rsplit('/').next().unwrap_or(label);
    super::render::elide_middle(name, max)
}

/// A file bar's layout for a file of `size` bytes: (bar width, name width).
fn file_layout(widths: &Widths, size: u64) -> (usize, usize) {
    let fixed = widths.prefix + 5 + BYTES + 1 + indicatif::BinaryBytes(size).to_string().len();
    let left = widths.room().saturating_sub(fixed);
    let bar = left.saturating_sub(MIN_NAME).clamp(MIN_BAR.min(left), MAX_BAR);
    (bar, left.saturating_sub(bar))
}

fn file_style(widths: &Widths, size: u64) -> ProgressStyle {
    let (bar, _) = file_layout(widths, size);
    let prefix = widths.prefix;
    ProgressStyle::with_template(&format!(
        "{{prefix:>{prefix}}} [{{bar:{bar}}}] {{bytes}}/{{total_bytes}} {{msg}}"
    ))
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
}

/// Standard error, drawn in whole frames: each redraw is written at once and
/// wrapped in the terminal's synchronized-update mode (DEC private mode 2026;
/// terminals without it ignore it), so slow links do not show a half-drawn
/// frame.
fn draw_target() -> ProgressDrawTarget {
    let synchronized = std::env::var("TERM").is_ok_and(|term| term != "dumb");
    ProgressDrawTarget::term_like_with_hz(Box::new(FrameTerm::new(synchronized)), 10)
}

/// indicatif's terminal operations, buffered into one write per frame.
#[derive(Debug)]
struct FrameTerm {
    frame: std::sync::Mutex<String>,
    synchronized: bool,
}

impl FrameTerm {
    fn new(synchronized: bool) -> FrameTerm {
        FrameTerm {
            frame: std::sync::Mutex::new(String::new()),
            synchronized,
        }
    }

    fn push(&self, text: &str) -> std::io::Result<()> {
        if let Ok(mut frame) = self.frame.lock() {
            if frame.is_empty() && self.synchronized {
                frame.push_str("\x1b[?2026h");
            }
            frame.push_str(text);
        }
        Ok(())
    }

    fn cursor(&self, n: usize, code: char) -> std::io::Result<()> {
        match n {
            0 => Ok(()),
            n => self.push(&format!("\x1b[{n}{code}")),
        }
    }
}

impl indicatif::TermLike for FrameTerm {
    fn width(&self) -> u16 {
        super::render::terminal_columns(super::render::Stream::Stderr).unwrap_or(80)
    }

    fn height(&self) -> u16 {
        super::render::terminal_size(super::render::Stream::Stderr).map_or(24, |(_, rows)| rows)
    }

    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        self.cursor(n, 'A')
    }

    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        self.cursor(n, 'B')
    }

    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        self.cursor(n, 'C')
    }

    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        self.cursor(n, 'D')
    }

    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.push(s)?;
        self.push("\n")
    }

    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.push(s)
    }

    fn clear_line(&self) -> std::io::Result<()> {
        self.push("\r\x1b[2K")
    }

    fn flush(&self) -> std::io::Result<()> {
        use std::io::Write;
        let mut frame = match self.frame.lock() {
            Ok(frame) => frame,
            Err(_) => return Ok(()),
        };
        if frame.is_empty() {
            return Ok(());
        }
        if self.synchronized {
            frame.push_str("\x1b[?2026l");
        }
        let mut err = std::io::stderr().lock();
        let written = err.write_all(frame.as_bytes()).and_then(|()| err.flush());
        frame.clear();
        written
    }
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
            let widths = Widths::now(bars.files, bars.total.length().unwrap_or(0));
            let (_, name) = file_layout(&widths, size);
            bar.set_style(file_style(&widths, size));
            bar.set_prefix("uploading");
            bar.set_message(short_label(label, name));
            bar
        });
        FileProgress {
            label: label.to_string(),
            printer: self.printer.clone(),
            bar,
            total: self.bars.as_ref().map(|b| b.total.clone()),
            sent: AtomicU64::new(0),
            attempts: AtomicU32::new(0),
            rate_wait_ms: AtomicU64::new(0),
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
    /// Requests started for this file (each attempt calls `restart`).
    attempts: AtomicU32,
    /// Time spent waiting for the rate limit (429 answers), in milliseconds.
    rate_wait_ms: AtomicU64,
}

impl FileProgress {
    /// Requests sent for this file so far, retries included.
    pub fn attempts(&self) -> u32 {
        self.attempts.load(Ordering::Relaxed)
    }

    /// Time this file waited for the rate limit so far.
    pub fn rate_wait(&self) -> Duration {
        Duration::from_millis(self.rate_wait_ms.load(Ordering::Relaxed))
    }
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
        self.attempts.fetch_add(1, Ordering::Relaxed);
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
        let wait = delay.as_secs_f64();
        match &self.bar {
            // On a terminal the file's bar says why and how long it waits.
            Some(bar) => {
                bar.set_prefix(format!("retry {attempt}"));
                bar.set_message(format!("{} ({cause}; retry {attempt} after {wait:.1} s)", self.label));
            }
            // In a log (standard error not a terminal), one line per retry
            // at the default verbosity: CI logs show every one.
            None => self.printer.note(&retry_line(&self.label, attempt, cause, delay)),
        }
    }

    fn rate_limited(&self, wait: Duration, new_pause: bool, cause: &crate::api::ApiError) {
        let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
        self.rate_wait_ms.fetch_add(wait_ms, Ordering::Relaxed);
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

/// The line that tells a retry in a log: file, attempt, cause, wait.
fn retry_line(label: &str, attempt: u32, cause: &crate::api::ApiError, delay: Duration) -> String {
    format!(
        "{label}: attempt {attempt} failed ({cause}); retrying in {:.1} s",
        delay.as_secs_f64()
    )
}

impl Drop for FileProgress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod width_tests {
    use super::*;

    /// The widest line a layout can draw.
    fn total_line(widths: &Widths) -> usize {
        let (bar, rate, eta) = total_layout(widths);
        widths.prefix + 4 + bar + widths.total_bytes + if rate { RATE } else { 0 } + if eta { ETA } else { 0 }
    }

    #[test]
    fn bars_drop_the_rate_then_the_eta_then_shorten_the_name() {
        let bytes = 5 * 1024 * 1024;
        let wide = Widths::new(120, 40, bytes);
        assert_eq!(total_layout(&wide), (30, true, true));
        let (bar, rate, eta) = total_layout(&Widths::new(64, 40, bytes));
        assert!(!rate && eta && bar >= MIN_BAR, "{bar} {rate} {eta}");
        let (_, rate, eta) = total_layout(&Widths::new(50, 40, bytes));
        assert!(!rate && !eta);
        for columns in [40, 50, 60, 70, 80, 100, 200] {
            let widths = Widths::new(columns, 40, bytes);
            assert!(total_line(&widths) < columns, "total bar at {columns}");
            let (bar, name) = file_layout(&widths, 4 * 1024 * 1024);
            let line = widths.prefix + 5 + bar + BYTES + 1 + "4.00 MiB".len() + name;
            assert!(line < columns, "file bar at {columns}: {line}");
        }
        let (bar, name) = file_layout(&Widths::new(60, 40, bytes), 4 * 1024 * 1024);
        // At 60 columns the name is shortened to its minimum before the bar
        // goes below its own.
        assert_eq!((bar, name), (11, MIN_NAME));
    }

    #[test]
    fn a_long_path_shows_its_shortened_file_name() {
        assert_eq!(short_label("dir/a.png", 20), "dir/a.png");
        assert_eq!(short_label("/tmp/x/a.png", 8), "a.png");
        assert_eq!(short_label("/tmp/x/a-long-banner.png", 16), "a-long-b…ner.png");
    }

    #[test]
    fn a_frame_is_one_write_in_synchronized_mode() {
        use indicatif::TermLike;
        let term = FrameTerm::new(true);
        term.move_cursor_up(2).unwrap();
        term.write_str("bar").unwrap();
        let frame = term.frame.lock().unwrap().clone();
        assert_eq!(frame, "\x1b[?2026h\x1b[2Abar");
        let plain = FrameTerm::new(false);
        plain.write_str("bar").unwrap();
        assert_eq!(*plain.frame.lock().unwrap(), "bar");
    }
}
