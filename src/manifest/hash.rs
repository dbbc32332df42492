//! Content hashes: streamed while uploading, or of a whole file.

use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::*;

/// A streaming SHA-256 of a file's content, fed each chunk as the uploader
/// reads it.
#[derive(Clone, Debug, Default)]
pub(crate) struct ContentHasher {
    hasher: Sha256,
    size: u64,
}

impl ContentHasher {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn update(&mut self, chunk: &[u8]) {
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
    }

    #[cfg(test)]
    /// The bytes fed so far.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// The lower-case hex SHA-256 and the size of everything fed.
    pub(crate) fn finish(self) -> (String, u64) {
        (hex::encode(self.hasher.finalize()), self.size)
    }
}

/// Hashes a whole file in large reads: its lower-case hex SHA-256 and size.
/// Only a regular file (opened without blocking: a FIFO swapped in since the
/// inputs were checked is refused, not waited on).
pub(crate) fn hash_file(path: &Path) -> io::Result<(String, u64)> {
    let mut file = crate::fsio::open_regular(path)?;
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
