//! The one way capfile reads (and opens for its own writing) a file: bounded.
//!
//! Every file capfile reads goes through here: inputs (their first bytes, and
//! their bodies), `--files-from` lists, `--report`/`--retry-from` reports, the
//! manifest and its journal, config and credentials files, standard input.
//! A named file is opened with `O_NONBLOCK` (so a FIFO never blocks the open)
//! and checked with `fstat` on the open descriptor to be a regular file before
//! a byte is read; what it is otherwise is said ("is a FIFO", "is a character
//! device"). A whole file read into memory has a size cap, checked against its
//! size before reading and again while reading; a file or stream read a line
//! (or a NUL-ended entry) at a time has a line-length cap and a total cap, so
//! `/dev/zero` piped in ends with an error instead of filling memory or
//! spinning. The errors are [`ReadError`]s carried inside an `io::Error`, so
//! every caller's message stays "cannot read X: <cause>"; [`ReadError::of`]
//! finds one again.
//!
//! Files capfile writes beside another (the manifest's lock and journal) are
//! opened with `O_NOFOLLOW` by [`open_own`], and refused when they are not
//! regular files.

use std::fmt;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, BufRead, Read};
use std::path::Path;

/// What a path is, as far as reading it goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Regular,
    Directory,
    Fifo,
    CharDevice,
    BlockDevice,
    Socket,
    Symlink,
    Other,
}

impl FileKind {
    pub fn of(meta: &Metadata) -> FileKind {
        let ft = meta.file_type();
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if ft.is_fifo() {
                return FileKind::Fifo;
            }
            if ft.is_char_device() {
                return FileKind::CharDevice;
            }
            if ft.is_block_device() {
                return FileKind::BlockDevice;
            }
            if ft.is_socket() {
                return FileKind::Socket;
            }
        }
        if ft.is_file() {
            FileKind::Regular
        } else if ft.is_dir() {
            FileKind::Directory
        } else if ft.is_symlink() {
            FileKind::Symlink
        } else {
            FileKind::Other
        }
    }

    /// "a FIFO", "a character device", ...
    pub fn describe(self) -> &'static str {
        match self {
            FileKind::Regular => "a regular file",
            FileKind::Directory => "a directory",
            FileKind::Fifo => "a FIFO (named pipe)",
            FileKind::CharDevice => "a character device",
            FileKind::BlockDevice => "a block device",
            FileKind::Socket => "a socket",
            FileKind::Symlink => "a symbolic link",
            FileKind::Other => "not a regular file",
        }
    }
}

/// Why a bounded read refused a file. Shown after "cannot read FILE: ".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// Not a regular file: what it is.
    NotRegular(FileKind),
    /// A symbolic link where capfile keeps a file of its own.
    Symlink,
    /// More than `limit` bytes.
    TooLarge { limit: u64 },
    /// Line (or entry) `line` is longer than `limit` bytes.
    LineTooLong { line: usize, limit: usize },
    /// More than `limit` lines (or entries), empty ones included.
    TooManyLines { limit: usize },
}

impl ReadError {
    /// The `ReadError` inside an `io::Error`, if it carries one.
    pub fn of(err: &io::Error) -> Option<&ReadError> {
        err.get_ref().and_then(|inner| inner.downcast_ref::<ReadError>())
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotRegular(kind) => write!(f, "it is {}, not a regular file", kind.describe()),
            ReadError::Symlink => f.write_str("it is a symbolic link; capfile does not follow one here"),
            ReadError::TooLarge { limit } => write!(f, "it is larger than {}", size_text(*limit)),
            ReadError::LineTooLong { line, limit } => {
                write!(f, "line {line} is longer than {}", size_text(*limit as u64))
            }
            ReadError::TooManyLines { limit } => write!(f, "it has more than {limit} lines"),
        }
    }
}

impl std::error::Error for ReadError {}

impl From<ReadError> for io::Error {
    fn from(err: ReadError) -> io::Error {
        let kind = match err {
            ReadError::TooLarge { .. } => io::ErrorKind::FileTooLarge,
            _ => io::ErrorKind::InvalidInput,
        };
        io::Error::new(kind, err)
    }
}

/// `limit` in the largest whole unit: "1 MiB", "64 KiB", "100 bytes".
pub(crate) fn size_text(limit: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (unit, name) in UNITS {
        if limit >= unit && limit.is_multiple_of(unit) {
            return format!("{} {name}", limit / unit);
        }
    }
    format!("{limit} bytes")
}

/// Opens `path` for reading without blocking on a FIFO, and refuses anything
/// but a regular file (checked on the open descriptor, so a file swapped for a
/// FIFO after an earlier check is still caught). A regular file ignores
/// `O_NONBLOCK`, so reads behave as usual.
pub(crate) fn open_regular(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    check_regular(&file)?;
    Ok(file)
}

/// Refuses an open file that is not a regular file, saying what it is.
pub(crate) fn check_regular(file: &File) -> io::Result<Metadata> {
    let meta = file.metadata()?;
    match FileKind::of(&meta) {
        FileKind::Regular => Ok(meta),
        kind => Err(ReadError::NotRegular(kind).into()),
    }
}

/// Reads the whole regular file at `path`, refusing one over `limit` bytes
/// (by its size first, then by what reading it gives, in case it grows).
pub(crate) fn read_regular(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    read_capped(open_regular(path)?, limit)
}

fn read_capped(file: File, limit: u64) -> io::Result<Vec<u8>> {
    let size = file.metadata()?.len();
    if size > limit {
        return Err(ReadError::TooLarge { limit }.into());
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit }.into());
    }
    Ok(bytes)
}

/// The first `len` bytes (or fewer) of the regular file at `path`.
pub(crate) fn read_head(path: &Path, len: usize) -> io::Result<Vec<u8>> {
    let file = open_regular(path)?;
    let mut head = Vec::with_capacity(len);
    file.take(len as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// Opens (creating it if needed) a file capfile keeps for itself beside a
/// user's file, such as a lock or a journal: never through a symbolic link,
/// and only when it is a regular file.
pub(crate) fn open_own(path: &Path, options: &mut OpenOptions) -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|err| {
        // ELOOP is what O_NOFOLLOW answers for a symbolic link.
        #[cfg(unix)]
        if err.raw_os_error() == Some(libc::ELOOP) {
            return ReadError::Symlink.into();
        }
        err
    })?;
    check_regular(&file)?;
    Ok(file)
}

/// Reads the whole of a file capfile keeps for itself (see [`open_own`]),
/// of at most `limit` bytes.
pub(crate) fn read_own(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let file = open_own(path, OpenOptions::new().read(true))?;
    read_capped(file, limit)
}

/// The limits of a line-at-a-time read.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// The longest line (or entry), separator excluded.
    pub line: usize,
    /// The most bytes read in all.
    pub total: u64,
    /// The most lines (or entries), empty ones included: bounds the time
    /// spent on a stream of separators alone.
    pub lines: usize,
}

/// Reads lines (or entries ended by another byte) with [`Limits`], from a
/// regular file or a stream. Memory is bounded by the line limit; time by the
/// total limit, even when every entry is empty.
pub(crate) struct Lines<R> {
    reader: R,
    separator: u8,
    limits: Limits,
    read: u64,
    number: usize,
}

impl<R: BufRead> Lines<R> {
    pub(crate) fn new(reader: R, separator: u8, limits: Limits) -> Self {
        Lines {
            reader,
            separator,
            limits,
            read: 0,
            number: 0,
        }
    }

    /// The number of the line last read (1-based).
    pub(crate) fn number(&self) -> usize {
        self.number
    }

    /// Reads the next line into `buf` (cleared first, separator excluded).
    /// `Ok(None)` at the end; `Ok(Some(complete))` otherwise, `complete`
    /// false for a last line with no separator.
    pub(crate) fn next_into(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<bool>> {
        buf.clear();
        let mut any = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(available) => available,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            };
            if available.is_empty() {
                return Ok(any.then_some(false));
            }
            if !any {
                any = true;
                self.number += 1;
                if self.number > self.limits.lines {
                    return Err(ReadError::TooManyLines {
                        limit: self.limits.lines,
                    }
                    .into());
                }
            }
            let (take, done) = match available.iter().position(|&b| b == self.separator) {
                Some(at) => (at + 1, true),
                None => (available.len(), false),
            };
            let content = if done { take - 1 } else { take };
            if buf.len() + content > self.limits.line {
                return Err(ReadError::LineTooLong {
                    line: self.number,
                    limit: self.limits.line,
                }
                .into());
            }
            self.read += take as u64;
            if self.read > self.limits.total {
                return Err(ReadError::TooLarge {
                    limit: self.limits.total,
                }
                .into());
            }
            buf.extend_from_slice(&available[..content]);
            self.reader.consume(take);
            if done {
                return Ok(Some(true));
            }
        }
    }
}

#[cfg(test)]
mod tests;
