//! Unit tests of the batch: records, summaries and exit codes.

use super::*;
use crate::batch::record::test_binding;
use crate::output::{Buffer, Verbosity};

fn rec(input: &str, outcome: Outcome, error: Option<&str>) -> Record {
    let mut r = Record::new(input, input, outcome, test_binding());
    r.bytes = Some(1024);
    r.attempts = 1;
    if let Some(e) = error {
        r = r.with_error(e);
        r.status = Some(500);
    }
    r
}

/// How the batch ended, beside its records.
#[derive(Default)]
struct Ending {
    interrupted: bool,
    auth_failed: bool,
    stop: Option<crate::batch::Stop>,
    report_failed: bool,
    told: usize,
}

/// Summarizes these records and returns the exit code and standard error.
fn summary_of(records: &[Record], ending: Ending) -> (Exit, String) {
    let tally = tally_of(records, ending);
    let (out, err) = (Buffer::memory(false), Buffer::memory(false));
    let printer = Printer::with_buffers(Verbosity::Normal, false, out.clone(), err.clone());
    let exit = summarize(&tally, &("default".into(), None), Duration::from_millis(1500), &printer);
    assert_eq!(out.contents(), "", "the summary is not a result");
    (exit, err.contents())
}

fn tally_of(records: &[Record], ending: Ending) -> Tally {
    let mut tally = Tally::new(records.len(), None);
    for r in records {
        tally.add(r);
    }
    if ending.interrupted {
        tally.set_interrupted();
    }
    if ending.auth_failed {
        tally.set_auth_failed();
    }
    if let Some(stop) = ending.stop {
        tally.set_stop(stop);
    }
    if ending.report_failed {
        tally.set_report_failed();
    }
    for _ in 0..ending.told {
        tally.told();
    }
    tally
}

fn up(input: &str) -> Record {
    rec(input, Outcome::Uploaded, None)
}

fn failed(input: &str) -> Record {
    rec(
        input,
        Outcome::Failed,
        Some("server answered 500 Internal Server Error: no"),
    )
}

fn not_attempted(input: &str) -> Record {
    rec(input, Outcome::NotAttempted, Some("stopped"))
}

#[test]
fn every_input_uploaded_is_success() {
    let (exit, text) = summary_of(&[up("a"), up("b")], Ending::default());
    assert_eq!(exit, Exit::Success);
    assert_eq!(text, "uploaded 2 of 2 files, 2.0 KiB in 1.5 s\n");
}

#[test]
fn failures_are_grouped_by_cause_and_partial() {
    let (exit, text) = summary_of(&[up("a"), failed("b"), failed("c")], Ending::default());
    assert_eq!(exit, Exit::Partial);
    assert_eq!(
        text,
        "uploaded 1 of 3 files, 1.0 KiB in 1.5 s\n\
         2 uploads failed:\n  \
         HTTP 500: server answered 500 Internal Server Error: no (2):\n    b\n    c\n\
         to retry only what did not upload next time, add --report FILE; then run capfile upload --retry-from FILE\n"
            .replace("HTTP 500: ", "")
    );
}

#[test]
fn one_failure_in_a_batch_is_one_line_and_a_lone_input_is_not_repeated() {
    let (exit, text) = summary_of(&[up("a"), failed("b")], Ending::default());
    assert_eq!(exit, Exit::Partial);
    assert!(
        text.ends_with(
            "failed: b: server answered 500 Internal Server Error: no\n\
                        to retry only what did not upload next time, add --report FILE; \
                        then run capfile upload --retry-from FILE\n"
        ),
        "{text}"
    );
    let told = Ending {
        told: 1,
        ..Ending::default()
    };
    let (exit, text) = summary_of(&[failed("b")], told);
    assert_eq!(exit, Exit::Failure);
    assert_eq!(
        text,
        "uploaded 0 of 1 file, 0 B in 1.5 s\n\
         to retry only what did not upload next time, add --report FILE; then run capfile upload --retry-from FILE\n",
        "told once, as it failed"
    );
    // Not told as it failed (a refused connection, left to the summary).
    let (_, text) = summary_of(&[failed("b")], Ending::default());
    assert!(
        text.contains("failed: b: server answered 500 Internal Server Error: no\n"),
        "{text}"
    );
}

#[test]
fn refused_credentials_and_nothing_uploaded_is_auth_with_the_login_hint() {
    let ending = Ending {
        auth_failed: true,
        ..Ending::default()
    };
    let (exit, text) = summary_of(&[failed("a"), not_attempted("b"), not_attempted("c")], ending);
    assert_eq!(exit, Exit::Auth);
    assert!(
        text.contains("\nnot attempted: 2 (the batch stopped first)\n"),
        "{text}"
    );
    assert!(
        text.ends_with(&format!(
            "capfile: error: the file service refused the credentials\nhint: {}\n",
            crate::credentials::LOGIN_HINT
        )),
        "{text}"
    );
    let ending = Ending {
        auth_failed: true,
        ..Ending::default()
    };
    let (exit, _) = summary_of(&[up("a"), failed("b"), not_attempted("c")], ending);
    assert_eq!(exit, Exit::Partial);
}

#[test]
fn a_fail_fast_stop_is_one_error_with_its_hint_and_exit_1() {
    let stop = crate::batch::systemic::describe(crate::batch::SystemicKind::ConnectionRefused, "127.0.0.1:9", 3);
    let ending = Ending {
        stop: Some(stop),
        ..Ending::default()
    };
    let (exit, text) = summary_of(&[failed("a"), failed("b"), failed("c"), not_attempted("d")], ending);
    assert_eq!(exit, Exit::Failure);
    assert_eq!(text.matches("capfile: error:").count(), 1, "{text}");
    assert!(text.contains("hint: nothing listens on 127.0.0.1:9"), "{text}");
}

#[test]
fn interrupted_wins_and_says_what_finished() {
    let ending = Ending {
        interrupted: true,
        ..Ending::default()
    };
    let (exit, text) = summary_of(&[up("a"), up("b"), not_attempted("c")], ending);
    assert_eq!(exit, Exit::Interrupted);
    assert!(text.contains("interrupted: 2 finished, 1 not attempted\n"), "{text}");
}

#[test]
fn unchanged_inputs_are_not_counted_among_those_to_upload() {
    let skipped = || rec("s", Outcome::Skipped, None);
    let (exit, text) = summary_of(&[skipped(), skipped()], Ending::default());
    assert_eq!(exit, Exit::Success);
    assert_eq!(text, "nothing to upload: 2 files unchanged (skipped), 0 B in 1.5 s\n");
    let (exit, text) = summary_of(&[up("a"), skipped(), skipped()], Ending::default());
    assert_eq!(exit, Exit::Success);
    assert_eq!(
        text,
        "uploaded 1 of 1 file to upload; 2 unchanged (skipped), 1.0 KiB in 1.5 s\n"
    );
    let (exit, text) = summary_of(&[up("a"), failed("b"), skipped()], Ending::default());
    assert_eq!(exit, Exit::Partial);
    assert!(
        text.starts_with("uploaded 1 of 2 files to upload; 1 unchanged (skipped),"),
        "{text}"
    );
}

#[test]
fn retries_are_counted() {
    let mut a = up("a");
    a.attempts = 3;
    let (_, text) = summary_of(&[a, up("b")], Ending::default());
    assert!(text.ends_with("retries: 2\n"), "{text}");
}

#[test]
fn a_report_that_could_not_be_written_fails_the_run() {
    let ending = Ending {
        report_failed: true,
        ..Ending::default()
    };
    let (exit, _) = summary_of(&[up("a")], ending);
    assert_eq!(exit, Exit::Failure);
}

#[test]
fn quiet_summaries_still_decide_the_exit_code() {
    let err = Buffer::memory(false);
    let printer = Printer::with_buffers(Verbosity::Quiet, false, Buffer::memory(false), err.clone());
    let tally = tally_of(&[not_attempted("a")], Ending::default());
    let exit = summarize(&tally, &("default".into(), None), Duration::ZERO, &printer);
    assert_eq!(exit, Exit::Failure);
    assert_eq!(err.contents(), "");
}
