//! The pace learnt from 429s: additive increase, multiplicative decrease, and a
//! pause for every worker after each 429.

use std::time::{Duration, Instant};

/// The longest pause after a 429: the length of Capillary's window.
pub(crate) const MAX_PAUSE: Duration = Duration::from_secs(60);
/// The first pause after a 429 without `Retry-After`; it doubles while 429s
/// repeat without a success between them.
pub(super) const FIRST_PAUSE: Duration = Duration::from_secs(1);
/// The shortest pause a `Retry-After` can ask for: a zero or past one (sent
/// with every 429, it made ~650 requests a second, forever) is a pause of
/// this long, so that a run keeps to a pace and its waits add up towards
/// `--max-rate-wait`.
pub(crate) const MIN_PAUSE: Duration = Duration::from_secs(1);
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

/// What a 429 did to the pace.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Limited {
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
pub(crate) struct Aimd {
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
    pub(crate) fn try_send(&mut self, now: Instant) -> Result<u64, Instant> {
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
    pub(crate) fn success(&mut self, epoch: u64) {
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
    pub(crate) fn limited(&mut self, epoch: u64, retry_after: Option<Duration>, now: Instant) -> Limited {
        self.limited += 1;
        let retry_after = retry_after.map(|wait| wait.max(MIN_PAUSE));
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
    pub(crate) fn totals(&self) -> (u64, Duration) {
        (self.limited, self.paused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
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
    fn the_pace_never_falls_below_one_request_a_minute() {
        let t0 = Instant::now();
        let mut aimd = Aimd::default();
        // A first 429 with nothing through: a pause, no pace yet.
        assert_eq!(aimd.try_send(t0), Ok(0));
        let first = aimd.limited(0, None, t0);
        assert_eq!(first.rate, None);
        // After it, one success in 1,000 s, then 429 again: what got through
        // (0.001/s, cut by 0.7) is below the floor, so the floor it is.
        let after = first.until;
        assert_eq!(aimd.try_send(after), Ok(1));
        aimd.success(1);
        let limited = aimd.limited(1, None, after + secs(1000.0));
        let rate = limited.rate.unwrap();
        // One a minute, written out: not the constant under test.
        assert!((rate - 1.0 / 60.0).abs() < 1e-12, "{rate}");
        // And a fast one is not cut below what got through times 0.7.
        let mut fast = Aimd::default();
        fast.try_send(t0).unwrap();
        let first = fast.limited(0, None, t0);
        for _ in 0..100 {
            fast.try_send(first.until).unwrap();
            fast.success(1);
        }
        let rate = fast.limited(1, None, first.until + secs(1.0)).rate.unwrap();
        assert!((rate - 70.0).abs() < 1e-9, "{rate}");
    }

    #[test]
    fn a_zero_or_past_retry_after_still_pauses_for_the_floor() {
        let t0 = Instant::now();
        let mut aimd = Aimd::default();
        let mut now = t0;
        // `Retry-After: 0` (or a past date) on every 429: each still pauses
        // everyone for MIN_PAUSE, so a run cannot spin and its waits add up.
        for _ in 0..5 {
            let epoch = aimd.try_send(now).unwrap();
            let limited = aimd.limited(epoch, Some(Duration::ZERO), now);
            assert!(limited.new_pause);
            assert_eq!(limited.until - now, MIN_PAUSE);
            assert_eq!(aimd.try_send(now), Err(limited.until), "nobody sends during it");
            now = limited.until;
        }
        assert_eq!(aimd.totals(), (5, MIN_PAUSE * 5));
        // A late answer to a request sent before the pause, with
        // `Retry-After: 0`, cannot end the pause early either.
        let epoch = aimd.try_send(now).unwrap();
        let limited = aimd.limited(epoch, Some(Duration::ZERO), now);
        let stale = aimd.limited(epoch, Some(Duration::ZERO), now + secs(0.1));
        assert_eq!(stale.until, (now + secs(0.1) + MIN_PAUSE).max(limited.until));
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
}
