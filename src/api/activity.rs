//! The idle timer: the last moment a request made progress.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::body::CHUNK;

/// The last moment a request made progress, for the idle timeout.
///
/// Progress is bytes handed to the connection or read from it. Bytes handed
/// over are not yet bytes the server took: the socket's send buffer and the
/// server's receive buffer (several MiB together) take the first MiBs of a
/// body at once, and a server that reads slowly but steadily still has them to
/// drain after the last byte was handed over, with nothing to see meanwhile.
/// So once the whole body is out, the idle window grows by the time the server
/// needs to read what the buffers may still hold (`drain_grace`).
pub(super) struct Activity {
    start: Instant,
    last_ms: AtomicU64,
    grace_ms: AtomicU64,
    body_size: u64,
    handed: AtomicU64,
}

impl Activity {
    pub(super) fn new(body_size: u64) -> Arc<Activity> {
        Arc::new(Activity {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
            grace_ms: AtomicU64::new(0),
            body_size,
            handed: AtomicU64::new(0),
        })
    }

    /// Body bytes handed to the connection so far.
    pub(super) fn handed(&self) -> u64 {
        self.handed.load(Ordering::Relaxed)
    }

    /// How long since the last progress.
    pub(super) fn idle(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }

    pub(super) fn touch(&self) {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(now, Ordering::Relaxed);
    }

    /// `bytes` more of the body were handed to the connection.
    pub(super) fn sent(&self, bytes: u64) {
        self.touch();
        let handed = self.handed.fetch_add(bytes, Ordering::Relaxed).saturating_add(bytes);
        if handed >= self.body_size {
            let grace = drain_grace(self.body_size);
            self.grace_ms
                .store(u64::try_from(grace.as_millis()).unwrap_or(u64::MAX), Ordering::Relaxed);
        }
    }

    /// Resolves once nothing has happened for `limit` (plus the drain grace).
    pub(super) async fn stalled(&self, limit: Duration) {
        loop {
            let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
            let grace = Duration::from_millis(self.grace_ms.load(Ordering::Relaxed));
            let idle = self.start.elapsed().saturating_sub(last);
            let window = limit.saturating_add(grace);
            if idle >= window {
                return;
            }
            tokio::time::sleep(window - idle).await;
        }
    }
}

/// The most a body's bytes that the buffers between capfile and the server can
/// hold once capfile has handed the last one over: Linux's largest default
/// send (4 MiB) and receive (6 MiB) buffers, with room for a proxy.
const BUFFERED_AT_MOST: u64 = 16 * 1024 * 1024;
/// The slowest a server may read and still count as making progress: one
/// body chunk a second, which is also what keeps the idle timer fed while the
/// body is being handed over.
const SLOWEST_READ: u64 = CHUNK as u64;

/// Extra idle time once a body of `size` bytes is handed over: the time to
/// read what the buffers may still hold at the slowest rate that counts.
fn drain_grace(size: u64) -> Duration {
    Duration::from_secs_f64(size.min(BUFFERED_AT_MOST) as f64 / SLOWEST_READ as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_idle_window_grows_by_the_drain_time_only_once_the_body_is_out() {
        assert_eq!(drain_grace(0), Duration::ZERO);
        assert_eq!(drain_grace(CHUNK as u64 * 8), Duration::from_secs(8));
        assert_eq!(drain_grace(u64::MAX), Duration::from_secs(64));
        let activity = Activity::new(1000);
        activity.sent(999);
        assert_eq!(activity.grace_ms.load(Ordering::Relaxed), 0);
        activity.sent(1);
        assert_eq!(
            activity.grace_ms.load(Ordering::Relaxed),
            drain_grace(1000).as_millis() as u64
        );
    }
}
