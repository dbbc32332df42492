//! Why a policy name, rule or rule value is refused, wherever it comes from
//! (the config file or `config set`). The words name the rule; the caller
//! adds the file, line and column, or the key typed.

use std::fmt;

use super::rules::Rule;
use crate::image::Format;

/// A policy name, rule or rule value that is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// Not a policy name (a TOML key without a dot).
    Name { name: String },
    /// No rule of that name.
    UnknownRule { name: String },
    /// Rule `name`'s value is not what it takes; `found` is the text, when
    /// it is shown.
    Value {
        name: &'static str,
        takes: Takes,
        found: Option<String>,
    },
    /// An empty list of formats for rule `name`.
    NoFormats { name: &'static str },
    /// A format capfile does not know, in rule `name`.
    UnknownFormat { name: &'static str, format: String },
}

/// What a rule takes, as its error says it: "must be {takes}".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takes {
    IntFrom(u64),
    Quality,
    Share,
    Bool,
    FormatList,
    StringList,
    Quoted,
    Size,
    Ratio,
    Color,
    Convert,
    Gps,
}

impl fmt::Display for Takes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Takes::IntFrom(min) => write!(f, "an integer from {min}"),
            Takes::Quality => f.write_str("an integer from 1 to 100"),
            Takes::Share => f.write_str("a number from 0 to 1"),
            Takes::Bool => f.write_str("true or false"),
            Takes::FormatList => f.write_str("a list of formats, e.g. [\"png\", \"jpeg\"]"),
            Takes::StringList => f.write_str("a list of strings"),
            Takes::Quoted => f.write_str("a string (in quotes)"),
            Takes::Size => f.write_str("WIDTHxHEIGHT, e.g. \"90x90\""),
            Takes::Ratio => f.write_str("WIDTH:HEIGHT, e.g. \"3:1\""),
            Takes::Color => f.write_str("one of rgb, grey, cmyk, palette"),
            Takes::Convert => f.write_str("jpeg, png or webp"),
            Takes::Gps => f.write_str("refuse or allow"),
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let all = || Format::ALL.map(Format::name).join(", ");
        match self {
            PolicyError::Name { name } => {
                write!(f, "policy name {name:?} may hold only letters, digits, `-` and `_`")
            }
            PolicyError::UnknownRule { name } => {
                write!(f, "unknown policy rule `{name}`; valid rules: {}", Rule::names())
            }
            PolicyError::Value { name, takes, found } => match found {
                Some(found) => write!(f, "{name} must be {takes}, not {found:?}"),
                None => write!(f, "{name} must be {takes}"),
            },
            PolicyError::NoFormats { name } => write!(f, "{name} must name at least one format: {}", all()),
            PolicyError::UnknownFormat { name, format } => {
                write!(f, "{name}: unknown format {format:?}; known: {}", all())
            }
        }
    }
}

impl std::error::Error for PolicyError {}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words each error had when the checks returned strings.
    #[test]
    fn rules_are_refused_in_the_same_words() {
        let value = |takes, found: Option<&str>| PolicyError::Value {
            name: "fit",
            takes,
            found: found.map(str::to_string),
        };
        let cases = [
            (
                value(Takes::Size, Some("big")),
                "fit must be WIDTHxHEIGHT, e.g. \"90x90\", not \"big\"",
            ),
            (value(Takes::IntFrom(1), None), "fit must be an integer from 1"),
            (value(Takes::Gps, Some("x")), "fit must be refuse or allow, not \"x\""),
            (
                PolicyError::Name { name: "a.b".into() },
                "policy name \"a.b\" may hold only letters, digits, `-` and `_`",
            ),
        ];
        for (error, words) in cases {
            assert_eq!(error.to_string(), words, "{error:?}");
        }
        assert!(
            PolicyError::UnknownFormat {
                name: "formats",
                format: "bmpx".into()
            }
            .to_string()
            .starts_with("formats: unknown format \"bmpx\"; known: png, ")
        );
    }
}
