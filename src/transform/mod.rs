//! Images made to fit on the way out: metadata stripped, turned upright,
//! scaled down, converted, or re-encoded under a byte budget, without ever
//! writing the original.
//!
//! [`Settings`] come from the upload flags (`--strip-metadata`,
//! `--auto-orient`, `--fit`, `--max-bytes`, `--reencode`, `--convert`,
//! `--quality`) laid over the policy's entries of the same names. Before a
//! byte is sent, [`check`] says from an image's header facts alone whether
//! the settings can be applied (an animation is not resized, CMYK is not
//! converted, a format capfile cannot decode is not re-encoded) and what the
//! image will be afterwards, which is what the policy's rules are held to.
//! At upload time [`apply`] makes the bytes to send, in memory, from the
//! source's bytes; `spool` puts them in a private temporary file that the
//! upload streams from and that is removed when it is dropped.
//!
//! Stripping metadata from a JPEG, PNG or WebP removes segments or chunks and
//! never touches the pixels (`strip`); a JPEG whose orientation is not 1
//! keeps it in a minimal EXIF block holding only the orientation, so it is
//! never turned sideways. Anything that changes pixels (orient, fit,
//! convert, a lower quality) decodes with limits (`pixels`) and re-encodes;
//! a decoded image is always turned upright, and only its ICC profile is kept.

use std::fmt;

use crate::image::{Format, ImageFacts};
use crate::policy::{Policy, Rule, Value};

mod pixels;
mod spool;
mod strip;

pub(crate) use spool::{Spooled, spool};

/// The JPEG quality used when none is given.
pub(crate) const DEFAULT_QUALITY: u8 = 85;

/// The lowest quality `--reencode` steps down to before it gives up.
pub(crate) const MIN_QUALITY: u8 = 20;

/// How far each `--reencode` step lowers the quality.
const QUALITY_STEP: u8 = 10;

/// What to do to each image before it is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Settings {
    pub strip_metadata: bool,
    pub auto_orient: bool,
    /// Scale down (never up), keeping the aspect, to fit in `WxH`.
    pub fit: Option<(u32, u32)>,
    /// The most bytes the sent image may have.
    pub max_bytes: Option<u64>,
    /// Lower the quality step by step until `max_bytes` is met.
    pub reencode: bool,
    pub convert: Option<Format>,
    /// JPEG quality of a re-encoded image (1 to 100).
    pub quality: u8,
    /// The decoder's pixel limit (the policy's `max_pixels`).
    pub max_pixels: u64,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            strip_metadata: false,
            auto_orient: false,
            fit: None,
            max_bytes: None,
            reencode: false,
            convert: None,
            quality: DEFAULT_QUALITY,
            max_pixels: crate::policy::DEFAULT_MAX_PIXELS,
        }
    }
}

/// The transform flags of one run, each `None` when not given.
#[derive(Clone, Debug, Default)]
pub(crate) struct Flags {
    pub strip_metadata: bool,
    pub auto_orient: bool,
    pub fit: Option<(u32, u32)>,
    pub max_bytes: Option<u64>,
    pub reencode: bool,
    pub convert: Option<Format>,
    pub quality: Option<u8>,
}

impl Settings {
    /// The policy's transform entries, with the flags laid over them. A
    /// policy's `max_bytes` becomes the budget once any transform is asked
    /// for: it is then held to what is sent, not to the source.
    pub(crate) fn resolve(policy: Option<&Policy>, flags: &Flags) -> Settings {
        let flag = |rule: Rule| policy.and_then(|p| p.get(rule));
        let on = |rule: Rule| matches!(flag(rule), Some(Value::Bool(true)));
        let mut s = Settings {
            strip_metadata: flags.strip_metadata || on(Rule::StripMetadata),
            auto_orient: flags.auto_orient || on(Rule::AutoOrient),
            reencode: flags.reencode || on(Rule::Reencode),
            fit: flags.fit.or(match flag(Rule::Fit) {
                Some(Value::Size(w, h)) => Some((*w, *h)),
                _ => None,
            }),
            convert: flags.convert.or(match flag(Rule::Convert) {
                Some(Value::Formats(list)) => list.first().copied(),
                _ => None,
            }),
            quality: flags
                .quality
                .or(match flag(Rule::Quality) {
                    Some(Value::Int(q)) => Some((*q).min(100) as u8),
                    _ => None,
                })
                .unwrap_or(DEFAULT_QUALITY)
                .clamp(1, 100),
            max_bytes: flags.max_bytes,
            max_pixels: match flag(Rule::MaxPixels) {
                Some(Value::Int(n)) => *n,
                _ => crate::policy::DEFAULT_MAX_PIXELS,
            },
        };
        if s.max_bytes.is_none()
            && s.is_active()
            && let Some(Value::Int(n)) = flag(Rule::MaxBytes)
        {
            s.max_bytes = Some(*n);
        }
        s
    }

    /// Whether anything is to be done to the images at all.
    pub(crate) fn is_active(&self) -> bool {
        self.strip_metadata
            || self.auto_orient
            || self.fit.is_some()
            || self.max_bytes.is_some()
            || self.reencode
            || self.convert.is_some()
    }

    /// The settings as one line, what the manifest keys an entry by beside
    /// the source's content: a changed setting sends the file again.
    pub(crate) fn key(&self) -> String {
        let mut parts = Vec::new();
        if self.strip_metadata {
            parts.push("strip-metadata".to_string());
        }
        if self.auto_orient {
            parts.push("auto-orient".to_string());
        }
        if let Some((w, h)) = self.fit {
            parts.push(format!("fit={w}x{h}"));
        }
        if let Some(n) = self.max_bytes {
            parts.push(format!("max-bytes={n}"));
        }
        if self.reencode {
            parts.push("reencode".to_string());
        }
        if let Some(f) = self.convert {
            parts.push(format!("convert={f}"));
        }
        parts.push(format!("quality={}", self.quality));
        parts.join(",")
    }
}

/// What [`check`] found an image will become.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    /// The facts of the image that will be sent, as far as the header tells
    /// (`bytes` is at most the budget when pixels are re-encoded).
    pub after: ImageFacts,
    /// Whether pixels are decoded and re-encoded.
    pub decode: bool,
    /// Whether metadata segments are removed without decoding.
    pub strip_only: bool,
}

/// Formats whose pixels capfile decodes (still images only).
const DECODABLE: [Format; 4] = [Format::Jpeg, Format::Png, Format::Webp, Format::Gif];

/// Formats whose metadata capfile removes without decoding.
const STRIPPABLE: [Format; 3] = [Format::Jpeg, Format::Png, Format::Webp];

/// Says what `settings` make of the image `facts` describe, or why they
/// cannot be applied (one clause, to follow the file's name).
pub(crate) fn check(facts: &ImageFacts, settings: &Settings) -> Result<Plan, Refusal> {
    let turned = facts.orientation.is_some_and(|o| o != 1);
    let (width, height) = match (facts.width, facts.height) {
        (Some(w), Some(h)) => (w, h),
        _ => (0, 0),
    };
    // Orientations 5 to 8 swap the sides.
    let (up_w, up_h) = if facts.orientation.is_some_and(|o| o >= 5) {
        (height, width)
    } else {
        (width, height)
    };
    let fitted = settings.fit.map(|(w, h)| fit_size(up_w, up_h, w, h));
    let resize = fitted.is_some_and(|size| size != (up_w, up_h));
    let out = settings.convert.unwrap_or(facts.format);
    // A PNG or WebP that is turned loses its orientation with its metadata,
    // so it is turned upright instead.
    let orient = turned && (settings.auto_orient || (settings.strip_metadata && facts.format != Format::Jpeg));
    let decode = orient || resize || out != facts.format;
    let carries = facts.exif || facts.gps || facts.xmp;
    let strip_only = !decode && settings.strip_metadata && carries;
    if decode {
        refuse_decode(facts, settings)?;
        // Held to the source's size, not the fitted one: a bomb is refused here.
        if let Some(pixels) = facts.pixels().filter(|p| *p > settings.max_pixels) {
            return Err(Refusal::OverMaxPixels {
                size: facts.size_text(),
                pixels,
                max: settings.max_pixels,
            });
        }
    } else if strip_only && !STRIPPABLE.contains(&facts.format) {
        return Err(Refusal::CannotStrip { format: facts.format });
    }
    let mut after = facts.clone();
    if decode {
        let (w, h) = fitted.unwrap_or((up_w, up_h));
        (after.width, after.height) = (Some(w), Some(h));
        // A GIF is sent as a PNG: capfile does not quantise colours.
        after.format = if out == Format::Gif { Format::Png } else { out };
        after.orientation = None;
        (after.exif, after.gps, after.xmp) = (false, false, false);
        if out == Format::Jpeg {
            after.alpha = false;
        }
        if let Some(max) = settings.max_bytes {
            after.bytes = after.bytes.min(max);
        }
    } else if strip_only {
        (after.gps, after.xmp) = (false, false);
        after.exif = facts.format == Format::Jpeg && turned;
    }
    Ok(Plan {
        after,
        decode,
        strip_only,
    })
}

/// Why pixels cannot be decoded and re-encoded, if they cannot.
fn refuse_decode(facts: &ImageFacts, settings: &Settings) -> Result<(), Refusal> {
    let asked = asked(settings);
    if facts.animated() {
        return Err(Refusal::Animated {
            frames: facts.frames,
            asked,
        });
    }
    if facts.color == Some(crate::image::Color::Cmyk) {
        return Err(Refusal::Cmyk { asked });
    }
    if !DECODABLE.contains(&facts.format) {
        return Err(Refusal::NotDecodable {
            format: facts.format,
            asked,
        });
    }
    Ok(())
}

/// Why the transforms asked for cannot be applied to an image (one clause,
/// to follow the file's name); `asked` names the flags that need decoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    Animated { frames: u32, asked: String },
    Cmyk { asked: String },
    NotDecodable { format: Format, asked: String },
    OverMaxPixels { size: String, pixels: u64, max: u64 },
    CannotStrip { format: Format },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Animated { frames, asked } => write!(
                f,
                "animated ({frames} frames): capfile does not resize, rotate or convert animations ({asked}); \
                 upload it without them, or use a still image"
            ),
            Refusal::Cmyk { asked } => write!(
                f,
                "CMYK: capfile does not convert CMYK to sRGB ({asked}), as no well-kept Rust crate converts \
                 it through the image's colour profile; convert it to RGB first"
            ),
            Refusal::NotDecodable { format, asked } => write!(
                f,
                "capfile cannot decode a {format} file ({asked}); it decodes JPEG, PNG, WebP and GIF"
            ),
            Refusal::OverMaxPixels { size, pixels, max } => {
                write!(f, "{size} ({pixels} pixels) is over max_pixels {max}")
            }
            Refusal::CannotStrip { format } => write!(
                f,
                "--strip-metadata: capfile cannot remove metadata from a {format} file without re-encoding it \
                 (it does for JPEG, PNG and WebP); convert it with --convert, or remove it first"
            ),
        }
    }
}

impl std::error::Error for Refusal {}

/// The flags that need decoding, for messages.
fn asked(settings: &Settings) -> String {
    let mut names = Vec::new();
    if let Some((w, h)) = settings.fit {
        names.push(format!("--fit {w}x{h}"));
    }
    if settings.auto_orient {
        names.push("--auto-orient".to_string());
    }
    if let Some(f) = settings.convert {
        names.push(format!("--convert {f}"));
    }
    if names.is_empty() {
        names.push("--strip-metadata of a turned image".to_string());
    }
    names.join(", ")
}

/// The size that fits `w x h` inside `max_w x max_h`, scaled down only.
pub(crate) fn fit_size(w: u32, h: u32, max_w: u32, max_h: u32) -> (u32, u32) {
    if w <= max_w && h <= max_h || w == 0 || h == 0 {
        return (w, h);
    }
    let scale = (f64::from(max_w) / f64::from(w)).min(f64::from(max_h) / f64::from(h));
    let side = |n: u32, max: u32| ((f64::from(n) * scale).round() as u32).clamp(1, max);
    (side(w, max_w), side(h, max_h))
}

/// The image to send in place of the source.
#[derive(Debug)]
pub(crate) struct Transformed {
    pub bytes: Vec<u8>,
    pub format: Format,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// What was done, in order, e.g. `fit 4000x3000->2048x1536`.
    pub done: Vec<String>,
}

/// Why an image could not be made to fit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TransformError(pub String);

impl fmt::Display for TransformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TransformError {}

/// Makes the bytes to send from the source's `bytes` (whose header facts
/// are `facts`); `None` when the source is sent as it is.
pub(crate) fn apply(
    bytes: &[u8],
    facts: &ImageFacts,
    settings: &Settings,
) -> Result<Option<Transformed>, TransformError> {
    let plan = check(facts, settings).map_err(|refusal| TransformError(refusal.to_string()))?;
    let mut done = Vec::new();
    let sent = if plan.decode {
        return pixels::run(bytes, facts, settings, &plan).map(Some);
    } else if plan.strip_only {
        let kept = facts.orientation.filter(|o| *o != 1);
        let stripped = strip::strip(facts.format, bytes, kept).map_err(|e| TransformError(e.to_string()))?;
        done.push(match kept {
            Some(o) => format!("strip-metadata (lossless, orientation {o} kept)"),
            None => "strip-metadata (lossless)".to_string(),
        });
        Some(stripped)
    } else {
        None
    };
    let size = sent.as_ref().map_or(bytes.len(), Vec::len) as u64;
    if let Some(max) = settings.max_bytes
        && size > max
    {
        if settings.reencode && facts.format == Format::Jpeg {
            return pixels::run(bytes, facts, settings, &plan).map(Some);
        }
        return Err(over_budget(size, max, facts.format, None, settings.reencode));
    }
    Ok(sent.map(|bytes| Transformed {
        bytes,
        format: facts.format,
        width: facts.width,
        height: facts.height,
        done,
    }))
}

/// The error of an image still over `--max-bytes`, naming the size reached.
fn over_budget(size: u64, max: u64, format: Format, quality: Option<u8>, reencode: bool) -> TransformError {
    let at = quality.map(|q| format!(" at quality {q}")).unwrap_or_default();
    let hint = match (reencode, format) {
        (_, Format::Jpeg) if quality.is_some() => format!(" (the lowest quality --reencode tries is {MIN_QUALITY})"),
        (false, Format::Jpeg) => "; --reencode lowers the quality until it fits".to_string(),
        _ => format!("; a {format} is not re-encoded at a lower quality (try --convert jpeg)"),
    };
    TransformError(format!("{size} bytes{at} is over --max-bytes {max}{hint}"))
}

#[cfg(test)]
mod tests;
