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

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// The longest pause after a 429: the length of Capillary's window.
pub const MAX_PAUSE: Duration = Duration::from_secs(60);
/// The first pause after a 429 without `Retry-After`; it doubles while 429s
/// repeat without a success between them.
const FIRST_PAUSE: Duration = Duration::from_secs(1);
/// What the rate is multiplied by on a 429 (the multiplicative decrease).
const DECREASE: f64 = 0.7;
/// Each success raises the rate by the rate set at the last cut divided by
/// this (the additive increase): about 20 successes to climb back.
const INCREASE_DIVISOR: f64 = 50.0;
/// A burst of successes faster than this is counted as if it took this long,
/// so that ten answers in ten milliseconds do not read as 1,000 a second.
const MIN_SPAN: Duration = Duration::from_secs(1);
/// The slowest pace the controller goes down to: one request a minute.
const MIN_RATE: f64 = 1.0 / 60.0;
/// Beyond this many requests a second, pacing is pointless.
const MAX_RATE: f64 = 10_000.0;

/// A request rate: `requests` per `period`, as in `100/min` or `10/2s`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub requests: u32,
    pub period: Duration,
}

impl Rate {
    /// Parses `N/UNIT` or `N/KUNIT`, the unit one of `s`, `sec`, `m`, `min`,
    /// `h`, `hour` (`100/min`, `10/2s`, `5000/h`). The period is whole seconds,
    /// from one second to a day.
    pub fn parse(text: &str) -> Result<Rate, String> {
        let bad = || format!("{text:?} is not a rate like 100/min, 10/2s or 5000/h");
        let (count, per) = text.trim().split_once('/').ok_or_else(bad)?;
        let requests: u32 = count.trim().parse().map_err(|_| bad())?;
        if requests == 0 {
            return Err(format!("{text:?}: the rate must allow at least one request"));
        }
        let per = per.trim();
        let digits = per.find(|c: char| !c.is_ascii_digit()).unwrap_or(per.len());
        let (amount, unit) = per.split_at(digits);
        let amount: u64 = if amount.is_empty() {
            1
        } else {
            amount.parse().map_err(|_| bad())?
        };
        let unit_secs = match unit {
            "s" | "sec" => 1,
            "m" | "min" => 60,
            "h" | "hour" => 3600,
            _ => return Err(bad()),
        };
        let secs = amount.saturating_mul(unit_secs);
        if !(1..=86_400).contains(&secs) {
            return Err(format!("{text:?}: the period must be from 1 s to 24 h"));
        }
        Ok(Rate {
            requests,
            period: Duration::from_secs(secs),
        })
    }
}

/// The shortest form that parses back to the same rate: `100/min`, `10/2s`.
impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.period.as_secs();
        let (amount, unit) = if secs.is_multiple_of(3600) {
            (secs / 3600, "h")
        } else if secs.is_multiple_of(60) {
            (secs / 60, "min")
        } else {
            (secs, "s")
        };
        if amount == 1 {
            write!(f, "{}/{unit}", self.requests)
        } else {
            write!(f, "{}/{amount}{unit}", self.requests)
        }
    }
}

/// The user's limit as a bucket of `requests` tokens: sending takes one, and a
/// token comes back one `period` after the request that took it has ended.
///
/// A classic bucket that refills continuously would allow a full bucket and a
/// period's refill in one window, twice the limit, which a service counting a
/// rolling window answers with 429s. Returning each token one period after its
/// request *ended* keeps every window of the period, rolling or fixed, at N or
/// fewer, however long requests take to reach the service.
#[derive(Debug)]
pub struct TokenBucket {
    capacity: u32,
    period: Duration,
    /// Tokens taken by requests still running.
    out: u32,
    /// When the tokens of finished requests come back, earliest first.
    returning: BinaryHeap<Reverse<Instant>>,
}

impl TokenBucket {
    pub fn new(rate: Rate) -> TokenBucket {
        TokenBucket {
            capacity: rate.requests.max(1),
            period: rate.period,
            out: 0,
            returning: BinaryHeap::new(),
        }
    }

    /// Takes a token, or says when to ask again: the moment the next token
    /// comes back, or `None` when every token is held by a running request.
    pub fn try_take(&mut self, now: Instant) -> Result<(), Option<Instant>> {
        while self.returning.peek().is_some_and(|Reverse(at)| *at <= now) {
            self.returning.pop();
        }
        let used = self.out as usize + self.returning.len();
        if used < self.capacity as usize {
            self.out += 1;
            return Ok(());
        }
        Err(self.returning.peek().map(|Reverse(at)| *at))
    }

    /// The request holding a token has ended: the token comes back a period
    /// from `now`.
    pub fn give_back(&mut self, now: Instant) {
        self.out = self.out.saturating_sub(1);
        self.returning.push(Reverse(now + self.period));
    }
}

/// What a 429 did to the pace.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limited {
    /// No sending before this moment.
    pub until: Instant,
    /// This 429 started a new pause (the others were sent before it was set).
    pub new_pause: bool,
    /// The pace from now on, in requests per second.
    pub rate: Option<f64>,
}

/// The adaptive pace: additive increase, multiplicative decrease, and a pause
/// after each 429.
#[derive(Debug, Default)]
pub struct Aimd {
    /// Requests per second; `None` until the first 429.
    rate: Option<f64>,
    /// The additive step, set at each cut.
    step: f64,
    /// The next moment a paced request may go.
    next_slot: Option<Instant>,
    /// Nobody sends before this.
    pause_until: Option<Instant>,
    /// Bumped by every pause. A request carries the epoch it was sent in; a
    /// 429 to a request of an older epoch was sent before the last pause and
    /// says nothing new.
    epoch: u64,
    /// Pauses in a row without a success between them.
    strikes: u32,
    /// Successes since `since`: the measured rate at the next cut.
    successes: u32,
    since: Option<Instant>,
    /// 429s met, and the time every worker spent paused.
    limited: u64,
    paused: Duration,
}

impl Aimd {
    /// Lets a request go now (returning its epoch), or says when to ask again.
    pub fn try_send(&mut self, now: Instant) -> Result<u64, Instant> {
        if let Some(until) = self.pause_until
            && until > now
        {
            return Err(until);
        }
        self.since.get_or_insert(now);
        if let Some(rate) = self.rate {
            let slot = self.next_slot.unwrap_or(now);
            if slot > now {
                return Err(slot);
            }
            self.next_slot = Some(slot.max(now) + Duration::from_secs_f64(1.0 / rate));
        }
        Ok(self.epoch)
    }

    /// A request sent in `epoch` succeeded: the pace creeps up. A request
    /// sent before the last pause says nothing about the pace since, and is
    /// not counted.
    pub fn success(&mut self, epoch: u64) {
        if epoch != self.epoch {
            return;
        }
        self.successes += 1;
        self.strikes = 0;
        if let Some(rate) = &mut self.rate {
            *rate = (*rate + self.step).min(MAX_RATE);
        }
    }

    /// A request sent in `epoch` was answered 429 at `now`, with the service's
    /// `Retry-After` if it gave one.
    pub fn limited(&mut self, epoch: u64, retry_after: Option<Duration>, now: Instant) -> Limited {
        self.limited += 1;
        let current = self.pause_until.filter(|until| *until > now);
        if epoch != self.epoch {
            // Sent before the last pause: that pause covers it, unless the
            // service asks for longer.
            let until = match retry_after {
                Some(wait) => self.pause(now, now + wait.min(MAX_PAUSE)),
                None => current.unwrap_or(now),
            };
            return Limited {
                until,
                new_pause: false,
                rate: self.rate,
            };
        }
        if self.successes > 0 {
            // Over the limit after some successes: the pace was too high.
            let span = now.saturating_duration_since(self.since.unwrap_or(now)).max(MIN_SPAN);
            let measured = f64::from(self.successes) / span.as_secs_f64();
            let rate = (self.rate.unwrap_or(measured).min(measured) * DECREASE).clamp(MIN_RATE, MAX_RATE);
            self.rate = Some(rate);
            self.step = rate / INCREASE_DIVISOR;
            self.strikes = 0;
        }
        let wait = retry_after.unwrap_or_else(|| FIRST_PAUSE.saturating_mul(1 << self.strikes.min(6)));
        self.strikes += 1;
        self.epoch += 1;
        let until = self.pause(now, now + wait.min(MAX_PAUSE));
        self.successes = 0;
        self.since = Some(until);
        self.next_slot = Some(until);
        Limited {
            until,
            new_pause: true,
            rate: self.rate,
        }
    }

    /// Extends the pause to `until` (never shortens it); returns its end.
    fn pause(&mut self, now: Instant, until: Instant) -> Instant {
        let current = self.pause_until.filter(|u| *u > now).unwrap_or(now);
        if until > current {
            self.paused += until - current;
            self.pause_until = Some(until);
            return until;
        }
        current
    }

    /// 429s met so far, and the time spent paused for them.
    pub fn totals(&self) -> (u64, Duration) {
        (self.limited, self.paused)
    }
}

/// The right to send one request; hand it back (drop it) when the request has
/// ended, so that its token starts its way back.
pub struct Permit<'a> {
    pacer: &'a Pacer,
    epoch: u64,
    token: bool,
}

impl Permit<'_> {
    /// The pause epoch the request was sent in.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }
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
pub struct Pacer {
    state: Mutex<State>,
    /// Woken when a request hands its token back.
    released: Notify,
}

impl Pacer {
    /// A pacer that learns from 429s and, given `rate`, never exceeds it.
    pub fn new(rate: Option<Rate>) -> Pacer {
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
    pub async fn acquire(&self) -> Permit<'_> {
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
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => released.await,
            }
        }
    }

    /// The request sent with `permit` succeeded.
    pub fn success(&self, permit: Permit<'_>) {
        if let Ok(mut state) = self.state.lock() {
            state.aimd.success(permit.epoch);
        }
        drop(permit);
    }

    /// The request sent with `permit` was answered 429; says how long to wait.
    pub fn limited(&self, permit: Permit<'_>, retry_after: Option<Duration>) -> Limited {
        let epoch = permit.epoch;
        drop(permit);
        let now = Instant::now();
        match self.state.lock() {
            Ok(mut state) => state.aimd.limited(epoch, retry_after, now),
            Err(_) => Limited {
                until: now + retry_after.unwrap_or(FIRST_PAUSE).min(MAX_PAUSE),
                new_pause: false,
                rate: None,
            },
        }
    }

    /// 429s met so far, and the time every worker spent paused for them.
    pub fn totals(&self) -> (u64, Duration) {
        self.state.lock().map(|state| state.aimd.totals()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn rates_parse_and_print_back() {
        for (text, requests, period, shown) in [
            ("100/min", 100, 60, "100/min"),
            ("10/2s", 10, 2, "10/2s"),
            ("60/10s", 60, 10, "60/10s"),
            ("5/s", 5, 1, "5/s"),
            ("5000/h", 5000, 3600, "5000/h"),
            (" 100 / 1min ", 100, 60, "100/min"),
            ("7/120s", 7, 120, "7/2min"),
            ("1/24hour", 1, 86_400, "1/24h"),
        ] {
            let rate = Rate::parse(text).unwrap();
            assert_eq!(
                rate,
                Rate {
                    requests,
                    period: Duration::from_secs(period)
                },
                "{text}"
            );
            assert_eq!(rate.to_string(), shown);
            assert_eq!(Rate::parse(shown), Ok(rate));
        }
        for bad in [
            "", "100", "0/min", "-1/min", "1.5/min", "100/week", "100/0s", "10/25h", "x/s", "10/2 s s",
        ] {
            assert!(Rate::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_bucket_never_lets_more_than_n_into_one_period() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(Rate::parse("3/2s").unwrap());
        for _ in 0..3 {
            assert_eq!(bucket.try_take(t0), Ok(()));
        }
        // All three tokens are out with running requests: wait for one.
        assert_eq!(bucket.try_take(t0), Err(None));
        bucket.give_back(t0 + secs(0.5));
        bucket.give_back(t0 + secs(0.7));
        // A finished request's token comes back a period after it ended.
        assert_eq!(bucket.try_take(t0 + secs(1.0)), Err(Some(t0 + secs(2.5))));
        assert_eq!(bucket.try_take(t0 + secs(2.5)), Ok(()));
        assert_eq!(bucket.try_take(t0 + secs(2.6)), Err(Some(t0 + secs(2.7))));
        assert_eq!(bucket.try_take(t0 + secs(2.7)), Ok(()));
        assert_eq!(bucket.try_take(t0 + secs(2.7)), Err(None));
    }

    #[test]
    fn the_bucket_keeps_every_rolling_window_at_the_limit() {
        // Requests that take 10 ms, sent as soon as a token allows, for 20 s:
        // no window of one period ever sees more than N of them start.
        let t0 = Instant::now();
        let rate = Rate::parse("5/s").unwrap();
        let mut bucket = TokenBucket::new(rate);
        let mut starts = Vec::new();
        let mut now = t0;
        while now < t0 + secs(20.0) {
            match bucket.try_take(now) {
                Ok(()) => {
                    starts.push(now);
                    bucket.give_back(now + secs(0.01));
                }
                Err(Some(at)) => now = at,
                Err(None) => unreachable!("each request ends at once"),
            }
        }
        for (i, start) in starts.iter().enumerate() {
            let in_window = starts[i..].iter().take_while(|s| **s < *start + rate.period).count();
            assert!(
                in_window <= 5,
                "{in_window} requests in the second from {:?}",
                *start - t0
            );
        }
        // And it does not waste the limit: about 5 a second.
        assert!(starts.len() >= 95, "{}", starts.len());
    }

    #[test]
    fn a_first_429_pauses_everyone_and_sets_a_pace_below_what_got_through() {
        let t0 = Instant::now();
        let mut aimd = Aimd::default();
        // Unpaced at first: ten go at once and succeed.
        for _ in 0..10 {
            assert_eq!(aimd.try_send(t0), Ok(0));
            aimd.success(0);
        }
        let limited = aimd.limited(0, None, t0 + secs(0.01));
        assert!(limited.new_pause);
        assert_eq!(limited.until, t0 + secs(1.01));
        // 10 successes, counted over at least a second, cut by 0.7.
        let rate = limited.rate.unwrap();
        assert!((rate - 7.0).abs() < 1e-9, "{rate}");
        // Answers to requests sent before the pause change nothing.
        for _ in 0..7 {
            let stale = aimd.limited(0, None, t0 + secs(0.02));
            assert!(!stale.new_pause);
            assert_eq!(stale.until, t0 + secs(1.01));
        }
        assert_eq!(aimd.totals(), (8, secs(1.0)));
        // Nobody sends during the pause; after it, one every 1/7 s.
        assert_eq!(aimd.try_send(t0 + secs(0.5)), Err(t0 + secs(1.01)));
        assert_eq!(aimd.try_send(t0 + secs(1.01)), Ok(1));
        assert_eq!(aimd.try_send(t0 + secs(1.02)), Err(t0 + secs(1.01) + secs(1.0 / 7.0)));
    }

    #[test]
    fn pauses_double_towards_a_minute_while_429s_repeat() {
        let t0 = Instant::now();
        let mut aimd = Aimd::default();
        let mut now = t0;
        let mut waits = Vec::new();
        for _ in 0..9 {
            let epoch = aimd.try_send(now).unwrap();
            let limited = aimd.limited(epoch, None, now);
            waits.push((limited.until - now).as_secs());
            now = limited.until;
        }
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        // No success ever: no rate was learnt, only pauses.
        assert_eq!(aimd.rate, None);
        // A success ends the streak: the next pause is short again.
        let epoch = aimd.try_send(now).unwrap();
        aimd.success(epoch);
        let limited = aimd.limited(epoch, None, now + secs(0.1));
        assert_eq!(limited.until - (now + secs(0.1)), secs(1.0));
    }

    #[test]
    fn the_rate_rises_additively_and_falls_multiplicatively() {
        let t0 = Instant::now();
        let mut aimd = Aimd::default();
        for _ in 0..20 {
            aimd.try_send(t0).unwrap();
            aimd.success(0);
        }
        // 20 in two seconds: 10/s measured, 7/s after the cut.
        let first = aimd.limited(0, None, t0 + secs(2.0));
        assert!((first.rate.unwrap() - 7.0).abs() < 1e-9);
        // Each success adds 7/50 = 0.14/s.
        let mut now = first.until;
        for _ in 0..25 {
            let epoch = loop {
                match aimd.try_send(now) {
                    Ok(epoch) => break epoch,
                    Err(at) => now = at,
                }
            };
            aimd.success(epoch);
        }
        let rate = aimd.rate.unwrap();
        assert!((rate - (7.0 + 25.0 * 0.14)).abs() < 1e-9, "{rate}");
        // The next cut is from the lower of the pace and what was measured.
        let second = aimd.limited(1, None, now);
        let measured = 25.0 / (now - first.until).as_secs_f64();
        let expected = measured.min(rate) * DECREASE;
        assert!((second.rate.unwrap() - expected).abs() < 1e-9);
        assert!(second.rate.unwrap() < 7.0);
    }

    #[test]
    fn answers_to_requests_sent_before_a_pause_teach_nothing() {
        let t0 = Instant::now();
        let mut aimd = Aimd::default();
        for _ in 0..8 {
            aimd.try_send(t0).unwrap();
        }
        aimd.success(0);
        let first = aimd.limited(0, None, t0 + secs(0.01));
        // Requests still in flight from before the pause succeed...
        for _ in 0..3 {
            aimd.success(0);
        }
        // ...but the first one sent after it is refused again: the window has
        // not moved on. That is a repeat (a longer pause), not a pace to cut.
        let rate = first.rate;
        let epoch = aimd.try_send(first.until).unwrap();
        let again = aimd.limited(epoch, None, first.until + secs(0.01));
        assert!(again.new_pause);
        assert_eq!(again.until - (first.until + secs(0.01)), secs(2.0));
        assert_eq!(again.rate, rate);
    }

    #[test]
    fn retry_after_sets_the_pause_and_may_lengthen_it() {
        let t0 = Instant::now();
        let mut aimd = Aimd::default();
        aimd.try_send(t0).unwrap();
        let first = aimd.limited(0, Some(secs(5.0)), t0);
        assert_eq!(first.until, t0 + secs(5.0));
        // A stale answer asking for longer extends everyone's pause.
        let stale = aimd.limited(0, Some(secs(8.0)), t0 + secs(1.0));
        assert_eq!(stale.until, t0 + secs(9.0));
        // An hour is cut to the one-minute cap.
        let epoch = aimd.try_send(t0 + secs(9.0)).unwrap();
        let long = aimd.limited(epoch, Some(secs(3600.0)), t0 + secs(9.0));
        assert_eq!(long.until, t0 + secs(69.0));
        assert_eq!(aimd.totals(), (3, secs(69.0)));
    }

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
