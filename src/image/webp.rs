//! WebP: walks the RIFF chunks with seeks. VP8X gives the canvas size and
//! the ICC/alpha/EXIF/XMP/animation flags; a simple file's VP8 or VP8L
//! bitstream header gives its size (and VP8L its alpha bit); ANMF chunks are
//! counted as frames; EXIF is read from its chunk. Hand-written: no crate
//! counts a WebP's frames without decoding.

use super::source::{Src, le16, le32};
use super::{Color, Fault, ImageFacts};
use std::io::{Read, Seek};

/// Chunks walked at most.
const MAX_CHUNKS: usize = 1_000_000;

pub(super) fn read<R: Read + Seek>(src: &mut Src<R>, facts: &mut ImageFacts) -> Result<(), Fault> {
    facts.color = Some(Color::Rgb);
    facts.bit_depth = Some(8);
    // A file shorter than its RIFF size says was cut short.
    let riff_end = u64::from(le32(&src.read_at(4, 4)?, 0)) + 8;
    if riff_end > src.len {
        return Err(Fault::Truncated);
    }
    let mut pos = 12;
    let mut frames = 0u32;
    let mut sized = false;
    for _ in 0..MAX_CHUNKS {
        if pos + 8 > riff_end {
            break;
        }
        let header = src.array::<8>(pos)?;
        let len = u64::from(le32(&header, 4));
        let data = pos + 8;
        match &header[..4] {
            b"VP8X" => {
                let x = src.read_at(data, 10)?;
                facts.icc |= x[0] & 0x20 != 0;
                facts.alpha |= x[0] & 0x10 != 0;
                facts.xmp |= x[0] & 0x04 != 0;
                facts.width = Some(u24(&x, 4) + 1);
                facts.height = Some(u24(&x, 7) + 1);
                sized = true;
            }
            b"VP8 " if !sized => {
                let b = src.read_at(data, 10)?;
                if b[3..6] != [0x9D, 0x01, 0x2A] {
                    return Err(Fault::Malformed("a VP8 frame without its start code"));
                }
                facts.width = Some(u32::from(le16(&b, 6) & 0x3FFF));
                facts.height = Some(u32::from(le16(&b, 8) & 0x3FFF));
                sized = true;
            }
            b"VP8L" if !sized => {
                let b = src.read_at(data, 5)?;
                if b[0] != 0x2F {
                    return Err(Fault::Malformed("a VP8L bitstream without its signature"));
                }
                let bits = le32(&b, 1);
                facts.width = Some((bits & 0x3FFF) + 1);
                facts.height = Some(((bits >> 14) & 0x3FFF) + 1);
                facts.alpha |= (bits >> 28) & 1 == 1;
                sized = true;
            }
            b"ANMF" => frames = frames.saturating_add(1),
            b"ALPH" => facts.alpha = true,
            b"ICCP" => facts.icc = true,
            b"XMP " => facts.xmp = true,
            b"EXIF" => facts.add_exif(super::exif::strip_prefix(src.read_at(data, len as usize)?)),
            _ => {}
        }
        // Chunks are padded to an even length.
        pos = data + len + (len & 1);
    }
    if !sized {
        return Err(Fault::Malformed("a WebP without a VP8X, VP8 or VP8L chunk"));
    }
    facts.frames = frames.max(1);
    Ok(())
}

fn u24(b: &[u8], at: usize) -> u32 {
    u32::from(b[at]) | u32::from(b[at + 1]) << 8 | u32::from(b[at + 2]) << 16
}
