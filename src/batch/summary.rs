//! Failure summaries a person can read at the end of a batch.
//!
//! Failures are grouped by cause (the HTTP status and the server's message, or
//! the network error), each group with its count and at most ten of its inputs,
//! one per line, then "and N more" pointing at the report. A batch with one
//! failed file says its error once, on one line. The tally is built as the
//! records arrive and keeps a bounded amount per group and a bounded number of
//! groups, so its memory does not grow with the batch. It counts everything
//! the end of a batch needs (outcomes, bytes, failures told as they happened,
//! how the batch stopped) and decides the exit code; it returns lines, and the
//! caller prints them.

use std::time::Duration;

use super::record::{Outcome, Record, one_line};
use super::systemic::Stop;
use crate::exit::Exit;
use crate::output::escape_control;

/// Inputs listed per cause before "and N more".
pub(crate) const LISTED_PER_CAUSE: usize = 10;

/// Distinct causes kept; failures with further causes are counted under
/// "other causes".
pub(crate) const MAX_CAUSES: usize = 20;

const OTHER_CAUSES: &str = "other causes";

#[derive(Debug)]
struct Group {
    cause: String,
    count: usize,
    /// Up to [`LISTED_PER_CAUSE`] input lines.
    listed: Vec<String>,
}

/// The running totals of a batch, turned into summary lines and the exit
/// code at the end.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    report: Option<String>,
    /// Inputs in the batch.
    total: usize,
    /// The bytes of the inputs uploaded.
    bytes: u64,
    /// Failures told on standard error as they happened.
    told: usize,
    /// The service refused the credentials.
    auth_failed: bool,
    /// The fail-fast stop, when the batch stopped on it.
    stop: Option<Stop>,
    /// A record could not be written to `--report`.
    report_failed: bool,
    groups: Vec<Group>,
    uploaded: usize,
    failed: usize,
    skipped: usize,
    not_attempted: usize,
    /// The one line of the first failure, said alone when it is the only one.
    first_failure: Option<String>,
    retries: u64,
    rate_limited: u64,
    rate_wait: Duration,
    interrupted: bool,
    /// Uploads whose record says `maybe_duplicate`.
    maybe_duplicates: usize,
}

impl Tally {
    /// A batch of `total` inputs; `report` is the `--report` file, named by
    /// "and N more (see ...)".
    pub(crate) fn new(total: usize, report: Option<&std::path::Path>) -> Self {
        Tally {
            total,
            report: report.map(|p| p.display().to_string()),
            ..Tally::default()
        }
    }

    /// Counts one finished input.
    pub(crate) fn add(&mut self, record: &Record) {
        self.retries += u64::from(record.attempts.saturating_sub(1));
        self.maybe_duplicates += usize::from(record.maybe_duplicate);
        match record.outcome {
            Outcome::Uploaded => {
                self.uploaded += 1;
                self.bytes += record.bytes.unwrap_or(0);
            }
            Outcome::Skipped => self.skipped += 1,
            Outcome::NotAttempted => self.not_attempted += 1,
            Outcome::Failed => self.add_failure(record),
        }
    }

    /// Notes the 429 answers met and the time spent waiting for rate limits.
    pub(crate) fn add_rate_limited(&mut self, answers: u64, waited: Duration) {
        self.rate_limited += answers;
        self.rate_wait += waited;
    }

    /// Marks the batch as stopped by Ctrl-C.
    pub(crate) fn set_interrupted(&mut self) {
        self.interrupted = true;
    }

    /// Inputs in the batch.
    pub(crate) fn total(&self) -> usize {
        self.total
    }

    /// Counts a failure told on standard error as it happened.
    pub(crate) fn told(&mut self) {
        self.told += 1;
    }

    /// Marks the credentials as refused.
    pub(crate) fn set_auth_failed(&mut self) {
        self.auth_failed = true;
    }

    /// Keeps the first fail-fast stop.
    pub(crate) fn set_stop(&mut self, stop: Stop) {
        self.stop.get_or_insert(stop);
    }

    /// Marks the report as incomplete (the first write that failed).
    pub(crate) fn set_report_failed(&mut self) {
        self.report_failed = true;
    }

    pub(crate) fn is_interrupted(&self) -> bool {
        self.interrupted
    }

    pub(crate) fn auth_failed(&self) -> bool {
        self.auth_failed
    }

    pub(crate) fn report_failed(&self) -> bool {
        self.report_failed
    }

    pub(crate) fn stop(&self) -> Option<&Stop> {
        self.stop.as_ref()
    }

    /// The bytes of the inputs uploaded.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The lone input of the batch failed and was told once already, as it
    /// failed: the summary does not say it again.
    pub(crate) fn told_already(&self) -> bool {
        self.total == 1 && self.failed == 1 && self.told == 1
    }

    /// Failures not told while the batch ran (what `--quiet` still says).
    pub(crate) fn untold(&self) -> bool {
        self.failed > self.told
    }

    /// The exit code: 130 when interrupted; else 0 when every input was
    /// uploaded (or skipped) and the report is whole; 4 when none was and the
    /// credentials were refused; 1 when none was, or the batch stopped early,
    /// or the report could not be written; 3 when some were.
    pub(crate) fn exit(&self) -> Exit {
        let everything = self.failed == 0 && self.not_attempted == 0;
        if self.interrupted {
            Exit::Interrupted
        } else if everything && !self.report_failed {
            Exit::Success
        } else if self.auth_failed && self.uploaded == 0 {
            Exit::Auth
        } else if self.uploaded == 0 || everything {
            Exit::Failure
        } else {
            Exit::Partial
        }
    }

    /// The summary's first line, before the bytes and time: inputs the
    /// manifest found unchanged are not counted among those to upload, so a
    /// run where nothing changed does not read as "uploaded 0 of 7".
    pub(crate) fn headline(&self) -> String {
        let (done, skipped, total) = (self.uploaded, self.skipped, self.total);
        let to_send = total.saturating_sub(skipped);
        match (skipped, to_send) {
            (0, _) => format!("uploaded {done} of {}", crate::output::count(total, "file", "files")),
            (_, 0) => format!(
                "nothing to upload: {} unchanged (skipped)",
                crate::output::count(skipped, "file", "files")
            ),
            _ => format!(
                "uploaded {done} of {} to upload; {skipped} unchanged (skipped)",
                crate::output::count(to_send, "file", "files")
            ),
        }
    }

    #[cfg(test)]
    pub(crate) fn failed(&self) -> usize {
        self.failed
    }

    #[cfg(test)]
    pub(crate) fn uploaded(&self) -> usize {
        self.uploaded
    }

    #[cfg(test)]
    pub(crate) fn not_attempted(&self) -> usize {
        self.not_attempted
    }

    #[cfg(test)]
    pub(crate) fn retries(&self) -> u64 {
        self.retries
    }

    fn add_failure(&mut self, record: &Record) {
        self.failed += 1;
        // Names and errors come from the file system and the server: escape
        // control characters before they reach a terminal.
        let cause = escape_control(&one_line(&cause_of(record))).into_owned();
        let input = escape_control(&record.input);
        let listed = match &record.request_id {
            Some(id) => format!("{input} (request id {})", escape_control(id)),
            None => input.into_owned(),
        };
        if self.first_failure.is_none() {
            self.first_failure = Some(format!("failed: {}: {cause}", listed));
        }
        let at = match self.groups.iter().position(|g| g.cause == cause) {
            Some(at) => at,
            None if self.groups.len() < MAX_CAUSES => {
                self.groups.push(Group {
                    cause,
                    count: 0,
                    listed: Vec::new(),
                });
                self.groups.len() - 1
            }
            None => match self.groups.iter().position(|g| g.cause == OTHER_CAUSES) {
                Some(at) => at,
                None => {
                    self.groups.push(Group {
                        cause: OTHER_CAUSES.to_string(),
                        count: 0,
                        listed: Vec::new(),
                    });
                    self.groups.len() - 1
                }
            },
        };
        let group = &mut self.groups[at];
        group.count += 1;
        if group.listed.len() < LISTED_PER_CAUSE {
            group.listed.push(listed);
        }
    }

    /// The summary lines, without the caller's "uploaded N of M" line: the
    /// failures ([`Tally::failure_lines`]), then what else happened.
    pub(crate) fn lines(&self) -> Vec<String> {
        let mut lines = self.failure_lines();
        lines.extend(self.other_lines());
        lines
    }

    /// The lines that say which inputs failed and why: what even `--quiet`
    /// shows, since quiet drops progress and the summary, never an error.
    pub(crate) fn failure_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if self.failed == 1 {
            lines.extend(self.first_failure.clone());
        } else if self.failed > 1 {
            lines.push(format!("{} uploads failed:", self.failed));
            for group in &self.groups {
                lines.push(format!("  {} ({}):", group.cause, group.count));
                for input in &group.listed {
                    lines.push(format!("    {input}"));
                }
                let more = group.count - group.listed.len();
                if more > 0 {
                    let see = self.report.as_deref().unwrap_or("--report");
                    lines.push(format!("    and {more} more (see {see})"));
                }
            }
        }
        lines
    }

    /// After failures or inputs left unattempted: how to retry just those,
    /// with `--retry-from` when there is a report, or how to get one.
    pub(crate) fn retry_advice(&self) -> Option<String> {
        if self.failed + self.not_attempted == 0 {
            return None;
        }
        Some(match &self.report {
            Some(report) => format!(
                "to retry only what did not upload: capfile upload --retry-from {}",
                shell_word(report)
            ),
            None => "to retry only what did not upload next time, add --report FILE; \
                     then run capfile upload --retry-from FILE"
                .to_string(),
        })
    }

    /// The rest of the summary: inputs not attempted, retries, rate limits.
    fn other_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if self.interrupted {
            let finished = self.uploaded + self.failed + self.skipped;
            lines.push(format!(
                "interrupted: {finished} finished, {} not attempted",
                self.not_attempted
            ));
        } else if self.not_attempted > 0 {
            lines.push(format!(
                "not attempted: {} (the batch stopped first)",
                self.not_attempted
            ));
        }
        // Re-sends after a 429 wait for the rate limit and do not use up
        // --retries; they are counted on the rate-limit line, not here.
        let retries = self.retries.saturating_sub(self.rate_limited);
        if retries > 0 {
            lines.push(format!("retries: {retries}"));
        }
        if self.maybe_duplicates > 0 {
            lines.push(format!(
                "maybe duplicated: {} (retried after the whole body was sent; the service may hold an extra version)",
                self.maybe_duplicates
            ));
        }
        if self.rate_limited > 0 {
            lines.push(format!(
                "rate limit: the service answered 429 {}; uploads waited {:.1} s for it",
                crate::output::count(
                    usize::try_from(self.rate_limited).unwrap_or(usize::MAX),
                    "time",
                    "times"
                ),
                self.rate_wait.as_secs_f64()
            ));
        }
        lines
    }
}

/// A path as one word a shell reads back as the same path: as it is when it
/// holds only plain characters, else in single quotes (control characters
/// quoted as `quote_path` does, so none reaches the terminal).
fn shell_word(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_./:@%+=,-".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        return text.to_string();
    }
    if text.chars().any(char::is_control) {
        return crate::output::quote_path(text);
    }
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// The cause a failure is grouped under: the HTTP status and the error, with
/// the input's own name taken off the front when the error starts with it.
pub(crate) fn cause_of(record: &Record) -> String {
    let error = record.error.as_deref().unwrap_or("unknown error");
    let error = [record.input.as_str(), record.name.as_str()]
        .iter()
        .find_map(|own| error.strip_prefix(own).and_then(|rest| rest.strip_prefix(": ")))
        .unwrap_or(error);
    match record.status {
        Some(status) if !error.contains(&status.to_string()) => format!("HTTP {status}: {error}"),
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::record::test_binding;

    fn failed(input: &str, status: Option<u16>, error: &str) -> Record {
        let mut r = Record::new(input, input, Outcome::Failed, test_binding()).with_error(error);
        r.status = status;
        r.attempts = 1;
        r
    }

    fn of(outcome: Outcome) -> Record {
        let mut r = Record::new("x", "x", outcome, test_binding());
        r.attempts = u32::from(outcome != Outcome::NotAttempted);
        r
    }

    #[test]
    fn a_single_failure_is_said_once_on_one_line() {
        let mut s = Tally::new(0, None);
        s.add(&of(Outcome::Uploaded));
        let mut r = failed("a.png", Some(503), "service unavailable");
        r.request_id = Some("req-1".into());
        s.add(&r);
        assert_eq!(
            s.lines(),
            ["failed: a.png (request id req-1): HTTP 503: service unavailable"]
        );
    }

    #[test]
    fn failures_are_grouped_by_cause_with_counts() {
        let mut s = Tally::new(0, None);
        s.add(&failed("a.png", Some(503), "service unavailable"));
        s.add(&failed("b.png", None, "connection reset"));
        s.add(&failed("c.png", Some(503), "service unavailable"));
        s.add(&failed("d.png", Some(500), "d.png: HTTP 500 from the server"));
        assert_eq!(
            s.lines(),
            [
                "4 uploads failed:",
                "  HTTP 503: service unavailable (2):",
                "    a.png",
                "    c.png",
                "  connection reset (1):",
                "    b.png",
                "  HTTP 500 from the server (1):",
                "    d.png",
            ]
        );
    }

    #[test]
    fn at_most_ten_inputs_per_cause_then_a_pointer_to_the_report() {
        for (report, see) in [(None, "--report"), (Some("out/r.ndjson"), "out/r.ndjson")] {
            let mut s = Tally::new(0, report.map(std::path::Path::new));
            for i in 0..25 {
                s.add(&failed(&format!("f{i}.png"), Some(503), "busy"));
            }
            let lines = s.lines();
            assert_eq!(lines.len(), 1 + 1 + 10 + 1, "{lines:#?}");
            assert_eq!(lines[1], "  HTTP 503: busy (25):");
            assert_eq!(lines[11], "    f9.png");
            assert_eq!(lines[12], format!("    and 15 more (see {see})"));
        }
    }

    #[test]
    fn distinct_causes_are_bounded() {
        let mut s = Tally::new(0, None);
        for i in 0..1000 {
            s.add(&failed(&format!("f{i}"), None, &format!("cause {i}")));
        }
        let lines = s.lines();
        assert_eq!(lines[0], "1000 uploads failed:");
        assert!(lines.contains(&format!("  {OTHER_CAUSES} (980):")), "{lines:#?}");
        assert!(lines.len() <= 1 + (MAX_CAUSES + 1) * (2 + LISTED_PER_CAUSE));
    }

    #[test]
    fn an_interrupted_batch_says_what_finished() {
        let mut s = Tally::new(0, None);
        s.add(&of(Outcome::Uploaded));
        s.add(&of(Outcome::Skipped));
        s.add(&failed("a.png", Some(500), "boom"));
        s.add(&of(Outcome::NotAttempted));
        s.add(&of(Outcome::NotAttempted));
        s.set_interrupted();
        assert_eq!(s.lines()[1], "interrupted: 3 finished, 2 not attempted");
        assert_eq!(
            s.retry_advice().as_deref(),
            Some(
                "to retry only what did not upload next time, add --report FILE; then run capfile upload --retry-from FILE"
            )
        );
        let mut with_report = Tally::new(0, Some(std::path::Path::new("runs/r 1.jsonl")));
        with_report.add(&of(Outcome::NotAttempted));
        assert_eq!(
            with_report.retry_advice().as_deref(),
            Some("to retry only what did not upload: capfile upload --retry-from 'runs/r 1.jsonl'")
        );
        let mut fine = Tally::new(0, None);
        fine.add(&of(Outcome::Uploaded));
        fine.add(&of(Outcome::Skipped));
        assert_eq!(fine.retry_advice(), None);
        assert_eq!(s.not_attempted(), 2);
        assert_eq!(s.uploaded(), 1);
        assert_eq!(s.failed(), 1);
    }

    #[test]
    fn a_stopped_batch_counts_what_was_not_attempted() {
        let mut s = Tally::new(0, None);
        s.add(&of(Outcome::NotAttempted));
        assert_eq!(s.lines(), ["not attempted: 1 (the batch stopped first)"]);
    }

    #[test]
    fn retries_and_rate_limit_waits_are_counted() {
        let mut s = Tally::new(0, None);
        // Seven attempts: four re-sends after a 429 (which do not use up
        // --retries) and two retries.
        let mut r = of(Outcome::Uploaded);
        r.attempts = 7;
        s.add(&r);
        s.add(&of(Outcome::Uploaded));
        s.add_rate_limited(4, Duration::from_millis(12_340));
        assert_eq!(s.retries(), 6);
        assert_eq!(
            s.lines(),
            [
                "retries: 2",
                "rate limit: the service answered 429 4 times; uploads waited 12.3 s for it"
            ]
        );
    }

    #[test]
    fn names_and_errors_cannot_inject_terminal_controls() {
        let mut s = Tally::new(0, None);
        let mut r = failed("a\u{1b}[2J.png", Some(500), "x");
        r.error = Some("bad\nline\u{7}".into());
        s.add(&r);
        assert_eq!(s.lines(), ["failed: a\\x1b[2J.png: HTTP 500: bad line"]);
    }

    #[test]
    fn a_clean_batch_has_nothing_to_say() {
        let mut s = Tally::new(0, None);
        s.add(&of(Outcome::Uploaded));
        assert!(s.lines().is_empty());
    }
}
