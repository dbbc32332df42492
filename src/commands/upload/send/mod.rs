//! Sending one batch of checked inputs to the file service (the network
//! side; the bookkeeping that never touches it is in `crate::batch`).
//!
//! Up to `--jobs` uploads run at once over one connection pool; with `--jobs
//! auto` the number is found as the batch runs (`crate::batch::concurrency`), fed
//! each upload's latency and whether the service pushed back. Every input
//! ends in exactly one [`Record`] (uploaded, failed, skipped, or not attempted
//! because the batch stopped first). With `--manifest`, an input unchanged
//! since its recorded upload ends at once as `skipped` without taking a job
//! (hashed first only when its size matches its entry); every other input is
//! hashed as its body is read (`Progress::chunk`), and its entry is recorded
//! (synced to the journal) before its result is printed. A failure
//! is told at once on standard error; records go to `--report` as each input
//! ends, and results to standard output in input order through a bounded
//! reorder window: an input starts only when its result fits the window, so
//! memory does not grow with the batch (only the aligned table on a terminal
//! keeps its rows).
//!
//! The batch stops starting uploads when the credentials are refused (every
//! file would be) or when the fail-fast detector sees the service is plainly
//! unreachable or wrong (`crate::batch::systemic`, classified by
//! `api::classify`); the rest are `not_attempted`. That order is the
//! `scheduler`'s, over the [`Uploader`] this module implements; what each
//! ended input becomes (report, told lines, results) is the `sink`'s. At the
//! end `summarize` prints the tally, which decides the exit code.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::api::{ApiError, FileError, FileService, UploadJob, Uploaded};
use crate::batch::concurrency::{Limiter, Signal};
use crate::batch::record;
use crate::batch::{Binding, Outcome, Record, ReportWriter, Tally};
use crate::error::{Error, Exit};
use crate::inputs::{Input, Inputs, Source};
use crate::manifest::{Entry, expiry_of};
use crate::output::{BatchProgress, Printer, Results};
use crate::settings::{BodyFormat, Jobs, OutputFormat};

use super::plan::{Plan, Step, lock_manifest};

pub(super) mod fit;
mod scheduler;
mod sink;
mod summary;
#[cfg(test)]
mod tests;
mod tracked;

use scheduler::{Scheduler, Uploader, WINDOW_PER_JOB, Watch};
use sink::Output;
pub(super) use summary::Whose;
use summary::summarize;
use tracked::Tracked;

/// One batch of checked inputs and how to send them.
pub(super) struct Batch {
    pub(super) service: FileService,
    pub(super) inputs: Inputs,
    pub(super) namespace: String,
    pub(super) format: BodyFormat,
    pub(super) output: OutputFormat,
    pub(super) jobs: Jobs,
    /// The ceiling of `--jobs auto`.
    pub(super) jobs_max: usize,
    pub(super) show_progress: bool,
    /// The service the records are bound to (checked by `--retry-from`).
    pub(super) binding: Binding,
    /// `--report FILE`, opened before anything is sent.
    pub(super) report: Option<ReportWriter>,
    /// What to send: with `--manifest FILE` (opened and locked), unchanged
    /// inputs are skipped, and each upload is recorded before it is printed;
    /// and what to do to each image before it is sent (`--fit`, ...).
    pub(super) plan: Plan,
    /// Whose secret is sent and where it came from: what a refusal names.
    pub(super) whose: Whose,
}

/// An input that ended: its record, and how it ended.
pub(super) struct Ended {
    pub(super) record: Record,
    /// The input as the user named it, for messages.
    pub(super) label: String,
    pub(super) fate: Fate,
    /// For the concurrency limiter: the upload's time without rate-limit
    /// waits, and whether the service pushed back; `None` when not sent.
    pub(super) sample: Option<(Duration, Signal)>,
}

/// How an input ended, with what telling it needs.
pub(super) enum Fate {
    /// Sent, and the service's answer.
    Uploaded(Uploaded),
    Failed(Failure),
    /// The plan skipped it (unchanged): its recorded version, and whether
    /// its recorded URL expired.
    Skipped {
        version: String,
        expired: bool,
    },
    /// Not sent: the batch stopped first.
    NotAttempted,
}

/// Why an input failed.
pub(super) enum Failure {
    /// The upload failed; `cut_off`: the fail-fast stop cancelled it while
    /// it retried this (systemic) failure, counted already as it happened.
    Upload { error: ApiError, cut_off: bool },
    /// Uploaded, but the manifest could not record it (told as an error).
    Unrecorded(Error),
}

impl Ended {
    /// An input that ended without being sent.
    fn new(record: Record, input: &Input, fate: Fate) -> Ended {
        Ended {
            record,
            label: input.label(),
            fate,
            sample: None,
        }
    }
}

/// The input path as a record names it.
fn input_path(input: &Input) -> String {
    match &input.source {
        Source::File(_) | Source::InDir(_) => input
            .body_path()
            .map(|path| path.to_string_lossy().into_owned())
            .unwrap_or_default(),
        Source::Spooled(_) => "-".to_string(),
        Source::Placeholder(_) => input.remote.as_str().to_string(),
    }
}

/// The input path's bytes, when `input_path` had to make them UTF-8.
fn input_bytes(input: &Input) -> Option<String> {
    match &input.source {
        Source::File(_) | Source::InDir(_) => input.body_path().and_then(|path| record::input_bytes_of(&path)),
        _ => None,
    }
}

/// A transformed input ready to stream, the error that stopped it, or
/// `None` when it is sent as it is.
type Prepared = Option<Result<fit::Prepared, FileError>>;

/// The real [`Uploader`]: the batch's service, drawing on the bars.
struct Sender<'a> {
    batch: &'a Batch,
    progress: &'a BatchProgress,
}

impl Uploader for Sender<'_> {
    type Job = Arc<Input>;

    fn job(&self, index: usize) -> Option<Arc<Input>> {
        self.batch.inputs.get(index).map(Arc::new)
    }

    fn skip(&self, input: &Arc<Input>) -> Option<Ended> {
        self.batch.skip(input)
    }

    async fn upload(&self, input: Arc<Input>, watch: Arc<Watch>, concurrency: usize) -> Ended {
        self.batch.upload(&input, self.progress, watch, concurrency).await
    }

    fn not_attempted(&self, input: &Arc<Input>, why: &str) -> Ended {
        self.batch.not_attempted(input, why)
    }
}

impl Batch {
    /// Runs the uploads until they are done or `interrupt` resolves, then
    /// prints the summary; returns the exit code.
    pub(super) async fn run(self, printer: &Arc<Printer>, interrupt: impl Future<Output = ()>) -> Exit {
        let started = Instant::now();
        let total = self.inputs.len();
        let progress = printer.batch_progress(total as u64, self.inputs.total_bytes(), self.show_progress);
        let limiter = match self.jobs {
            Jobs::Auto => Limiter::adaptive(self.jobs_max, Duration::ZERO),
            Jobs::Fixed(n) => Limiter::fixed(n.into()),
        };
        let window = limiter.ceiling() * WINDOW_PER_JOB;
        let mut output = Output {
            printer,
            progress: &progress,
            results: Results::new(printer, self.output),
            report: self.report.as_ref(),
            show_progress: self.show_progress,
        };
        let sender = Sender {
            batch: &self,
            progress: &progress,
        };
        let tally = Tally::new(total, self.report.as_ref().map(|r| r.path()));
        let watch = Watch::new(self.endpoint());
        let mut tally = Scheduler::new(&sender, &mut output, limiter, window, watch, tally)
            .run(interrupt)
            .await;
        output.results.finish();
        let (answers, waited) = self.service.rate_limit_totals();
        tally.add_rate_limited(answers, waited);
        summarize(&tally, &self.whose, started.elapsed(), printer)
    }

    /// A record of `input` with what every outcome has.
    fn record(&self, input: &Input, outcome: Outcome) -> Record {
        let mut record = Record::new(input_path(input), input.remote.as_str(), outcome, self.binding.clone())
            .with_image_of(input.body_path().as_deref());
        record.input_bytes = input_bytes(input);
        record.bytes = Some(input.size);
        record
    }

    fn not_attempted(&self, input: &Input, why: &str) -> Ended {
        let record = self.record(input, Outcome::NotAttempted).with_error(why);
        Ended::new(record, input, Fate::NotAttempted)
    }

    /// The input's record when the plan skips it (unchanged since its
    /// recorded upload); `None` when it is sent.
    fn skip(&self, input: &Input) -> Option<Ended> {
        let Step::Skip { entry, expired } = self.plan.decide(input) else {
            return None;
        };
        let mut record = self.record(input, Outcome::Skipped);
        record.version = entry.version.parse().ok();
        record.file_handle = entry.file_handle;
        record.secure_file_path = Some(entry.secure_file_path);
        record.url_expired = Some(expired);
        let fate = Fate::Skipped {
            version: entry.version,
            expired,
        };
        Some(Ended::new(record, input, fate))
    }

    /// The upload URL without the file name: what a 404 is reported against.
    fn endpoint(&self) -> String {
        let base = self.service.upload_url(&self.namespace, &probe_name());
        match base.rsplit_once('/') {
            Some((endpoint, _)) => endpoint.to_string(),
            None => base,
        }
    }

    /// Uploads one input and makes its record.
    async fn upload(&self, input: &Input, progress: &BatchProgress, watch: Arc<Watch>, concurrency: usize) -> Ended {
        // Made to fit first, in this job (the original is only read).
        let prepared = self.prepare(input).await;
        let (_, size, _) = body_of(input, &prepared);
        let file_progress = Arc::new(progress.start_file(&input.label(), size));
        let tracked = Arc::new(Tracked::new(
            file_progress.clone(),
            watch,
            self.plan.manifest().is_some(),
        ));
        let started = Instant::now();
        let (result, cut_off) = self.send(input, &prepared, &tracked).await;
        progress.file_finished();
        let Some(result) = result else {
            let mut ended = self.not_attempted(input, "the batch stopped before this upload finished");
            ended.record.attempts = file_progress.attempts();
            return ended;
        };
        let mut record = self.record(input, Outcome::Uploaded);
        record.attempts = file_progress.attempts();
        record.elapsed_ms = millis(started.elapsed());
        record.rate_wait_ms = millis(file_progress.rate_wait());
        record.concurrency = u32::try_from(concurrency).ok();
        let prepared = prepared.as_ref().and_then(|p| p.as_ref().ok());
        if let Some(prepared) = prepared {
            fitted(&mut record, prepared);
        }
        let pushed_back = tracked.pushed_back() || record.attempts > 1 || result.is_err();
        let signal = if pushed_back { Signal::Dropped } else { Signal::Ok };
        let sample = Some((started.elapsed().saturating_sub(file_progress.rate_wait()), signal));
        let (record, fate) = match result {
            Ok(done) => self.remember(input, answered(record, &done), done, &tracked, prepared),
            Err(error) => (failed(record, &error), Fate::Failed(Failure::Upload { error, cut_off })),
        };
        Ended {
            record,
            label: input.label(),
            fate,
            sample,
        }
    }

    /// The input made to fit (`--fit`, ...), when it is an image and there
    /// are transforms.
    async fn prepare(&self, input: &Input) -> Prepared {
        match (self.plan.transform(), input.body_path()) {
            (Some(settings), Some(path)) if input.mime != crate::inputs::ANY_TYPE => {
                Some(fit::prepare(input, &path, settings).await)
            }
            _ => None,
        }
    }

    /// Sends the input (or what it was made into). The fail-fast stop
    /// cancels the uploads in flight: one retrying a systemic failure ends
    /// failed with it (`true`: cut off); any other was cut off, not
    /// attempted (`None`).
    async fn send(
        &self,
        input: &Input,
        prepared: &Prepared,
        tracked: &Arc<Tracked>,
    ) -> (Option<Result<Uploaded, ApiError>>, bool) {
        if let Some(Err(err)) = prepared {
            return (Some(Err(ApiError::from(err.clone()))), false);
        }
        let (body_path, size, mime) = body_of(input, prepared);
        let job = UploadJob {
            namespace: &self.namespace,
            name: &input.remote,
            body: body_path.as_deref().map(|p| (p, size, mime)),
            format: self.format,
        };
        tokio::select! {
            result = self.service.upload(&job, tracked.clone()) => (Some(result), false),
            () = tracked.watch.stop.cancelled() => (tracked.take_last_systemic().map(Err), true),
        }
    }

    /// With a manifest, records the upload (synced to disk) before its
    /// result is printed; an upload it could not record is a failure.
    fn remember(
        &self,
        input: &Input,
        mut record: Record,
        done: Uploaded,
        tracked: &Tracked,
        prepared: Option<&fit::Prepared>,
    ) -> (Record, Fate) {
        let (Some(manifest), Some((sha256, sent_size))) = (self.plan.manifest(), tracked.content_hash()) else {
            return (record, Fate::Uploaded(done));
        };
        // With transforms, keyed by the source and the settings.
        let (sha256, size) = match (self.plan.transform(), prepared) {
            (Some(settings), Some(p)) => (fit::manifest_hash(settings, &p.source_sha256), input.size),
            _ => (sha256, sent_size),
        };
        let entry = Entry {
            sha256,
            size,
            content_type: input.mime.to_string(),
            version: done.version.clone(),
            file_handle: done.file_handle.clone(),
            // From the answer itself: a record may leave a large one out.
            s3_url: done.s3_url.clone(),
            secure_file_path: done.secure_file_path.clone(),
            url_expires_at: expiry_of(&done.secure_file_path),
            uploaded_at: time::OffsetDateTime::now_utc(),
        };
        match lock_manifest(manifest).record(input.remote.as_str(), entry) {
            Ok(()) => (record, Fate::Uploaded(done)),
            Err(err) => {
                let why = format!(
                    "uploaded as version {}, but the manifest could not record it: {err}",
                    done.version
                );
                record.outcome = Outcome::Failed;
                (
                    record.with_error(&why),
                    Fate::Failed(Failure::Unrecorded(Error::from(err))),
                )
            }
        }
    }
}

/// The body an upload streams: the transformed image when there is one,
/// else the input's file; its size and media type.
fn body_of<'a>(input: &'a Input, prepared: &'a Prepared) -> (Option<Cow<'a, Path>>, u64, &'static str) {
    let spooled = prepared.as_ref().and_then(|p| p.as_ref().ok()?.spooled.as_ref());
    match spooled {
        Some(s) => (Some(Cow::Borrowed(s.path())), s.size, fit::mime(s.transformed.format)),
        None => (input.body_path(), input.size, input.mime),
    }
}

/// The record's account of what a transform made of the input.
fn fitted(record: &mut Record, prepared: &fit::Prepared) {
    let Some(fitted) = prepared.fitted() else { return };
    let spooled = prepared.spooled.as_ref();
    record.width = spooled.and_then(|s| s.transformed.width);
    record.height = spooled.and_then(|s| s.transformed.height);
    record.format = spooled.map(|s| s.transformed.format.name().to_string());
    record.fit = Some(fitted);
}

/// The record of an upload the service took, from its answer.
fn answered(mut record: Record, done: &Uploaded) -> Record {
    record.keep_response(&done.raw);
    record.version = done.version.parse().ok();
    record.secure_file_path = Some(done.secure_file_path.clone());
    record.status = Some(200);
    record.request_id = done.request_id.clone();
    record.maybe_duplicate = done.maybe_duplicate;
    record.file_handle = done.file_handle.clone();
    record
}

/// The record of an upload that failed.
fn failed(mut record: Record, err: &ApiError) -> Record {
    record.outcome = Outcome::Failed;
    let mut record = record.with_error(&err.cause());
    if let ApiError::Status { status, .. } = err {
        record.status = Some(status.as_u16());
    }
    record.request_id = err.request_id().map(str::to_string);
    record
}

fn probe_name() -> crate::inputs::RemoteName {
    // A plain name always parses; only its URL's directory is used.
    crate::inputs::RemoteName::parse("x").unwrap_or_else(|_| unreachable!("`x` is a valid remote name"))
}

/// A duration in whole milliseconds, for a record.
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
