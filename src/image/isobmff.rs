//! AVIF and HEIC (ISO base media files): the `meta` box walked for the
//! primary item (`pitm`) and the properties `ipma` gives it: `ispe` (its
//! size: `imagesize` reports the largest `ispe`, which for a grid image is
//! a tile's, and is used only when the primary's cannot be found), `colr`
//! (an ICC profile) and `pixi` (channels and bit depth); any item's `auxC`
//! naming an alpha plane; and the item infos naming an `Exif` item or an
//! XMP (`application/rdf+xml`) one. The EXIF item itself is read by
//! `kamadak-exif`, which follows the item's location.

use super::source::{Src, be16, be32};
use super::{Color, Fault, ImageFacts};
use std::io::{Read, Seek};

/// Top-level boxes walked at most while looking for `meta`.
const MAX_BOXES: usize = 1_000;

pub(super) fn read<R: Read + Seek>(src: &mut Src<R>, facts: &mut ImageFacts) -> Result<(), Fault> {
    facts.color = Some(Color::Rgb);
    facts.bit_depth = Some(8);
    let Some(meta) = find_meta(src)? else {
        return Err(Fault::Malformed("an AVIF/HEIC file without a meta box"));
    };
    // A full box: version and flags first.
    let Some(children) = meta.get(4..) else {
        return Err(Fault::Truncated);
    };
    let mut exif_item = false;
    let (mut primary, mut ipco, mut ipma) = (None, &[][..], &[][..]);
    for (kind, body) in boxes(children) {
        match kind {
            b"iinf" => exif_item |= item_infos(body, facts),
            b"pitm" => primary = primary_item(body),
            b"iprp" => {
                for (kind, body) in boxes(body) {
                    match kind {
                        b"ipco" => ipco = body,
                        b"ipma" => ipma = body,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let props: Vec<_> = boxes(ipco).collect();
    // The primary item's properties; all of them when the associations
    // cannot be read.
    let own: Vec<_> = match primary.and_then(|item| associations(ipma, item)) {
        Some(indexes) => indexes
            .iter()
            .filter_map(|&i| props.get(i.checked_sub(1)?))
            .copied()
            .collect(),
        None => props.clone(),
    };
    properties(&own, facts);
    facts.alpha = props.iter().any(|(kind, prop)| *kind == b"auxC" && is_alpha(prop));
    if facts.width.is_none() {
        let (width, height) = src.imagesize()?;
        (facts.width, facts.height) = (Some(width), Some(height));
    }
    if exif_item {
        facts.exif = true;
        let read = src.with_reader(|reader| ::exif::Reader::new().read_from_container(reader))?;
        if let Ok(exif) = read {
            let found = super::exif::of(&exif);
            facts.orientation = found.orientation;
            facts.gps = found.gps;
        }
    }
    Ok(())
}

/// The item id in `pitm`.
fn primary_item(body: &[u8]) -> Option<u32> {
    match body.first()? {
        0 => Some(u32::from(be16(body.get(4..6)?, 0))),
        _ => Some(be32(body.get(4..8)?, 0)),
    }
}

/// The 1-based indexes into `ipco` of the properties `ipma` gives `item`.
fn associations(ipma: &[u8], item: u32) -> Option<Vec<usize>> {
    let (&version, flags) = (ipma.first()?, ipma.get(3)?);
    let wide_index = flags & 1 == 1;
    let count = be32(ipma.get(4..8)?, 0);
    let mut at = 8;
    for _ in 0..count {
        let id = if version < 1 {
            at += 2;
            u32::from(be16(ipma.get(at - 2..at)?, 0))
        } else {
            at += 4;
            be32(ipma.get(at - 4..at)?, 0)
        };
        let n = usize::from(*ipma.get(at)?);
        at += 1;
        let width = if wide_index { 2 } else { 1 };
        let list = ipma.get(at..at + n * width)?;
        at += n * width;
        if id == item {
            let indexes = list.chunks_exact(width).map(|c| match c {
                [hi, lo] => usize::from(be16(&[*hi, *lo], 0) & 0x7FFF),
                [one] => usize::from(one & 0x7F),
                _ => 0,
            });
            return Some(indexes.collect());
        }
    }
    None
}

/// The body of the top-level `meta` box (its first `READ_CAP` bytes).
fn find_meta<R: Read + Seek>(src: &mut Src<R>) -> Result<Option<Vec<u8>>, Fault> {
    let mut pos = 0u64;
    for _ in 0..MAX_BOXES {
        if pos + 8 > src.len {
            return Ok(None);
        }
        let header = src.array::<8>(pos)?;
        let (size, start) = match be32(&header, 0) {
            0 => (src.len - pos, 8),
            1 => (u64::from_be_bytes(src.array::<8>(pos + 8)?), 16),
            n => (u64::from(n), 8),
        };
        if size < start {
            return Err(Fault::Malformed("an ISO box smaller than its header"));
        }
        if &header[4..8] == b"meta" {
            return src.read_upto(pos + start, (size - start) as usize).map(Some);
        }
        pos = pos.saturating_add(size);
    }
    Ok(None)
}

/// The boxes packed in `data`, as (type, body); a box that runs past the
/// end ends the list.
fn boxes(data: &[u8]) -> impl Iterator<Item = (&[u8; 4], &[u8])> {
    let mut rest = data;
    std::iter::from_fn(move || {
        if rest.len() < 8 {
            return None;
        }
        let size = be32(rest, 0) as usize;
        let size = if size == 0 { rest.len() } else { size };
        if size < 8 || size > rest.len() {
            return None;
        }
        let kind: &[u8; 4] = rest[4..8].try_into().ok()?;
        let body = &rest[8..size];
        rest = &rest[size..];
        Some((kind, body))
    })
}

/// Reads `iinf`: whether an `Exif` item is listed; notes an XMP item.
fn item_infos(body: &[u8], facts: &mut ImageFacts) -> bool {
    let Some(&version) = body.first() else { return false };
    let skip = if version == 0 { 6 } else { 8 };
    let mut exif = false;
    for (kind, infe) in boxes(body.get(skip..).unwrap_or_default()) {
        // infe version 2 or 3: id (2 or 4 bytes), protection index (2), type.
        let Some(&infe_version) = infe.first() else { continue };
        let at = if infe_version >= 3 { 10 } else { 8 };
        if kind != b"infe" || infe_version < 2 {
            continue;
        }
        match infe.get(at..at + 4) {
            Some(b"Exif") => exif = true,
            Some(b"mime") => {
                let rest = infe.get(at + 4..).unwrap_or_default();
                facts.xmp |= rest.windows(19).any(|w| w == b"application/rdf+xml");
            }
            _ => {}
        }
    }
    exif
}

/// Reads the properties of the primary item.
fn properties(props: &[(&[u8; 4], &[u8])], facts: &mut ImageFacts) {
    for (kind, prop) in props {
        match *kind {
            b"ispe" => {
                if let Some(size) = prop.get(4..12) {
                    (facts.width, facts.height) = (Some(be32(size, 0)), Some(be32(size, 4)));
                }
            }
            b"colr" => facts.icc |= matches!(prop.get(..4), Some(b"prof" | b"rICC")),
            // Full box, then the channel count and each channel's depth.
            b"pixi" => {
                if let (Some(&channels), Some(&depth)) = (prop.get(4), prop.get(5)) {
                    facts.color = Some(if channels == 1 { Color::Grey } else { Color::Rgb });
                    facts.bit_depth = Some(depth);
                }
            }
            _ => {}
        }
    }
}

/// Whether an `auxC` property marks an alpha plane (AVIF's or HEVC's URN).
fn is_alpha(prop: &[u8]) -> bool {
    let urn = prop.get(4..).unwrap_or_default();
    urn.starts_with(b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha") || urn.starts_with(b"urn:mpeg:hevc:2015:auxid:1\0")
}
