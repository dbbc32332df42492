//! One batch of checked inputs on its way to the file service.
//!
//! Up to `--jobs` uploads run at once over one connection pool; with `--jobs
//! auto` the number is found as the batch runs (`batch::concurrency`), fed
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
//! unreachable or wrong (`batch::systemic`, classified by `api::classify`); the
//! rest are `not_attempted`. At the end `summarize` sums up and decides the
//! exit code.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio_util::sync::CancellationToken;

use crate::api::{self, ApiError, FileService, UploadJob, Uploaded};
use crate::batch::concurrency::{Limiter, Signal};
use crate::batch::record;
use crate::batch::{Binding, FailFast, FailureClass, Outcome, Record, Reorder, ReportWriter, Stop, Summary, Verdict};
use crate::error::{Error, Exit};
use crate::inputs::{Input, Inputs, Source};
use crate::manifest::{ContentHasher, Decision, Entry, Manifest, Policy, expiry_of, hash_file};
use crate::output::{self, FileProgress, Printer, Results};
use crate::settings::{BodyFormat, Jobs, OutputFormat};

mod fit;
/// Results held at most while an earlier upload is still running, per job.
mod summary;
#[cfg(test)]
mod tests;

pub(super) use summary::Whose;
use summary::{Ending, summarize};

const WINDOW_PER_JOB: usize = 16;

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
    /// `--manifest FILE`, opened and locked: unchanged inputs are skipped,
    /// and each upload is recorded before it is printed.
    pub(super) manifest: Option<Arc<Mutex<Manifest>>>,
    /// `--force`, `--no-refresh`.
    pub(super) policy: Policy,
    /// What to do to each image before it is sent (`--fit`, ...), if anything.
    pub(super) transform: Option<Arc<crate::transform::Settings>>,
    /// Whose secret is sent and where it came from: what a refusal names.
    pub(super) whose: Whose,
}

/// Locks the manifest; a panic elsewhere cannot leave it half-updated (each
/// record is one call).
pub(super) fn lock_manifest(manifest: &Mutex<Manifest>) -> std::sync::MutexGuard<'_, Manifest> {
    manifest.lock().unwrap_or_else(|p| p.into_inner())
}

/// An input that ended: its record, and its upload when there was one.
struct Ended {
    record: Record,
    uploaded: Option<Uploaded>,
    /// The error, for the line told at once.
    error: Option<ApiError>,
    label: String,
    /// Cut off by the fail-fast stop.
    cancelled: bool,
    /// Skipped by the manifest: its entry, and whether its URL expired.
    skipped: Option<(Entry, bool)>,
    /// Uploaded, but the manifest could not record it (told as an error).
    unrecorded: Option<Error>,
    /// For the concurrency limiter: the upload's time without rate-limit
    /// waits, and whether the service pushed back; `None` when not sent.
    sample: Option<(Duration, Signal)>,
}

/// The fail-fast detector, shared with the uploads in flight. A systemic
/// failure is counted at every failed attempt, before its retry waits, so a
/// dead host stops the batch after a few connection attempts rather than
/// after a few uploads' worth of retries; the uploads still in flight are then
/// cancelled.
struct Watch {
    fail_fast: Mutex<FailFast>,
    stop: CancellationToken,
    endpoint: String,
}

impl Watch {
    /// Counts a failed attempt; says whether it was systemic.
    fn failed(&self, err: &ApiError) -> bool {
        let class = api::classify(err, &self.endpoint);
        let verdict = self.lock().failure(&class);
        if matches!(verdict, Verdict::Stop(_)) {
            self.stop.cancel();
        }
        class != FailureClass::Ordinary
    }

    fn succeeded(&self) {
        self.lock().success();
    }

    fn stopped(&self) -> Option<Stop> {
        self.lock().stopped().cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FailFast> {
        // A panic elsewhere cannot leave the counts half-updated.
        self.fail_fast.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One file's progress, with its failed attempts counted by the fail-fast
/// watch.
struct Tracked {
    inner: Arc<FileProgress>,
    watch: Arc<Watch>,
    /// The last systemic failure of an attempt, reported if the stop cancels
    /// this upload.
    last_systemic: Mutex<Option<ApiError>>,
    /// The content sent by the current attempt, hashed as it is read (only
    /// with a manifest).
    hasher: Option<Mutex<ContentHasher>>,
    /// The service answered 429 (or 503 with Retry-After) to an attempt.
    pushed_back: AtomicBool,
}

impl Tracked {
    /// The SHA-256 and size of what the last attempt sent.
    fn content_hash(&self) -> Option<(String, u64)> {
        let hasher = self.hasher.as_ref()?;
        let hasher = hasher.lock().unwrap_or_else(|p| p.into_inner()).clone();
        Some(hasher.finish())
    }
}

impl api::Progress for Tracked {
    fn sent(&self, bytes: u64) {
        self.inner.sent(bytes);
    }

    fn chunk(&self, bytes: &[u8]) {
        if let Some(hasher) = &self.hasher {
            hasher.lock().unwrap_or_else(|p| p.into_inner()).update(bytes);
        }
    }

    fn restart(&self) {
        self.inner.restart();
        if let Some(hasher) = &self.hasher {
            *hasher.lock().unwrap_or_else(|p| p.into_inner()) = ContentHasher::new();
        }
    }

    fn retrying(&self, attempt: u32, delay: Duration, cause: &ApiError) {
        if self.watch.failed(cause)
            && let Ok(mut last) = self.last_systemic.lock()
        {
            *last = Some(cause.clone());
        }
        // A failure that stopped the batch is not retried: say "retrying"
        // only for a retry that will happen.
        if !self.watch.stop.is_cancelled() {
            self.inner.retrying(attempt, delay, cause);
        }
    }

    fn rate_limited(&self, wait: Duration, new_pause: bool, cause: &ApiError) {
        self.pushed_back.store(true, Ordering::Relaxed);
        self.inner.rate_limited(wait, new_pause, cause);
    }

    fn paced(&self, wait: Option<Duration>) {
        self.inner.paced(wait);
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

impl Batch {
    fn not_attempted(&self, input: &Input, why: &str) -> Ended {
        let mut record = Record::new(
            input_path(input),
            input.remote.as_str(),
            Outcome::NotAttempted,
            self.binding.clone(),
        )
        .with_error(why)
        .with_image_of(input.body_path().as_deref());
        record.input_bytes = input_bytes(input);
        record.bytes = Some(input.size);
        Ended {
            record,
            uploaded: None,
            error: None,
            label: input.label(),
            cancelled: false,
            skipped: None,
            unrecorded: None,
            sample: None,
        }
    }

    /// With a manifest: the input's record when it is unchanged since its
    /// recorded upload (hashed first only when its size matches), so it is
    /// not sent; `None` when it must be uploaded.
    fn skip(&self, input: &Input) -> Option<Ended> {
        let manifest = lock_manifest(self.manifest.as_ref()?);
        let name = input.remote.as_str();
        let now = time::OffsetDateTime::now_utc();
        let mut decision = manifest.decide(name, input.size, None, now, self.policy);
        if decision == Decision::HashFirst {
            let hash = match input.body_path() {
                // A file that cannot be read is uploaded, and fails there
                // with the reason.
                Some(path) => hash_file(&path).ok()?.0,
                None => ContentHasher::new().finish().0,
            };
            // Keyed by the source and the settings: nothing is decoded.
            let hash = match &self.transform {
                Some(settings) => fit::manifest_hash(settings, &hash),
                None => hash,
            };
            decision = manifest.decide(name, input.size, Some(&hash), now, self.policy);
        }
        let Decision::Skip(entry) = decision else {
            return None;
        };
        let expired = entry.url_expired(now);
        let mut record = Record::new(input_path(input), name, Outcome::Skipped, self.binding.clone())
            .with_image_of(input.body_path().as_deref());
        record.input_bytes = input_bytes(input);
        record.bytes = Some(input.size);
        record.version = entry.version.parse().ok();
        record.file_handle = entry.file_handle.clone();
        record.secure_file_path = Some(entry.secure_file_path.clone());
        record.url_expired = Some(expired);
        Some(Ended {
            record,
            uploaded: None,
            error: None,
            label: input.label(),
            cancelled: false,
            skipped: Some((entry.clone(), expired)),
            unrecorded: None,
            sample: None,
        })
    }

    /// Runs the uploads until they are done or `interrupt` resolves.
    pub(super) async fn run(self, printer: &Arc<Printer>, interrupt: impl Future<Output = ()>) -> Exit {
        let started = Instant::now();
        let total = self.inputs.len();
        let total_bytes = self.inputs.total_bytes();
        let progress = printer.batch_progress(total as u64, total_bytes, self.show_progress);
        let mut results = Results::new(printer, self.output);
        let mut summary = Summary::new(self.report.as_ref().map(|r| r.path()));
        let watch = Arc::new(Watch {
            fail_fast: Mutex::new(FailFast::default()),
            stop: CancellationToken::new(),
            endpoint: self.endpoint(),
        });
        let mut limiter = match self.jobs {
            Jobs::Auto => Limiter::adaptive(self.jobs_max, Duration::ZERO),
            Jobs::Fixed(n) => Limiter::fixed(n.into()),
        };
        if limiter.is_adaptive() {
            progress.set_concurrency(limiter.limit());
        }
        let mut reorder: Reorder<Ended> = Reorder::new(limiter.ceiling() * WINDOW_PER_JOB);
        let mut ending = Ending {
            total,
            ..Ending::default()
        };
        // Each input is made whole as it starts (or is checked against the
        // manifest), and dropped as it ends.
        let mut in_flight: HashMap<usize, Arc<Input>> = HashMap::new();
        let mut next = 0usize;
        let mut checked = 0usize;
        let mut stopped = false;
        let mut running = FuturesUnordered::new();
        tokio::pin!(interrupt);

        loop {
            // Start what the jobs and the reorder window allow.
            while !stopped && next < total && reorder.can_start(next) {
                // An unchanged input (manifest) ends at once, without a job;
                // `checked` keeps an input waiting for a job from being
                // hashed again.
                if checked < next + 1 {
                    checked = next + 1;
                    if let Some(ended) = self.inputs.get(next).and_then(|input| self.skip(&input)) {
                        self.write_report(&ended.record, &mut ending, printer);
                        self.push(next, ended, &mut reorder, &mut results, &mut summary, &mut ending);
                        next += 1;
                        continue;
                    }
                }
                if running.len() >= limiter.limit() {
                    break;
                }
                let Some(input) = self.inputs.get(next) else { break };
                let input = Arc::new(input);
                in_flight.insert(next, input.clone());
                running.push(self.upload(next, input, &progress, &watch, limiter.limit()));
                limiter.started(running.len());
                next += 1;
            }
            if running.is_empty() {
                break;
            }
            let ended = tokio::select! {
                ended = running.next() => ended,
                _ = &mut interrupt => { ending.interrupted = true; None }
            };
            let Some((index, ended)) = ended else { break };
            in_flight.remove(&index);
            if let Some((latency, signal)) = ended.sample {
                let before = limiter.limit();
                if let Some((level, change)) = limiter.ended(started.elapsed(), latency, signal) {
                    printer.detail(1, &format!("concurrency: {level} in flight ({})", change.why()));
                }
                if limiter.limit() != before {
                    progress.set_concurrency(limiter.limit());
                }
            }
            if let Some(err) = &ended.unrecorded {
                printer.error(err);
                ending.told += 1;
            }
            self.write_report(&ended.record, &mut ending, printer);
            match (&ended.error, ended.record.outcome) {
                (Some(err), _) => {
                    if err.is_auth() {
                        ending.auth_failed = true;
                        stopped = true;
                    }
                    // Counted here unless the stop cancelled it: its last
                    // attempt was counted as it failed.
                    let systemic = ended.cancelled || watch.failed(err);
                    self.tell(&ended, systemic, &progress, printer);
                    ending.told += usize::from(!systemic);
                }
                (None, Outcome::Uploaded) => {
                    self.tell(&ended, false, &progress, printer);
                    watch.succeeded();
                }
                _ => {}
            }
            if let Some(stop) = watch.stopped() {
                ending.stop.get_or_insert(stop);
                stopped = true;
            }
            self.push(index, ended, &mut reorder, &mut results, &mut summary, &mut ending);
        }
        // On Ctrl-C this cancels the uploads still in flight and closes their
        // connections, so the service stores none of them.
        drop(running);
        progress.finish();
        let why = if ending.interrupted {
            "interrupted before it was uploaded"
        } else {
            "the batch stopped before this input was sent"
        };
        // Every input not yet released ends now, in input order: those cut
        // off in flight, and those never started.
        for index in reorder.released()..total {
            let input = match in_flight.remove(&index) {
                Some(input) => Some(input),
                None if index >= next => self.inputs.get(index).map(Arc::new),
                None => None,
            };
            if let Some(input) = input {
                let ended = self.not_attempted(&input, why);
                self.write_report(&ended.record, &mut ending, printer);
                self.push(index, ended, &mut reorder, &mut results, &mut summary, &mut ending);
            }
        }
        results.finish();
        let (answers, waited) = self.service.rate_limit_totals();
        summary.add_rate_limited(answers, waited);
        if ending.interrupted {
            summary.set_interrupted();
        }
        summarize(&summary, &ending, &self.whose, started.elapsed(), printer)
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
    async fn upload(
        &self,
        index: usize,
        input: Arc<Input>,
        progress: &output::BatchProgress,
        watch: &Arc<Watch>,
        concurrency: usize,
    ) -> (usize, Ended) {
        // Made to fit first, in this job (the original is only read).
        let prepared = match (&self.transform, input.body_path()) {
            (Some(settings), Some(path)) if input.mime != crate::inputs::ANY_TYPE => {
                Some(fit::prepare(&input, &path, settings).await)
            }
            _ => None,
        };
        let spooled = prepared.as_ref().and_then(|p| p.as_ref().ok()?.spooled.as_ref());
        let body_path = match spooled {
            Some(spooled) => Some(std::borrow::Cow::Borrowed(spooled.path())),
            None => input.body_path(),
        };
        let (size, mime) = match spooled {
            Some(s) => (s.size, fit::mime(s.transformed.format)),
            None => (input.size, input.mime),
        };
        let job = UploadJob {
            namespace: &self.namespace,
            name: &input.remote,
            body: body_path.as_deref().map(|p| (p, size, mime)),
            format: self.format,
        };
        let file_progress = Arc::new(progress.start_file(&input.label(), size));
        let tracked = Arc::new(Tracked {
            inner: file_progress.clone(),
            watch: watch.clone(),
            last_systemic: Mutex::new(None),
            hasher: self.manifest.as_ref().map(|_| Mutex::new(ContentHasher::new())),
            pushed_back: AtomicBool::new(false),
        });
        let started = Instant::now();
        // The stop cancels the uploads in flight: one retrying a systemic
        // failure ends failed with it; any other was cut off, not attempted.
        let (result, cancelled) = match &prepared {
            Some(Err(err)) => (Some(Err(ApiError::from(err.clone()))), false),
            _ => tokio::select! {
                result = self.service.upload(&job, tracked.clone()) => (Some(result), false),
                () = watch.stop.cancelled() => {
                    let last = tracked.last_systemic.lock().ok().and_then(|mut last| last.take());
                    (last.map(Err), true)
                }
            },
        };
        progress.file_finished();
        let Some(result) = result else {
            let mut ended = self.not_attempted(&input, "the batch stopped before this upload finished");
            ended.record.attempts = file_progress.attempts();
            ended.cancelled = true;
            return (index, ended);
        };
        let outcome = if result.is_ok() {
            Outcome::Uploaded
        } else {
            Outcome::Failed
        };
        let mut record = Record::new(input_path(&input), input.remote.as_str(), outcome, self.binding.clone())
            .with_image_of(input.body_path().as_deref());
        record.input_bytes = input_bytes(&input);
        record.bytes = Some(input.size);
        record.attempts = file_progress.attempts();
        record.elapsed_ms = millis(started.elapsed());
        record.rate_wait_ms = millis(file_progress.rate_wait());
        let prepared = prepared.as_ref().and_then(|p| p.as_ref().ok());
        if let Some(fitted) = prepared.and_then(|p| p.fitted()) {
            record.width = spooled.and_then(|s| s.transformed.width);
            record.height = spooled.and_then(|s| s.transformed.height);
            record.format = spooled.map(|s| s.transformed.format.name().to_string());
            record.fit = Some(fitted);
        }
        record.concurrency = u32::try_from(concurrency).ok();
        let pushed_back = tracked.pushed_back.load(Ordering::Relaxed) || record.attempts > 1 || result.is_err();
        let signal = if pushed_back { Signal::Dropped } else { Signal::Ok };
        let sample = Some((started.elapsed().saturating_sub(file_progress.rate_wait()), signal));
        let (uploaded, error) = match result {
            Ok(done) => {
                let body: Option<serde_json::Value> = serde_json::from_slice(&done.raw).ok();
                record.keep_response(&done.raw);
                record.version = done.version.parse().ok();
                record.secure_file_path = Some(done.secure_file_path.clone());
                record.status = Some(200);
                record.request_id = done.request_id.clone();
                record.maybe_duplicate = done.maybe_duplicate;
                record.file_handle = body.as_ref().and_then(file_handle);
                (Some(done), None)
            }
            Err(err) => {
                record = record.with_error(&err.cause());
                if let ApiError::Status { status, .. } = &err {
                    record.status = Some(status.as_u16());
                }
                record.request_id = err.request_id().map(str::to_string);
                (None, Some(err))
            }
        };
        let mut ended = Ended {
            record,
            uploaded,
            error,
            label: input.label(),
            cancelled,
            skipped: None,
            unrecorded: None,
            sample,
        };
        if let Some(done) = &ended.uploaded
            && let Some(manifest) = &self.manifest
            && let Some((sha256, sent_size)) = tracked.content_hash()
        {
            // With transforms, keyed by the source and the settings.
            let (sha256, size) = match (&self.transform, &prepared) {
                (Some(settings), Some(p)) => (fit::manifest_hash(settings, &p.source_sha256), input.size),
                _ => (sha256, sent_size),
            };
            // Recorded (synced to disk) before the result is printed.
            let entry = Entry {
                sha256,
                size,
                content_type: input.mime.to_string(),
                version: done.version.clone(),
                file_handle: ended.record.file_handle.clone(),
                // From the answer itself: a record may leave a large one out.
                s3_url: serde_json::from_slice(&done.raw).ok().as_ref().and_then(s3_url),
                secure_file_path: done.secure_file_path.clone(),
                url_expires_at: expiry_of(&done.secure_file_path),
                uploaded_at: time::OffsetDateTime::now_utc(),
            };
            if let Err(err) = lock_manifest(manifest).record(input.remote.as_str(), entry) {
                let why = format!(
                    "uploaded as version {}, but the manifest could not record it: {err}",
                    done.version
                );
                ended.record.outcome = Outcome::Failed;
                ended.record = ended.record.with_error(&why);
                ended.uploaded = None;
                ended.unrecorded = Some(Error::from(err));
            }
        }
        (index, ended)
    }

    /// Tells an ended input at once on standard error: a failure as an error
    /// (a systemic one only with -v: the grouped message says it once), an
    /// upload as a line when no bars show it.
    fn tell(&self, ended: &Ended, systemic: bool, progress: &output::BatchProgress, printer: &Printer) {
        match (&ended.uploaded, &ended.error) {
            (Some(done), _) if self.show_progress && !progress.draws_bars() => printer.note(&format!(
                "uploaded {} ({}) as version {}",
                ended.label,
                output::human_bytes(ended.record.bytes.unwrap_or(0)),
                done.version
            )),
            (_, Some(err)) => {
                let error = Error::Upload {
                    label: ended.label.clone(),
                    source: err.clone(),
                };
                if systemic {
                    printer.detail(1, &format!("capfile: error: {}", error.message()));
                } else {
                    printer.error(&error);
                }
            }
            _ => {}
        }
    }

    /// Writes an ended input's record to the report at once (so that after a
    /// crash the report holds every input that had ended, and before it is
    /// told on standard error), then holds it in the reorder window and
    /// releases every record whose predecessors are all released.
    fn push(
        &self,
        index: usize,
        ended: Ended,
        reorder: &mut Reorder<Ended>,
        results: &mut Results<'_>,
        summary: &mut Summary,
        ending: &mut Ending,
    ) {
        // The scheduler starts only inputs that fit the window, and each
        // ends once, so this cannot fail.
        let pushed = reorder.push(index, ended);
        debug_assert!(pushed.is_ok(), "{pushed:?}");
        let ready: Vec<Ended> = reorder.drain_ready().map(|(_, e)| e).collect();
        for ended in ready {
            self.release(ended, results, summary, ending);
        }
    }

    /// Appends one record to `--report`, if there is one; the first error is
    /// told, and fails the run.
    fn write_report(&self, record: &Record, ending: &mut Ending, printer: &Printer) {
        if let Some(report) = &self.report
            && !ending.report_failed
            && let Err(err) = report.write(record)
        {
            printer.error(&err);
            ending.report_failed = true;
        }
    }

    /// Gives one record to the results and the summary, in input order;
    /// nothing of it is kept after this.
    fn release(&self, ended: Ended, results: &mut Results<'_>, summary: &mut Summary, ending: &mut Ending) {
        if ended.record.outcome == Outcome::Uploaded {
            ending.bytes += ended.record.bytes.unwrap_or(0);
        }
        summary.add(&ended.record);
        match &ended.skipped {
            Some((entry, expired)) => results.push_skipped(&ended.record, &entry.version, *expired),
            None => results.push_record(&ended.record, ended.uploaded.as_ref()),
        }
    }
}

fn probe_name() -> crate::inputs::RemoteName {
    // A plain name always parses; only its URL's directory is used.
    crate::inputs::RemoteName::parse("x").unwrap_or_else(|_| unreachable!("`x` is a valid remote name"))
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The file handle in the service's answer, when there is one.
fn file_handle(body: &serde_json::Value) -> Option<String> {
    let file = body.get("file")?;
    ["file_handle", "fileHandle"]
        .iter()
        .find_map(|key| file.get(*key)?.as_str().map(str::to_string))
}

/// The S3 URL in the service's answer, when there is one.
fn s3_url(body: &serde_json::Value) -> Option<String> {
    let file = body.get("file").unwrap_or(body);
    ["s3_url", "s3Url", "s3Path"]
        .iter()
        .find_map(|key| file.get(*key)?.as_str().map(str::to_string))
}
