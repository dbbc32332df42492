//! Living within the service's rate limit: how fast every worker of a run may
//! send, shared by all of them.
//!
//! Capillary limits requests per API key over a window (a minute, per org),
//! and documents neither the limit nor any header telling how close a client
//! is to it. Two things keep a batch within it:
//!
//! - [`TokenBucket`]: a limit the user knows (`--rate 100/min`). At most N
//!   requests are ever in one period, so the service never has to say 429.
//! - [`Aimd`]: a limit the client learns. A 429 pauses every worker (the wait
//!   grows towards a minute while 429s repeat without a success between them)
//!   and cuts the sending rate multiplicatively; every success then raises it
//!   by a small fixed step (additive increase, multiplicative decrease, as TCP
//!   and AWS's adaptive retry mode do).
//!
//! Both are plain state machines that take the time as an argument, so they are
//! tested with a made-up clock; [`Pacer`] puts them behind one lock and does the
//! actual waiting for `api::FileService`.
//!
//! The pieces: [`Rate`] (`rate.rs`), [`TokenBucket`] (`bucket.rs`), [`Aimd`]
//! (`aimd.rs`), [`Pacer`] (here), and the retry-wait `Throttle`
//! (`throttle.rs`) that 503s and backoffs set for every worker.

mod aimd;
mod bucket;
mod throttle;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

pub(crate) use crate::settings::Rate;
use aimd::FIRST_PAUSE;
pub(crate) use aimd::{Aimd, Limited, MAX_PAUSE, MIN_PAUSE};
pub(crate) use bucket::TokenBucket;
pub(crate) use throttle::Throttle;

/// The right to send one request; hand it back (drop it) when the request has
/// ended, so that its token starts its way back.
pub(crate) struct Permit<'a> {
    pacer: &'a Pacer,
    epoch: u64,
    token: bool,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if self.token {
            if let Ok(mut state) = self.pacer.state.lock()
                && let Some(bucket) = &mut state.bucket
            {
                bucket.give_back(Instant::now());
            }
            self.pacer.released.notify_waiters();
        }
    }
}

struct State {
    bucket: Option<TokenBucket>,
    aimd: Aimd,
}

/// The pace of one run, shared by all its workers.
pub(crate) struct Pacer {
    state: Mutex<State>,
    /// Woken when a request hands its token back.
    released: Notify,
}

impl Pacer {
    /// A pacer that learns from 429s and, given `rate`, never exceeds it.
    pub(crate) fn new(rate: Option<Rate>) -> Pacer {
        Pacer {
            state: Mutex::new(State {
                bucket: rate.map(TokenBucket::new),
                aimd: Aimd::default(),
            }),
            released: Notify::new(),
        }
    }

    /// Waits until a request may go: a token of the user's rate, the end of
    /// any pause, and the adaptive pace's next slot.
    #[cfg(test)]
    pub(crate) async fn acquire(&self) -> Permit<'_> {
        self.acquire_telling(&|_| {}).await
    }

    /// [`Pacer::acquire`], telling `waiting` each time it holds the request
    /// back: how long until the next slot, or `None` while it waits for a
    /// request in flight to end.
    pub(crate) async fn acquire_telling(&self, waiting: &(dyn Fn(Option<Duration>) + Sync)) -> Permit<'_> {
        let mut permit = Permit {
            pacer: self,
            epoch: 0,
            token: false,
        };
        loop {
            let released = self.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            let now = Instant::now();
            let next = match self.state.lock() {
                Ok(mut state) => {
                    let state = &mut *state;
                    let token = match (&mut state.bucket, permit.token) {
                        (Some(bucket), false) => bucket.try_take(now),
                        _ => Ok(()),
                    };
                    match token {
                        Ok(()) => {
                            permit.token = state.bucket.is_some();
                            match state.aimd.try_send(now) {
                                Ok(epoch) => {
                                    permit.epoch = epoch;
                                    return permit;
                                }
                                Err(at) => Some(at),
                            }
                        }
                        Err(at) => at,
                    }
                }
                // A poisoned lock means a worker panicked; do not pace.
                Err(_) => return permit,
            };
            match next {
                Some(at) => {
                    waiting(Some(at.saturating_duration_since(now)));
                    tokio::time::sleep_until(at.into()).await;
                }
                None => {
                    waiting(None);
                    released.await;
                }
            }
        }
    }

    /// The request sent with `permit` succeeded.
    pub(crate) fn success(&self, permit: Permit<'_>) {
        if let Ok(mut state) = self.state.lock() {
            state.aimd.success(permit.epoch);
        }
        drop(permit);
    }

    /// The request sent with `permit` was answered 429; says how long to wait.
    pub(crate) fn limited(&self, permit: Permit<'_>, retry_after: Option<Duration>) -> Limited {
        let epoch = permit.epoch;
        drop(permit);
        let now = Instant::now();
        match self.state.lock() {
            Ok(mut state) => state.aimd.limited(epoch, retry_after, now),
            Err(_) => Limited {
                until: now + retry_after.unwrap_or(FIRST_PAUSE).clamp(MIN_PAUSE, MAX_PAUSE),
                new_pause: false,
                rate: None,
            },
        }
    }

    /// 429s met so far, and the time every worker spent paused for them.
    pub(crate) fn totals(&self) -> (u64, Duration) {
        self.state.lock().map(|state| state.aimd.totals()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn workers_share_the_bucket_through_the_pacer() {
        let pacer = Pacer::new(Some(Rate::parse("2/s").unwrap()));
        let start = Instant::now();
        let a = pacer.acquire().await;
        let b = pacer.acquire().await;
        // Both tokens are out: the third waits for one to come back, a
        // second after its request ended.
        let third = pacer.acquire();
        tokio::pin!(third);
        assert!(futures_util::poll!(third.as_mut()).is_pending());
        pacer.success(a);
        drop(b);
        let _c = third.await;
        // A lower bound only: sleeping never ends early.
        assert!(start.elapsed() >= Duration::from_secs(1), "{:?}", start.elapsed());
    }
}
