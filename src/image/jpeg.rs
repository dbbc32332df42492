//! JPEG: walks the markers from SOI to the first scan with seeks, reading the
//! frame header (size, precision, number of components: 4 is CMYK, with
//! or without an Adobe APP14 marker saying YCCK), and the APP1/APP2 segments that hold EXIF, XMP and
//! an ICC profile. Hand-written: no crate reports a JPEG's components.

use super::source::{Src, be16};
use super::{Color, Fault, ImageFacts};
use std::io::{Read, Seek};

/// Markers walked before giving up on finding a frame header.
const MAX_SEGMENTS: usize = 10_000;

const XMP_ID: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";

pub(super) fn read<R: Read + Seek>(src: &mut Src<R>, facts: &mut ImageFacts) -> Result<(), Fault> {
    let mut pos = 2;
    let mut frame = false;
    for _ in 0..MAX_SEGMENTS {
        // A marker: 0xFF (fill bytes allowed), then its code.
        if src.byte(pos)? != 0xFF {
            return Err(Fault::Malformed("a JPEG segment does not start with a marker"));
        }
        pos += 1;
        let mut code = src.byte(pos)?;
        while code == 0xFF {
            pos += 1;
            code = src.byte(pos)?;
        }
        pos += 1;
        match code {
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => continue,
            0xD9 | 0xDA => break,
            _ => {}
        }
        let len = u64::from(be16(&src.array::<2>(pos)?, 0));
        if len < 2 {
            return Err(Fault::Malformed("a JPEG segment length under 2"));
        }
        segment(src, facts, code, pos + 2, len as usize - 2, &mut frame)?;
        pos += len;
    }
    if !frame {
        return Err(Fault::Malformed("no JPEG frame header before the image data"));
    }
    Ok(())
}

/// Reads one segment's payload of `len` bytes at `at`, when it matters.
fn segment<R: Read + Seek>(
    src: &mut Src<R>,
    facts: &mut ImageFacts,
    code: u8,
    at: u64,
    len: usize,
    frame: &mut bool,
) -> Result<(), Fault> {
    match code {
        // Start of frame (not DHT, JPG or DAC, which share the range).
        0xC0..=0xCF if !matches!(code, 0xC4 | 0xC8 | 0xCC) => {
            if *frame {
                return Ok(());
            }
            let h = src.read_at(at, 6.min(len))?;
            if h.len() < 6 {
                return Err(Fault::Malformed("a JPEG frame header under 6 bytes"));
            }
            facts.bit_depth = Some(h[0]);
            facts.height = Some(u32::from(be16(&h, 1)));
            facts.width = Some(u32::from(be16(&h, 3)));
            // Four components are CMYK, whether the Adobe marker says plain
            // CMYK or YCCK; three are YCbCr (or RGB), shown as RGB.
            facts.color = Some(match h[5] {
                1 => Color::Grey,
                3 => Color::Rgb,
                4 => Color::Cmyk,
                _ => return Err(Fault::Malformed("a JPEG with neither 1, 3 nor 4 components")),
            });
            *frame = true;
        }
        0xE1 => {
            let data = src.read_at(at, len)?;
            if data.starts_with(b"Exif\0\0") {
                facts.add_exif(super::exif::strip_prefix(data));
            } else if data.starts_with(XMP_ID) {
                facts.xmp = true;
            }
        }
        0xE2 => facts.icc |= src.read_at(at, 12.min(len))? == b"ICC_PROFILE\0",
        _ => {}
    }
    Ok(())
}
