//! SVG: the root element's `width`, `height` and `viewBox`, from the first
//! `READ_CAP` bytes. A length in px (or unitless, or in
//! absolute units converted at 96 dpi) is an intrinsic size; a percentage or
//! a missing one falls back to the viewBox's; with neither, the image has no
//! intrinsic size. Hand-written: the few attributes of one start tag need no
//! XML parser.

use super::source::{READ_CAP, Src};
use super::{Fault, ImageFacts};
use std::io::{Read, Seek};

pub(super) fn read<R: Read + Seek>(src: &mut Src<R>, facts: &mut ImageFacts) -> Result<(), Fault> {
    let head = src.read_upto(0, READ_CAP)?;
    let text = String::from_utf8_lossy(&head);
    let tag = root_tag(&text).ok_or(Fault::Malformed("an SVG whose <svg> start tag is cut off"))?;
    let view_box = attribute(tag, "viewBox").and_then(view_box_size);
    let width = attribute(tag, "width").and_then(length).or(view_box.map(|v| v.0));
    let height = attribute(tag, "height").and_then(length).or(view_box.map(|v| v.1));
    if let (Some(w), Some(h)) = (width, height) {
        facts.width = Some(w);
        facts.height = Some(h);
    }
    facts.xmp = text.contains("<x:xmpmeta") || text.contains("xmlns:x=\"adobe:ns:meta/\"");
    Ok(())
}

/// The `<svg ...>` start tag's attributes text.
fn root_tag(text: &str) -> Option<&str> {
    let start = text.find("<svg")? + 4;
    let rest = &text[start..];
    let end = rest.find('>')?;
    Some(&rest[..end])
}

/// The value of attribute `name` in a start tag (quoted with ' or ").
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = tag;
    while let Some(at) = rest.find(name) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + name.len()..].trim_start();
        rest = &rest[at + name.len()..];
        if !before.is_some_and(char::is_whitespace) {
            continue;
        }
        let Some(value) = after.strip_prefix('=') else { continue };
        let value = value.trim_start();
        let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let value = &value[1..];
        return value.find(quote).map(|end| &value[..end]);
    }
    None
}

/// A length in whole pixels: unitless or px, or an absolute unit at 96 dpi.
fn length(text: &str) -> Option<u32> {
    let text = text.trim();
    let split = text
        .find(|c: char| c.is_ascii_alphabetic() || c == '%')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.trim().parse().ok()?;
    let scale = match unit.trim() {
        "" | "px" => 1.0,
        "in" => 96.0,
        "cm" => 96.0 / 2.54,
        "mm" => 96.0 / 25.4,
        "pt" => 96.0 / 72.0,
        "pc" => 16.0,
        _ => return None,
    };
    pixels(number * scale)
}

fn pixels(value: f64) -> Option<u32> {
    (value.is_finite() && value > 0.0 && value < f64::from(u32::MAX)).then(|| value.round() as u32)
}

/// The width and height of a `viewBox="min-x min-y width height"`.
fn view_box_size(text: &str) -> Option<(u32, u32)> {
    let numbers: Vec<f64> = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    match numbers[..] {
        [_, _, w, h] => Some((pixels(w)?, pixels(h)?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_come_from_width_and_height_then_the_view_box() {
        let cases = [
            (r#"<svg width="90" height="90">"#, Some((90, 90))),
            (r#"<svg width="90px" height='45px'>"#, Some((90, 45))),
            (r#"<svg viewBox="0 0 300 100">"#, Some((300, 100))),
            (
                r#"<svg width="100%" height="100%" viewBox="0,0,30,10">"#,
                Some((30, 10)),
            ),
            (r#"<svg width="1in" height="72pt">"#, Some((96, 96))),
            (r#"<svg xmlns="http://www.w3.org/2000/svg">"#, None),
            (r#"<svg stroke-width="3" width="5" height="7">"#, Some((5, 7))),
            (r#"<svg width="-5" height="7">"#, None),
        ];
        for (tag, want) in cases {
            let attrs = root_tag(tag).unwrap();
            let view_box = attribute(attrs, "viewBox").and_then(view_box_size);
            let w = attribute(attrs, "width").and_then(length).or(view_box.map(|v| v.0));
            let h = attribute(attrs, "height").and_then(length).or(view_box.map(|v| v.1));
            assert_eq!(w.zip(h), want, "{tag}");
        }
    }
}
