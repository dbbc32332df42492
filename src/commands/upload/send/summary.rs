//! The closing lines of a batch, printed from its tally, which also decides
//! the exit code.

use std::time::Duration;

use crate::batch::Tally;
use crate::credentials::SecretSource;
use crate::error::{Error, Exit};
use crate::output::{self, Printer};

/// The profile whose secret a batch sends, and where the secret came from
/// (`None`: the built-in credentials of `upload --local`).
pub(in crate::commands::upload) type Whose = (String, Option<SecretSource>);

/// Prints the summary lines of a batch and returns its exit code
/// ([`Tally::exit`]).
pub(super) fn summarize(tally: &Tally, whose: &Whose, elapsed: Duration, printer: &Printer) -> Exit {
    printer.note(&format!(
        "{}, {} in {:.1} s",
        tally.headline(),
        output::human_bytes(tally.bytes()),
        elapsed.as_secs_f64()
    ));
    if printer.is_quiet() {
        // Quiet drops the summary, never an error: the failures not told as
        // errors while the batch ran are said here.
        if tally.untold() {
            for line in tally.failure_lines() {
                printer.essential(&line);
            }
        }
    } else {
        // One input that failed was told once already, as it failed.
        let skip_first = tally.told_already();
        for (i, line) in tally.lines().into_iter().enumerate() {
            if i == 0 && skip_first {
                continue;
            }
            printer.note(&line);
        }
    }
    if let Some(how) = tally.retry_advice() {
        printer.note(&how);
    }
    if let Some(stop) = tally.stop() {
        printer.error(stop);
    }
    if tally.auth_failed() {
        printer.error(&Error::CredentialsRefused {
            profile: whose.0.clone(),
            source: whose.1.clone(),
        });
    }
    tally.exit()
}
