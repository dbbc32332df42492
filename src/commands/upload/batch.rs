//! One batch of checked inputs on its way to the file service.
//!
//! Up to `--jobs` uploads run at once over one connection pool. Each finished
//! upload is reported as it happens (a failure at once, on standard error); the
//! results go to standard output in input order, each as soon as every input
//! before it is done. Refused credentials stop the batch: inputs not yet started
//! are skipped, since they would be refused too. At the end `summarize` sums up
//! and decides the exit code.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use crate::api::{ApiError, FileService, UploadJob, Uploaded};
use crate::cli::{BodyFormat, OutputFormat};
use crate::error::{Error, Exit};
use crate::inputs::Input;
use crate::output::{self, Printer, Results};

/// One batch of checked inputs and how to send them.
pub(super) struct Batch {
    pub(super) service: FileService,
    pub(super) inputs: Vec<Input>,
    pub(super) namespace: String,
    pub(super) format: BodyFormat,
    pub(super) output: OutputFormat,
    pub(super) jobs: usize,
    pub(super) show_progress: bool,
}

/// What became of one input.
enum Outcome {
    Done(Uploaded),
    Failed(ApiError),
    /// Not attempted: the batch stopped first (credentials refused).
    Skipped,
}

impl Batch {
    /// Runs the uploads until they are done or `interrupt` resolves.
    pub(super) async fn run(self, printer: &Arc<Printer>, interrupt: impl Future<Output = ()>) -> Exit {
        let started = Instant::now();
        let stop = AtomicBool::new(false);
        let total = self.inputs.len();
        let mut outcomes: Vec<Option<Outcome>> = (0..total).map(|_| None).collect();
        let mut printed = 0;
        let mut results = Results::new(printer, self.output);
        let total_bytes = self.inputs.iter().map(|i| i.size).sum();
        let progress = printer.batch_progress(total as u64, total_bytes, self.show_progress);

        let uploads = futures_util::stream::iter(self.inputs.iter().enumerate())
            .map(|(index, input)| {
                let stop = &stop;
                let service = &self.service;
                let namespace = self.namespace.as_str();
                let format = self.format;
                let progress = &progress;
                async move {
                    if stop.load(Ordering::Relaxed) {
                        return (index, Outcome::Skipped);
                    }
                    let job = UploadJob {
                        namespace,
                        name: &input.remote,
                        body: input.body_path().map(|p| (p, input.size, input.mime)),
                        format,
                    };
                    let file_progress = Arc::new(progress.start_file(&input.label, input.size));
                    let result = service.upload(&job, file_progress).await;
                    progress.file_finished();
                    match result {
                        Ok(done) => (index, Outcome::Done(done)),
                        Err(err) => {
                            // Refused credentials will be refused for every file.
                            if err.is_auth() {
                                stop.store(true, Ordering::Relaxed);
                            }
                            (index, Outcome::Failed(err))
                        }
                    }
                }
            })
            .buffer_unordered(self.jobs.max(1));
        let mut uploads = Box::pin(uploads);
        tokio::pin!(interrupt);
        let mut interrupted = false;

        loop {
            let next = tokio::select! {
                next = uploads.next() => next,
                _ = &mut interrupt => { interrupted = true; None }
            };
            let Some((index, outcome)) = next else { break };
            let input = &self.inputs[index];
            match &outcome {
                // On a terminal the bars show this; a line per file is for logs.
                Outcome::Done(done) if self.show_progress && !progress.draws_bars() => printer.note(&format!(
                    "uploaded {} ({}) as version {}",
                    input.label,
                    output::human_bytes(input.size),
                    done.version
                )),
                Outcome::Failed(err) => printer.error(&Error::Upload {
                    label: input.label.clone(),
                    source: err.clone(),
                }),
                _ => {}
            }
            outcomes[index] = Some(outcome);
            // Print every result whose predecessors are all done, in input order.
            while printed < total
                && let Some(outcome) = &outcomes[printed]
            {
                if let Outcome::Done(done) = outcome {
                    results.push(done);
                }
                printed += 1;
            }
        }
        // On Ctrl-C this cancels the uploads still in flight and closes their
        // connections, so the service stores none of them.
        drop(uploads);
        progress.finish();
        // Finished uploads behind an unfinished one are still reported, in order.
        for outcome in outcomes.iter().skip(printed).flatten() {
            if let Outcome::Done(done) = outcome {
                results.push(done);
            }
        }
        results.finish();
        let (answers, waited) = self.service.rate_limit_totals();
        let rate_limit = RateLimitTotals { answers, waited };
        summarize(
            &self.inputs,
            &outcomes,
            interrupted,
            started.elapsed(),
            rate_limit,
            printer,
        )
    }
}

/// What the batch asked of the rate limit: how many 429 answers came, and how
/// long uploads waited for them in all.
#[derive(Clone, Copy, Debug, Default)]
struct RateLimitTotals {
    answers: u64,
    waited: Duration,
}

/// Prints the summary lines of a batch and decides its exit code: 130 when
/// interrupted; else 0 when every input was uploaded; 4 when none was and the
/// credentials were refused; 1 when none was; 3 when some were.
fn summarize(
    inputs: &[Input],
    outcomes: &[Option<Outcome>],
    interrupted: bool,
    elapsed: Duration,
    rate_limit: RateLimitTotals,
    printer: &Printer,
) -> Exit {
    let mut done = 0;
    let mut bytes = 0;
    let mut failed = Vec::new();
    let mut not_sent = Vec::new();
    let mut auth_failed = false;
    for (input, outcome) in inputs.iter().zip(outcomes) {
        match outcome {
            Some(Outcome::Done(_)) => {
                done += 1;
                bytes += input.size;
            }
            Some(Outcome::Failed(err)) => {
                auth_failed |= err.is_auth();
                failed.push(format!("{} ({err})", input.label));
            }
            Some(Outcome::Skipped) | None => not_sent.push(input.label.as_str()),
        }
    }
    let total = inputs.len();
    printer.note(&format!(
        "uploaded {done} of {total} file(s), {} in {:.1} s",
        output::human_bytes(bytes),
        elapsed.as_secs_f64()
    ));
    if rate_limit.answers > 0 {
        printer.note(&format!(
            "rate limit: the service answered 429 {} time(s); uploads waited {:.1} s for it",
            rate_limit.answers,
            rate_limit.waited.as_secs_f64()
        ));
    }
    if !failed.is_empty() {
        printer.note(&format!("failed: {}", failed.join(", ")));
    }
    if !not_sent.is_empty() {
        printer.note(&format!("not uploaded: {}", not_sent.join(", ")));
    }
    if auth_failed {
        printer.error(&Error::CredentialsRefused);
    }
    if interrupted {
        Exit::Interrupted
    } else if failed.is_empty() && not_sent.is_empty() {
        Exit::Success
    } else if auth_failed && done == 0 {
        Exit::Auth
    } else if done == 0 {
        Exit::Failure
    } else {
        Exit::Partial
    }
}

#[cfg(test)]
mod tests {
    use reqwest::StatusCode;

    use super::*;
    use crate::inputs::{RemoteName, Source};
    use crate::output::{Buffer, Verbosity};

    fn input(label: &str, size: u64) -> Input {
        Input {
            label: label.into(),
            remote: RemoteName::parse(label).unwrap(),
            source: Source::Placeholder,
            size,
            mime: "image/png",
        }
    }

    fn done(name: &str) -> Option<Outcome> {
        Some(Outcome::Done(Uploaded {
            raw: Default::default(),
            name: name.into(),
            version: "1".into(),
            secure_file_path: format!("https://s/{name}"),
            request_id: None,
        }))
    }

    fn failed(status: StatusCode) -> Option<Outcome> {
        Some(Outcome::Failed(ApiError::Status {
            status,
            message: "no".into(),
            retry_after: None,
            request_id: None,
        }))
    }

    /// Summarizes three inputs of 1, 2 and 4 KiB with these outcomes, and
    /// returns the exit code and what was written to standard error.
    fn summary(outcomes: [Option<Outcome>; 3], interrupted: bool, rate_limit: RateLimitTotals) -> (Exit, String) {
        let inputs = [input("a.png", 1024), input("b.png", 2048), input("c.png", 4096)];
        let (out, err) = (Buffer::memory(false), Buffer::memory(false));
        let printer = Printer::with_buffers(Verbosity::Normal, false, out.clone(), err.clone());
        let exit = summarize(
            &inputs,
            &outcomes,
            interrupted,
            Duration::from_millis(1500),
            rate_limit,
            &printer,
        );
        assert_eq!(out.contents(), "", "the summary is not a result");
        (exit, err.contents())
    }

    fn no_limit() -> RateLimitTotals {
        RateLimitTotals::default()
    }

    #[test]
    fn every_input_uploaded_is_success() {
        let (exit, text) = summary([done("a.png"), done("b.png"), done("c.png")], false, no_limit());
        assert_eq!(exit, Exit::Success);
        assert_eq!(text, "uploaded 3 of 3 file(s), 7.0 KiB in 1.5 s\n");
    }

    #[test]
    fn some_failed_is_partial() {
        let (exit, text) = summary(
            [done("a.png"), failed(StatusCode::INTERNAL_SERVER_ERROR), done("c.png")],
            false,
            no_limit(),
        );
        assert_eq!(exit, Exit::Partial);
        assert_eq!(
            text,
            "uploaded 2 of 3 file(s), 5.0 KiB in 1.5 s\n\
             failed: b.png (server answered 500 Internal Server Error: no)\n"
        );
    }

    #[test]
    fn none_uploaded_is_failure() {
        let err = || failed(StatusCode::BAD_GATEWAY);
        let (exit, text) = summary([err(), err(), err()], false, no_limit());
        assert_eq!(exit, Exit::Failure);
        assert!(
            text.starts_with("uploaded 0 of 3 file(s), 0 B in 1.5 s\nfailed: a.png ("),
            "{text}"
        );
    }

    #[test]
    fn refused_credentials_and_nothing_uploaded_is_auth_with_the_login_hint() {
        let (exit, text) = summary(
            [failed(StatusCode::UNAUTHORIZED), Some(Outcome::Skipped), None],
            false,
            no_limit(),
        );
        assert_eq!(exit, Exit::Auth);
        assert!(text.contains("\nnot uploaded: b.png, c.png\n"), "{text}");
        assert!(
            text.ends_with(&format!(
                "capfile: error: the file service refused the credentials\nhint: {}\n",
                crate::error::LOGIN_HINT
            )),
            "{text}"
        );
    }

    #[test]
    fn refused_credentials_after_some_uploads_is_partial() {
        let (exit, text) = summary(
            [done("a.png"), failed(StatusCode::FORBIDDEN), Some(Outcome::Skipped)],
            false,
            no_limit(),
        );
        assert_eq!(exit, Exit::Partial);
        assert!(text.contains("refused the credentials"), "{text}");
    }

    #[test]
    fn interrupted_wins_over_every_other_outcome() {
        let (exit, text) = summary([done("a.png"), done("b.png"), None], true, no_limit());
        assert_eq!(exit, Exit::Interrupted);
        assert!(text.ends_with("not uploaded: c.png\n"), "{text}");
        let (exit, _) = summary([done("a.png"), done("b.png"), done("c.png")], true, no_limit());
        assert_eq!(exit, Exit::Interrupted);
    }

    #[test]
    fn rate_limit_waits_are_told() {
        let limited = RateLimitTotals {
            answers: 2,
            waited: Duration::from_millis(3200),
        };
        let (exit, text) = summary([done("a.png"), done("b.png"), done("c.png")], false, limited);
        assert_eq!(exit, Exit::Success);
        assert!(
            text.ends_with("rate limit: the service answered 429 2 time(s); uploads waited 3.2 s for it\n"),
            "{text}"
        );
    }

    #[test]
    fn quiet_summaries_still_decide_the_exit_code() {
        let inputs = [input("a.png", 1)];
        let err = Buffer::memory(false);
        let printer = Printer::with_buffers(Verbosity::Quiet, false, Buffer::memory(false), err.clone());
        let exit = summarize(&inputs, &[None], false, Duration::ZERO, no_limit(), &printer);
        assert_eq!(exit, Exit::Failure);
        assert_eq!(err.contents(), "");
    }
}
