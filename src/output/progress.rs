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
