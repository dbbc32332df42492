//! BMP, ICO and TIFF: sizes from the `imagesize` crate; the colour facts
//! from a few fixed header fields (BMP's bit count and alpha mask, the ICO
//! directory's largest entry) or, for TIFF, the first IFD's tags, read here
//! with bounded reads wherever the IFD lies in the file.

use super::source::{Src, be16, be32, le16, le32};
use super::{Color, Fault, ImageFacts};
use std::io::{Read, Seek};

pub(super) fn bmp<R: Read + Seek>(src: &mut Src<R>, facts: &mut ImageFacts) -> Result<(), Fault> {
    let (width, height) = src.imagesize()?;
    (facts.width, facts.height) = (Some(width), Some(height));
    let dib = src.read_at(14, 4)?;
    let dib_len = le32(&dib, 0);
    let bits = if dib_len == 12 {
        le16(&src.read_at(24, 2)?, 0)
    } else {
        le16(&src.read_at(28, 2)?, 0)
    };
    if dib_len >= 56 && bits == 32 {
        // BITMAPV3 and later: the alpha channel's mask.
        facts.alpha = le32(&src.read_at(66, 4)?, 0) != 0;
    }
    facts.icc = dib_len >= 124 && &src.read_at(14 + 56, 4)? == b"MBED";
    (facts.color, facts.bit_depth) = match bits {
        1 | 2 | 4 | 8 => (Some(Color::Palette), Some(bits as u8)),
        16 => (Some(Color::Rgb), Some(5)),
        24 | 32 => (Some(Color::Rgb), Some(8)),
        _ => return Err(Fault::Malformed("a BMP bit count other than 1, 2, 4, 8, 16, 24 or 32")),
    };
    Ok(())
}

pub(super) fn ico<R: Read + Seek>(src: &mut Src<R>, facts: &mut ImageFacts) -> Result<(), Fault> {
    let (width, height) = src.imagesize()?;
    (facts.width, facts.height) = (Some(width), Some(height));
    let count = le16(&src.read_at(4, 2)?, 0);
    // The bit count of the largest entry (the one whose size is shown).
    let mut best = (0u32, 0u16);
    for i in 0..u64::from(count) {
        let entry = src.read_at(6 + 16 * i, 16)?;
        let side = |b: u8| if b == 0 { 256 } else { u32::from(b) };
        let area = side(entry[0]) * side(entry[1]);
        if area > best.0 {
            best = (area, le16(&entry, 6));
        }
    }
    facts.color = Some(Color::Rgb);
    (facts.bit_depth, facts.alpha) = match best.1 {
        32 => (Some(8), true),
        24 => (Some(8), false),
        // Zero for an entry stored as PNG: its own header says.
        0 => (None, false),
        bits => {
            facts.color = Some(Color::Palette);
            (u8::try_from(bits).ok(), false)
        }
    };
    Ok(())
}

/// IFD entries read at most.
const MAX_TIFF_TAGS: u64 = 4_096;

pub(super) fn tiff<R: Read + Seek>(src: &mut Src<R>, facts: &mut ImageFacts) -> Result<(), Fault> {
    let (width, height) = src.imagesize()?;
    (facts.width, facts.height) = (Some(width), Some(height));
    let header = src.read_at(0, 8)?;
    let little = header[0] == b'I';
    let u16_at = |b: &[u8], at: usize| if little { le16(b, at) } else { be16(b, at) };
    let u32_at = |b: &[u8], at: usize| if little { le32(b, at) } else { be32(b, at) };
    let ifd = u64::from(u32_at(&header, 4));
    let count = u64::from(u16_at(&src.read_at(ifd, 2)?, 0)).min(MAX_TIFF_TAGS);
    let mut photometric = None;
    let mut samples = 1;
    facts.bit_depth = Some(1);
    for i in 0..count {
        let entry = src.read_at(ifd + 2 + 12 * i, 12)?;
        let (tag, kind) = (u16_at(&entry, 0), u16_at(&entry, 2));
        // A SHORT held in the entry itself comes first in its value field.
        let short = u16_at(&entry, 8);
        let inline = if kind == 3 { u32::from(short) } else { u32_at(&entry, 8) };
        match tag {
            258 => facts.bit_depth = Some(bits_per_sample(src, &entry, little)?),
            262 => photometric = Some(inline),
            277 => samples = inline,
            274 => facts.orientation = u16::try_from(inline).ok().filter(|n| (1..=8).contains(n)),
            338 => facts.alpha = true,
            700 => facts.xmp = true,
            34665 => facts.exif = true,
            34675 => facts.icc = true,
            34853 => facts.gps = true,
            _ => {}
        }
    }
    facts.color = Some(match photometric {
        Some(0 | 1) => Color::Grey,
        Some(3) => Color::Palette,
        Some(5) if samples >= 4 => Color::Cmyk,
        _ => Color::Rgb,
    });
    Ok(())
}

/// The first value of BitsPerSample: in the entry when it fits (up to two
/// SHORTs), else at the offset it holds.
fn bits_per_sample<R: Read + Seek>(src: &mut Src<R>, entry: &[u8], little: bool) -> Result<u8, Fault> {
    let u16_at = |b: &[u8], at: usize| if little { le16(b, at) } else { be16(b, at) };
    let count = if little { le32(entry, 4) } else { be32(entry, 4) };
    let value = if count <= 2 {
        u16_at(entry, 8)
    } else {
        let offset = if little { le32(entry, 8) } else { be32(entry, 8) };
        u16_at(&src.read_at(u64::from(offset), 2)?, 0)
    };
    Ok(u8::try_from(value).unwrap_or(u8::MAX))
}
