//! The only place that writes to standard output and standard error.
//!
//! Standard output carries results only (tables, JSON documents, URLs), so that
//! scripts can parse it; everything else (errors, warnings, progress, summaries)
//! goes to standard error. The `Printer` knows whether each stream is a terminal,
//! which decides between the human forms (aligned table, pretty JSON, bars) and the
//! script forms (tab-separated lines, NDJSON, one plain line per event).

use std::io;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::MultiProgress;

use crate::exit::Failure;
use crate::settings::{ColorChoice, Env};

mod buffer;
mod progress;
mod render;
mod results;
mod trace;

pub(crate) use buffer::Buffer;
pub(crate) use progress::{BatchProgress, FileProgress};
pub(crate) use render::{Row, count, escape_control, human_bytes, json_compact, json_pretty, quote_path, render_table};
pub(crate) use results::{Results, dry_run_line};

/// How much is said on standard error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Verbosity {
    Quiet,
    Normal,
    Verbose(u8),
}

/// Decides where bytes go and in which form.
#[derive(Debug)]
pub(crate) struct Printer {
    verbosity: Verbosity,
    color: bool,
    /// Results: standard output in production.
    out: Buffer,
    /// Everything else: standard error in production.
    err: Buffer,
    /// Set once standard output is closed by its reader (`| head -1`): results
    /// are then dropped quietly while the work itself goes on.
    stdout_closed: AtomicBool,
    /// Why results could not be written, when it was not the reader leaving
    /// (a full disk, a closed descriptor): the run then fails at the end.
    stdout_error: Mutex<Option<String>>,
    /// The progress bars being drawn, if any: other stderr output is written
    /// above them instead of through them.
    bars: Mutex<Option<MultiProgress>>,
    /// Whether the terminal is one that may get synchronized updates (`TERM`
    /// is set and not `dumb`), read from the environment once.
    synchronized: bool,
}

impl Printer {
    /// A printer for `--color`, `--quiet` and `--verbose`; `NO_COLOR` and
    /// `TERM` come from `env`.
    pub(crate) fn new(color: ColorChoice, quiet: bool, verbose: u8, env: &Env) -> Printer {
        let err = Buffer::stderr();
        let color = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                err.is_terminal()
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
        let mut printer = Printer::with_buffers(verbosity, color, Buffer::stdout(), err);
        printer.synchronized = env.get_os("TERM").is_some_and(|term| term != "dumb");
        if STDOUT_CLOSED_AT_START.load(Ordering::Relaxed)
            && let Ok(mut failure) = printer.stdout_error.lock()
        {
            *failure = Some("standard output is closed".to_string());
        }
        printer
    }

    /// A printer over the given buffers (memory buffers in unit tests).
    pub(crate) fn with_buffers(verbosity: Verbosity, color: bool, out: Buffer, err: Buffer) -> Printer {
        Printer {
            verbosity,
            color,
            out,
            err,
            stdout_closed: AtomicBool::new(false),
            stdout_error: Mutex::new(None),
            bars: Mutex::new(None),
            synchronized: false,
        }
    }

    pub(crate) fn stdout_is_terminal(&self) -> bool {
        self.out.is_terminal()
    }

    /// Whether standard output is a terminal that gets colour (marks in
    /// `status`): the same choice as standard error's, on a terminal.
    pub(crate) fn colors_stdout(&self) -> bool {
        self.color && self.out.is_terminal()
    }

    pub(crate) fn is_quiet(&self) -> bool {
        self.verbosity == Verbosity::Quiet
    }

    pub(crate) fn verbosity(&self) -> Verbosity {
        self.verbosity
    }

    /// Writes a block of result text to standard output. Each call writes whole
    /// lines in one `write_all`, so an interrupted run never leaves half a line.
    ///
    /// A reader that goes away (`| head -1`, a broken pipe) is not an error, as
    /// with ripgrep: the rest is dropped quietly. Any other write error (a full
    /// disk, a closed descriptor) means results are lost: it is remembered, and
    /// `stdout_failure` turns it into a failed run at the end.
    pub(crate) fn result(&self, text: &str) {
        if text.is_empty() || self.stdout_closed.load(Ordering::Relaxed) {
            return;
        }
        if self.stdout_failure().is_some() {
            self.stdout_closed.store(true, Ordering::Relaxed);
            return;
        }
        // While bars are drawn on a terminal, they are cleared for the write
        // and drawn again after it, so results are never cut by a bar frame.
        let write = || self.out.write_all(text.as_bytes());
        let written = match self.bars.lock().ok().and_then(|bars| bars.clone()) {
            Some(bars) => bars.suspend(write),
            None => write(),
        };
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
    pub(crate) fn stdout_failure(&self) -> Option<String> {
        self.stdout_error.lock().ok().and_then(|failure| failure.clone())
    }

    /// `capfile: error: ...` and, where one helps, a hint line.
    pub(crate) fn error(&self, err: &dyn Failure) {
        let mut text = format!(
            "{}: {}\n",
            self.paint("capfile: error", RED),
            escape_control(&err.to_string())
        );
        if let Some(hint) = err.hint() {
            text.push_str(&format!("{}: {}\n", self.paint("hint", CYAN), escape_control(&hint)));
        }
        self.stderr(&text);
    }

    /// A question on standard error, on the line where the answer is typed.
    pub(crate) fn prompt(&self, question: &str) {
        self.stderr(question);
    }

    pub(crate) fn warn(&self, message: &str) {
        self.stderr(&format!(
            "{}: {}\n",
            self.paint("capfile: warning", YELLOW),
            escape_control(message)
        ));
    }

    /// A line that says what failed, printed like a note but kept with
    /// `--quiet`, which drops progress and the summary, never an error.
    pub(crate) fn essential(&self, message: &str) {
        self.stderr(&format!("{}\n", escape_control(message)));
    }

    /// Ordinary progress and summary lines; dropped with `--quiet`.
    pub(crate) fn note(&self, message: &str) {
        if self.verbosity >= Verbosity::Normal {
            self.stderr(&format!("{}\n", escape_control(message)));
        }
    }

    /// Detail shown with `-v` (level 1) or `-vv` (level 2).
    pub(crate) fn detail(&self, level: u8, message: &str) {
        if let Verbosity::Verbose(v) = self.verbosity
            && v >= level
        {
            self.stderr(&format!("{}\n", self.paint(&escape_control(message), DIM)));
        }
    }

    fn stderr(&self, text: &str) {
        let write = || {
            // A closed standard error leaves nowhere to complain to.
            let _ = self.err.write_all(text.as_bytes());
        };
        match self.bars.lock().ok().and_then(|bars| bars.clone()) {
            Some(bars) => bars.suspend(write),
            None => write(),
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

/// Set by `main` when standard output was already closed as the process
/// started (`capfile ... >&-`). Rust's runtime reopens a closed standard stream
/// on /dev/null before `main`, where writes would then vanish without an error.
pub static STDOUT_CLOSED_AT_START: AtomicBool = AtomicBool::new(false);

const RED: &str = "1;31";
const YELLOW: &str = "1;33";
const CYAN: &str = "36";
const DIM: &str = "2";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::InputError;

    fn printer(verbosity: Verbosity, color: bool) -> (Printer, Buffer, Buffer) {
        let (out, err) = (Buffer::memory(false), Buffer::memory(false));
        (
            Printer::with_buffers(verbosity, color, out.clone(), err.clone()),
            out,
            err,
        )
    }

    #[test]
    fn errors_and_hints_go_to_standard_error_one_line_each() {
        let (printer, out, err) = printer(Verbosity::Normal, false);
        printer.error(&InputError::EmptyFile {
            label: "a\nb.png".into(),
        });
        assert_eq!(
            err.contents(),
            "capfile: error: a\\nb.png: file is empty\nhint: use --placeholder to create a placeholder without a body\n"
        );
        assert_eq!(out.contents(), "");
    }

    #[test]
    fn quiet_drops_notes_but_not_warnings_or_results() {
        let (printer, out, err) = printer(Verbosity::Quiet, false);
        printer.note("uploaded 1 of 1 file");
        printer.detail(1, "profile: default");
        printer.warn("careful");
        printer.result("a\t1\tu\n");
        assert_eq!(err.contents(), "capfile: warning: careful\n");
        assert_eq!(out.contents(), "a\t1\tu\n");
    }

    #[test]
    fn details_need_their_verbosity_and_color_only_when_asked() {
        let (printer, _, err) = printer(Verbosity::Verbose(1), true);
        printer.detail(1, "shown");
        printer.detail(2, "hidden");
        assert_eq!(err.contents(), "\x1b[2mshown\x1b[0m\n");
    }
}
