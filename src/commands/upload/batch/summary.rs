//! How a batch ended, and the summary that decides the exit code.

use std::time::Duration;

use crate::batch::{Stop, Summary};
use crate::credentials::SecretSource;
use crate::error::{Error, Exit};
use crate::output::{self, Printer};

/// How the batch ended, beside its records.
#[derive(Default)]
pub(super) struct Ending {
    pub(super) interrupted: bool,
    pub(super) auth_failed: bool,
    pub(super) stop: Option<Stop>,
    pub(super) report_failed: bool,
    /// Failures told on standard error as they happened.
    pub(super) told: usize,
    pub(super) total: usize,
    pub(super) bytes: u64,
}

/// The profile whose secret a batch sends, and where the secret came from
/// (`None`: the built-in credentials of `upload --local`).
pub(in crate::commands::upload) type Whose = (String, Option<SecretSource>);

/// Prints the summary lines of a batch and decides its exit code: 130 when
/// interrupted; else 0 when every input was uploaded (or skipped); 4 when none
/// was and the credentials were refused; 1 when none was, or the batch
/// stopped early, or the report could not be written; 3 when some were.
pub(super) fn summarize(
    summary: &Summary,
    ending: &Ending,
    whose: &Whose,
    elapsed: Duration,
    printer: &Printer,
) -> Exit {
    let done = summary.uploaded();
    printer.note(&format!(
        "{}, {} in {:.1} s",
        headline(done, summary.skipped(), ending.total),
        output::human_bytes(ending.bytes),
        elapsed.as_secs_f64()
    ));
    // One input that failed was told once already, as it failed.
    let told_already = ending.total == 1 && summary.failed() == 1 && ending.told == 1;
    if printer.is_quiet() {
        // Quiet drops the summary, never an error: the failures not told as
        // errors while the batch ran are said here.
        if summary.failed() > ending.told {
            for line in summary.failure_lines() {
                printer.essential(&line);
            }
        }
    } else {
        for (i, line) in summary.lines().into_iter().enumerate() {
            if i == 0 && told_already {
                continue;
            }
            printer.note(&line);
        }
    }
    if let Some(how) = summary.retry_advice() {
        printer.note(&how);
    }
    if let Some(stop) = &ending.stop {
        printer.error(stop);
    }
    if ending.auth_failed {
        printer.error(&Error::CredentialsRefused {
            profile: whose.0.clone(),
            source: whose.1.clone(),
        });
    }
    let everything = summary.failed() == 0 && summary.not_attempted() == 0;
    if ending.interrupted {
        Exit::Interrupted
    } else if everything && !ending.report_failed {
        Exit::Success
    } else if ending.auth_failed && done == 0 {
        Exit::Auth
    } else if done == 0 || everything {
        Exit::Failure
    } else {
        Exit::Partial
    }
}

/// The summary's first line, before the bytes and time: inputs the manifest
/// found unchanged are not counted among those to upload, so a run where
/// nothing changed does not read as "uploaded 0 of 7".
fn headline(done: usize, skipped: usize, total: usize) -> String {
    let to_send = total.saturating_sub(skipped);
    match (skipped, to_send) {
        (0, _) => format!("uploaded {done} of {}", output::count(total, "file", "files")),
        (_, 0) => format!(
            "nothing to upload: {} unchanged (skipped)",
            output::count(skipped, "file", "files")
        ),
        _ => format!(
            "uploaded {done} of {} to upload; {skipped} unchanged (skipped)",
            output::count(to_send, "file", "files")
        ),
    }
}
