//! What an image is, read from its headers alone: format, size, colour model,
//! bit depth, alpha, frame count, EXIF orientation, and whether it carries
//! EXIF, GPS, XMP or an ICC profile.
//!
//! Nothing here decodes pixels. Each format's reader walks the file's header
//! structures (PNG chunks, JPEG markers, GIF blocks, RIFF chunks, ISO boxes)
//! with seeks, reads at most 64 KiB at a time, and never allocates
//! from a size the file declares: a 100,000 x 100,000 PNG costs the same 33
//! bytes of header as a 1 x 1 one. Dimensions of BMP, TIFF, ICO, AVIF and HEIC
//! come from the `imagesize` crate, EXIF fields from `kamadak-exif`; what no
//! crate reads (JPEG components and Adobe marker, PNG colour type and APNG
//! frames, GIF and WebP frame counts, ISO colour properties, SVG sizes) is
//! read here, and fuzzed by the property tests. A file that is cut short or
//! malformed is an [`ImageError`] naming the file, never a panic.
//!
//! [`ImageFacts`] is what `capfile inspect` prints, what upload policies
//! check (`crate::policy`) and what records carry.

use std::fmt;
use std::io::{self, Read, Seek};
use std::path::Path;

use serde::Serialize;

mod exif;
mod gif;
mod isobmff;
mod jpeg;
mod other;
mod png;
mod source;
mod svg;
mod webp;

use source::Src;

/// An image format capfile recognises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Format {
    Png,
    Jpeg,
    Gif,
    Webp,
    Bmp,
    Tiff,
    Ico,
    Avif,
    Heic,
    Svg,
}

impl Format {
    pub(crate) const ALL: [Format; 10] = [
        Format::Png,
        Format::Jpeg,
        Format::Gif,
        Format::Webp,
        Format::Bmp,
        Format::Tiff,
        Format::Ico,
        Format::Avif,
        Format::Heic,
        Format::Svg,
    ];

    /// The lower-case name used in output, records and policies.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Jpeg => "jpeg",
            Format::Gif => "gif",
            Format::Webp => "webp",
            Format::Bmp => "bmp",
            Format::Tiff => "tiff",
            Format::Ico => "ico",
            Format::Avif => "avif",
            Format::Heic => "heic",
            Format::Svg => "svg",
        }
    }

    /// A format by name; `jpg`, `tif` and `heif` are accepted as aliases.
    pub(crate) fn parse(name: &str) -> Option<Format> {
        let name = name.trim().to_ascii_lowercase();
        let alias = match name.as_str() {
            "jpg" => "jpeg",
            "tif" => "tiff",
            "heif" => "heic",
            other => other,
        };
        Format::ALL.into_iter().find(|f| f.name() == alias)
    }

    /// The format of a sniffed media type.
    fn of_mime(mime: &str) -> Option<Format> {
        Some(match mime {
            "image/png" => Format::Png,
            "image/jpeg" => Format::Jpeg,
            "image/gif" => Format::Gif,
            "image/webp" => Format::Webp,
            "image/bmp" => Format::Bmp,
            "image/tiff" => Format::Tiff,
            "image/x-icon" => Format::Ico,
            "image/avif" => Format::Avif,
            "image/heic" => Format::Heic,
            "image/svg+xml" => Format::Svg,
            _ => return None,
        })
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How an image's colours are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Color {
    /// Red, green and blue (JPEG's YCbCr and AVIF/HEIC's YUV count as this).
    Rgb,
    Grey,
    Cmyk,
    /// Indexed into a colour table.
    Palette,
}

impl Color {
    pub(crate) const ALL: [Color; 4] = [Color::Rgb, Color::Grey, Color::Cmyk, Color::Palette];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Color::Rgb => "rgb",
            Color::Grey => "grey",
            Color::Cmyk => "cmyk",
            Color::Palette => "palette",
        }
    }

    /// A colour model by name (`gray` is accepted for `grey`).
    pub(crate) fn parse(name: &str) -> Option<Color> {
        let name = name.trim().to_ascii_lowercase();
        let name = if name == "gray" { "grey" } else { name.as_str() };
        Color::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl fmt::Display for Color {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the headers of one image say. `width`/`height` are `None` only for an
/// SVG with no intrinsic size; `color`/`bit_depth` are `None` where the format
/// does not say (SVG).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct ImageFacts {
    pub format: Format,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// The file's size in bytes.
    pub bytes: u64,
    pub color: Option<Color>,
    /// Bits per channel (per index for a palette).
    pub bit_depth: Option<u8>,
    pub alpha: bool,
    /// Frames of an animation; 1 for a still image.
    pub frames: u32,
    /// The EXIF orientation (1 to 8), when the image carries one.
    pub orientation: Option<u16>,
    pub exif: bool,
    pub gps: bool,
    pub xmp: bool,
    pub icc: bool,
}

impl ImageFacts {
    fn new(format: Format, bytes: u64) -> ImageFacts {
        ImageFacts {
            format,
            width: None,
            height: None,
            bytes,
            color: None,
            bit_depth: None,
            alpha: false,
            frames: 1,
            orientation: None,
            exif: false,
            gps: false,
            xmp: false,
            icc: false,
        }
    }

    /// Width times height, when the image has an intrinsic size.
    pub(crate) fn pixels(&self) -> Option<u64> {
        Some(u64::from(self.width?) * u64::from(self.height?))
    }

    /// `WxH`, or `no intrinsic size`.
    pub(crate) fn size_text(&self) -> String {
        match (self.width, self.height) {
            (Some(w), Some(h)) => format!("{w}x{h}"),
            _ => "no intrinsic size".to_string(),
        }
    }

    pub(crate) fn animated(&self) -> bool {
        self.frames > 1
    }

    /// Records EXIF found in the image: its orientation and whether it holds GPS.
    fn add_exif(&mut self, tiff: Vec<u8>) {
        self.exif = true;
        let found = exif::read(tiff);
        self.orientation = self.orientation.or(found.orientation);
        self.gps |= found.gps;
    }
}

/// What is wrong with an image's header.
#[derive(Debug)]
pub(crate) enum Fault {
    /// The file ends inside a header structure.
    Truncated,
    /// A header structure holds what its format does not allow.
    Malformed(&'static str),
    /// Not one of the formats capfile reads.
    Unknown,
    Io(io::Error),
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Truncated => f.write_str("the file ends inside its header (truncated?)"),
            Fault::Malformed(what) => write!(f, "malformed header: {what}"),
            Fault::Unknown => f.write_str("not an image (PNG, JPEG, GIF, WebP, BMP, TIFF, ICO, AVIF, HEIC or SVG)"),
            Fault::Io(err) => write!(f, "cannot read it: {err}"),
        }
    }
}

impl From<io::Error> for Fault {
    fn from(err: io::Error) -> Fault {
        if err.kind() == io::ErrorKind::UnexpectedEof {
            Fault::Truncated
        } else {
            Fault::Io(err)
        }
    }
}

/// An image whose header cannot be read, named as the user named it.
#[derive(Debug)]
pub(crate) struct ImageError {
    pub label: String,
    pub fault: Fault,
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.label, self.fault)
    }
}

impl std::error::Error for ImageError {}

/// Reads the facts of the image file at `path`; `label` names it in errors.
pub(crate) fn read_path(path: &Path, label: &str) -> Result<ImageFacts, ImageError> {
    let error = |fault| ImageError {
        label: label.to_string(),
        fault,
    };
    // Through the one bounded opener: a FIFO or device swapped in for the
    // file is refused unread, never waited on.
    let file = crate::fsio::open_regular(path).map_err(|e| error(Fault::Io(e)))?;
    let len = file.metadata().map_err(|e| error(Fault::Io(e)))?.len();
    read(file, len).map_err(error)
}

/// Reads the facts of an image of `len` bytes from `reader`.
pub(crate) fn read<R: Read + Seek>(reader: R, len: u64) -> Result<ImageFacts, Fault> {
    let mut src = Src::new(reader, len);
    let head = src.head()?;
    let format = crate::media_type::sniff(&head)
        .and_then(Format::of_mime)
        .ok_or(Fault::Unknown)?;
    let mut facts = ImageFacts::new(format, len);
    match format {
        Format::Png => png::read(&mut src, &mut facts)?,
        Format::Jpeg => jpeg::read(&mut src, &mut facts)?,
        Format::Gif => gif::read(&mut src, &mut facts)?,
        Format::Webp => webp::read(&mut src, &mut facts)?,
        Format::Bmp => other::bmp(&mut src, &mut facts)?,
        Format::Tiff => other::tiff(&mut src, &mut facts)?,
        Format::Ico => other::ico(&mut src, &mut facts)?,
        Format::Avif | Format::Heic => isobmff::read(&mut src, &mut facts)?,
        Format::Svg => svg::read(&mut src, &mut facts)?,
    }
    Ok(facts)
}

#[cfg(test)]
mod tests;
