//! One file's progress as its upload sees it: drawn by the progress bars,
//! its failed attempts counted by the fail-fast watch, its content hashed as
//! it is read (for the manifest), and whether the service pushed back (for
//! the concurrency limiter).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::scheduler::Watch;
use crate::api::{self, ApiError};
use crate::manifest::ContentHasher;
use crate::output::FileProgress;

/// One file's progress, with its failed attempts counted by the fail-fast
/// watch.
pub(super) struct Tracked {
    pub(super) inner: Arc<FileProgress>,
    pub(super) watch: Arc<Watch>,
    /// The last systemic failure of an attempt, reported if the stop cancels
    /// this upload.
    last_systemic: Mutex<Option<ApiError>>,
    /// The content sent by the current attempt, hashed as it is read (only
    /// with a manifest).
    hasher: Option<Mutex<ContentHasher>>,
    /// The service answered 429 (or 503 with Retry-After) to an attempt.
    pushed_back: AtomicBool,
}

impl Tracked {
    /// `hashed`: hash the content as it is read.
    pub(super) fn new(inner: Arc<FileProgress>, watch: Arc<Watch>, hashed: bool) -> Tracked {
        Tracked {
            inner,
            watch,
            last_systemic: Mutex::new(None),
            hasher: hashed.then(|| Mutex::new(ContentHasher::new())),
            pushed_back: AtomicBool::new(false),
        }
    }

    /// The SHA-256 and size of what the last attempt sent.
    pub(super) fn content_hash(&self) -> Option<(String, u64)> {
        let hasher = self.hasher.as_ref()?;
        let hasher = hasher.lock().unwrap_or_else(|p| p.into_inner()).clone();
        Some(hasher.finish())
    }

    /// The last systemic failure of an attempt, taken.
    pub(super) fn take_last_systemic(&self) -> Option<ApiError> {
        self.last_systemic.lock().ok().and_then(|mut last| last.take())
    }

    pub(super) fn pushed_back(&self) -> bool {
        self.pushed_back.load(Ordering::Relaxed)
    }
}

impl api::Progress for Tracked {
    fn sent(&self, bytes: u64) {
        self.inner.sent(bytes);
    }

    fn chunk(&self, bytes: &[u8]) {
        if let Some(hasher) = &self.hasher {
            hasher.lock().unwrap_or_else(|p| p.into_inner()).update(bytes);
        }
    }

    fn restart(&self) {
        self.inner.restart();
        if let Some(hasher) = &self.hasher {
            *hasher.lock().unwrap_or_else(|p| p.into_inner()) = ContentHasher::new();
        }
    }

    fn retrying(&self, attempt: u32, delay: Duration, cause: &ApiError) {
        if self.watch.failed(cause)
            && let Ok(mut last) = self.last_systemic.lock()
        {
            *last = Some(cause.clone());
        }
        // A failure that stopped the batch is not retried: say "retrying"
        // only for a retry that will happen.
        if !self.watch.stop.is_cancelled() {
            self.inner.retrying(attempt, delay, cause);
        }
    }

    fn rate_limited(&self, wait: Duration, new_pause: bool, cause: &ApiError) {
        self.pushed_back.store(true, Ordering::Relaxed);
        self.inner.rate_limited(wait, new_pause, cause);
    }

    fn paced(&self, wait: Option<Duration>) {
        self.inner.paced(wait);
    }
}
