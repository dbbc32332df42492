//! The upload manifest: what capfile already uploaded, so a re-run sends only
//! what changed (issue 12).
//!
//! There is no "get" or "list" endpoint on Capillary's file service, so the
//! only way to know what is already there is to remember it. A manifest is a
//! text file meant to be committed next to the assets; for each remote name it
//! holds the content hash and size that were sent and what the service
//! answered (version, file handle, S3 URL, the secure URL and when that URL
//! expires).
//!
//! # Use
//!
//! 1. [`Manifest::open`] takes the lock, reads the manifest, folds in a journal
//!    left by a killed run, and refuses a manifest of another [`Binding`].
//! 2. For each input, [`Manifest::decide`] says upload (and why) or skip. When
//!    it answers [`Decision::HashFirst`] (an entry of the same size exists), hash
//!    the file with [`hash_file`] and ask again; otherwise the file can be hashed
//!    while it is uploaded, with a [`ContentHasher`] fed each chunk as it is
//!    read, so a file is never read twice.
//! 3. After each upload, [`Manifest::record`] appends the entry to the journal
//!    and syncs it to disk *before* returning: only then may the caller print
//!    the file as uploaded.
//! 4. [`Manifest::finish`] writes the manifest atomically, removes the journal
//!    and releases the lock. Dropping a `Manifest` without `finish` leaves the
//!    journal; the next `open` folds it in.
//!
//! # Format: TOML, one table per remote name
//!
//! ```toml
//! # capfile upload manifest: commit it with the files it describes.
//! [manifest]
//! format = 1
//! origin = "https://eu.api.capillarytech.com"
//! namespace = "rewards"
//! body = "multipart"
//!
//! [files."logo.png"]
//! sha256 = "9f86d0…"
//! size = 51
//! content_type = "image/png"
//! version = "2"
//! file_handle = "73e78929-1e07-4cc5-a738-b54470a7dc8c"
//! s3_url = "s3:/bucket/rewards/100606/b21f.png"
//! secure_file_path = "https://…?X-Amz-Date=…&X-Amz-Expires=3600&…"
//! url_expires_at = "2024-05-08T04:40:59Z"
//! uploaded_at = "2024-05-08T03:40:59Z"
//! ```
//!
//! TOML rather than JSON lines: each field is on its own line, so a re-upload
//! shows in `git diff` as the few fields that changed (hash, version, URL,
//! times) under the file's name, rather than as one long replaced line; the
//! remote name is the table's key, so there is one entry per name by
//! construction. Entries are written sorted by name and fields in the fixed
//! order above, so writing an unchanged manifest gives the same bytes. The
//! project already uses `toml_edit`, which quotes any remote name correctly.
//! Times are RFC 3339 strings in UTC with whole seconds (readable, and sort as
//! text). `file_handle` and `s3_url` are left out when the service sent none.
//!
//! # Durability: the journal
//!
//! `FILE.journal` beside the manifest holds one JSON object per line: first a
//! header naming the binding, then one line per recorded upload. A line is
//! written with one `write` and synced before `record` returns, so a SIGKILL
//! can only tear the last line, which is then ignored (that upload was never
//! reported as done). A complete line that does not parse is an error naming
//! the journal and the line, never dropped silently. `open` folds a journal in
//! and immediately rewrites the manifest and removes the journal, so a torn
//! line is never followed by new ones. (This happens even for a dry run: it
//! is recovery of local state, not an upload.)
//!
//! # Concurrency: a lock file, held for the whole run
//!
//! `FILE.lock` beside the manifest is locked (an OS advisory lock: `flock` on
//! Unix, `LockFileEx` on Windows) from `open` until `finish` or drop, so two
//! capfile processes on one manifest (parallel CI jobs on one runner) take
//! turns and never lose each other's entries. What a second process does is
//! the caller's choice, [`LockWait`]: fail at once, or wait up to a bound and
//! then fail with a message naming the lock file (`upload` waits, and reads
//! the manifest, through `Interrupts::blocking_or_interrupt`, so that a
//! signal ends either at once). The lock is released by the
//! OS when the process ends, even on SIGKILL, so a stale lock file is harmless.
//! The lock file is left in place (removing it would let a third process lock
//! a file that is no longer the one the second is waiting on); it is empty and
//! belongs in `.gitignore`.
//!
//! # Expiry
//!
//! The secure URL of a private file is pre-signed and expires: [`expiry_of`]
//! reads `X-Amz-Date` + `X-Amz-Expires` (Capillary's S3 URLs) or the
//! emulator's `expires=UNIX`. An entry whose URL expires within
//! [`EXPIRY_MARGIN`] counts as expired: [`Decision`] uploads it again when the
//! policy says to refresh (`Reason::Expired`), and otherwise skips it, and the
//! caller must show it as expired (see [`Entry::url_expired`]), never as a
//! valid URL. A URL with no recognisable expiry is taken as not expiring.
//!
//! The secure URL is recorded as the service gave it: it grants read access
//! to the file until it expires, so a manifest of private files should be
//! committed only where that file may be read.

mod error;
mod expiry;
mod file;
mod format;
mod hash;
#[cfg(test)]
mod tests;

pub(crate) use error::ManifestError;
pub(crate) use expiry::{expiry_of, format_time, parse_time};
pub(crate) use hash::{ContentHasher, hash_file};

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use time::OffsetDateTime;

use crate::fsio;
use file::{lock, sibling, sync_parent, write_atomically};
use format::{JournalHeader, JournalLine, parse_journal, parse_manifest, render};

/// The manifest format this code reads and writes.
pub(crate) const FORMAT_VERSION: i64 = 1;

/// A URL that expires within this much time counts as expired.
pub(crate) const EXPIRY_MARGIN: Duration = Duration::from_secs(5 * 60);

/// How long to sleep between two tries of a busy lock.
const LOCK_POLL: Duration = Duration::from_millis(100);

/// The size of each read of [`hash_file`].
const HASH_BUFFER: usize = 256 * 1024;

/// What a manifest belongs to: it is refused for any other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Binding {
    /// `scheme://host[:port]` of the file service, lower case.
    pub origin: String,
    pub namespace: String,
    /// The body format, as its CLI value (`multipart` or `raw`).
    pub body: String,
}

impl Binding {
    /// The binding for uploads to `base_url`: its origin is the scheme, host
    /// and port (default ports left out, host in lower case), so
    /// `https://EU.api.capillarytech.com:443/v1` and
    /// `https://eu.api.capillarytech.com` are the same service.
    pub(crate) fn new(base_url: &url::Url, namespace: &str, body: &str) -> Binding {
        Binding {
            origin: crate::settings::origin_of(base_url),
            namespace: namespace.to_string(),
            body: body.to_string(),
        }
    }
}

/// One remote name's last upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    /// SHA-256 of the content sent, lower-case hex.
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
    pub version: String,
    pub file_handle: Option<String>,
    pub s3_url: Option<String>,
    pub secure_file_path: String,
    /// When `secure_file_path` stops working, if it says (see [`expiry_of`]).
    pub url_expires_at: Option<OffsetDateTime>,
    pub uploaded_at: OffsetDateTime,
}

impl Entry {
    /// True when the recorded secure URL has expired or expires within
    /// [`EXPIRY_MARGIN`] of `now`: it must not be shown as a valid URL.
    pub(crate) fn url_expired(&self, now: OffsetDateTime) -> bool {
        self.url_expires_at.is_some_and(|at| at <= now + EXPIRY_MARGIN)
    }
}

/// What a second process does when another holds the manifest's lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LockWait {
    /// Fail at once with [`ManifestError::Busy`].
    Fail,
    /// Wait up to this long, then fail with [`ManifestError::Busy`].
    Wait(Duration),
}

/// The caller's choices for [`Manifest::decide`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Policy {
    /// Upload everything (`--force`).
    pub force: bool,
    /// Upload an unchanged file again when its recorded URL has expired
    /// (the default for outputs that print URLs); when false, it is skipped
    /// and must be shown as expired.
    pub refresh_expired: bool,
}

/// Why a file is uploaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reason {
    /// No entry for this remote name.
    New,
    /// Its size or content differs from the entry's.
    Changed,
    /// Same size as the entry, whose URL has expired; the content was not
    /// hashed before deciding, so it may also have changed.
    Expired,
    /// `Policy::force`.
    Forced,
}

impl Reason {
    /// The word for listings (`--dry-run`).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Reason::New => "new",
            Reason::Changed => "changed",
            Reason::Expired => "expired",
            Reason::Forced => "forced",
        }
    }
}

/// What to do with one input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision<'a> {
    /// Send it; hash it while it is read.
    Upload(Reason),
    /// Do not send it: outputs show this entry (outcome `skipped`).
    Skip(&'a Entry),
    /// An entry of the same size exists: hash the file ([`hash_file`]) and
    /// ask again with the hash.
    HashFirst,
}

/// An open, locked manifest. See the module documentation.
#[derive(Debug)]
pub(crate) struct Manifest {
    path: PathBuf,
    journal_path: PathBuf,
    binding: Binding,
    entries: BTreeMap<String, Entry>,
    /// The journal, once the first entry of this run was recorded.
    journal: Option<File>,
    /// The journal's length after its last complete line.
    journal_len: u64,
    /// True when the file on disk differs from `entries` (or does not exist).
    dirty: bool,
    /// Held for the life of the value; closing it releases the lock.
    _lock: File,
}

/// The largest manifest (or journal) capfile reads: 100,000 entries take
/// about 60 MiB; the cap keeps a manifest pointed at `/dev/zero`'s like (a
/// huge sparse file) from filling memory.
const MAX_MANIFEST_LEN: u64 = 1 << 30;

impl Manifest {
    #[cfg(test)]
    /// Locks, reads and checks the manifest at `path` for `binding`; a
    /// missing file is an empty manifest (written by `finish`).
    pub(crate) fn open(path: &Path, binding: &Binding, wait: LockWait) -> Result<Manifest, ManifestError> {
        Self::open_with_notice(path, binding, wait, &mut || {})
    }

    /// As [`Manifest::open`], calling `notice` once if the lock is busy and
    /// the wait begins (to tell the user why nothing happens).
    pub(crate) fn open_with_notice(
        path: &Path,
        binding: &Binding,
        wait: LockWait,
        notice: &mut dyn FnMut(),
    ) -> Result<Manifest, ManifestError> {
        let lock = lock(path, wait, notice)?;
        let journal_path = sibling(path, ".journal");
        let (mut entries, mut dirty) = match fsio::read_regular(path, MAX_MANIFEST_LEN) {
            Ok(bytes) => (parse_manifest(path, &bytes, binding)?, false),
            Err(e) if e.kind() == io::ErrorKind::NotFound => (BTreeMap::new(), true),
            Err(source) => {
                return Err(ManifestError::Io {
                    path: path.to_path_buf(),
                    action: "read",
                    source,
                });
            }
        };
        let journal = match fsio::read_own(&journal_path, MAX_MANIFEST_LEN) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(ManifestError::Io {
                    path: journal_path,
                    action: "read",
                    source,
                });
            }
        };
        let mut manifest = Manifest {
            path: path.to_path_buf(),
            journal_path,
            binding: binding.clone(),
            entries: BTreeMap::new(),
            journal: None,
            journal_len: 0,
            dirty: false,
            _lock: lock,
        };
        if let Some(bytes) = journal {
            for (name, entry) in parse_journal(&manifest.journal_path, &bytes, binding)? {
                entries.insert(name, entry);
                dirty = true;
            }
            manifest.entries = entries;
            manifest.dirty = dirty;
            // Compact now, so new lines never follow a torn one.
            manifest.write()?;
            manifest.remove_journal()?;
        } else {
            manifest.entries = entries;
            manifest.dirty = dirty;
        }
        Ok(manifest)
    }

    #[cfg(test)]
    /// The entry for a remote name.
    pub(crate) fn lookup(&self, name: &str) -> Option<&Entry> {
        self.entries.get(name)
    }

    #[cfg(test)]
    /// All entries, sorted by remote name.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.entries.iter().map(|(name, entry)| (name.as_str(), entry))
    }

    /// Whether to send the file `name` of `size` bytes. `sha256` is its hash
    /// when known; without it the answer may be [`Decision::HashFirst`].
    pub(crate) fn decide(
        &self,
        name: &str,
        size: u64,
        sha256: Option<&str>,
        now: OffsetDateTime,
        policy: Policy,
    ) -> Decision<'_> {
        if policy.force {
            return Decision::Upload(Reason::Forced);
        }
        let Some(entry) = self.entries.get(name) else {
            return Decision::Upload(Reason::New);
        };
        if entry.size != size {
            return Decision::Upload(Reason::Changed);
        }
        // Before hashing: it is sent anyway, and hashed while it is read.
        if policy.refresh_expired && entry.url_expired(now) {
            return Decision::Upload(Reason::Expired);
        }
        match sha256 {
            None => Decision::HashFirst,
            Some(hash) if hash.eq_ignore_ascii_case(&entry.sha256) => Decision::Skip(entry),
            Some(_) => Decision::Upload(Reason::Changed),
        }
    }

    #[cfg(test)]
    /// True when the file must be hashed before [`Manifest::decide`] can
    /// answer; otherwise it can be hashed while it is uploaded.
    pub(crate) fn must_hash_first(&self, name: &str, size: u64, now: OffsetDateTime, policy: Policy) -> bool {
        self.decide(name, size, None, now, policy) == Decision::HashFirst
    }

    /// Records an upload: the entry is in the journal, synced to disk, when
    /// this returns, so the caller may then report the file as uploaded.
    ///
    /// On an error the entry is not recorded (a partly written line is cut
    /// off again): the file was uploaded but the manifest does not know it, so
    /// the caller should report the error and not count the file as done.
    pub(crate) fn record(&mut self, name: &str, entry: Entry) -> Result<(), ManifestError> {
        self.append(name, entry).map_err(|source| ManifestError::Io {
            path: self.journal_path.clone(),
            action: "write",
            source,
        })
    }

    fn append(&mut self, name: &str, entry: Entry) -> io::Result<()> {
        if self.journal.is_none() {
            let file = fsio::open_own(&self.journal_path, OpenOptions::new().create(true).append(true))?;
            sync_parent(&self.journal_path);
            self.journal_len = file.metadata()?.len();
            self.journal = Some(file);
        }
        let mut line = Vec::with_capacity(512);
        if self.journal_len == 0 {
            serde_json::to_writer(&mut line, &JournalHeader::of(&self.binding))?;
            line.push(b'\n');
        }
        serde_json::to_writer(&mut line, &JournalLine::of(name, &entry))?;
        line.push(b'\n');
        if let Some(journal) = self.journal.as_mut() {
            // One write, so a kill can only tear the last line.
            let written = journal.write_all(&line).and_then(|()| journal.sync_data());
            if let Err(e) = written {
                // So that the next line does not follow a torn one.
                let _ = journal.set_len(self.journal_len);
                return Err(e);
            }
            self.journal_len += line.len() as u64;
        }
        self.entries.insert(name.to_string(), entry);
        self.dirty = true;
        Ok(())
    }

    /// Writes the manifest atomically (when anything changed, or when it did
    /// not exist), removes the journal and releases the lock. A dry run drops
    /// the manifest instead.
    pub(crate) fn finish(mut self) -> Result<(), ManifestError> {
        self.write()?;
        self.journal = None;
        self.remove_journal()
    }

    /// The manifest as text: header, then entries sorted by name.
    pub(crate) fn to_toml(&self) -> String {
        render(&self.binding, &self.entries)
    }

    fn write(&mut self) -> Result<(), ManifestError> {
        if !self.dirty {
            return Ok(());
        }
        write_atomically(&self.path, self.to_toml().as_bytes()).map_err(|source| ManifestError::Io {
            path: self.path.clone(),
            action: "write",
            source,
        })?;
        self.dirty = false;
        Ok(())
    }

    fn remove_journal(&self) -> Result<(), ManifestError> {
        match fs::remove_file(&self.journal_path) {
            Ok(()) => {
                sync_parent(&self.journal_path);
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(ManifestError::Io {
                path: self.journal_path.clone(),
                action: "remove",
                source,
            }),
        }
    }
}
