//! The rule table: one declaration per policy rule.
//!
//! Each entry gives a rule's key (as written under `[policies.NAME]` in
//! `config.toml` and to `config set policies.NAME.KEY`), what its value must
//! be, and its help line. Parsing from the file, from `config set` text, and
//! the value as `config get/list` show it all come from the entry.

use std::fmt;

use super::error::{PolicyError, Takes};
use crate::image::{Color, Format};

/// What a rule's value must be.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    /// A whole number from `min` up (bytes, pixels, a side in pixels).
    Int { min: u64 },
    /// `WxH`, e.g. `90x90`.
    Size,
    /// `W:H`, e.g. `3:1`.
    Ratio,
    /// A share from 0 to 1 (a float in the file).
    Share,
    /// A list of formats: an array of strings in the file, comma-separated
    /// text for `config set`.
    Formats,
    /// A colour model name.
    Color,
    /// `true` or `false`.
    Bool,
    /// `refuse` or `allow`.
    Gps,
    /// A format capfile converts to: jpeg, png or webp.
    Convert,
    /// A JPEG quality, 1 to 100.
    Quality,
}

/// The declaration of one rule.
pub(crate) struct Spec {
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
}

/// Generates `Rule`, `Rule::ALL` and `Rule::spec` from the table below.
macro_rules! rule_table {
    ($( $variant:ident => $name:literal, $kind:expr, $help:literal; )*) => {
        /// A policy rule, in the order `config list` shows them.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub(crate) enum Rule {
            $( $variant, )*
        }

        impl Rule {
            pub(crate) const ALL: [Rule; [$($name),*].len()] = [$(Rule::$variant),*];

            pub(crate) fn spec(self) -> &'static Spec {
                match self {
                    $( Rule::$variant => {
                        static SPEC: Spec = Spec { name: $name, kind: $kind, help: $help };
                        &SPEC
                    } )*
                }
            }
        }
    };
}

rule_table! {
    MaxBytes => "max_bytes", Kind::Int { min: 1 }, "largest file size, in bytes";
    MinBytes => "min_bytes", Kind::Int { min: 0 }, "smallest file size, in bytes";
    Size => "size", Kind::Size, "exact width and height, e.g. \"90x90\"";
    MinWidth => "min_width", Kind::Int { min: 0 }, "smallest width, in pixels";
    MaxWidth => "max_width", Kind::Int { min: 1 }, "largest width, in pixels";
    MinHeight => "min_height", Kind::Int { min: 0 }, "smallest height, in pixels";
    MaxHeight => "max_height", Kind::Int { min: 1 }, "largest height, in pixels";
    Aspect => "aspect", Kind::Ratio, "width:height, e.g. \"1:1\" or \"3:1\"";
    AspectTolerance => "aspect_tolerance", Kind::Share, "how far the aspect may be off, as a share (default 0.01)";
    Formats => "formats", Kind::Formats, "allowed formats, e.g. [\"png\", \"jpeg\", \"webp\"]";
    Color => "color", Kind::Color, "required colour model: rgb, grey, cmyk or palette";
    Animated => "animated", Kind::Bool, "false refuses animations, true requires them";
    MaxPixels => "max_pixels", Kind::Int { min: 1 }, "most pixels (width x height): a decompression-bomb guard";
    Gps => "gps", Kind::Gps, "\"refuse\" refuses images that carry a GPS location";
    Fit => "fit", Kind::Size, "scale images down (never up) to fit in WIDTHxHEIGHT, e.g. \"2048x2048\", before sending";
    StripMetadata => "strip_metadata", Kind::Bool, "true removes EXIF, XMP, comments and GPS before sending (keeps ICC and orientation)";
    AutoOrient => "auto_orient", Kind::Bool, "true turns images upright by their EXIF orientation before sending";
    Reencode => "reencode", Kind::Bool, "true lowers the JPEG quality step by step until max_bytes is met";
    Convert => "convert", Kind::Convert, "convert images to jpeg, png or webp before sending";
    Quality => "quality", Kind::Quality, "JPEG quality of re-encoded images, 1 to 100 (default 85)";
}

/// A rule's value, checked.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Int(u64),
    Size(u32, u32),
    Ratio(u32, u32),
    Share(f64),
    Formats(Vec<Format>),
    Color(Color),
    Bool(bool),
    /// Whether GPS is refused.
    Gps(bool),
}

impl fmt::Display for Value {
    /// The value as `config get` shows it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(n) => write!(f, "{n}"),
            Value::Size(w, h) => write!(f, "{w}x{h}"),
            Value::Ratio(w, h) => write!(f, "{w}:{h}"),
            Value::Share(s) => write!(f, "{s}"),
            Value::Formats(list) => f.write_str(&list.iter().map(|f| f.name()).collect::<Vec<_>>().join(",")),
            Value::Color(c) => f.write_str(c.name()),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Gps(refuse) => f.write_str(if *refuse { "refuse" } else { "allow" }),
        }
    }
}

impl Rule {
    pub(crate) fn name(self) -> &'static str {
        self.spec().name
    }

    /// The rule of that name, or an error listing the valid ones.
    pub(crate) fn parse(name: &str) -> Result<Rule, PolicyError> {
        Rule::ALL
            .into_iter()
            .find(|r| r.name() == name)
            .ok_or_else(|| PolicyError::UnknownRule { name: name.to_string() })
    }

    pub(crate) fn names() -> String {
        Rule::ALL.map(Rule::name).join(", ")
    }

    /// The error for a value this rule does not take.
    fn refused(self, takes: Takes, found: Option<&str>) -> PolicyError {
        PolicyError::Value {
            name: self.name(),
            takes,
            found: found.map(str::to_string),
        }
    }

    /// Checks a value as found in the config file.
    pub(crate) fn check_file(self, value: &toml_edit::Value) -> Result<Value, PolicyError> {
        match self.spec().kind {
            Kind::Int { min } => value
                .as_integer()
                .and_then(|n| u64::try_from(n).ok())
                .filter(|n| *n >= min)
                .map(Value::Int)
                .ok_or_else(|| self.refused(Takes::IntFrom(min), None)),
            Kind::Quality => value
                .as_integer()
                .and_then(|n| u64::try_from(n).ok())
                .filter(|n| (1..=100).contains(n))
                .map(Value::Int)
                .ok_or_else(|| self.refused(Takes::Quality, None)),
            Kind::Share => value
                .as_float()
                .or_else(|| value.as_integer().map(|n| n as f64))
                .filter(|s| (0.0..=1.0).contains(s))
                .map(Value::Share)
                .ok_or_else(|| self.refused(Takes::Share, None)),
            Kind::Bool => value
                .as_bool()
                .map(Value::Bool)
                .ok_or_else(|| self.refused(Takes::Bool, None)),
            Kind::Formats => {
                let list = value.as_array().ok_or_else(|| self.refused(Takes::FormatList, None))?;
                let names: Vec<&str> = list
                    .iter()
                    .map(|v| v.as_str().ok_or_else(|| self.refused(Takes::StringList, None)))
                    .collect::<Result<_, _>>()?;
                formats(self, &names)
            }
            _ => {
                let text = value.as_str().ok_or_else(|| self.refused(Takes::Quoted, None))?;
                self.check_text(text)
            }
        }
    }

    /// Checks text (`config set`, or a string in the file).
    pub(crate) fn check_text(self, text: &str) -> Result<Value, PolicyError> {
        let text = text.trim();
        let refused = |takes| self.refused(takes, Some(text));
        match self.spec().kind {
            Kind::Int { min } => text
                .parse::<u64>()
                .ok()
                .filter(|n| *n >= min)
                .map(Value::Int)
                .ok_or_else(|| refused(Takes::IntFrom(min))),
            Kind::Quality => text
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=100).contains(n))
                .map(Value::Int)
                .ok_or_else(|| refused(Takes::Quality)),
            Kind::Size => pair(text, 'x')
                .map(|(w, h)| Value::Size(w, h))
                .ok_or_else(|| refused(Takes::Size)),
            Kind::Ratio => pair(text, ':')
                .filter(|(w, h)| *w > 0 && *h > 0)
                .map(|(w, h)| Value::Ratio(w, h))
                .ok_or_else(|| refused(Takes::Ratio)),
            Kind::Share => text
                .parse::<f64>()
                .ok()
                .filter(|s| (0.0..=1.0).contains(s))
                .map(Value::Share)
                .ok_or_else(|| refused(Takes::Share)),
            Kind::Formats => formats(self, &text.split(',').map(str::trim).collect::<Vec<_>>()),
            Kind::Color => Color::parse(text)
                .map(Value::Color)
                .ok_or_else(|| refused(Takes::Color)),
            Kind::Bool => text.parse::<bool>().map(Value::Bool).map_err(|_| refused(Takes::Bool)),
            Kind::Convert => Format::parse(text)
                .filter(|f| [Format::Jpeg, Format::Png, Format::Webp].contains(f))
                .map(|f| Value::Formats(vec![f]))
                .ok_or_else(|| refused(Takes::Convert)),
            Kind::Gps => match text {
                "refuse" => Ok(Value::Gps(true)),
                "allow" => Ok(Value::Gps(false)),
                _ => Err(refused(Takes::Gps)),
            },
        }
    }

    /// Checks `config set` text and returns it as the file stores it.
    pub(crate) fn parse_input(self, text: &str) -> Result<toml_edit::Value, PolicyError> {
        let value = self.check_text(text)?;
        Ok(match value {
            Value::Int(n) => toml_edit::Value::from(i64::try_from(n).unwrap_or(i64::MAX)),
            Value::Share(s) => toml_edit::Value::from(s),
            Value::Bool(b) => toml_edit::Value::from(b),
            Value::Formats(list) if matches!(self.spec().kind, Kind::Convert) => {
                toml_edit::Value::from(list.first().map_or("jpeg", |f| f.name()))
            }
            Value::Formats(list) => toml_edit::Value::Array(list.iter().map(|f| f.name()).collect()),
            other => toml_edit::Value::from(other.to_string()),
        })
    }
}

fn formats(rule: Rule, names: &[&str]) -> Result<Value, PolicyError> {
    let name = rule.name();
    if names.is_empty() || names.iter().all(|n| n.is_empty()) {
        return Err(PolicyError::NoFormats { name });
    }
    names
        .iter()
        .map(|n| {
            Format::parse(n).ok_or_else(|| PolicyError::UnknownFormat {
                name,
                format: n.to_string(),
            })
        })
        .collect::<Result<_, _>>()
        .map(Value::Formats)
}

/// Two positive whole numbers around `sep`: `90x90`, `3:1`.
fn pair(text: &str, sep: char) -> Option<(u32, u32)> {
    let (a, b) = text.split_once(sep)?;
    let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (a > 0 && b > 0).then_some((a, b))
}
