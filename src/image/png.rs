//! PNG: the IHDR chunk (size, bit depth, colour type), then every chunk
//! header to IEND with seeks: tRNS (alpha), acTL (APNG frames), iCCP, eXIf,
//! and iTXt `XML:com.adobe.xmp`. Hand-written: `imagesize` reports the size
//! only.

use super::source::{Src, be32};
use super::{Color, Fault, ImageFacts};
use std::io::{Read, Seek};

/// Chunks walked at most; an image with more (long APNGs) is reported from
/// those.
const MAX_CHUNKS: usize = 100_000;

pub(super) fn read<R: Read + Seek>(src: &mut Src<R>, facts: &mut ImageFacts) -> Result<(), Fault> {
    let ihdr = src.read_at(8, 8 + 13)?;
    if &ihdr[4..8] != b"IHDR" || be32(&ihdr, 0) < 13 {
        return Err(Fault::Malformed("a PNG whose first chunk is not IHDR"));
    }
    facts.width = Some(be32(&ihdr, 8));
    facts.height = Some(be32(&ihdr, 12));
    facts.bit_depth = Some(ihdr[16]);
    (facts.color, facts.alpha) = match ihdr[17] {
        0 => (Some(Color::Grey), false),
        2 => (Some(Color::Rgb), false),
        3 => (Some(Color::Palette), false),
        4 => (Some(Color::Grey), true),
        6 => (Some(Color::Rgb), true),
        _ => return Err(Fault::Malformed("an unknown PNG colour type")),
    };
    let mut pos = 8;
    let mut image_data = false;
    for _ in 0..MAX_CHUNKS {
        let Ok(header) = src.array::<8>(pos) else {
            // Cut in the image data or before IEND: the header was whole.
            if image_data {
                break;
            }
            return Err(Fault::Truncated);
        };
        let len = u64::from(be32(&header, 0));
        let kind: [u8; 4] = [header[4], header[5], header[6], header[7]];
        let data = pos + 8;
        match &kind {
            b"IEND" => break,
            b"IDAT" => image_data = true,
            b"tRNS" => facts.alpha = true,
            b"iCCP" => facts.icc = true,
            b"acTL" => facts.frames = be32(&src.read_at(data, 4)?, 0).max(1),
            b"eXIf" => {
                let block = src.read_at(data, len as usize)?;
                facts.add_exif(super::exif::strip_prefix(block));
            }
            b"iTXt" => facts.xmp |= src.read_upto(data, 18)?.starts_with(b"XML:com.adobe.xmp\0"),
            _ => {}
        }
        pos = data + len + 4;
    }
    Ok(())
}
