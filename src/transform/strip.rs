//! Lossless metadata stripping: JPEG segments, PNG chunks and WebP chunks
//! removed without touching the compressed pixels.
//!
//! JPEG keeps JFIF (APP0), ICC profiles (APP2 `ICC_PROFILE`), Adobe's colour
//! transform (APP14) and every non-APP segment, and drops EXIF and XMP
//! (APP1), other APPn blocks (IPTC, MPF, maker data) and comments. A JPEG
//! whose orientation is not 1 gets a minimal EXIF block holding only that
//! orientation, so it is never turned sideways. PNG keeps the critical
//! chunks and those that affect how pixels look or animate (`iCCP`, `sRGB`,
//! `gAMA`, `cHRM`, `tRNS`, APNG's `acTL`/`fcTL`/`fdAT`, ...) and drops text,
//! time and `eXIf`. WebP drops its `EXIF` and `XMP ` chunks and their flags.
//!
//! No crate we trust does this as a byte-exact pass (`img-parts` is little
//! kept), so these walkers are here, bounds-checked and fuzzed by the
//! property tests: a malformed file is an error, never a panic.

use crate::image::Format;

/// What is wrong with a file being stripped.
pub(super) type Fault = &'static str;

/// `bytes` without their metadata; `orientation` (not 1) is kept where the
/// format needs it kept (JPEG).
pub(super) fn strip(format: Format, bytes: &[u8], orientation: Option<u16>) -> Result<Vec<u8>, Fault> {
    match format {
        Format::Jpeg => jpeg(bytes, orientation),
        Format::Png => png(bytes),
        Format::Webp => webp(bytes),
        _ => Err("capfile removes metadata only from JPEG, PNG and WebP"),
    }
}

/// The JPEG without EXIF, XMP, IPTC and comments; ICC kept.
pub(super) fn jpeg(bytes: &[u8], orientation: Option<u16>) -> Result<Vec<u8>, Fault> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return Err("not a JPEG (no SOI marker)");
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..2]);
    let mut pos = 2;
    let mut exif_written = false;
    loop {
        // Fill bytes (0xFF) may stand before a marker.
        while bytes.get(pos) == Some(&0xFF) && bytes.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (bytes.get(pos), bytes.get(pos + 1)) else {
            return Err("malformed JPEG: a marker was expected");
        };
        // Before the first segment other than JFIF: the orientation block.
        if marker != 0xE0 && !exif_written {
            if let Some(o) = orientation.filter(|o| *o != 1) {
                out.extend_from_slice(&orientation_exif(o));
            }
            exif_written = true;
        }
        // Start of scan, or the end: the rest is entropy-coded data.
        if marker == 0xDA || marker == 0xD9 {
            out.extend_from_slice(&bytes[pos..]);
            return Ok(out);
        }
        if (0xD0..=0xD7).contains(&marker) || marker == 0x01 {
            out.extend_from_slice(&bytes[pos..pos + 2]);
            pos += 2;
            continue;
        }
        let len = match bytes.get(pos + 2..pos + 4) {
            Some(b) => usize::from(u16::from_be_bytes([b[0], b[1]])),
            None => return Err("truncated JPEG segment"),
        };
        if len < 2 {
            return Err("malformed JPEG segment length");
        }
        let end = pos + 2 + len;
        let segment = bytes.get(pos..end).ok_or("truncated JPEG segment")?;
        if keep_jpeg_segment(marker, &segment[4..]) {
            out.extend_from_slice(segment);
        }
        pos = end;
    }
}

fn keep_jpeg_segment(marker: u8, data: &[u8]) -> bool {
    match marker {
        0xE0 | 0xEE => true,
        0xE2 => data.starts_with(b"ICC_PROFILE\0"),
        0xE1 | 0xE3..=0xED | 0xEF | 0xFE => false,
        _ => true,
    }
}

/// An APP1 EXIF segment holding only `orientation` (big-endian TIFF, one
/// IFD entry).
pub(super) fn orientation_exif(orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\0\x2A\0\0\0\x08"); // header, IFD0 at 8
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // count 1
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]); // value padded to 4 bytes
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    let len = 2 + 6 + tiff.len();
    let mut segment = vec![0xFF, 0xE1];
    segment.extend_from_slice(&(len as u16).to_be_bytes());
    segment.extend_from_slice(b"Exif\0\0");
    segment.extend_from_slice(&tiff);
    segment
}

/// PNG chunks that change how pixels look, or animate them: kept.
const PNG_KEEP: [&[u8; 4]; 14] = [
    b"iCCP", b"sRGB", b"gAMA", b"cHRM", b"cICP", b"sBIT", b"tRNS", b"bKGD", b"pHYs", b"acTL", b"fcTL", b"fdAT",
    b"mDCv", b"cLLi",
];

/// The PNG without text, time or EXIF chunks (critical chunks and those in
/// [`PNG_KEEP`] stay).
pub(super) fn png(bytes: &[u8]) -> Result<Vec<u8>, Fault> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if !bytes.starts_with(SIGNATURE) {
        return Err("not a PNG (no signature)");
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(SIGNATURE);
    let mut pos = SIGNATURE.len();
    while pos < bytes.len() {
        let head = bytes.get(pos..pos + 8).ok_or("truncated PNG chunk")?;
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind: [u8; 4] = [head[4], head[5], head[6], head[7]];
        let end = (pos + 12).checked_add(len).ok_or("malformed PNG chunk length")?;
        let chunk = bytes.get(pos..end).ok_or("truncated PNG chunk")?;
        let critical = kind[0].is_ascii_uppercase();
        if critical || PNG_KEEP.contains(&&kind) {
            out.extend_from_slice(chunk);
        }
        pos = end;
        if &kind == b"IEND" {
            break;
        }
    }
    Ok(out)
}

/// The WebP without its `EXIF` and `XMP ` chunks, their VP8X flags cleared.
pub(super) fn webp(bytes: &[u8]) -> Result<Vec<u8>, Fault> {
    if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WEBP" {
        return Err("not a WebP (no RIFF WEBP header)");
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..12]);
    let mut pos = 12;
    while pos + 8 <= bytes.len() {
        let kind = &bytes[pos..pos + 4];
        let len = u32::from_le_bytes([bytes[pos + 4], bytes[pos + 5], bytes[pos + 6], bytes[pos + 7]]) as usize;
        let padded = len.checked_add(len & 1).ok_or("malformed WebP chunk length")?;
        let end = (pos + 8).checked_add(padded).ok_or("malformed WebP chunk length")?;
        let chunk = bytes.get(pos..end).ok_or("truncated WebP chunk")?;
        match kind {
            b"EXIF" | b"XMP " => {}
            b"VP8X" if len >= 1 => {
                let start = out.len();
                out.extend_from_slice(chunk);
                // Flags: 0x08 EXIF, 0x04 XMP.
                out[start + 8] &= !0x0C;
            }
            _ => out.extend_from_slice(chunk),
        }
        pos = end;
    }
    if pos != bytes.len() {
        return Err("truncated WebP chunk");
    }
    let riff = u32::try_from(out.len() - 8).map_err(|_| "WebP too large")?;
    out[4..8].copy_from_slice(&riff.to_le_bytes());
    Ok(out)
}
