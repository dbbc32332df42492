//! The retry policy: how many times, and how long to wait before each retry.

use std::time::Duration;

use super::ApiError;

/// The longest `Retry-After` obeyed; a longer one is cut to this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// The default bound on the time one upload waits for rate limits.
pub(crate) const DEFAULT_RATE_WAIT: Duration = Duration::from_secs(300);

/// Exponential backoff with jitter, honouring `Retry-After`.
#[derive(Clone, Copy, Debug)]
pub(super) struct RetryPolicy {
    pub retries: u32,
    pub base: Duration,
    pub cap: Duration,
    /// How long one upload may wait in all for the rate limit (after 429s)
    /// before it fails; 429s do not count against `retries`.
    pub rate_wait: Duration,
}

impl RetryPolicy {
    pub(super) fn new(retries: u32) -> Self {
        RetryPolicy {
            retries,
            base: Duration::from_millis(250),
            cap: Duration::from_secs(20),
            rate_wait: DEFAULT_RATE_WAIT,
        }
    }

    /// The wait before retry number `attempt` (1-based): the server's
    /// `Retry-After` when it gave one, else `base * 2^(attempt-1)` capped, with
    /// "equal jitter" (half fixed, half random) so workers do not retry in step.
    pub(super) fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(MAX_RETRY_AFTER);
        }
        let exp = self.base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let ceiling = exp.min(self.cap);
        let half = ceiling / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

/// A 429 that came after this upload had waited its fill for the rate limit.
pub(super) fn gave_up_waiting(err: ApiError, waited: Duration) -> ApiError {
    match err {
        ApiError::Status {
            status,
            message,
            retry_after,
            request_id,
        } => ApiError::Status {
            status,
            message: format!(
                "{message} (still limited after waiting {:.0} s for the rate limit; see --max-rate-wait)",
                waited.as_secs_f64()
            )
            .trim_start()
            .to_string(),
            retry_after,
            request_id,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_obeys_retry_after() {
        let policy = RetryPolicy::new(5);
        for attempt in 1..=4 {
            let full = Duration::from_millis(250 * (1 << (attempt - 1)));
            let delay = policy.delay(attempt, None);
            assert!(delay >= full / 2 && delay <= full, "{attempt}: {delay:?}");
        }
        assert_eq!(policy.delay(9, None).max(policy.cap), policy.cap);
        assert_eq!(policy.delay(1, Some(Duration::from_secs(7))), Duration::from_secs(7));
        assert_eq!(policy.delay(1, Some(Duration::from_secs(7200))), MAX_RETRY_AFTER);
    }
}
