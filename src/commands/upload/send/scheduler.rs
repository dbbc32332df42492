//! The order of a batch's uploads, over a small [`Uploader`] trait so that it
//! runs (and is tested) without a server.
//!
//! It starts what the concurrency limiter and the reorder window allow (an
//! input the plan skips ends at once, without a job), collects each upload
//! as it ends (feeding the limiter, and the fail-fast watch), and stops
//! starting uploads when the credentials are refused, the fail-fast watch
//! stops the batch, or the interrupt resolves; every input not yet ended then
//! ends `not_attempted`. Each ended input goes to the [`Sink`] at once (the
//! report, the line told on standard error), then again in input order
//! (the results), counted in the [`Tally`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use futures_util::stream::FuturesUnordered;
use tokio_util::sync::CancellationToken;

use super::{Ended, Failure, Fate};
use crate::api::{self, ApiError};
use crate::batch::concurrency::{Change, Limiter};
use crate::batch::{FailFast, FailureClass, Reorder, Stop, Tally, Verdict};

/// Results held at most while an earlier upload is still running, per job.
pub(super) const WINDOW_PER_JOB: usize = 16;

/// What sends one input. A job is one input made whole, kept only while it
/// runs.
pub(super) trait Uploader {
    type Job: Clone;

    /// The input at `index`, made whole.
    fn job(&self, index: usize) -> Option<Self::Job>;

    /// The input ended at once because the plan skips it, or `None`: send it.
    fn skip(&self, job: &Self::Job) -> Option<Ended>;

    /// Sends one input; `watch` counts its failed attempts and cancels it at
    /// a fail-fast stop; `concurrency` is the limit it started under.
    async fn upload(&self, job: Self::Job, watch: Arc<Watch>, concurrency: usize) -> Ended;

    /// The input ended without being sent, and why.
    fn not_attempted(&self, job: &Self::Job, why: &str) -> Ended;
}

/// Where ended inputs go.
pub(super) trait Sink {
    /// An input ended (in the order inputs end): its record is written and
    /// its failure told; `systemic` says the failure is the fail-fast stop's,
    /// told once for the whole batch.
    fn ended(&mut self, ended: &Ended, systemic: bool, tally: &mut Tally);

    /// An ended input, in input order (already counted in the tally).
    fn release(&mut self, ended: Ended);

    /// The limiter's level moved at the end of a window (the new level and
    /// why), and/or the limit uploads now start under changed.
    fn concurrency(&mut self, change: Option<(usize, Change)>, limit: Option<usize>);

    /// No upload runs any more: those in flight ended or were cut off.
    fn stopped(&mut self);
}

/// The fail-fast detector, shared with the uploads in flight. A systemic
/// failure is counted at every failed attempt, before its retry waits, so a
/// dead host stops the batch after a few connection attempts rather than
/// after a few uploads' worth of retries; the uploads still in flight are then
/// cancelled.
pub(super) struct Watch {
    fail_fast: Mutex<FailFast>,
    pub(super) stop: CancellationToken,
    /// The upload URL without the file name: what a 404 is reported against.
    endpoint: String,
}

impl Watch {
    pub(super) fn new(endpoint: String) -> Watch {
        Watch {
            fail_fast: Mutex::new(FailFast::default()),
            stop: CancellationToken::new(),
            endpoint,
        }
    }

    /// Counts a failed attempt; says whether it was systemic.
    pub(super) fn failed(&self, err: &ApiError) -> bool {
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

/// One run of the scheduler over `total` inputs.
pub(super) struct Scheduler<'a, U: Uploader, S: Sink> {
    uploader: &'a U,
    sink: &'a mut S,
    total: usize,
    limiter: Limiter,
    reorder: Reorder<Ended>,
    watch: Arc<Watch>,
    tally: Tally,
    running: FuturesUnordered<LocalBoxFuture<'a, (usize, Ended)>>,
    /// The inputs in flight, dropped as they end.
    in_flight: HashMap<usize, U::Job>,
    /// The input at `next`, not skipped, waiting for a job (so that it is
    /// not planned twice).
    waiting: Option<U::Job>,
    next: usize,
    /// No more uploads start.
    stopped: bool,
    started: Instant,
}

impl<'a, U: Uploader, S: Sink> Scheduler<'a, U, S> {
    /// `window`: results held at most while an earlier one runs.
    pub(super) fn new(
        uploader: &'a U,
        sink: &'a mut S,
        limiter: Limiter,
        window: usize,
        watch: Watch,
        tally: Tally,
    ) -> Self {
        Scheduler {
            uploader,
            sink,
            total: tally.total(),
            limiter,
            reorder: Reorder::new(window),
            watch: Arc::new(watch),
            tally,
            running: FuturesUnordered::new(),
            in_flight: HashMap::new(),
            waiting: None,
            next: 0,
            stopped: false,
            started: Instant::now(),
        }
    }

    /// Runs the uploads until they are done, the batch stops, or `interrupt`
    /// resolves; every input has then ended. Returns the tally.
    pub(super) async fn run(mut self, interrupt: impl Future<Output = ()>) -> Tally {
        tokio::pin!(interrupt);
        if self.limiter.is_adaptive() {
            self.sink.concurrency(None, Some(self.limiter.limit()));
        }
        loop {
            self.start_what_fits();
            if self.running.is_empty() {
                break;
            }
            let mut interrupted = false;
            let ended = tokio::select! {
                ended = self.running.next() => ended,
                () = &mut interrupt => {
                    interrupted = true;
                    None
                }
            };
            if interrupted {
                self.tally.set_interrupted();
            }
            let Some((index, ended)) = ended else { break };
            self.collect(index, ended);
        }
        self.finish();
        self.tally
    }

    /// Starts what the limiter and the reorder window allow. An input the
    /// plan skips ends at once, without a job.
    fn start_what_fits(&mut self) {
        while !self.stopped && self.next < self.total && self.reorder.can_start(self.next) {
            let job = match self.waiting.take() {
                Some(job) => job,
                None => {
                    let Some(job) = self.uploader.job(self.next) else { break };
                    if let Some(ended) = self.uploader.skip(&job) {
                        self.end(self.next, ended, false);
                        self.next += 1;
                        continue;
                    }
                    job
                }
            };
            let limit = self.limiter.limit();
            if self.running.len() >= limit {
                self.waiting = Some(job);
                break;
            }
            self.in_flight.insert(self.next, job.clone());
            let (index, uploader, watch) = (self.next, self.uploader, self.watch.clone());
            self.running.push(Box::pin(
                async move { (index, uploader.upload(job, watch, limit).await) },
            ));
            self.limiter.started(self.running.len());
            self.next += 1;
        }
    }

    /// One upload ended: the limiter learns of it, a refused credential or
    /// the fail-fast watch stops the batch, and it goes to the sink.
    fn collect(&mut self, index: usize, ended: Ended) {
        self.in_flight.remove(&index);
        if let Some((latency, signal)) = ended.sample {
            let before = self.limiter.limit();
            let change = self.limiter.ended(self.started.elapsed(), latency, signal);
            let limit = Some(self.limiter.limit()).filter(|limit| *limit != before);
            if change.is_some() || limit.is_some() {
                self.sink.concurrency(change, limit);
            }
        }
        let systemic = match &ended.fate {
            Fate::Failed(Failure::Upload { error, cut_off }) => {
                if error.is_auth() {
                    self.tally.set_auth_failed();
                    self.stopped = true;
                }
                // Counted here unless the stop cut it off: its last attempt
                // was counted as it failed.
                *cut_off || self.watch.failed(error)
            }
            Fate::Uploaded(_) => {
                self.watch.succeeded();
                false
            }
            _ => false,
        };
        self.end(index, ended, systemic);
        if let Some(stop) = self.watch.stopped() {
            self.tally.set_stop(stop);
            self.stopped = true;
        }
    }

    /// Cuts off the uploads in flight (on Ctrl-C this closes their
    /// connections, so the service stores none of them), then ends every
    /// input not yet ended, in input order: those cut off, the one waiting
    /// for a job, and those never started.
    fn finish(&mut self) {
        self.running = FuturesUnordered::new();
        self.sink.stopped();
        let why = if self.tally.is_interrupted() {
            "interrupted before it was uploaded"
        } else {
            "the batch stopped before this input was sent"
        };
        for index in self.reorder.released()..self.total {
            let job = match self.in_flight.remove(&index) {
                Some(job) => Some(job),
                None if index == self.next && self.waiting.is_some() => self.waiting.take(),
                None if index >= self.next => self.uploader.job(index),
                None => None,
            };
            if let Some(job) = job {
                let ended = self.uploader.not_attempted(&job, why);
                self.end(index, ended, false);
            }
        }
    }

    /// Gives an ended input to the sink at once, then holds it in the
    /// reorder window and releases every one whose predecessors are all
    /// released, counted in the tally.
    fn end(&mut self, index: usize, ended: Ended, systemic: bool) {
        self.sink.ended(&ended, systemic, &mut self.tally);
        // Only inputs that fit the window start, and each ends once, so
        // this cannot fail.
        let pushed = self.reorder.push(index, ended);
        debug_assert!(pushed.is_ok(), "{pushed:?}");
        let ready: Vec<Ended> = self.reorder.drain_ready().map(|(_, ended)| ended).collect();
        for ended in ready {
            self.tally.add(&ended.record);
            self.sink.release(ended);
        }
    }
}

#[cfg(test)]
mod tests {
    //! The scheduler against a fake uploader (no server, no network, no
    //! clock: each fake upload ends after a number of yields) and a sink
    //! that keeps what it is given.

    use std::cell::{Cell, RefCell};
    use std::time::Duration;

    use reqwest::StatusCode;

    use super::*;
    use crate::batch::Outcome;
    use crate::batch::concurrency::{START, Signal};
    use crate::batch::record::{Record, test_binding};
    use crate::error::Exit;

    /// What the fake does with one input.
    #[derive(Clone, Copy)]
    enum Act {
        /// Uploaded after this many yields.
        Ok(usize),
        /// Fails with this HTTP status after this many yields.
        Fail(usize, u16),
        /// The plan skips it.
        Skip,
    }

    #[derive(Default)]
    struct Fake {
        acts: Vec<Act>,
        running: Cell<usize>,
        most_running: Cell<usize>,
        /// Uploads that ended.
        finished: Cell<usize>,
        /// The inputs planned (asked `skip`), each with the uploads ended
        /// by then.
        planned: RefCell<Vec<(usize, usize)>>,
        started: RefCell<Vec<usize>>,
    }

    fn record(index: usize, outcome: Outcome) -> Record {
        let name = format!("f{index}");
        Record::new(name.clone(), name, outcome, test_binding())
    }

    fn ended(index: usize, outcome: Outcome, fate: Fate) -> Ended {
        Ended {
            record: record(index, outcome),
            label: format!("f{index}"),
            fate,
            sample: None,
        }
    }

    fn status(code: u16) -> ApiError {
        ApiError::Status {
            status: StatusCode::from_u16(code).unwrap(),
            message: "no".into(),
            retry_after: None,
            request_id: None,
        }
    }

    impl Uploader for Fake {
        type Job = usize;

        fn job(&self, index: usize) -> Option<usize> {
            (index < self.acts.len()).then_some(index)
        }

        fn skip(&self, index: &usize) -> Option<Ended> {
            self.planned.borrow_mut().push((*index, self.finished.get()));
            let skipped = Fate::Skipped {
                version: "1".into(),
                expired: false,
            };
            matches!(self.acts[*index], Act::Skip).then(|| ended(*index, Outcome::Skipped, skipped))
        }

        async fn upload(&self, index: usize, _watch: Arc<Watch>, _concurrency: usize) -> Ended {
            self.started.borrow_mut().push(index);
            self.running.set(self.running.get() + 1);
            self.most_running.set(self.most_running.get().max(self.running.get()));
            let (yields, fail) = match self.acts[index] {
                Act::Ok(yields) => (yields, None),
                Act::Fail(yields, code) => (yields, Some(code)),
                Act::Skip => unreachable!("a skipped input is not sent"),
            };
            for _ in 0..yields {
                tokio::task::yield_now().await;
            }
            self.running.set(self.running.get() - 1);
            self.finished.set(self.finished.get() + 1);
            let mut ended = match fail {
                None => {
                    let done = crate::api::parse_uploaded(
                        br#"{"code":200,"status":true,"secureFilePath":"https://s/a","file":{"version":1}}"#
                            .as_slice()
                            .into(),
                    )
                    .unwrap();
                    ended(index, Outcome::Uploaded, Fate::Uploaded(done))
                }
                Some(code) => {
                    let failure = Failure::Upload {
                        error: status(code),
                        cut_off: false,
                    };
                    ended(index, Outcome::Failed, Fate::Failed(failure))
                }
            };
            ended.sample = Some((Duration::from_millis(10), Signal::Ok));
            ended
        }

        fn not_attempted(&self, index: &usize, why: &str) -> Ended {
            let mut ended = ended(*index, Outcome::NotAttempted, Fate::NotAttempted);
            ended.record = ended.record.with_error(why);
            ended
        }
    }

    #[derive(Default)]
    struct Kept {
        /// In the order inputs ended: the input and whether it was systemic.
        ended: Vec<(usize, bool)>,
        /// In the order released: the input, its outcome and error.
        released: Vec<(usize, Outcome, Option<String>)>,
        limits: Vec<usize>,
        stopped: usize,
    }

    fn index_of(ended: &Ended) -> usize {
        ended.record.name[1..].parse().unwrap()
    }

    impl Sink for Kept {
        fn ended(&mut self, ended: &Ended, systemic: bool, _tally: &mut Tally) {
            self.ended.push((index_of(ended), systemic));
        }

        fn release(&mut self, ended: Ended) {
            let outcome = ended.record.outcome;
            self.released.push((index_of(&ended), outcome, ended.record.error));
        }

        fn concurrency(&mut self, _change: Option<(usize, Change)>, limit: Option<usize>) {
            self.limits.extend(limit);
        }

        fn stopped(&mut self) {
            self.stopped += 1;
        }
    }

    /// Runs the scheduler over `acts`, interrupted after `interrupt_after`
    /// yields of its own if given.
    fn schedule(acts: &[Act], limiter: Limiter, window: usize, interrupt_after: Option<usize>) -> (Fake, Kept, Tally) {
        let fake = Fake {
            acts: acts.to_vec(),
            ..Fake::default()
        };
        let mut kept = Kept::default();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let tally = Tally::new(acts.len(), None);
        let watch = Watch::new("https://files.example/upload".into());
        let scheduler = Scheduler::new(&fake, &mut kept, limiter, window, watch, tally);
        let interrupt = async move {
            match interrupt_after {
                Some(yields) => {
                    for _ in 0..yields {
                        tokio::task::yield_now().await;
                    }
                }
                None => std::future::pending().await,
            }
        };
        let tally = runtime.block_on(scheduler.run(interrupt));
        (fake, kept, tally)
    }

    fn outcomes(kept: &Kept) -> Vec<Outcome> {
        kept.released.iter().map(|(_, outcome, _)| *outcome).collect()
    }

    #[test]
    fn results_are_released_in_input_order_whatever_order_uploads_end_in() {
        // Later inputs end first.
        let acts: Vec<Act> = (0..12).map(|i| Act::Ok(40 - 3 * i)).collect();
        let (fake, kept, tally) = schedule(&acts, Limiter::fixed(4), 64, None);
        let released: Vec<usize> = kept.released.iter().map(|(i, ..)| *i).collect();
        assert_eq!(released, (0..12).collect::<Vec<_>>());
        let ended: Vec<usize> = kept.ended.iter().map(|(i, _)| *i).collect();
        assert_ne!(
            ended, released,
            "the uploads did not end out of order: nothing was reordered"
        );
        assert_eq!(fake.most_running.get(), 4, "four jobs, all used");
        assert_eq!(outcomes(&kept), [Outcome::Uploaded; 12]);
        assert_eq!((tally.uploaded(), tally.exit()), (12, Exit::Success));
        assert_eq!(kept.stopped, 1);
    }

    #[test]
    fn refused_credentials_stop_the_batch_and_the_rest_are_not_attempted() {
        for code in [401, 403, 498] {
            let mut acts = vec![Act::Ok(2), Act::Fail(2, code)];
            acts.extend([Act::Ok(2); 5]);
            let (fake, kept, tally) = schedule(&acts, Limiter::fixed(1), 16, None);
            assert_eq!(
                *fake.started.borrow(),
                [0, 1],
                "{code}: nothing starts after the refusal"
            );
            let mut want = vec![Outcome::Uploaded, Outcome::Failed];
            want.extend([Outcome::NotAttempted; 5]);
            assert_eq!(outcomes(&kept), want, "{code}");
            assert!(tally.auth_failed(), "{code}");
            assert_eq!(
                kept.released[2].2.as_deref(),
                Some("the batch stopped before this input was sent")
            );
            assert_eq!(tally.exit(), Exit::Partial, "{code}");
        }
        // An ordinary failure does not stop it.
        let acts = [Act::Fail(2, 500), Act::Ok(2), Act::Ok(2)];
        let (_, kept, tally) = schedule(&acts, Limiter::fixed(1), 16, None);
        assert_eq!(outcomes(&kept), [Outcome::Failed, Outcome::Uploaded, Outcome::Uploaded]);
        assert!(!tally.auth_failed() && tally.stop().is_none());
    }

    #[test]
    fn a_fail_fast_stop_marks_the_rest_not_attempted() {
        // Three 404s in a row (the endpoint is wrong) stop the batch.
        let mut acts = vec![Act::Ok(2), Act::Fail(2, 404), Act::Fail(2, 404), Act::Fail(2, 404)];
        acts.extend([Act::Ok(2); 6]);
        let (fake, kept, tally) = schedule(&acts, Limiter::fixed(1), 16, None);
        assert_eq!(fake.started.borrow().len(), 4, "nothing starts after the stop");
        let mut want = vec![Outcome::Uploaded, Outcome::Failed, Outcome::Failed, Outcome::Failed];
        want.extend([Outcome::NotAttempted; 6]);
        assert_eq!(outcomes(&kept), want);
        assert!(tally.stop().is_some());
        let systemic: Vec<bool> = kept.ended.iter().take(4).map(|(_, s)| *s).collect();
        assert_eq!(systemic, [false, true, true, true], "told once, as the stop");
        assert_eq!(tally.exit(), Exit::Partial);
        // A success between them starts the count again.
        let acts = [
            Act::Fail(2, 404),
            Act::Fail(2, 404),
            Act::Ok(2),
            Act::Fail(2, 404),
            Act::Fail(2, 404),
            Act::Ok(2),
        ];
        let (_, kept, tally) = schedule(&acts, Limiter::fixed(1), 16, None);
        assert!(tally.stop().is_none());
        assert!(!outcomes(&kept).contains(&Outcome::NotAttempted));
    }

    #[test]
    fn an_interrupt_cuts_off_what_runs_and_ends_the_rest_not_attempted() {
        // Two jobs: the first four end quickly, the next two never before
        // the interrupt, and the rest are never started.
        let mut acts = vec![Act::Ok(1); 4];
        acts.extend([Act::Ok(100_000); 2]);
        acts.extend([Act::Ok(1); 4]);
        let (fake, kept, tally) = schedule(&acts, Limiter::fixed(2), 32, Some(200));
        assert_eq!(*fake.started.borrow(), [0, 1, 2, 3, 4, 5]);
        let mut want = vec![Outcome::Uploaded; 4];
        want.extend([Outcome::NotAttempted; 6]);
        assert_eq!(outcomes(&kept), want);
        let why: Vec<_> = kept.released[4..].iter().map(|(_, _, e)| e.as_deref()).collect();
        assert_eq!(why, [Some("interrupted before it was uploaded"); 6]);
        assert!(tally.is_interrupted());
        assert_eq!(tally.exit(), Exit::Interrupted);
        assert_eq!(kept.stopped, 1);
    }

    #[test]
    fn no_input_is_planned_or_started_beyond_the_reorder_window() {
        // The first input runs long; the rest are skipped by the plan (no
        // job) and held until it ends: at most the window's worth of them.
        let window = 4;
        let mut acts = vec![Act::Ok(50)];
        acts.extend([Act::Skip; 20]);
        let (fake, kept, tally) = schedule(&acts, Limiter::fixed(2), window, None);
        let planned = fake.planned.borrow();
        let ahead: Vec<usize> = planned
            .iter()
            .filter(|(_, ended)| *ended == 0)
            .map(|(i, _)| *i)
            .collect();
        assert_eq!(
            ahead,
            [0, 1, 2, 3],
            "planned before the first ended: the window of four"
        );
        let released: Vec<usize> = kept.released.iter().map(|(i, ..)| *i).collect();
        assert_eq!(released, (0..21).collect::<Vec<_>>());
        assert_eq!(outcomes(&kept)[1..], [Outcome::Skipped; 20]);
        assert_eq!(tally.exit(), Exit::Success);
        // Uploads too: with eight jobs and a window of three, at most three
        // run at once.
        let acts = vec![Act::Ok(5); 30];
        let (fake, kept, _) = schedule(&acts, Limiter::fixed(8), 3, None);
        assert_eq!(fake.most_running.get(), 3);
        assert_eq!(kept.released.len(), 30);
    }

    #[test]
    fn the_limiter_is_fed_each_upload_and_raises_the_jobs_it_allows() {
        let acts = vec![Act::Ok(3); 200];
        let (fake, kept, tally) = schedule(&acts, Limiter::adaptive(16, Duration::ZERO), 16 * 16, None);
        assert_eq!(kept.limits.first(), Some(&START), "the bars are told the first level");
        assert!(
            fake.most_running.get() > START,
            "still {} at most: the limiter learnt nothing",
            fake.most_running.get()
        );
        assert!(kept.limits.len() > 1, "{:?}", kept.limits);
        assert_eq!(tally.uploaded(), 200);
        // A fixed limit never moves.
        let (fake, kept, _) = schedule(&acts, Limiter::fixed(3), 48, None);
        assert_eq!(fake.most_running.get(), 3);
        assert!(kept.limits.is_empty());
    }
}
