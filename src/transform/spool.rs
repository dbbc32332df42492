//! Transformed bytes in a private temporary file, for the upload to stream
//! from like any other file: created 0600 in the system's temp directory
//! (`tempfile`), and removed when the [`Spooled`] is dropped, which the
//! batch does after the upload, on a failure, and when Ctrl-C or SIGTERM
//! cancels the uploads in flight. The original is only ever read.

use std::io::{self, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::Transformed;

/// A transformed image on disk, removed on drop.
#[derive(Debug)]
pub(crate) struct Spooled {
    file: tempfile::NamedTempFile,
    pub size: u64,
    /// SHA-256 of the bytes, lower-case hex.
    pub sha256: String,
    pub transformed: Transformed,
}

impl Spooled {
    pub(crate) fn path(&self) -> &Path {
        self.file.path()
    }
}

/// Writes `transformed` to a new private temporary file. The pixels are
/// dropped from memory once written; `transformed.bytes` is left empty.
pub(crate) fn spool(mut transformed: Transformed) -> io::Result<Spooled> {
    let mut file = tempfile::Builder::new().prefix(".capfile-fit-").tempfile()?;
    file.write_all(&transformed.bytes)?;
    file.flush()?;
    let size = transformed.bytes.len() as u64;
    let sha256 = hex::encode(Sha256::digest(&transformed.bytes));
    transformed.bytes = Vec::new();
    Ok(Spooled {
        file,
        size,
        sha256,
        transformed,
    })
}
