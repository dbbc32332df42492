//! Fault injection: the emulator's way of behaving like a busy or flaky file
//! service on purpose, so that capfile's retry, backoff and cleanup paths can be
//! exercised offline. This module decides *whether* a request is hit (random
//! draws against the configured shares) and knows how to cut a connection;
//! the routes decide *where* in a request each fault applies.

use std::time::Duration;

use axum::http::StatusCode;
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
}
