//! The user's limit (`--rate`) as a token bucket that never lets more than N
//! requests into any one period.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use super::Rate;

/// The user's limit as a bucket of `requests` tokens: sending takes one, and a
/// token comes back one `period` after the request that took it has ended.
///
/// A classic bucket that refills continuously would allow a full bucket and a
/// period's refill in one window, twice the limit, which a service counting a
/// rolling window answers with 429s. Returning each token one period after its
/// request *ended* keeps every window of the period, rolling or fixed, at N or
/// fewer, however long requests take to reach the service.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    capacity: u32,
    period: Duration,
    /// Tokens taken by requests still running.
    out: u32,
    /// When the tokens of finished requests come back, earliest first.
    returning: BinaryHeap<Reverse<Instant>>,
}

impl TokenBucket {
    pub(crate) fn new(rate: Rate) -> TokenBucket {
        TokenBucket {
            capacity: rate.requests.max(1),
            period: rate.period,
            out: 0,
            returning: BinaryHeap::new(),
        }
    }

    /// Takes a token, or says when to ask again: the moment the next token
    /// comes back, or `None` when every token is held by a running request.
    pub(crate) fn try_take(&mut self, now: Instant) -> Result<(), Option<Instant>> {
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
    pub(crate) fn give_back(&mut self, now: Instant) {
        self.out = self.out.saturating_sub(1);
        self.returning.push(Reverse(now + self.period));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
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
}
