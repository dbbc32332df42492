//! EXIF fields capfile cares about (orientation, GPS), read with the
//! `kamadak-exif` crate from the TIFF structure an image carries.

use ::exif::{Context, In, Reader, Tag};

/// What an EXIF block says.
#[derive(Default)]
pub(super) struct Found {
    pub orientation: Option<u16>,
    pub gps: bool,
}

/// Reads a TIFF-structured EXIF block (no `Exif\0\0` prefix). A block that
/// is damaged part-way yields what could be read before the damage.
pub(super) fn read(tiff: Vec<u8>) -> Found {
    let mut reader = Reader::new();
    reader.continue_on_error(true);
    let exif = match reader.read_raw(tiff) {
        Ok(exif) => exif,
        Err(::exif::Error::PartialResult(partial)) => partial.into_inner().0,
        Err(_) => return Found::default(),
    };
    of(&exif)
}

/// The fields of parsed EXIF.
pub(super) fn of(exif: &::exif::Exif) -> Found {
    let orientation = exif
        .get_field(Tag::Orientation, In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .and_then(|n| u16::try_from(n).ok())
        .filter(|n| (1..=8).contains(n));
    let gps = exif
        .fields()
        .any(|f| f.tag.context() == Context::Gps && f.tag != Tag::GPSVersionID);
    Found { orientation, gps }
}

/// A block as an APP1 segment or a WebP/PNG chunk may hold it: with or
/// without the `Exif\0\0` prefix.
pub(super) fn strip_prefix(mut block: Vec<u8>) -> Vec<u8> {
    if block.starts_with(b"Exif\0\0") {
        block.drain(..6);
    }
    block
}
