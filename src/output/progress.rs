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
    pub(crate) fn batch_progress(self: &Arc<Self>, files: u64, bytes: u64, enabled: bool) -> BatchProgress {
        // Bars are drawn straight onto the process's standard error, never
        // into an injected buffer.
        if !enabled || !self.err.is_terminal() || !self.err.is_process_stderr() || self.is_quiet() {
            return BatchProgress {
                printer: self.clone(),
                bars: None,
            };
        }
        let multi = MultiProgress::with_draw_target(draw_target(self.synchronized));
        let total = multi.add(ProgressBar::new(bytes));
        // No ETA until a file has finished: before that, the rate is the
        // connections' start-up, and the estimate is minutes off.
        total.set_style(total_style(&Widths::now(files, bytes), false));
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
                level: AtomicU64::new(0),
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

/// The total bar's layout: (bar width, with rate, with ETA, with byte
/// counts). As the terminal narrows it drops the rate, then the ETA, then
/// the byte counts, so it stays one line at any width.
fn total_layout(widths: &Widths) -> (usize, bool, bool, bool) {
    let fixed = widths.prefix + 3;
    for (rate, eta, counts) in [
        (true, true, true),
        (false, true, true),
        (false, false, true),
        (false, false, false),
    ] {
        let needs = fixed
            + if counts { 1 + widths.total_bytes } else { 0 }
            + if rate { RATE } else { 0 }
            + if eta { ETA } else { 0 };
        if widths.room() >= needs + MIN_BAR {
            return (MAX_BAR.min(widths.room() - needs), rate, eta, counts);
        }
    }
    (widths.room().saturating_sub(fixed).max(1), false, false, false)
}

fn total_style(widths: &Widths, with_eta: bool) -> ProgressStyle {
    let (bar, rate, eta, counts) = total_layout(widths);
    let eta = eta && with_eta;
    let prefix = widths.prefix;
    let mut template = format!("{{prefix:>{prefix}}} [{{bar:{bar}.cyan/blue}}]");
    if counts {
        template.push_str(" {bytes}/{total_bytes}");
    }
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

/// A file bar's layout for a file of `size` bytes: (bar width, name width,
/// with byte counts). As the terminal narrows the byte counts go first, then
/// the bar shrinks, so the file name always keeps [`MIN_NAME`] columns where
/// the terminal has them.
fn file_layout(widths: &Widths, size: u64) -> (usize, usize, bool) {
    let counts = 1 + BYTES + 1 + indicatif::BinaryBytes(size).to_string().len();
    for with_counts in [true, false] {
        let fixed = widths.prefix + 4 + if with_counts { counts } else { 0 };
        let left = widths.room().saturating_sub(fixed);
        if left >= MIN_NAME + MIN_BAR || !with_counts {
            let bar = left.saturating_sub(MIN_NAME).clamp(1.min(left), MAX_BAR);
            return (bar, left.saturating_sub(bar), with_counts);
        }
    }
    unreachable!("the loop returns on its last pass")
}

fn file_style(widths: &Widths, size: u64) -> ProgressStyle {
    let (bar, _, counts) = file_layout(widths, size);
    let prefix = widths.prefix;
    let counts = if counts { " {bytes}/{total_bytes}" } else { "" };
    ProgressStyle::with_template(&format!("{{prefix:>{prefix}}} [{{bar:{bar}}}]{counts} {{msg}}"))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// Standard error, drawn in whole frames: each redraw is written at once and
/// wrapped in the terminal's synchronized-update mode (DEC private mode 2026;
/// terminals without it ignore it), so slow links do not show a half-drawn
/// frame.
fn draw_target(synchronized: bool) -> ProgressDrawTarget {
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
    /// The uploads in flight at once, with `--jobs auto` (0: not shown).
    level: AtomicU64,
}

impl Bars {
    /// `12/340 files`, or with `--jobs auto` `12/340 ×8`: 8 in flight at
    /// once (no wider: ` ×256` is narrower than ` files`).
    fn prefix(&self, finished: u64) -> String {
        match self.level.load(Ordering::Relaxed) {
            0 => format!("{finished}/{} files", self.files),
            level => format!("{finished}/{} ×{level}", self.files),
        }
    }
}

/// The progress display of one batch.
pub(crate) struct BatchProgress {
    printer: Arc<Printer>,
    bars: Option<Bars>,
}

impl BatchProgress {
    /// A bar for one file in flight (nothing when bars are off).
    pub(crate) fn start_file(&self, label: &str, size: u64) -> FileProgress {
        let bar = self.bars.as_ref().map(|bars| {
            let widths = Widths::now(bars.files, bars.total.length().unwrap_or(0));
            let (_, name, _) = file_layout(&widths, size);
            // Styled and named before it is added, so no frame shows it bare.
            let bar = ProgressBar::new(size)
                .with_style(file_style(&widths, size))
                .with_prefix("queued")
                .with_message(short_label(label, name));
            let bar = bars.multi.insert_before(&bars.total, bar);
            (bar, name)
        });
        let (bar, name_width) = match bar {
            Some((bar, name)) => (Some(bar), name),
            None => (None, 0),
        };
        FileProgress {
            label: label.to_string(),
            name_width,
            printer: self.printer.clone(),
            bar,
            total: self.bars.as_ref().map(|b| b.total.clone()),
            sent: AtomicU64::new(0),
            attempts: AtomicU32::new(0),
            rate_wait_ms: AtomicU64::new(0),
        }
    }

    /// Whether bars are drawn (standard error is a terminal, progress is on).
    pub(crate) fn draws_bars(&self) -> bool {
        self.bars.is_some()
    }

    /// Counts a finished file (done or failed) on the total bar.
    pub(crate) fn file_finished(&self) {
        if let Some(bars) = &self.bars {
            let finished = bars.finished.fetch_add(1, Ordering::Relaxed) + 1;
            bars.total.set_prefix(bars.prefix(finished));
            if finished == 1 {
                let widths = Widths::now(bars.files, bars.total.length().unwrap_or(0));
                bars.total.set_style(total_style(&widths, true));
            }
        }
    }

    /// Shows `level` uploads in flight at once on the total bar (`--jobs auto`).
    pub(crate) fn set_concurrency(&self, level: usize) {
        if let Some(bars) = &self.bars {
            bars.level.store(level as u64, Ordering::Relaxed);
            bars.total
                .set_prefix(bars.prefix(bars.finished.load(Ordering::Relaxed)));
        }
    }

    /// Removes the bars, leaving the lines written above them.
    pub(crate) fn finish(&self) {
        if let Some(bars) = &self.bars {
            bars.total.finish_and_clear();
            let _ = bars.multi.clear();
            // Uploads cancelled by Ctrl-C may still touch their bars while
            // they wind down: nothing is drawn after this, so no stale bar
            // line is left above the summary.
            bars.multi.set_draw_target(ProgressDrawTarget::hidden());
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
pub(crate) struct FileProgress {
    label: String,
    /// The columns the bar has for its message (the file name).
    name_width: usize,
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
    /// The bar's message: the file name and `why`, in the bar's columns (the
    /// name shortened first), so a bar stays one line; `None` when `why` does
    /// not fit beside a readable name.
    fn with_name(&self, why: &str) -> Option<String> {
        let why_width = super::render::display_width(why) + 2;
        (self.name_width >= why_width + MIN_NAME / 2)
            .then(|| format!("{}: {why}", short_label(&self.label, self.name_width - why_width)))
    }

    /// The bar's message: the name and `why` where they fit, else `why` cut
    /// to the bar's columns.
    fn one_line(&self, why: &str) -> String {
        self.with_name(why)
            .unwrap_or_else(|| super::render::elide_middle(why, self.name_width))
    }

    /// Says on the bar that the upload waits for the rate limit: "waiting
    /// … name: rate limit (N s)" where that fits, else "wait N s … name".
    fn show_wait(&self, wait: Option<Duration>) {
        let Some(bar) = &self.bar else { return };
        let secs = wait.map(|wait| wait.as_secs_f64().ceil() as u64);
        let why = match secs {
            Some(secs) => format!("rate limit ({secs} s)"),
            None => "rate limit".to_string(),
        };
        match self.with_name(&why) {
            Some(message) => {
                bar.set_prefix("waiting");
                bar.set_message(message);
            }
            None => {
                bar.set_prefix(secs.map_or_else(|| "waiting".to_string(), |secs| format!("wait {secs} s")));
                bar.set_message(short_label(&self.label, self.name_width));
            }
        }
    }

    /// Requests sent for this file so far, retries included.
    pub(crate) fn attempts(&self) -> u32 {
        self.attempts.load(Ordering::Relaxed)
    }

    /// Time this file waited for the rate limit so far.
    pub(crate) fn rate_wait(&self) -> Duration {
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
            bar.set_prefix("uploading");
            bar.set_message(short_label(&self.label, self.name_width));
        }
    }

    fn paced(&self, wait: Option<Duration>) {
        self.show_wait(wait);
    }

    fn retrying(&self, attempt: u32, delay: Duration, cause: &crate::api::ApiError) {
        let wait = delay.as_secs_f64();
        match &self.bar {
            // On a terminal the file's bar says why and how long it waits.
            // One line whatever the cause: the cause itself is in the
            // summary and, with -v, in the log.
            Some(bar) => {
                bar.set_prefix(format!("retry {attempt}"));
                bar.set_message(self.one_line(&format!("in {wait:.1} s")));
            }
            // In a log (standard error not a terminal), one line per retry
            // at the default verbosity: CI logs show every one.
            None => self.printer.note(&retry_line(&self.label, attempt, cause, delay)),
        }
    }

    fn rate_limited(&self, wait: Duration, new_pause: bool, cause: &crate::api::ApiError) {
        let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
        self.rate_wait_ms.fetch_add(wait_ms, Ordering::Relaxed);
        self.show_wait(Some(wait));
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
        let (bar, rate, eta, counts) = total_layout(widths);
        widths.prefix
            + 3
            + bar
            + if counts { 1 + widths.total_bytes } else { 0 }
            + if rate { RATE } else { 0 }
            + if eta { ETA } else { 0 }
    }

    #[test]
    fn bars_drop_the_rate_then_the_eta_then_shorten_the_name() {
        let bytes = 5 * 1024 * 1024;
        let wide = Widths::new(120, 40, bytes);
        assert_eq!(total_layout(&wide), (30, true, true, true));
        let (bar, rate, eta, _) = total_layout(&Widths::new(64, 40, bytes));
        assert!(!rate && eta && bar >= MIN_BAR, "{bar} {rate} {eta}");
        let (_, rate, eta, counts) = total_layout(&Widths::new(50, 40, bytes));
        assert!(!rate && !eta && counts);
        let (_, _, _, counts) = total_layout(&Widths::new(30, 40, bytes));
        assert!(!counts);
        for columns in [30, 40, 50, 60, 70, 80, 100, 200] {
            let widths = Widths::new(columns, 40, bytes);
            assert!(total_line(&widths) < columns, "total bar at {columns}");
            let (bar, name, counts) = file_layout(&widths, 4 * 1024 * 1024);
            let counts_width = if counts { 1 + BYTES + 1 + "4.00 MiB".len() } else { 0 };
            let line = widths.prefix + 4 + bar + counts_width + name;
            assert!(line < columns, "file bar at {columns}: {line}");
            // A file bar always shows a name.
            assert!(name >= MIN_NAME, "no room for the name at {columns}: {name}");
            assert!(bar >= 1, "{columns}");
        }
        let (bar, name, counts) = file_layout(&Widths::new(60, 40, bytes), 4 * 1024 * 1024);
        // At 60 columns the name is shortened to its minimum before the bar
        // goes below its own.
        assert_eq!((bar, name, counts), (11, MIN_NAME, true));
        // At 40 the byte counts go, and the name keeps its columns.
        let (_, name, counts) = file_layout(&Widths::new(40, 40, bytes), 4 * 1024 * 1024);
        assert!(!counts && name >= MIN_NAME, "{name} {counts}");
    }

    #[test]
    fn a_bar_message_is_one_line_in_its_columns_whatever_it_says() {
        for name_width in [0, 5, 12, 20, 40] {
            let progress = FileProgress {
                label: "images/a-rather-long-name-for-the-spring-banner.png".into(),
                name_width,
                printer: Arc::new(Printer::with_buffers(
                    crate::output::Verbosity::Normal,
                    false,
                    crate::output::Buffer::memory(false),
                    crate::output::Buffer::memory(false),
                )),
                bar: None,
                total: None,
                sent: AtomicU64::new(0),
                attempts: AtomicU32::new(0),
                rate_wait_ms: AtomicU64::new(0),
            };
            for why in ["in 0.4 s", "rate limit (12 s)", "rate limit"] {
                let line = progress.one_line(why);
                assert!(
                    super::super::render::display_width(&line) <= name_width,
                    "{name_width}: {line}"
                );
                assert!(!line.contains('\n'));
            }
            if name_width >= 30 {
                assert!(progress.one_line("rate limit (12 s)").ends_with(": rate limit (12 s)"));
            }
        }
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
