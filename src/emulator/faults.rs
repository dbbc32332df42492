//! Fault injection: the emulator's way of behaving like a busy or flaky file
//! service on purpose, so that capfile's retry, backoff and cleanup paths can be
//! exercised offline. This module decides *whether* a request is hit (random
//! draws against the configured shares) and knows how to cut a connection;
//! the routes decide *where* in a request each fault applies. It also keeps the
//! emulator's rate limit, which is not random but counts requests.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use tokio_util::sync::CancellationToken;

use super::Faults;

/// Status used when `fail_status` is not a valid HTTP status (for instance 0).
const FALLBACK_FAIL_STATUS: StatusCode = StatusCode::SERVICE_UNAVAILABLE;

/// How long a handler that asked for its connection to be cut waits for that to
/// happen. Over HTTP/1 the handler is dropped together with the connection long
/// before this; the bound only matters for an HTTP/2 stream, whose handler runs
/// in its own task and must not hang forever.
const CUT_GRACE: Duration = Duration::from_secs(10);

impl Default for Faults {
    /// No faults. Written by hand because the failure status defaults to 503,
    /// not to the 0 a derived `Default` would give.
    fn default() -> Self {
        Faults {
            fail_rate: 0.0,
            fail_status: 503,
            retry_after: None,
            latency: Duration::ZERO,
            drop_rate: 0.0,
            rate_limit: None,
            error_shape: super::ErrorShape::default(),
            expired_token_498: false,
            max_upload_bytes: None,
        }
    }
}

impl Faults {
    /// Draws whether this upload request is answered with an injected failure.
    pub(crate) fn draw_failure(&self) -> bool {
        hits(self.fail_rate)
    }

    /// Draws whether this upload's connection is cut part-way through its body.
    pub(crate) fn draw_drop(&self) -> bool {
        hits(self.drop_rate)
    }

    /// The status of an injected failure.
    pub(crate) fn failure_status(&self) -> StatusCode {
        StatusCode::from_u16(self.fail_status)
            .ok()
            .filter(|status| !status.is_informational())
            .unwrap_or(FALLBACK_FAIL_STATUS)
    }
}

/// A rate limit as an API gateway keeps one: at most `requests` uploads per
/// credential in any rolling `window`; the others are answered 429 in
/// Capillary's error shape. Only admitted requests count, so a client that
/// waits for the window gets through. Clones share the count.
#[derive(Clone, Debug)]
pub struct RateLimit {
    pub requests: u32,
    pub window: Duration,
    /// Send `Retry-After` with each 429: the whole seconds until the window
    /// has room. Capillary documents no such header, hence off by default.
    pub retry_after: bool,
    /// When each credential's admitted requests arrived, oldest first.
    admitted: Arc<Mutex<HashMap<&'static str, VecDeque<Instant>>>>,
}

impl RateLimit {
    pub fn new(requests: u32, window: Duration, retry_after: bool) -> RateLimit {
        RateLimit {
            requests,
            window,
            retry_after,
            admitted: Arc::default(),
        }
    }

    /// Counts an authenticated upload request against its credential's
    /// window; when the window is full, returns the `Retry-After` to send (if
    /// any). The emulator accepts one Basic user and one OAuth client, so the
    /// header that carried the credential tells whose request it is.
    pub(crate) fn admit(&self, headers: &HeaderMap) -> Result<(), Option<u64>> {
        let credential = if headers.contains_key(AUTHORIZATION) {
            "basic"
        } else {
            "oauth"
        };
        self.admit_at(credential, Instant::now()).map_err(|wait| {
            self.retry_after
                .then(|| wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
        })
    }

    /// Admits one request at `now`, or says how long until the window has room.
    fn admit_at(&self, credential: &'static str, now: Instant) -> Result<(), Duration> {
        let Ok(mut admitted) = self.admitted.lock() else {
            return Ok(());
        };
        let times = admitted.entry(credential).or_default();
        while times
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= self.window)
        {
            times.pop_front();
        }
        if times.len() < self.requests as usize {
            times.push_back(now);
            return Ok(());
        }
        let oldest = times.front().copied().unwrap_or(now);
        Err((oldest + self.window).saturating_duration_since(now))
    }
}

/// Put on an answer's extensions by the route that injected a fault into it,
/// for the request log: `fail`, `rate-limit` or `expired-498`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Injected(pub(crate) &'static str);

/// `Config::upload_latency`: how long to hold the upload of each named file.
#[derive(Clone, Debug, Default)]
pub(crate) struct UploadLatency(pub(crate) Vec<(String, Duration)>);

impl UploadLatency {
    /// Waits as long as the upload of `name` is to be held, if at all.
    pub(crate) async fn wait(&self, name: &str) {
        if let Some((_, latency)) = self.0.iter().find(|(held, _)| held == name) {
            tokio::time::sleep(*latency).await;
        }
    }
}

/// True with probability `rate`. `fastrand::f64` is in `[0, 1)`, so a rate of
/// 1.0 (or more) always hits and 0.0 (or less, or NaN) never does.
fn hits(rate: f64) -> bool {
    rate > 0.0 && fastrand::f64() < rate
}

/// Handed to every request (as a request extension) by the connection task
/// that serves it. Cancelling it makes that task drop the whole connection,
/// which closes the TCP socket with the request still unanswered: the only way
/// to show a client a connection lost mid-body, since a handler by itself can
/// only ever produce a response.
#[derive(Clone, Debug)]
pub(crate) struct ConnectionKill(pub(crate) CancellationToken);

impl ConnectionKill {
    /// Cuts the connection this request arrived on and waits to be dropped
    /// with it. Returns only if the connection outlives [`CUT_GRACE`].
    pub(crate) async fn cut(&self) {
        self.0.cancel();
        tokio::time::sleep(CUT_GRACE).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_at_the_ends_are_certain() {
        for _ in 0..1000 {
            assert!(hits(1.0));
            assert!(!hits(0.0));
            assert!(!hits(f64::NAN));
            assert!(!hits(-1.0));
        }
    }

    #[test]
    fn invalid_fail_status_falls_back_to_503() {
        let mut faults = Faults::default();
        assert_eq!(faults.failure_status(), StatusCode::SERVICE_UNAVAILABLE);
        faults.fail_status = 0;
        assert_eq!(faults.failure_status(), StatusCode::SERVICE_UNAVAILABLE);
        faults.fail_status = 500;
        assert_eq!(faults.failure_status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn the_rate_limit_counts_a_rolling_window_per_credential() {
        let limit = RateLimit::new(2, Duration::from_secs(10), false);
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        assert_eq!(limit.admit_at("basic", at(0)), Ok(()));
        assert_eq!(limit.admit_at("basic", at(4)), Ok(()));
        assert_eq!(limit.admit_at("basic", at(5)), Err(Duration::from_secs(5)));
        // Another credential has a window of its own.
        assert_eq!(limit.admit_at("oauth", at(5)), Ok(()));
        // Refused requests do not count: room again once the first is 10 s old.
        assert_eq!(limit.admit_at("basic", at(9)), Err(Duration::from_secs(1)));
        assert_eq!(limit.admit_at("basic", at(10)), Ok(()));
        assert_eq!(limit.admit_at("basic", at(11)), Err(Duration::from_secs(3)));
        assert_eq!(limit.admit_at("basic", at(14)), Ok(()));
    }

    #[test]
    fn retry_after_is_whole_seconds_rounded_up_and_only_when_asked() {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, "Basic x".parse().unwrap());
        let quiet = RateLimit::new(1, Duration::from_millis(1500), false);
        assert_eq!(quiet.admit(&headers), Ok(()));
        assert_eq!(quiet.admit(&headers), Err(None));
        let telling = RateLimit::new(1, Duration::from_millis(1500), true);
        assert_eq!(telling.admit(&headers), Ok(()));
        assert_eq!(telling.admit(&headers), Err(Some(2)));
    }
}
