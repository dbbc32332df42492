//! The transforms of one input on its way out (`crate::transform`), run in
//! the input's own upload job: its source is read once (through the bounded
//! opener), hashed, transformed on a blocking thread and spooled to a private
//! temporary file that the upload streams from and that is removed when the
//! job ends, however it ends. As many images are in memory as there are jobs,
//! and a job transforms its next image while the others upload.
//!
//! With a manifest, an input is keyed by its source's content and the
//! transform settings ([`manifest_hash`]): a re-run with the same settings
//! skips an unchanged source before it is read again, let alone decoded, and
//! a changed setting sends it again.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::api::FileError;
use crate::batch::record::Fitted;
use crate::image::{self, Format, ImageFacts};
use crate::inputs::Input;
use crate::transform::{self, Settings, Spooled};

/// A transformed input, ready to stream.
pub(super) struct Prepared {
    /// `None` when the source is sent as it is.
    pub spooled: Option<Spooled>,
    pub source_sha256: String,
    pub original: ImageFacts,
}

impl Prepared {
    /// The record's account of what was sent, when it is not the source.
    pub(super) fn fitted(&self) -> Option<Fitted> {
        let spooled = self.spooled.as_ref()?;
        Some(Fitted {
            transforms: spooled.transformed.done.clone(),
            original_bytes: self.original.bytes,
            original_width: self.original.width,
            original_height: self.original.height,
            original_format: self.original.format.name().to_string(),
            sent_bytes: spooled.size,
            sent_sha256: spooled.sha256.clone(),
        })
    }
}

/// The manifest's hash of a source sent with `settings`: the source's
/// SHA-256 and the settings, hashed together.
pub(in crate::commands::upload) fn manifest_hash(settings: &Settings, source_sha256: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"capfile transform\0");
    hasher.update(settings.key().as_bytes());
    hasher.update(b"\0");
    hasher.update(source_sha256.as_bytes());
    hex::encode(hasher.finalize())
}

/// The media type of a transformed image.
pub(super) fn mime(format: Format) -> &'static str {
    match format {
        Format::Jpeg => "image/jpeg",
        Format::Png => "image/png",
        Format::Webp => "image/webp",
        Format::Gif => "image/gif",
        _ => "application/octet-stream",
    }
}

/// Reads, transforms and spools `input` on a blocking thread.
pub(super) async fn prepare(input: &Input, path: &Path, settings: &Arc<Settings>) -> Result<Prepared, FileError> {
    let owned = path.to_path_buf();
    let settings = Arc::clone(settings);
    let size = input.size;
    let label = input.label();
    tokio::task::spawn_blocking(move || prepare_blocking(&owned, size, &label, &settings))
        .await
        .map_err(|e| FileError::Task {
            path: path.to_path_buf(),
            source: Arc::new(e),
        })?
}

fn prepare_blocking(path: &Path, size: u64, label: &str, settings: &Settings) -> Result<Prepared, FileError> {
    let fail = |cause: String| FileError::Transform {
        path: path.to_path_buf(),
        cause,
    };
    let file = crate::fsio::open_regular(path).map_err(|e| FileError::Open {
        path: path.to_path_buf(),
        source: Arc::new(e),
    })?;
    // One byte past the checked size tells a file that grew.
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(size.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| FileError::Stat {
            path: path.to_path_buf(),
            source: Arc::new(e),
        })?;
    if bytes.len() as u64 != size {
        return Err(FileError::Changed {
            path: path.to_path_buf(),
            checked: size,
            now: bytes.len() as u64,
        });
    }
    let source_sha256 = hex::encode(Sha256::digest(&bytes));
    let original = image::read(std::io::Cursor::new(&bytes), size).map_err(|e| fail(format!("{label}: {e}")))?;
    let spooled = match transform::apply(&bytes, &original, settings).map_err(|e| fail(e.0))? {
        Some(transformed) => {
            drop(bytes);
            Some(transform::spool(transformed).map_err(|e| fail(format!("cannot write the temporary file: {e}")))?)
        }
        None => None,
    };
    Ok(Prepared {
        spooled,
        source_sha256,
        original,
    })
}
