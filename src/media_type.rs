//! Image type detection from a file's first bytes.
//!
//! The MIME type sent to the file service comes from what the bytes are, never
//! from the file name: a `.png` that holds text is refused before anything is
//! sent. The signatures are the published magic numbers of each format; SVG is
//! recognised by its content (an `<svg` element near the start of an XML text).

/// How many leading bytes `sniff` wants to see.
pub(crate) const SNIFF_LEN: usize = 4096;

/// The image MIME type of content starting with `head`, if it is an image.
pub(crate) fn sniff(head: &[u8]) -> Option<&'static str> {
    let starts = |magic: &[u8]| head.starts_with(magic);
    if starts(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if starts(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Some("image/gif")
    } else if head.len() >= 12 && starts(b"RIFF") && &head[8..12] == b"WEBP" {
        Some("image/webp")
    } else if is_bmp(head) {
        Some("image/bmp")
    } else if starts(b"II*\0") || starts(b"MM\0*") {
        Some("image/tiff")
    } else if head.len() >= 6 && starts(b"\0\0\x01\0") && head[4..6] != [0, 0] {
        Some("image/x-icon")
    } else if let Some(mime) = iso_bmff(head) {
        Some(mime)
    } else if is_svg(head) {
        Some("image/svg+xml")
    } else {
        None
    }
}

/// A BMP's file header: `BM`, two reserved zero words at bytes 6-9, a
/// pixel-data offset past the headers, then a DIB header of a known size
/// (12, 40, 52, 56, 64, 108 or 124 bytes). Text starting "BM" fails it.
fn is_bmp(head: &[u8]) -> bool {
    if head.len() < 18 || !head.starts_with(b"BM") {
        return false;
    }
    let u32_at = |at: usize| u32::from_le_bytes([head[at], head[at + 1], head[at + 2], head[at + 3]]);
    let dib = u32_at(14);
    head[6..10] == [0, 0, 0, 0] && matches!(dib, 12 | 40 | 52 | 56 | 64 | 108 | 124) && u32_at(10) >= 14 + dib
}

/// AVIF and HEIC are ISO base media files: an `ftyp` box whose major or
/// compatible brands name the format.
fn iso_bmff(head: &[u8]) -> Option<&'static str> {
    if head.len() < 16 || &head[4..8] != b"ftyp" {
        return None;
    }
    let box_len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let end = box_len.clamp(16, head.len());
    // The major brand, then the compatible brands after the minor version.
    let brands = std::iter::once(&head[8..12]).chain(head[16..end].chunks_exact(4));
    let mut heic = false;
    for brand in brands {
        match brand {
            b"avif" | b"avis" => return Some("image/avif"),
            b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" => heic = true,
            _ => {}
        }
    }
    heic.then_some("image/heic")
}

fn is_svg(head: &[u8]) -> bool {
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        // The sniffed window may cut a multi-byte character in two.
        Err(err) if err.error_len().is_none() => match std::str::from_utf8(&head[..err.valid_up_to()]) {
            Ok(text) => text,
            Err(_) => return false,
        },
        Err(_) => return false,
    };
    root_element_is_svg(text.trim_start_matches('\u{feff}'))
}

/// Whether the first element of an XML text, after the prolog, comments,
/// processing instructions and the doctype, is a complete `<svg ...>` start
/// tag. Anything else first (text, another element, an unfinished construct
/// within the sniffed window) means it is not SVG: an HTML page that mentions
/// `<svg` in a comment or in its body is not an image.
fn root_element_is_svg(mut text: &str) -> bool {
    loop {
        text = text.trim_start_matches(is_xml_space);
        if let Some(rest) = text.strip_prefix("<?") {
            // The XML declaration or a processing instruction.
            let Some(end) = rest.find("?>") else { return false };
            text = &rest[end + 2..];
        } else if let Some(rest) = text.strip_prefix("<!--") {
            let Some(end) = rest.find("-->") else { return false };
            text = &rest[end + 3..];
        } else if let Some(rest) = text.strip_prefix("<!") {
            // `<!DOCTYPE svg ...>`, possibly with an internal subset in [...].
            let Some(end) = doctype_end(rest) else { return false };
            text = &rest[end + 1..];
        } else if let Some(rest) = text.strip_prefix('<') {
            let name_len = rest
                .find(|c: char| is_xml_space(c) || c == '/' || c == '>')
                .unwrap_or(rest.len());
            let name = &rest[..name_len];
            // `svg`, or `svg` with a namespace prefix (`<svg:svg ...>`).
            let local = name.rsplit_once(':').map_or(name, |(_, local)| local);
            return local == "svg" && start_tag_end(&rest[name_len..]).is_some();
        } else {
            return false;
        }
    }
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// The offset of the `>` that ends a doctype, skipping an internal subset and
/// quoted strings.
fn doctype_end(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote = None;
    for (at, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') => depth = depth.saturating_sub(1),
            (None, '>') if depth == 0 => return Some(at),
            (None, _) => {}
        }
    }
    None
}

/// The offset of the `>` that ends a start tag's attributes, skipping quoted
/// attribute values; `None` when the tag is not complete.
fn start_tag_end(attributes: &str) -> Option<usize> {
    let mut quote = None;
    for (at, c) in attributes.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '<') => return None,
            (None, '>') => return Some(at),
            (None, _) => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_each_format() {
        // A 1x1 24-bit BMP's headers.
        let mut bmp = b"BM\x3a\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0\x01\0\0\0\x01\0\0\0\x01\0\x18\0".to_vec();
        bmp.resize(58, 0);
        let cases: &[(&[u8], &str)] = &[
            (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "image/png"),
            (b"\xff\xd8\xff\xe0\0\x10JFIF", "image/jpeg"),
            (b"GIF89a\x01\0\x01\0", "image/gif"),
            (b"RIFF\x24\0\0\0WEBPVP8 ", "image/webp"),
            (&bmp, "image/bmp"),
            (b"II*\0\x08\0\0\0", "image/tiff"),
            (b"MM\0*\0\0\0\x08", "image/tiff"),
            (b"\0\0\x01\0\x01\0\x10\x10", "image/x-icon"),
            (b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf", "image/avif"),
            (b"\0\0\0\x18ftypmif1\0\0\0\0mif1heic", "image/heic"),
            (b"\0\0\0\x18ftypheic\0\0\0\0mif1heic", "image/heic"),
            (
                b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
                "image/svg+xml",
            ),
            (b"\xef\xbb\xbf  <svg></svg>", "image/svg+xml"),
            (
                b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<!-- made by hand <html> -->\n\
                  <!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">\n\
                  <svg width=\"10\" height=\"10\"><rect/></svg>",
                "image/svg+xml",
            ),
            (
                b"<!DOCTYPE svg [ <!ENTITY ns \"http://www.w3.org/2000/svg\"> ]><svg xmlns=\"&ns;\">",
                "image/svg+xml",
            ),
            (b"<svg:svg xmlns:svg=\"http://www.w3.org/2000/svg\"/>", "image/svg+xml"),
            (b"<svg\n  viewBox=\"0 0 1 1\"\n  data-x=\"a > b\"\n>", "image/svg+xml"),
        ];
        for (bytes, mime) in cases {
            assert_eq!(sniff(bytes), Some(*mime), "{bytes:?}");
        }
    }

    #[test]
    fn refuses_what_is_not_an_image() {
        for bytes in [
            &b""[..],
            b"hello, world\n",
            b"<html><body>no svg here</body></html>",
            b"%PDF-1.7",
            b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom",
            b"BM",
            b"BMW is a car maker, not a bitmap.\n",
            b"BM\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
        ] {
            assert_eq!(sniff(bytes), None, "{bytes:?}");
        }
    }

    #[test]
    fn svg_is_judged_by_its_root_element() {
        for bytes in [
            // `<svg` only in a comment of an HTML page, or in its body.
            &b"<!DOCTYPE html>\n<!-- <svg -->\n<html><body></body></html>"[..],
            b"<html><body><svg width=\"1\"></svg></body></html>",
            b"<!-- <svg> --><p>text</p>",
            // No complete start tag.
            b"<svg",
            b"<svg width=\"10\"",
            b"<svg width=\"a>b",
            // Not the svg element, or text before the root.
            b"<svgx></svgx>",
            b"<foo:svgx/>",
            b"hello <svg></svg>",
            // Unfinished prolog, comment or doctype.
            b"<?xml version=\"1.0\"",
            b"<!-- <svg></svg>",
            b"<!DOCTYPE svg [ <svg> ",
        ] {
            assert_eq!(sniff(bytes), None, "{bytes:?}");
        }
    }
}
