//! GIF: the logical screen descriptor (size, colour table depth), then the
//! blocks to the trailer, counting image descriptors (frames), noting a
//! transparent colour (alpha) and the XMP and ICC application extensions.
//! Image data is skipped sub-block by sub-block, never decoded.
//! Hand-written: no crate counts frames without decoding them.

use super::source::{Src, le16};
use super::{Color, Fault, ImageFacts};
use std::io::{Read, Seek};

/// Blocks walked at most.
const MAX_BLOCKS: usize = 1_000_000;

pub(super) fn read<R: Read + Seek>(src: &mut Src<R>, facts: &mut ImageFacts) -> Result<(), Fault> {
    let screen = src.read_at(6, 7)?;
    facts.width = Some(u32::from(le16(&screen, 0)));
    facts.height = Some(u32::from(le16(&screen, 2)));
    facts.color = Some(Color::Palette);
    let packed = screen[4];
    facts.bit_depth = Some(((packed >> 4) & 7) + 1);
    let mut pos = 13 + table_len(packed);
    let mut frames = 0u32;
    for _ in 0..MAX_BLOCKS {
        match src.byte(pos)? {
            0x2C => {
                frames = frames.saturating_add(1);
                let descriptor = src.read_at(pos + 1, 9)?;
                // The local colour table, the LZW code size, then the data.
                pos = skip_sub_blocks(src, pos + 10 + table_len(descriptor[8]) + 1)?;
            }
            0x21 => pos = extension(src, facts, pos + 1)?,
            0x3B => break,
            _ => return Err(Fault::Malformed("an unknown GIF block")),
        }
    }
    if frames == 0 {
        return Err(Fault::Malformed("a GIF with no image"));
    }
    facts.frames = frames;
    Ok(())
}

/// Length of the colour table a packed field announces.
fn table_len(packed: u8) -> u64 {
    if packed & 0x80 == 0 { 0 } else { 3 << ((packed & 7) + 1) }
}

/// Reads the extension whose label is at `pos`; returns where the next block
/// starts.
fn extension<R: Read + Seek>(src: &mut Src<R>, facts: &mut ImageFacts, pos: u64) -> Result<u64, Fault> {
    let label = src.byte(pos)?;
    let first = pos + 1;
    match label {
        // Graphic control: its first sub-block's bit 0 says "transparent".
        0xF9 => {
            let block = src.read_at(first, 2)?;
            facts.alpha |= block[0] >= 1 && block[1] & 1 == 1;
        }
        0xFF => {
            let block = src.read_upto(first, 12)?;
            if block.len() == 12 && block[0] == 11 {
                facts.xmp |= &block[1..12] == b"XMP DataXMP";
                facts.icc |= &block[1..12] == b"ICCRGBG1012";
            }
        }
        _ => {}
    }
    skip_sub_blocks(src, first)
}

/// Skips sub-blocks from `pos` to their terminator; returns the position after it.
fn skip_sub_blocks<R: Read + Seek>(src: &mut Src<R>, mut pos: u64) -> Result<u64, Fault> {
    loop {
        let len = src.byte(pos)?;
        pos += 1 + u64::from(len);
        if len == 0 {
            return Ok(pos);
        }
    }
}
