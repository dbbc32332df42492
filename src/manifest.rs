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
//! then fail with a message naming the lock file. The lock is released by the
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

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};
use toml_edit::{DocumentMut, Item, Table, Value};

use crate::error::{Error, ErrorKind};

/// The manifest format this code reads and writes.
pub const FORMAT_VERSION: i64 = 1;

/// A URL that expires within this much time counts as expired.
pub const EXPIRY_MARGIN: Duration = Duration::from_secs(5 * 60);

/// How long to sleep between two tries of a busy lock.
const LOCK_POLL: Duration = Duration::from_millis(100);

/// The size of each read of [`hash_file`].
const HASH_BUFFER: usize = 256 * 1024;

/// What a manifest belongs to: it is refused for any other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
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
    pub fn new(base_url: &url::Url, namespace: &str, body: &str) -> Binding {
        Binding {
            origin: base_url.origin().ascii_serialization(),
            namespace: namespace.to_string(),
            body: body.to_string(),
        }
    }
}

/// One remote name's last upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
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
    pub fn url_expired(&self, now: OffsetDateTime) -> bool {
        self.url_expires_at.is_some_and(|at| at <= now + EXPIRY_MARGIN)
    }
}

/// What a second process does when another holds the manifest's lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockWait {
    /// Fail at once with [`ManifestError::Busy`].
    Fail,
    /// Wait up to this long, then fail with [`ManifestError::Busy`].
    Wait(Duration),
}

/// The caller's choices for [`Manifest::decide`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// Upload everything (`--force`).
    pub force: bool,
    /// Upload an unchanged file again when its recorded URL has expired
    /// (the default for outputs that print URLs); when false, it is skipped
    /// and must be shown as expired.
    pub refresh_expired: bool,
}

/// Why a file is uploaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
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
    pub fn as_str(self) -> &'static str {
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
pub enum Decision<'a> {
    /// Send it; hash it while it is read.
    Upload(Reason),
    /// Do not send it: outputs show this entry (outcome `skipped`).
    Skip(&'a Entry),
    /// An entry of the same size exists: hash the file ([`hash_file`]) and
    /// ask again with the hash.
    HashFirst,
}

/// Why a manifest could not be used. Each displays as one line naming the
/// file; [`ManifestError::kind`] gives the exit code.
#[derive(Debug)]
pub enum ManifestError {
    /// Another process holds the lock.
    Busy {
        path: PathBuf,
        lock: PathBuf,
        waited: Option<Duration>,
    },
    /// A file could not be read, written or locked.
    Io {
        path: PathBuf,
        action: &'static str,
        source: io::Error,
    },
    /// The manifest or its journal does not parse or holds a bad value.
    Invalid {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
    /// The manifest (or journal) belongs to another origin, namespace or body
    /// format.
    WrongBinding {
        path: PathBuf,
        field: &'static str,
        found: String,
        expected: String,
    },
}

impl ManifestError {
    /// The kind, which decides the exit code: a bad or foreign manifest is an
    /// input error (2); a busy lock or a failing disk is a failure (1).
    pub fn kind(&self) -> ErrorKind {
        match self {
            ManifestError::Busy { .. } | ManifestError::Io { .. } => ErrorKind::Failure,
            ManifestError::Invalid { .. } | ManifestError::WrongBinding { .. } => ErrorKind::Usage,
        }
    }

    /// The next step for the user, if there is an obvious one.
    pub fn hint(&self) -> Option<String> {
        match self {
            ManifestError::Busy { .. } => Some(
                "another capfile run uses this manifest; run again when it ends, or use another --manifest file"
                    .into(),
            ),
            ManifestError::Invalid { .. } => Some(
                "fix the file (for example restore it from version control); capfile never replaces a manifest it cannot read"
                    .into(),
            ),
            ManifestError::WrongBinding { .. } => {
                Some("use a separate --manifest file for each host, namespace and body format".into())
            }
            ManifestError::Io { .. } => None,
        }
    }
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManifestError::Busy { path, lock, waited } => {
                write!(f, "manifest {} is in use by another capfile process (", path.display())?;
                if let Some(waited) = waited {
                    write!(f, "waited {} s; ", waited.as_secs())?;
                }
                write!(f, "lock file {})", lock.display())
            }
            ManifestError::Io { path, action, source } => {
                write!(f, "cannot {action} {}: {source}", path.display())
            }
            ManifestError::Invalid { path, line, message } => match line {
                Some(line) => write!(f, "{}:{line}: {message}", path.display()),
                None => write!(f, "{}: {message}", path.display()),
            },
            ManifestError::WrongBinding {
                path,
                field,
                found,
                expected,
            } => write!(
                f,
                "manifest {} belongs to {field} {found:?}, not {expected:?}",
                path.display()
            ),
        }
    }
}

impl std::error::Error for ManifestError {}

impl From<ManifestError> for Error {
    fn from(err: ManifestError) -> Self {
        let error = Error::new(err.kind(), err.to_string());
        match err.hint() {
            Some(hint) => error.with_hint(hint),
            None => error,
        }
    }
}

/// An open, locked manifest. See the module documentation.
#[derive(Debug)]
pub struct Manifest {
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

impl Manifest {
    /// Locks, reads and checks the manifest at `path` for `binding`; a
    /// missing file is an empty manifest (written by `finish`).
    pub fn open(path: &Path, binding: &Binding, wait: LockWait) -> Result<Manifest, ManifestError> {
        Self::open_with_notice(path, binding, wait, &mut || {})
    }

    /// As [`Manifest::open`], calling `notice` once if the lock is busy and
    /// the wait begins (to tell the user why nothing happens).
    pub fn open_with_notice(
        path: &Path,
        binding: &Binding,
        wait: LockWait,
        notice: &mut dyn FnMut(),
    ) -> Result<Manifest, ManifestError> {
        let lock = lock(path, wait, notice)?;
        let journal_path = sibling(path, ".journal");
        let (mut entries, mut dirty) = match fs::read(path) {
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
        let journal = match fs::read(&journal_path) {
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

    /// The manifest's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The entry for a remote name.
    pub fn lookup(&self, name: &str) -> Option<&Entry> {
        self.entries.get(name)
    }

    /// All entries, sorted by remote name.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.entries.iter().map(|(name, entry)| (name.as_str(), entry))
    }

    /// Whether to send the file `name` of `size` bytes. `sha256` is its hash
    /// when known; without it the answer may be [`Decision::HashFirst`].
    pub fn decide(
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

    /// True when the file must be hashed before [`Manifest::decide`] can
    /// answer; otherwise it can be hashed while it is uploaded.
    pub fn must_hash_first(&self, name: &str, size: u64, now: OffsetDateTime, policy: Policy) -> bool {
        self.decide(name, size, None, now, policy) == Decision::HashFirst
    }

    /// Records an upload: the entry is in the journal, synced to disk, when
    /// this returns, so the caller may then report the file as uploaded.
    ///
    /// On an error the entry is not recorded (a partly written line is cut
    /// off again): the file was uploaded but the manifest does not know it, so
    /// the caller should report the error and not count the file as done.
    pub fn record(&mut self, name: &str, entry: Entry) -> Result<(), ManifestError> {
        self.append(name, entry).map_err(|source| ManifestError::Io {
            path: self.journal_path.clone(),
            action: "write",
            source,
        })
    }

    fn append(&mut self, name: &str, entry: Entry) -> io::Result<()> {
        if self.journal.is_none() {
            let file = OpenOptions::new().create(true).append(true).open(&self.journal_path)?;
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
    pub fn finish(mut self) -> Result<(), ManifestError> {
        self.write()?;
        self.journal = None;
        self.remove_journal()
    }

    /// The manifest as text: header, then entries sorted by name.
    pub fn to_toml(&self) -> String {
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

/// A streaming SHA-256 of a file's content, fed each chunk as the uploader
/// reads it.
#[derive(Clone, Debug, Default)]
pub struct ContentHasher {
    hasher: Sha256,
    size: u64,
}

impl ContentHasher {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn update(&mut self, chunk: &[u8]) {
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
    }

    /// The bytes fed so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The lower-case hex SHA-256 and the size of everything fed.
    pub fn finish(self) -> (String, u64) {
        (hex::encode(self.hasher.finalize()), self.size)
    }
}

/// Hashes a whole file in large reads: its lower-case hex SHA-256 and size.
pub fn hash_file(path: &Path) -> io::Result<(String, u64)> {
    let mut file = File::open(path)?;
    let mut hasher = ContentHasher::new();
    let mut buffer = vec![0u8; HASH_BUFFER];
    loop {
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buffer[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(hasher.finish())
}

/// When a pre-signed secure URL expires: `X-Amz-Date` (`YYYYMMDDTHHMMSSZ`) +
/// `X-Amz-Expires` (seconds), or the emulator's `expires` (unix seconds).
/// `None` when the URL says neither (or says it badly).
pub fn expiry_of(secure_url: &str) -> Option<OffsetDateTime> {
    let url = url::Url::parse(secure_url).ok()?;
    let (mut amz_date, mut amz_expires, mut expires) = (None, None, None);
    for (key, value) in url.query_pairs() {
        if key.eq_ignore_ascii_case("X-Amz-Date") {
            amz_date = Some(value);
        } else if key.eq_ignore_ascii_case("X-Amz-Expires") {
            amz_expires = Some(value);
        } else if key == "expires" {
            expires = Some(value);
        }
    }
    if let (Some(date), Some(secs)) = (amz_date, amz_expires) {
        let signed = parse_amz_date(&date)?;
        let secs: u32 = secs.parse().ok()?;
        return signed.checked_add(time::Duration::seconds(secs.into()));
    }
    let unix: i64 = expires?.parse().ok()?;
    OffsetDateTime::from_unix_timestamp(unix).ok()
}

/// `2024-05-08T03:40:59Z`: RFC 3339, UTC, whole seconds.
pub fn format_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// Reads what [`format_time`] writes.
pub fn parse_time(text: &str) -> Option<OffsetDateTime> {
    let b = text.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if b[19] != b'Z' {
        return None;
    }
    utc(
        digits(text, 0, 4)?,
        digits(text, 5, 2)?,
        digits(text, 8, 2)?,
        digits(text, 11, 2)?,
        digits(text, 14, 2)?,
        digits(text, 17, 2)?,
    )
}

/// `20240508T034059Z`.
fn parse_amz_date(text: &str) -> Option<OffsetDateTime> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    utc(
        digits(text, 0, 4)?,
        digits(text, 4, 2)?,
        digits(text, 6, 2)?,
        digits(text, 9, 2)?,
        digits(text, 11, 2)?,
        digits(text, 13, 2)?,
    )
}

fn digits(text: &str, start: usize, len: usize) -> Option<u32> {
    let part = text.get(start..start + len)?;
    if !part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

fn utc(year: u32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> Option<OffsetDateTime> {
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()?;
    let time = Time::from_hms(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

/// `path` with `suffix` appended to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

fn lock(path: &Path, wait: LockWait, notice: &mut dyn FnMut()) -> Result<File, ManifestError> {
    let lock_path = sibling(path, ".lock");
    let io_error = |action, source| ManifestError::Io {
        path: lock_path.clone(),
        action,
        source,
    };
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| io_error("create", e))?;
    let started = Instant::now();
    let mut noticed = false;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(fs::TryLockError::Error(source)) => return Err(io_error("lock", source)),
            Err(fs::TryLockError::WouldBlock) => {}
        }
        let limit = match wait {
            LockWait::Fail => Duration::ZERO,
            LockWait::Wait(limit) => limit,
        };
        let waited = started.elapsed();
        if waited >= limit {
            return Err(ManifestError::Busy {
                path: path.to_path_buf(),
                lock: lock_path,
                waited: (wait != LockWait::Fail).then_some(waited),
            });
        }
        if !noticed {
            noticed = true;
            notice();
        }
        // Polling, because a blocking `lock` cannot be given a time limit.
        std::thread::sleep(LOCK_POLL.min(limit - waited));
    }
}

/// Writes `contents` to `path` through a temporary file in the same
/// directory (synced, then renamed over it), so a reader or a crash sees the
/// old file or the new one, never a mix. A symlink is written through; an
/// existing file keeps its permissions.
fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    let target = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".capfile-manifest-")
        .suffix(".tmp")
        .tempfile_in(&dir)?;
    temp.write_all(contents)?;
    match fs::metadata(&target) {
        Ok(meta) => fs::set_permissions(temp.path(), meta.permissions())?,
        Err(_) => {
            // A new manifest is an ordinary file, as an editor would make it.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(temp.path(), fs::Permissions::from_mode(0o644))?;
            }
        }
    }
    temp.as_file().sync_all()?;
    temp.persist(&target).map_err(|e| e.error)?;
    sync_parent(&target);
    Ok(())
}

/// Makes a file's creation, rename or removal durable; not every filesystem
/// (or OS) supports syncing a directory, so failure is ignored.
fn sync_parent(path: &Path) {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        if let Ok(dir) = File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

fn render(binding: &Binding, entries: &BTreeMap<String, Entry>) -> String {
    let mut doc = DocumentMut::new();
    let mut header = Table::new();
    header.decor_mut().set_prefix(
        "# capfile upload manifest: what was uploaded, so a re-run sends only what changed.\n\
         # Written by capfile; commit it with the files it describes.\n",
    );
    header.insert("format", Item::Value(Value::from(FORMAT_VERSION)));
    header.insert("origin", Item::Value(Value::from(binding.origin.as_str())));
    header.insert("namespace", Item::Value(Value::from(binding.namespace.as_str())));
    header.insert("body", Item::Value(Value::from(binding.body.as_str())));
    doc.insert("manifest", Item::Table(header));
    let mut files = Table::new();
    files.set_implicit(true);
    for (name, entry) in entries {
        let mut table = Table::new();
        table.decor_mut().set_prefix("\n");
        let mut put = |key: &str, value: Value| {
            table.insert(key, Item::Value(value));
        };
        put("sha256", Value::from(entry.sha256.as_str()));
        // TOML integers are i64; a size beyond that cannot exist on disk.
        put("size", Value::from(i64::try_from(entry.size).unwrap_or(i64::MAX)));
        put("content_type", Value::from(entry.content_type.as_str()));
        put("version", Value::from(entry.version.as_str()));
        if let Some(handle) = &entry.file_handle {
            put("file_handle", Value::from(handle.as_str()));
        }
        if let Some(s3_url) = &entry.s3_url {
            put("s3_url", Value::from(s3_url.as_str()));
        }
        put("secure_file_path", Value::from(entry.secure_file_path.as_str()));
        if let Some(at) = entry.url_expires_at {
            put("url_expires_at", Value::from(format_time(at)));
        }
        put("uploaded_at", Value::from(format_time(entry.uploaded_at)));
        files.insert(name, Item::Table(table));
    }
    doc.insert("files", Item::Table(files));
    doc.to_string()
}

/// Where a parse error points: a 1-based line of the text.
fn line_of(text: &str, span: Option<std::ops::Range<usize>>) -> Option<usize> {
    let offset = span?.start.min(text.len());
    Some(text.get(..offset).unwrap_or(text).matches('\n').count() + 1)
}

fn parse_manifest(path: &Path, bytes: &[u8], binding: &Binding) -> Result<BTreeMap<String, Entry>, ManifestError> {
    let invalid = |line: Option<usize>, message: String| ManifestError::Invalid {
        path: path.to_path_buf(),
        line,
        message,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = line_of(&String::from_utf8_lossy(bytes), Some(e.valid_up_to()..e.valid_up_to()));
        invalid(line, "not UTF-8 text".into())
    })?;
    let doc = toml_edit::Document::parse(text).map_err(|e| {
        invalid(
            line_of(text, e.span()),
            format!("invalid TOML: {}", e.message().trim_end()),
        )
    })?;
    let root = doc.as_table();
    let Some(header) = root.get("manifest").and_then(Item::as_table) else {
        return Err(invalid(Some(1), "not a capfile manifest (no [manifest] table)".into()));
    };
    let header_line = line_of(text, header.span()).or(Some(1));
    let format = match header.get("format") {
        Some(item) => item
            .as_integer()
            .ok_or_else(|| invalid(line_of(text, item.span()), "format is not an integer".into()))?,
        None => return Err(invalid(header_line, "the [manifest] table has no format".into())),
    };
    if format != FORMAT_VERSION {
        return Err(invalid(
            line_of(text, header.get("format").and_then(Item::span)),
            format!(
                "manifest format {format} is not supported (this capfile reads format {FORMAT_VERSION}; a newer capfile may have written it)"
            ),
        ));
    }
    for (field, expected) in [
        ("origin", &binding.origin),
        ("namespace", &binding.namespace),
        ("body", &binding.body),
    ] {
        let found = match header.get(field) {
            Some(item) => item
                .as_str()
                .ok_or_else(|| invalid(line_of(text, item.span()), format!("{field} is not a string")))?,
            None => return Err(invalid(header_line, format!("the [manifest] table has no {field}"))),
        };
        if found != expected {
            return Err(ManifestError::WrongBinding {
                path: path.to_path_buf(),
                field,
                found: found.to_string(),
                expected: expected.clone(),
            });
        }
    }
    let mut entries = BTreeMap::new();
    let Some(files) = root.get("files") else {
        return Ok(entries);
    };
    let Some(files) = files.as_table() else {
        return Err(invalid(line_of(text, files.span()), "files is not a table".into()));
    };
    for (name, item) in files.iter() {
        let Some(table) = item.as_table() else {
            return Err(invalid(
                line_of(text, item.span()),
                format!("files.{name:?} is not a table"),
            ));
        };
        let line = line_of(text, table.span()).or(header_line);
        let entry = entry_from_table(table)
            .map_err(|(span, message)| invalid(line_of(text, span).or(line), format!("entry {name:?}: {message}")))?;
        entries.insert(name.to_string(), entry);
    }
    Ok(entries)
}

type FieldError = (Option<std::ops::Range<usize>>, String);

fn entry_from_table(table: &Table) -> Result<Entry, FieldError> {
    let text = |key: &str| -> Result<Option<String>, FieldError> {
        match table.get(key) {
            None => Ok(None),
            Some(item) => match item.as_value() {
                Some(Value::String(s)) => Ok(Some(s.value().clone())),
                // A hand edit may turn a time into a TOML datetime.
                Some(Value::Datetime(d)) => Ok(Some(d.value().to_string())),
                _ => Err((item.span(), format!("{key} is not a string"))),
            },
        }
    };
    let required = |key: &str| -> Result<String, FieldError> { text(key)?.ok_or_else(|| (None, format!("no {key}"))) };
    let size = match table.get("size") {
        Some(item) => item
            .as_integer()
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| (item.span(), "size is not a non-negative integer".to_string()))?,
        None => return Err((None, "no size".into())),
    };
    let time_field = |key: &str, value: String| {
        parse_time(&value).ok_or_else(|| {
            (
                table.get(key).and_then(Item::span),
                format!("{key} is not a time like 2024-05-08T03:40:59Z"),
            )
        })
    };
    let fields = RawEntry {
        sha256: required("sha256")?,
        size,
        content_type: required("content_type")?,
        version: required("version")?,
        file_handle: text("file_handle")?,
        s3_url: text("s3_url")?,
        secure_file_path: required("secure_file_path")?,
        url_expires_at: text("url_expires_at")?,
        uploaded_at: required("uploaded_at")?,
    };
    if !is_sha256(&fields.sha256) {
        return Err((
            table.get("sha256").and_then(Item::span),
            "sha256 is not 64 hex digits".into(),
        ));
    }
    Ok(Entry {
        sha256: fields.sha256.to_ascii_lowercase(),
        size: fields.size,
        content_type: fields.content_type,
        version: fields.version,
        file_handle: fields.file_handle,
        s3_url: fields.s3_url,
        secure_file_path: fields.secure_file_path,
        url_expires_at: fields
            .url_expires_at
            .map(|v| time_field("url_expires_at", v))
            .transpose()?,
        uploaded_at: time_field("uploaded_at", fields.uploaded_at)?,
    })
}

fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// An entry's fields as text, before their times are checked.
struct RawEntry {
    sha256: String,
    size: u64,
    content_type: String,
    version: String,
    file_handle: Option<String>,
    s3_url: Option<String>,
    secure_file_path: String,
    url_expires_at: Option<String>,
    uploaded_at: String,
}

/// The journal's first line.
#[derive(Serialize, Deserialize)]
struct JournalHeader {
    journal: i64,
    origin: String,
    namespace: String,
    body: String,
}

impl JournalHeader {
    fn of(binding: &Binding) -> Self {
        JournalHeader {
            journal: FORMAT_VERSION,
            origin: binding.origin.clone(),
            namespace: binding.namespace.clone(),
            body: binding.body.clone(),
        }
    }
}

/// One recorded upload in the journal.
#[derive(Serialize, Deserialize)]
struct JournalLine {
    name: String,
    sha256: String,
    size: u64,
    content_type: String,
    version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    file_handle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s3_url: Option<String>,
    secure_file_path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    url_expires_at: Option<String>,
    uploaded_at: String,
}

impl JournalLine {
    fn of(name: &str, entry: &Entry) -> Self {
        JournalLine {
            name: name.to_string(),
            sha256: entry.sha256.clone(),
            size: entry.size,
            content_type: entry.content_type.clone(),
            version: entry.version.clone(),
            file_handle: entry.file_handle.clone(),
            s3_url: entry.s3_url.clone(),
            secure_file_path: entry.secure_file_path.clone(),
            url_expires_at: entry.url_expires_at.map(format_time),
            uploaded_at: format_time(entry.uploaded_at),
        }
    }

    fn into_entry(self) -> Option<(String, Entry)> {
        if !is_sha256(&self.sha256) {
            return None;
        }
        let url_expires_at = match self.url_expires_at {
            Some(at) => Some(parse_time(&at)?),
            None => None,
        };
        Some((
            self.name,
            Entry {
                sha256: self.sha256.to_ascii_lowercase(),
                size: self.size,
                content_type: self.content_type,
                version: self.version,
                file_handle: self.file_handle,
                s3_url: self.s3_url,
                secure_file_path: self.secure_file_path,
                url_expires_at,
                uploaded_at: parse_time(&self.uploaded_at)?,
            },
        ))
    }
}

/// The journal's entries, in order. A last line without its newline was torn
/// by a kill and is ignored; any other bad line is an error.
fn parse_journal(path: &Path, bytes: &[u8], binding: &Binding) -> Result<Vec<(String, Entry)>, ManifestError> {
    let complete = match bytes.iter().rposition(|&b| b == b'\n') {
        Some(last) => &bytes[..=last],
        None => &[][..],
    };
    let mut entries = Vec::new();
    for (index, line) in complete.split(|&b| b == b'\n').enumerate() {
        let number = index + 1;
        if index == 0 {
            if line.is_empty() && complete.is_empty() {
                break;
            }
            let header: JournalHeader = serde_json::from_slice(line).map_err(|e| ManifestError::Invalid {
                path: path.to_path_buf(),
                line: Some(number),
                message: format!("invalid journal header: {e}"),
            })?;
            for (field, found, expected) in [
                ("origin", header.origin, &binding.origin),
                ("namespace", header.namespace, &binding.namespace),
                ("body", header.body, &binding.body),
            ] {
                if &found != expected {
                    return Err(ManifestError::WrongBinding {
                        path: path.to_path_buf(),
                        field,
                        found,
                        expected: expected.clone(),
                    });
                }
            }
            continue;
        }
        if line.is_empty() {
            // What follows the last newline: nothing.
            continue;
        }
        let entry = serde_json::from_slice::<JournalLine>(line)
            .ok()
            .and_then(JournalLine::into_entry)
            .ok_or_else(|| ManifestError::Invalid {
                path: path.to_path_buf(),
                line: Some(number),
                message: "invalid journal entry".into(),
            })?;
        entries.push(entry);
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use time::macros::datetime;

    const WAIT: LockWait = LockWait::Wait(Duration::from_secs(60));

    fn binding() -> Binding {
        Binding {
            origin: "https://eu.api.capillarytech.com".into(),
            namespace: "rewards".into(),
            body: "multipart".into(),
        }
    }

    fn entry(seed: u8) -> Entry {
        Entry {
            sha256: hex::encode([seed; 32]),
            size: 100 + u64::from(seed),
            content_type: "image/png".into(),
            version: seed.to_string(),
            file_handle: Some(format!("handle-{seed}")),
            s3_url: Some(format!("s3:/bucket/rewards/{seed}.png")),
            secure_file_path: format!("https://s3.example/{seed}.png?X-Amz-Date=20240508T034059Z&X-Amz-Expires=3600"),
            url_expires_at: Some(datetime!(2024-05-08 04:40:59 UTC)),
            uploaded_at: datetime!(2024-05-08 03:41:00 UTC),
        }
    }

    /// Opens with a wait: another test's `Command::spawn` forks this process
    /// and the child holds copies of every open file until it execs, which
    /// can keep a just-released lock busy for a moment.
    fn open(path: &Path) -> Manifest {
        Manifest::open(path, &binding(), WAIT).expect("open")
    }

    #[test]
    fn round_trip_keeps_every_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("assets.manifest.toml");
        let mut manifest = open(&path);
        let mut bare = entry(2);
        bare.file_handle = None;
        bare.s3_url = None;
        bare.url_expires_at = None;
        manifest.record("a.png", entry(1)).unwrap();
        manifest.record("dir/with \"quotes\" é.png", bare.clone()).unwrap();
        manifest.finish().unwrap();
        assert!(!sibling(&path, ".journal").exists());

        let manifest = open(&path);
        assert_eq!(manifest.lookup("a.png"), Some(&entry(1)));
        assert_eq!(manifest.lookup("dir/with \"quotes\" é.png"), Some(&bare));
        assert_eq!(manifest.entries().count(), 2);
    }

    #[test]
    fn output_is_sorted_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.toml");
        let mut manifest = open(&path);
        for name in ["c.png", "a.png", "b/z.png", "b.png"] {
            manifest.record(name, entry(7)).unwrap();
        }
        manifest.finish().unwrap();
        let first = fs::read_to_string(&path).unwrap();
        let names: Vec<&str> = first.lines().filter(|l| l.starts_with("[files.")).collect();
        assert_eq!(
            names,
            [
                "[files.\"a.png\"]",
                "[files.\"b.png\"]",
                "[files.\"b/z.png\"]",
                "[files.\"c.png\"]"
            ]
        );
        let keys: Vec<&str> = first
            .split("[files.\"a.png\"]")
            .nth(1)
            .unwrap()
            .split("\n\n")
            .next()
            .unwrap()
            .lines()
            .filter_map(|l| l.split(" = ").next())
            .filter(|k| !k.is_empty())
            .collect();
        assert_eq!(
            keys,
            [
                "sha256",
                "size",
                "content_type",
                "version",
                "file_handle",
                "s3_url",
                "secure_file_path",
                "url_expires_at",
                "uploaded_at"
            ]
        );
        assert!(first.starts_with("# capfile upload manifest"), "{first}");
        assert!(first.contains("url_expires_at = \"2024-05-08T04:40:59Z\""), "{first}");

        // Re-recording the same entries in another order gives the same bytes.
        let mut manifest = open(&path);
        for name in ["b.png", "a.png", "c.png", "b/z.png"] {
            manifest.record(name, entry(7)).unwrap();
        }
        manifest.finish().unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), first);
    }

    #[test]
    fn unchanged_manifest_is_not_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.toml");
        let mut manifest = open(&path);
        manifest.record("a.png", entry(1)).unwrap();
        manifest.finish().unwrap();
        // A hand-added comment survives a run that recorded nothing.
        let edited = format!("{}# kept\n", fs::read_to_string(&path).unwrap());
        fs::write(&path, &edited).unwrap();
        open(&path).finish().unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), edited);
    }

    #[test]
    fn a_killed_run_is_folded_in_from_the_journal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.toml");
        let mut manifest = open(&path);
        manifest.record("old.png", entry(1)).unwrap();
        manifest.finish().unwrap();

        let mut manifest = open(&path);
        manifest.record("a.png", entry(2)).unwrap();
        manifest.record("old.png", entry(3)).unwrap();
        drop(manifest); // killed: no finish
        let journal = sibling(&path, ".journal");
        assert!(journal.exists());
        // The manifest on disk still parses and has the old entry.
        assert!(fs::read_to_string(&path).unwrap().contains("[files.\"old.png\"]"));

        let manifest = open(&path);
        assert_eq!(manifest.lookup("a.png"), Some(&entry(2)));
        assert_eq!(manifest.lookup("old.png"), Some(&entry(3)));
        // Folded in and compacted at once: the journal is gone, the file has both.
        assert!(!journal.exists());
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains("[files.\"a.png\"]"), "{text}");
        drop(manifest);
        assert_eq!(open(&path).lookup("a.png"), Some(&entry(2)));
    }

    #[test]
    fn a_journal_without_a_manifest_is_folded_in() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.toml");
        let mut manifest = open(&path);
        manifest.record("a.png", entry(2)).unwrap();
        drop(manifest);
        assert!(!path.exists());
        assert_eq!(open(&path).lookup("a.png"), Some(&entry(2)));
        assert!(path.exists());
    }

    #[test]
    fn a_torn_last_journal_line_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.toml");
        let mut manifest = open(&path);
        manifest.record("a.png", entry(1)).unwrap();
        manifest.record("b.png", entry(2)).unwrap();
        drop(manifest);
        let journal = sibling(&path, ".journal");
        // SIGKILL in the middle of writing a third line.
        let mut file = OpenOptions::new().append(true).open(&journal).unwrap();
        let line = serde_json::to_string(&JournalLine::of("c.png", &entry(3))).unwrap();
        file.write_all(&line.as_bytes()[..line.len() / 2]).unwrap();
        drop(file);

        let mut manifest = open(&path);
        assert!(manifest.lookup("a.png").is_some() && manifest.lookup("b.png").is_some());
        assert_eq!(manifest.lookup("c.png"), None);
        // New lines after a torn one are never lost.
        manifest.record("d.png", entry(4)).unwrap();
        drop(manifest);
        let manifest = open(&path);
        assert_eq!(manifest.lookup("d.png"), Some(&entry(4)));
        assert_eq!(manifest.entries().count(), 3);
    }

    #[test]
    fn a_torn_journal_header_leaves_an_empty_journal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.toml");
        fs::write(sibling(&path, ".journal"), b"{\"journal\":1,\"ori").unwrap();
        let manifest = open(&path);
        assert_eq!(manifest.entries().count(), 0);
    }

    #[test]
    fn a_bad_complete_journal_line_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.toml");
        let mut manifest = open(&path);
        manifest.record("a.png", entry(1)).unwrap();
        drop(manifest);
        let journal = sibling(&path, ".journal");
        let mut file = OpenOptions::new().append(true).open(&journal).unwrap();
        file.write_all(b"garbage\n").unwrap();
        drop(file);
        let err = Manifest::open(&path, &binding(), WAIT).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage);
        assert_eq!(
            err.to_string(),
            format!("{}:3: invalid journal entry", journal.display())
        );
        assert!(journal.exists());
    }

    #[test]
    fn another_binding_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.toml");
        let mut manifest = open(&path);
        manifest.record("a.png", entry(1)).unwrap();
        manifest.finish().unwrap();
        let before = fs::read(&path).unwrap();
        for (field, other) in [
            (
                "origin",
                Binding {
                    origin: "http://127.0.0.1:8080".into(),
                    ..binding()
                },
            ),
            (
                "namespace",
                Binding {
                    namespace: "other".into(),
                    ..binding()
                },
            ),
            (
                "body",
                Binding {
                    body: "raw".into(),
                    ..binding()
                },
            ),
        ] {
            let err = Manifest::open(&path, &other, WAIT).unwrap_err();
            assert!(
                matches!(err, ManifestError::WrongBinding { field: f, .. } if f == field),
                "{err}"
            );
            assert_eq!(err.kind(), ErrorKind::Usage);
            assert!(
                err.to_string()
                    .starts_with(&format!("manifest {} belongs to {field} ", path.display()))
            );
            assert_eq!(Error::from(err).exit().code(), 2);
        }
        assert_eq!(fs::read(&path).unwrap(), before);

        // A journal of another binding is refused too.
        let mut manifest = Manifest::open(&dir.path().join("n.toml"), &binding(), WAIT).unwrap();
        manifest.record("a.png", entry(1)).unwrap();
        drop(manifest);
        let other = Binding {
            origin: "http://127.0.0.1:8080".into(),
            ..binding()
        };
        let err = Manifest::open(&dir.path().join("n.toml"), &other, WAIT).unwrap_err();
        assert!(matches!(err, ManifestError::WrongBinding { .. }), "{err}");
    }

    #[test]
    fn an_unparsable_manifest_names_the_line_and_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.toml");
        let mut manifest = open(&path);
        manifest.record("a.png", entry(1)).unwrap();
        manifest.record("b.png", entry(2)).unwrap();
        manifest.finish().unwrap();
        let good = fs::read_to_string(&path).unwrap();
        let line_of_b = good.lines().position(|l| l == "[files.\"b.png\"]").unwrap() + 1;

        // A merge conflict left in the file.
        let broken = good.replacen("[files.\"b.png\"]", "<<<<<<< HEAD\n[files.\"b.png\"]", 1);
        fs::write(&path, &broken).unwrap();
        let err = Manifest::open(&path, &binding(), WAIT).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage);
        let shown = err.to_string();
        assert!(
            shown.starts_with(&format!("{}:{line_of_b}: invalid TOML", path.display())),
            "{shown}"
        );
        assert!(!shown.contains('\n'), "{shown}");
        assert_eq!(fs::read_to_string(&path).unwrap(), broken);

        // A bad value names its own line.
        let bad_size = good.replacen("size = 102", "size = \"big\"", 1);
        let size_line = bad_size.lines().position(|l| l == "size = \"big\"").unwrap() + 1;
        fs::write(&path, &bad_size).unwrap();
        let err = Manifest::open(&path, &binding(), WAIT).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}:{size_line}: entry \"b.png\": size is not a non-negative integer",
                path.display()
            )
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), bad_size);

        // Something that is not a manifest at all.
        fs::write(&path, "[profile]\nx = 1\n").unwrap();
        let err = Manifest::open(&path, &binding(), WAIT).unwrap_err();
        assert!(err.to_string().contains("not a capfile manifest"), "{err}");

        // A newer format.
        fs::write(&path, good.replacen("format = 1", "format = 2", 1)).unwrap();
        let err = Manifest::open(&path, &binding(), WAIT).unwrap_err();
        assert!(err.to_string().contains("format 2 is not supported"), "{err}");
    }

    #[test]
    fn a_second_opener_fails_at_once_when_told_not_to_wait() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.toml");
        let first = open(&path);
        let err = Manifest::open(&path, &binding(), LockWait::Fail).unwrap_err();
        assert!(matches!(err, ManifestError::Busy { waited: None, .. }), "{err}");
        assert_eq!(err.kind(), ErrorKind::Failure);
        assert_eq!(
            err.to_string(),
            format!(
                "manifest {} is in use by another capfile process (lock file {}.lock)",
                path.display(),
                path.display()
            )
        );
        let err = Manifest::open(&path, &binding(), LockWait::Wait(Duration::from_millis(1))).unwrap_err();
        assert!(err.to_string().contains("(waited 0 s; lock file "), "{err}");
        drop(first);
        open(&path);
    }

    #[test]
    fn two_runs_on_one_manifest_keep_all_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.toml");
        let mut first = open(&path);
        let (waiting_tx, waiting_rx) = mpsc::channel();
        let second = std::thread::spawn({
            let path = path.clone();
            move || {
                let mut notice = || waiting_tx.send(()).unwrap();
                let mut manifest = Manifest::open_with_notice(
                    &path,
                    &binding(),
                    LockWait::Wait(Duration::from_secs(600)),
                    &mut notice,
                )
                .unwrap();
                for i in 0..20 {
                    manifest.record(&format!("second/{i}.png"), entry(i)).unwrap();
                }
                manifest.finish().unwrap();
            }
        });
        // The second is waiting for the lock: only then does the first work.
        waiting_rx.recv().unwrap();
        for i in 0..20 {
            first.record(&format!("first/{i}.png"), entry(i)).unwrap();
        }
        first.finish().unwrap();
        second.join().unwrap();

        let manifest = open(&path);
        assert_eq!(manifest.entries().count(), 40);
        for i in 0..20 {
            assert_eq!(manifest.lookup(&format!("first/{i}.png")), Some(&entry(i)));
            assert_eq!(manifest.lookup(&format!("second/{i}.png")), Some(&entry(i)));
        }
    }

    /// Run by `a_sigkilled_process_loses_nothing_it_reported` in a child
    /// process: records entries until killed, printing each name once
    /// `record` has returned. Does nothing in a normal test run.
    #[test]
    fn sigkill_child() {
        let Some(path) = std::env::var_os("CAPFILE_MANIFEST_KILL_CHILD") else {
            return;
        };
        let mut manifest = open(Path::new(&path));
        let mut stdout = io::stdout().lock();
        for i in 0u32.. {
            let name = format!("batch/{i}.png");
            manifest.record(&name, entry((i % 200) as u8)).unwrap();
            writeln!(stdout, "recorded {name}").unwrap();
            stdout.flush().unwrap();
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_sigkilled_process_loses_nothing_it_reported() {
        use std::io::BufRead;
        use std::process::{Command, Stdio};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.toml");
        let mut manifest = open(&path);
        manifest.record("before.png", entry(1)).unwrap();
        manifest.finish().unwrap();

        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "manifest::tests::sigkill_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("CAPFILE_MANIFEST_KILL_CHILD", &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = io::BufReader::new(child.stdout.take().unwrap()).lines();
        let mut reported = Vec::new();
        while reported.len() < 200 {
            let line = lines.next().expect("the child ended early").unwrap();
            if let Some(name) = line.strip_prefix("recorded ") {
                reported.push(name.to_string());
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Whatever it printed before it died counts too.
        reported.extend(
            lines
                .map_while(Result::ok)
                .filter_map(|l| l.strip_prefix("recorded ").map(str::to_string)),
        );

        let manifest = open(&path);
        assert!(manifest.lookup("before.png").is_some());
        for name in &reported {
            assert!(
                manifest.lookup(name).is_some(),
                "{name} was reported but is not in the manifest"
            );
        }
        drop(manifest);
        // And the manifest on disk parses without the journal.
        assert!(!sibling(&path, ".journal").exists());
        let text = fs::read_to_string(&path).unwrap();
        assert!(toml_edit::Document::parse(text.as_str()).is_ok());
    }

    #[test]
    fn decisions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.toml");
        let mut manifest = open(&path);
        let e = entry(1);
        manifest.record("a.png", e.clone()).unwrap();
        let before = datetime!(2024-05-08 04:00:00 UTC);
        let after = datetime!(2024-05-08 05:00:00 UTC);
        let refresh = Policy {
            force: false,
            refresh_expired: true,
        };
        let keep = Policy {
            force: false,
            refresh_expired: false,
        };
        let force = Policy {
            force: true,
            refresh_expired: false,
        };
        let hash = Some(e.sha256.as_str());
        let other = hex::encode([9u8; 32]);

        assert_eq!(
            manifest.decide("b.png", e.size, None, before, refresh),
            Decision::Upload(Reason::New)
        );
        assert_eq!(
            manifest.decide("a.png", e.size + 1, None, before, refresh),
            Decision::Upload(Reason::Changed)
        );
        assert_eq!(
            manifest.decide("a.png", e.size, None, before, refresh),
            Decision::HashFirst
        );
        assert_eq!(
            manifest.decide("a.png", e.size, hash, before, refresh),
            Decision::Skip(&e)
        );
        assert_eq!(
            manifest.decide("a.png", e.size, Some(&e.sha256.to_uppercase()), before, refresh),
            Decision::Skip(&e)
        );
        assert_eq!(
            manifest.decide("a.png", e.size, Some(&other), before, refresh),
            Decision::Upload(Reason::Changed)
        );
        assert_eq!(
            manifest.decide("a.png", e.size, None, after, refresh),
            Decision::Upload(Reason::Expired)
        );
        assert_eq!(manifest.decide("a.png", e.size, hash, after, keep), Decision::Skip(&e));
        assert_eq!(
            manifest.decide("a.png", e.size, hash, before, force),
            Decision::Upload(Reason::Forced)
        );

        assert!(manifest.must_hash_first("a.png", e.size, before, refresh));
        assert!(!manifest.must_hash_first("a.png", e.size, after, refresh));
        assert!(manifest.must_hash_first("a.png", e.size, after, keep));
        assert!(!manifest.must_hash_first("a.png", e.size + 1, before, refresh));
        assert!(!manifest.must_hash_first("new.png", 5, before, refresh));
        assert!(!manifest.must_hash_first("a.png", e.size, before, force));

        // Within the margin counts as expired; without an expiry, never.
        assert!(e.url_expired(datetime!(2024-05-08 04:36:00 UTC)));
        assert!(!e.url_expired(datetime!(2024-05-08 04:35:00 UTC)));
        let forever = Entry {
            url_expires_at: None,
            ..e.clone()
        };
        assert!(!forever.url_expired(after));
    }

    #[test]
    fn expiry_of_an_aws_url() {
        // The sample response in the vendor notes
        // (shared/api/upload-images-to-file-service.md).
        let sample = "https://eucrm-solutions.s3-eu-west-1.amazonaws.com/rewards/100606/b21f3aea-ad38-4634-82a4-db2aaa0b.png?X-Amz-Security-Token=FwoGZXIvYXdzEJ3%2F%2F%2F%2F%2F%2F%2F%2F%2F%2FwEaDPltNW6lwqLl1xXlfyLIAaxPIuF7uCnnmqOoXU72eVlsn0Lut7GRbf7kme0GYrC8dqLV4UeWGGwizdrjT2QcANwqoAJRYQDvHYHndQuRt8Rvs3%2B%2BaXtUaW6YYekA65tkH%2BeSg2YaEoTRGuep7rOxHGSmpCaxJ767Za3vi6B3CpeYh5U1LZOeJHS5v3uLCdTHleIj8mutjwoX1OuWlPxEwxAtOOABU7ISXrJxTwVfMWANzfuxNyN2jR0kKpRNHq%2FozXEsVuw2owTyr9VK6wwCeMS5MDVZjANIKI7k67EGMi0%2F6Je5Y9Alnn8IgGBzdYmeEub7mDk1%2FBzhZwySJ4O1osP2n6iWFi%2FEyeaPeco%3D&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20240508T034059Z&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Credential=ASIAXKEP2EMBVBC5UMM3%2F20240508%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Signature=86c114267239ef985ff81c32ad0fa1d6b0618c70e42c2a74217ea1e5d6eec1a8";
        assert_eq!(expiry_of(sample), Some(datetime!(2024-05-08 04:40:59 UTC)));
        assert_eq!(expiry_of("https://s3.example/a.png"), None);
        assert_eq!(
            expiry_of("https://s3.example/a.png?X-Amz-Date=2024&X-Amz-Expires=3600"),
            None
        );
        assert_eq!(
            expiry_of("https://s3.example/a.png?X-Amz-Date=20240508T034059Z&X-Amz-Expires=-1"),
            None
        );
        assert_eq!(expiry_of("not a url"), None);
    }

    #[test]
    fn expiry_of_an_emulator_url() {
        // The shape of src/emulator/signing.rs's `UrlSigner::sign` (private there).
        let url = "http://127.0.0.1:4321/files/rewards/1/a.png?expires=1715139659&signature=0a1b2c";
        assert_eq!(expiry_of(url), Some(datetime!(2024-05-08 03:40:59 UTC)));
        assert_eq!(expiry_of("http://127.0.0.1:1/files/x?expires=soon&signature=ab"), None);
    }

    #[test]
    fn a_failed_record_names_the_journal_and_records_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.toml");
        let mut manifest = open(&path);
        let journal = sibling(&path, ".journal");
        fs::create_dir(&journal).unwrap();
        let err = manifest.record("a.png", entry(1)).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("cannot write {}: ", journal.display())),
            "{err}"
        );
        assert_eq!(err.kind(), ErrorKind::Failure);
        assert_eq!(manifest.lookup("a.png"), None);
    }

    #[test]
    fn a_binding_names_the_origin_only() {
        let url = url::Url::parse("https://EU.api.capillarytech.com:443/v1/api_gateway?x=1").unwrap();
        assert_eq!(
            Binding::new(&url, "rewards", "raw").origin,
            "https://eu.api.capillarytech.com"
        );
        let url = url::Url::parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(Binding::new(&url, "rewards", "raw").origin, "http://127.0.0.1:8080");
    }

    #[test]
    fn times_round_trip() {
        let at = datetime!(2024-05-08 03:40:59.75 UTC);
        assert_eq!(format_time(at), "2024-05-08T03:40:59Z");
        assert_eq!(
            parse_time("2024-05-08T03:40:59Z"),
            Some(datetime!(2024-05-08 03:40:59 UTC))
        );
        for bad in [
            "2024-05-08 03:40:59Z",
            "2024-13-08T03:40:59Z",
            "2024-05-08T03:40:59+01:00",
            "",
            "2024-05-08T03:4a:59Z",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn hashing_streamed_and_whole_agree() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.bin");
        let data: Vec<u8> = (0..HASH_BUFFER * 2 + 17).map(|i| (i % 251) as u8).collect();
        fs::write(&path, &data).unwrap();
        let mut streamed = ContentHasher::new();
        for chunk in data.chunks(10_000) {
            streamed.update(chunk);
        }
        assert_eq!(streamed.size(), data.len() as u64);
        let whole = hash_file(&path).unwrap();
        assert_eq!(streamed.finish(), whole);
        assert_eq!(whole.0, hex::encode(Sha256::digest(&data)));
        assert_eq!(
            ContentHasher::new().finish().0,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
