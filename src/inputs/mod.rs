//! The inputs of an upload: which bytes go under which remote name.
//!
//! Every input is checked here, before the first byte is sent: the remote name
//! is valid, the file exists, is readable, is not empty, and is an image (by its
//! magic bytes). All problems are collected, so one run reports every bad file of
//! a batch at once, and the batch is refused whole: nothing half-sent. The
//! checked inputs are held compactly ([`Inputs`], about 16 bytes and the name
//! for a file found by `-r`), so a batch of 100,000 costs a few MiB.

use std::borrow::Cow;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

pub(crate) use self::error::InputError;
use crate::fsio;
use crate::media_type;

mod error;
mod images;
mod list;
mod walk;

pub(crate) use list::{Inputs, Skipped};

/// A file name as the file service will store it (boxed: a batch holds one
/// per input).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RemoteName(Box<str>);

/// Characters left as they are in a URL path segment: RFC 3986 "unreserved".
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

impl RemoteName {
    /// Refuses what cannot be a file name on the service: empty, `.`, `..`, or
    /// containing a path separator or a control character.
    pub fn parse(name: &str) -> Result<RemoteName, NameError> {
        check_name(name)?;
        Ok(RemoteName(name.into()))
    }

    /// As `parse`, keeping the string's allocation.
    fn parse_owned(name: String) -> Result<RemoteName, NameError> {
        check_name(&name)?;
        Ok(RemoteName(name.into_boxed_str()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as one percent-encoded URL path segment.
    pub fn url_segment(&self) -> String {
        utf8_percent_encode(&self.0, SEGMENT).to_string()
    }
}

fn check_name(name: &str) -> Result<(), NameError> {
    {
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name == "." || name == ".." {
            return Err(NameError::Dots(name.to_string()));
        }
        if name.contains(['/', '\\']) {
            return Err(NameError::Separator(name.to_string()));
        }
        if name.chars().any(char::is_control) {
            return Err(NameError::Control(name.to_string()));
        }
        Ok(())
    }
}

impl std::fmt::Display for RemoteName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a name cannot be a file name on the service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NameError {
    Empty,
    /// `.` or `..`.
    Dots(String),
    /// Holds `/` or `\\`.
    Separator(String),
    /// Holds a control character (shown escaped).
    Control(String),
}

impl std::fmt::Display for NameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NameError::Empty => f.write_str("the remote name is empty"),
            NameError::Dots(name) => write!(f, "`{name}` is not a file name"),
            NameError::Separator(name) => write!(f, "remote name {name:?} contains a path separator"),
            NameError::Control(name) => write!(f, "remote name {name:?} contains a control character"),
        }
    }
}

impl std::error::Error for NameError {}

/// Where an input's bytes come from.
#[derive(Clone, Debug)]
pub(crate) enum Source {
    File(Box<Path>),
    /// A file found by `-r` under its own name: the directory it is in
    /// (shared with its siblings) joined with the remote name.
    InDir(Arc<Path>),
    /// Standard input, spooled to a temporary file so a retry can resend it.
    Spooled(Arc<tempfile::NamedTempFile>),
    /// No body: the service creates a placeholder. Holds the input as the
    /// user named it, for messages.
    Placeholder(Box<str>),
}

/// One checked upload (made whole from [`Inputs`] when it is used).
#[derive(Debug)]
pub(crate) struct Input {
    pub remote: RemoteName,
    pub source: Source,
    pub size: u64,
    pub mime: &'static str,
}

impl Input {
    /// How the user named it, for messages: the path (quoted as needed), the
    /// `--name` of standard input, or the placeholder as given.
    pub(crate) fn label(&self) -> String {
        match &self.source {
            Source::File(path) => crate::output::quote_path(&path.to_string_lossy()),
            Source::InDir(dir) => crate::output::quote_path(&dir.join(self.remote.as_str()).to_string_lossy()),
            // Reported under the name it was given, not `-`.
            Source::Spooled(_) => self.remote.to_string(),
            Source::Placeholder(label) => label.to_string(),
        }
    }

    /// The file to stream the body from, if there is a body.
    pub(crate) fn body_path(&self) -> Option<Cow<'_, Path>> {
        match &self.source {
            Source::File(path) => Some(Cow::Borrowed(path)),
            Source::InDir(dir) => Some(Cow::Owned(dir.join(self.remote.as_str()))),
            Source::Spooled(file) => Some(Cow::Borrowed(file.path())),
            Source::Placeholder(_) => None,
        }
    }
}

/// What the user asked for, beside the list of inputs.
#[derive(Clone, Debug, Default)]
pub(crate) struct Options {
    pub name: Option<String>,
    pub placeholder: bool,
    pub recursive: bool,
    pub allow_any_type: bool,
    /// Name each file after its path (`en/banner.png` -> `en_banner.png`;
    /// under a directory given with -r, the path below that directory).
    pub name_from_path: bool,
    /// The upload policy every image is held to (with none, the default
    /// `max_pixels` still applies).
    pub policy: Option<Arc<crate::policy::Policy>>,
    /// What each image is made into before it is sent; the policy is held
    /// to the result.
    pub transform: Option<Arc<crate::transform::Settings>>,
}

/// The inputs named on the command line, then those listed in the
/// `--files-from` file (`-`: standard input), one per line or, with `nul`,
/// NUL-separated as `find -print0` writes them. Empty entries are skipped;
/// a line's trailing `\r` is dropped.
pub(crate) fn with_listed(files: &[PathBuf], files_from: Option<&Path>, nul: bool) -> Result<Vec<PathBuf>, InputError> {
    let mut all = files.to_vec();
    let Some(list) = files_from else {
        return Ok(all);
    };
    let label = crate::output::quote_path(&list.to_string_lossy());
    if list.as_os_str() == "-" && files.iter().any(|f| f.as_os_str() == "-") {
        return Err(InputError::StdinTwice);
    }
    let read = if list.as_os_str() == "-" {
        read_list(io::stdin().lock(), nul, &mut all)
    } else {
        fsio::open_regular(list).and_then(|file| read_list(io::BufReader::new(file), nul, &mut all))
    };
    read.map_err(|e| io_error(&format!("--files-from {label}"), e))?;
    if all.is_empty() {
        return Err(InputError::EmptyList { label });
    }
    Ok(all)
}

/// The bounds of a `--files-from` list: an entry is a path (at most a few KiB
/// on any system), and a list names at most millions of files. Standard input
/// that never ends (`/dev/zero`) stops at one of them.
const LIST_LIMITS: fsio::Limits = fsio::Limits {
    line: 64 << 10,
    total: 1 << 30,
    lines: 10_000_000,
};

/// Adds the paths of a `--files-from` list, read an entry at a time (the
/// list is not held whole beside them), within [`LIST_LIMITS`].
fn read_list(reader: impl io::BufRead, nul: bool, paths: &mut Vec<PathBuf>) -> io::Result<()> {
    let separator = if nul { b'\0' } else { b'\n' };
    let mut lines = fsio::Lines::new(reader, separator, LIST_LIMITS);
    let mut entry = Vec::new();
    while lines.next_into(&mut entry)?.is_some() {
        if !nul && entry.last() == Some(&b'\r') {
            entry.pop();
        }
        // As rsync and rclone read a list: a line starting with `#` or `;`
        // is a comment (name such a file `./#a.png`). A NUL-separated list
        // comes from a program, and is taken as it is.
        if !nul && matches!(entry.first(), Some(b'#' | b';')) {
            entry.clear();
            continue;
        }
        if !entry.is_empty() {
            paths.push(path_of_bytes(std::mem::take(&mut entry)));
        }
    }
    Ok(())
}

#[cfg(unix)]
fn path_of_bytes(bytes: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}

#[cfg(not(unix))]
fn path_of_bytes(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
}

/// The remote name `--name-from-path` gives `path`: its normal components
/// (no root, `.` or `..`) joined with `_`.
fn name_from_path(path: &Path) -> String {
    path.components()
        .filter_map(|c| match c {
            std::path::Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("_")
}

/// The MIME type sent for files that are not images, with `--allow-any-type`.
pub(crate) const ANY_TYPE: &str = "application/octet-stream";

/// Checks every input; on any problem returns all of them (as usage errors).
/// `stdin` is read only when an input is `-`.
/// A file's path becomes its input's source without a copy.
pub(crate) fn collect(files: Vec<PathBuf>, options: &Options, stdin: &mut dyn Read) -> Result<Inputs, Vec<InputError>> {
    let mut inputs = Inputs::default();
    let mut errors = Vec::new();

    if options.name.is_some() && files.len() != 1 {
        errors.push(InputError::NameNeedsOneInput);
    }
    if files.iter().filter(|f| f.as_os_str() == "-").count() > 1 {
        errors.push(InputError::StdinTwice);
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    for file in files {
        let result = if options.placeholder {
            placeholder(&file, options).and_then(|input| inputs.push(input))
        } else if file.as_os_str() == "-" {
            spool_stdin(options, stdin).and_then(|input| inputs.push(input))
        } else {
            from_path(file, options, &mut inputs)
        };
        if let Err(err) = result {
            errors.push(err);
        }
    }

    duplicates(&inputs, &mut errors);
    images::check(
        &inputs,
        options.policy.as_ref(),
        options.transform.as_deref(),
        &mut errors,
    );
    if inputs.is_empty() && errors.is_empty() {
        errors.push(InputError::NoImagesFound);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // The list lives until the batch ends: no spare capacity.
    inputs.shrink_to_fit();
    Ok(inputs)
}

/// Refuses a remote name used twice, naming the first input that used it.
fn duplicates(inputs: &Inputs, errors: &mut Vec<InputError>) {
    for (later, first) in inputs.duplicates() {
        if let (Some(input), Some(first)) = (inputs.get(later), inputs.get(first)) {
            errors.push(InputError::DuplicateName {
                label: input.label(),
                remote: input.remote.to_string(),
                first: first.label(),
            });
        }
    }
}

fn placeholder(file: &Path, options: &Options) -> Result<Input, InputError> {
    let label = crate::output::quote_path(&file.to_string_lossy());
    let name = options
        .name
        .clone()
        .unwrap_or_else(|| file.to_string_lossy().into_owned());
    let remote = RemoteName::parse(&name).map_err(|source| bad_name(&label, source))?;
    Ok(Input {
        remote,
        source: Source::Placeholder(label.into()),
        size: 0,
        mime: ANY_TYPE,
    })
}

/// The most standard input capfile spools: no image it uploads is near it,
/// and an endless stream must not fill the temporary directory.
/// `CAPFILE_TEST_SPOOL_LIMIT` (undocumented, for tests) lowers it.
const SPOOL_LIMIT: u64 = 1 << 30;

fn spool_limit() -> u64 {
    std::env::var("CAPFILE_TEST_SPOOL_LIMIT")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(SPOOL_LIMIT, |v: u64| v.min(SPOOL_LIMIT))
}

/// Spools standard input to a temporary file, after checking its first
/// bytes: a non-image is refused before the rest is read, and the spool
/// stops at [`SPOOL_LIMIT`] (the temporary file is then removed).
fn spool_stdin(options: &Options, stdin: &mut dyn Read) -> Result<Input, InputError> {
    let label = "-".to_string();
    let Some(name) = &options.name else {
        return Err(InputError::StdinNeedsName);
    };
    let remote = RemoteName::parse(name).map_err(|source| bad_name(&label, source))?;
    let cause = InputError::Spool;
    let mut head = Vec::with_capacity(media_type::SNIFF_LEN);
    stdin
        .take(media_type::SNIFF_LEN as u64)
        .read_to_end(&mut head)
        .map_err(cause)?;
    let mime = check_head(&head, &label, options)?;
    let limit = spool_limit();
    let mut spool = tempfile::NamedTempFile::new().map_err(cause)?;
    io::Write::write_all(&mut spool, &head).map_err(cause)?;
    let rest = io::copy(&mut stdin.take(limit + 1 - head.len() as u64), &mut spool).map_err(cause)?;
    let size = head.len() as u64 + rest;
    if size > limit {
        return Err(InputError::Spool(fsio::ReadError::TooLarge { limit }.into()));
    }
    Ok(Input {
        remote,
        source: Source::Spooled(Arc::new(spool)),
        size,
        mime,
    })
}

/// Adds the file at `path`, or with -r the images of the directory there.
fn from_path(path: PathBuf, options: &Options, inputs: &mut Inputs) -> Result<(), InputError> {
    let label = crate::output::quote_path(&path.to_string_lossy());
    let meta = fs::metadata(&path).map_err(|e| io_error(&label, e))?;
    let kind = fsio::FileKind::of(&meta);
    if !matches!(kind, fsio::FileKind::Regular | fsio::FileKind::Directory) {
        // Said for what it is, before any open: a FIFO would block it.
        return Err(io_error(&label, fsio::ReadError::NotRegular(kind).into()));
    }
    if meta.is_dir() {
        if !options.recursive {
            return Err(InputError::IsDirectory { label });
        }
        if options.name.is_some() {
            return Err(InputError::NameForDirectory { label });
        }
        return walk::walk(&path, options, inputs);
    }
    let base = match &options.name {
        Some(name) => name.clone(),
        None if options.name_from_path => name_from_path(&path),
        None => match path.file_name() {
            Some(base) => base.to_string_lossy().into_owned(),
            None => return Err(InputError::NoFileName { label }),
        },
    };
    let remote = RemoteName::parse(&base).map_err(|source| bad_name(&label, source))?;
    let mime = check_content(&path, &label, meta.len(), options)?;
    inputs.push(Input {
        remote,
        source: Source::File(path.into_boxed_path()),
        size: meta.len(),
        mime,
    })
}

/// The content checks of a file: not empty, and an image by its first bytes.
fn check_content(path: &Path, label: &str, size: u64, options: &Options) -> Result<&'static str, InputError> {
    if size == 0 {
        return Err(InputError::EmptyFile {
            label: label.to_string(),
        });
    }
    let head = read_head(path).map_err(|e| io_error(label, e))?;
    check_head(&head, label, options)
}

/// The checks of an input's first bytes, shared by files and standard input.
fn check_head(head: &[u8], label: &str, options: &Options) -> Result<&'static str, InputError> {
    if head.is_empty() {
        return Err(InputError::EmptyFile {
            label: label.to_string(),
        });
    }
    match media_type::sniff(head) {
        Some(mime) => Ok(mime),
        None if options.allow_any_type => Ok(ANY_TYPE),
        None => Err(InputError::NotAnImage {
            label: label.to_string(),
        }),
    }
}

/// The first bytes of a regular file (anything else is refused unread).
fn read_head(path: &Path) -> io::Result<Vec<u8>> {
    fsio::read_head(path, media_type::SNIFF_LEN)
}

fn io_error(label: &str, err: io::Error) -> InputError {
    InputError::Io {
        label: label.to_string(),
        source: err,
    }
}

fn bad_name(label: &str, source: NameError) -> InputError {
    InputError::BadName {
        label: label.to_string(),
        source,
    }
}

#[cfg(test)]
mod tests;
