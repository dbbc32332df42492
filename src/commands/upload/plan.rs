//! The plan of a batch: for each checked input, whether it is sent, and why,
//! or skipped as unchanged since its recorded upload (`--manifest`).
//!
//! This is the one place the manifest's decision is made: the dry run prints
//! it, and the runner follows it. It is decided per input as the caller
//! reaches it, so a plan never holds more than the input at hand, however
//! long the batch (a file is hashed only when its size matches its entry).
//! A file that cannot be read to hash is planned as `changed`: it is sent,
//! and fails there with its own reason.

use std::sync::{Arc, Mutex, MutexGuard};

use time::OffsetDateTime;

use super::send::fit;
use crate::inputs::Input;
use crate::manifest::{ContentHasher, Decision, Entry, Manifest, Policy, Reason, hash_file};

/// What the plan says of one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Step {
    /// Send it; the manifest's reason (`None`: there is no manifest).
    Upload(Option<Reason>),
    /// Not sent: unchanged since this entry was recorded; `expired` says
    /// its recorded URL has expired (kept so by `--no-refresh`).
    Skip { entry: Entry, expired: bool },
}

/// How a batch decides what to send.
#[derive(Clone, Default)]
pub(super) struct Plan {
    /// `--manifest FILE`, opened and locked (shared with the runner, which
    /// records each upload in it).
    manifest: Option<Arc<Mutex<Manifest>>>,
    /// `--force`, `--no-refresh`.
    policy: Policy,
    /// The transforms: with them, an input is keyed by its source's hash and
    /// the settings ([`fit::manifest_hash`]).
    transform: Option<Arc<crate::transform::Settings>>,
}

impl Plan {
    pub(super) fn new(
        manifest: Option<Arc<Mutex<Manifest>>>,
        policy: Policy,
        transform: Option<Arc<crate::transform::Settings>>,
    ) -> Plan {
        Plan {
            manifest,
            policy,
            transform,
        }
    }

    /// The manifest, if there is one.
    pub(super) fn manifest(&self) -> Option<&Arc<Mutex<Manifest>>> {
        self.manifest.as_ref()
    }

    /// What is done to each image before it is sent, if anything.
    pub(super) fn transform(&self) -> Option<&Arc<crate::transform::Settings>> {
        self.transform.as_ref()
    }

    /// What to do with `input`, now.
    pub(super) fn decide(&self, input: &Input) -> Step {
        self.decide_at(input, OffsetDateTime::now_utc())
    }

    /// What to do with `input` at `now` (the time a recorded URL's expiry is
    /// measured against).
    pub(super) fn decide_at(&self, input: &Input, now: OffsetDateTime) -> Step {
        let Some(manifest) = &self.manifest else {
            return Step::Upload(None);
        };
        let manifest = lock_manifest(manifest);
        let name = input.remote.as_str();
        let mut decision = manifest.decide(name, input.size, None, now, self.policy);
        if decision == Decision::HashFirst {
            let Some(hash) = self.content_hash(input) else {
                return Step::Upload(Some(Reason::Changed));
            };
            decision = manifest.decide(name, input.size, Some(&hash), now, self.policy);
        }
        match decision {
            Decision::Skip(entry) => Step::Skip {
                entry: entry.clone(),
                expired: entry.url_expired(now),
            },
            Decision::Upload(reason) => Step::Upload(Some(reason)),
            // Asked with a hash, the manifest decides.
            Decision::HashFirst => Step::Upload(Some(Reason::Changed)),
        }
    }

    /// The hash the manifest keys `input` by; `None` when its file cannot
    /// be read.
    fn content_hash(&self, input: &Input) -> Option<String> {
        let hash = match input.body_path() {
            Some(path) => hash_file(&path).ok()?.0,
            None => ContentHasher::new().finish().0,
        };
        // Keyed by the source and the settings: nothing is decoded.
        Some(match &self.transform {
            Some(settings) => fit::manifest_hash(settings, &hash),
            None => hash,
        })
    }
}

/// Locks the manifest; a panic elsewhere cannot leave it half-updated (each
/// record is one call).
pub(super) fn lock_manifest(manifest: &Mutex<Manifest>) -> MutexGuard<'_, Manifest> {
    manifest.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use sha2::{Digest, Sha256};
    use time::macros::datetime;

    use super::*;
    use crate::inputs::{RemoteName, Source};
    use crate::manifest::{Binding, LockWait};

    const NOW: OffsetDateTime = datetime!(2026-01-01 12:00 UTC);

    fn input(name: &str, path: &Path, size: u64) -> Input {
        Input {
            remote: RemoteName::parse(name).unwrap(),
            source: Source::File(path.into()),
            size,
            mime: "image/png",
        }
    }

    fn entry(content: &[u8], expires: OffsetDateTime) -> Entry {
        Entry {
            sha256: hex::encode(Sha256::digest(content)),
            size: content.len() as u64,
            content_type: "image/png".into(),
            version: "7".into(),
            file_handle: None,
            s3_url: None,
            secure_file_path: "https://s3.example/a.png".into(),
            url_expires_at: Some(expires),
            uploaded_at: datetime!(2025-12-01 00:00 UTC),
        }
    }

    fn manifest(dir: &Path, entries: &[(&str, Entry)]) -> Arc<Mutex<Manifest>> {
        let binding = Binding::new(&"https://files.example".parse().unwrap(), "ns", "multipart");
        let mut manifest = Manifest::open(&dir.join("m.toml"), &binding, LockWait::Fail).unwrap();
        for (name, entry) in entries {
            manifest.record(name, entry.clone()).unwrap();
        }
        Arc::new(Mutex::new(manifest))
    }

    fn policy(force: bool, refresh_expired: bool) -> Policy {
        Policy { force, refresh_expired }
    }

    #[test]
    fn without_a_manifest_every_input_is_sent_without_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let plan = Plan::default();
        // Not even read: the file does not exist.
        let step = plan.decide_at(&input("a.png", &dir.path().join("none"), 3), NOW);
        assert_eq!(step, Step::Upload(None));
    }

    /// The rule: sent when new, of another size, of other content, expired
    /// (refreshing), forced, or unreadable; skipped only when its content
    /// is the entry's, marked expired when its URL is.
    #[test]
    fn the_manifest_decides_each_input_by_name_size_content_and_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, content: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, content).unwrap();
            path
        };
        let later = NOW + time::Duration::days(1);
        let earlier = NOW - time::Duration::days(1);
        let same = file("same.png", b"abc");
        let other = file("other.png", b"abd");
        let longer = file("longer.png", b"abcd");
        let gone = dir.path().join("gone.png");
        let mut unreadable = file("dir.png", b"");
        unreadable.push("not-a-dir");
        let m = manifest(
            dir.path(),
            &[
                ("fresh", entry(b"abc", later)),
                ("stale", entry(b"abc", earlier)),
                ("old", entry(b"xyz", later)),
            ],
        );
        let skip = |expired| Step::Skip {
            entry: entry(b"abc", if expired { earlier } else { later }),
            expired,
        };
        let up = |reason| Step::Upload(Some(reason));
        #[rustfmt::skip]
        let cases: Vec<(&str, &Path, u64, Policy, Step)> = vec![
            ("fresh", &same, 3, policy(false, true), skip(false)),
            ("new", &same, 3, policy(false, true), up(Reason::New)),
            ("fresh", &other, 3, policy(false, true), up(Reason::Changed)),
            ("fresh", &longer, 4, policy(false, true), up(Reason::Changed)),
            ("old", &same, 3, policy(false, true), up(Reason::Changed)),
            ("stale", &same, 3, policy(false, true), up(Reason::Expired)),
            ("stale", &same, 3, policy(false, false), skip(true)),
            ("fresh", &same, 3, policy(true, true), up(Reason::Forced)),
            ("new", &same, 3, policy(true, false), up(Reason::Forced)),
            // Cannot be read to hash: sent (and fails there with its reason).
            ("fresh", &gone, 3, policy(false, true), up(Reason::Changed)),
            ("fresh", &unreadable, 3, policy(false, false), up(Reason::Changed)),
        ];
        for (name, path, size, policy, want) in cases {
            let plan = Plan::new(Some(m.clone()), policy, None);
            let step = plan.decide_at(&input(name, path, size), NOW);
            assert_eq!(step, want, "{name} {path:?} {policy:?}");
        }
    }

    #[test]
    fn a_placeholder_is_keyed_by_the_empty_content() {
        let dir = tempfile::tempdir().unwrap();
        let m = manifest(dir.path(), &[("p", entry(b"", NOW + time::Duration::days(1)))]);
        let placeholder = Input {
            remote: RemoteName::parse("p").unwrap(),
            source: Source::Placeholder("p".into()),
            size: 0,
            mime: "image/png",
        };
        let step = Plan::new(Some(m), policy(false, true), None).decide_at(&placeholder, NOW);
        assert!(matches!(step, Step::Skip { expired: false, .. }), "{step:?}");
    }

    #[test]
    fn with_transforms_an_input_is_keyed_by_its_source_and_the_settings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        std::fs::write(&path, b"abc").unwrap();
        let settings = Arc::new(crate::transform::Settings::resolve(None, &Default::default()));
        let mut keyed = entry(b"abc", NOW + time::Duration::days(1));
        keyed.sha256 = fit::manifest_hash(&settings, &keyed.sha256);
        let plain = entry(b"abc", NOW + time::Duration::days(1));
        let m = manifest(dir.path(), &[("keyed", keyed), ("plain", plain)]);
        let plan = Plan::new(Some(m), policy(false, true), Some(settings));
        assert!(matches!(
            plan.decide_at(&input("keyed", &path, 3), NOW),
            Step::Skip { .. }
        ));
        assert_eq!(
            plan.decide_at(&input("plain", &path, 3), NOW),
            Step::Upload(Some(Reason::Changed)),
            "sent plain before: sent again with the transforms"
        );
    }
}
