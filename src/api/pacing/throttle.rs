//! The retry throttle: a shared "nobody sends before" instant. A 429 or 503
//! that is retried holds every worker until its backoff is over, not only
//! the one that was told to slow down.

use std::sync::Mutex;
use std::time::Instant;

/// A shared "nobody sends before" instant, set by 429/503 answers.
#[derive(Default)]
pub(crate) struct Throttle {
    until: Mutex<Option<Instant>>,
}

impl Throttle {
    pub(crate) fn hold_until(&self, when: Instant) {
        if let Ok(mut until) = self.until.lock() {
            *until = Some(until.map_or(when, |u| u.max(when)));
        }
    }

    pub(crate) async fn wait(&self) {
        let until = self.until.lock().ok().and_then(|u| *u);
        if let Some(until) = until {
            tokio::time::sleep_until(until.into()).await;
        }
    }
}
