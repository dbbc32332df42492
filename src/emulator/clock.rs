//! The emulator's clock for what expires: OAuth tokens and secure URLs. It is
//! the system's wall clock, or one that tests move forward by hand so that an
//! expiry can be checked without waiting for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The system's clock plus an offset that only [`Clock::advance`] changes.
/// Clones share the offset, so a test keeps one and hands another to
/// [`super::Config::clock`].
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// Milliseconds added to the system's time.
    ahead_ms: Arc<AtomicU64>,
}

impl Clock {
    /// Moves this clock (and its clones) forward by `by`.
    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        let _ = self.ahead_ms.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |ahead| {
            Some(ahead.saturating_add(ms))
        });
    }

    /// The time since the Unix epoch.
    pub(crate) fn unix_now(&self) -> Duration {
        let system = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        system.saturating_add(Duration::from_millis(self.ahead_ms.load(Ordering::SeqCst)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_a_clone_moves_the_original() {
        let clock = Clock::default();
        let before = clock.unix_now();
        clock.clone().advance(Duration::from_secs(3600));
        assert!(clock.unix_now() >= before + Duration::from_secs(3600));
    }
}
