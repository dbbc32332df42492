//! Why a setting's value from a flag or an environment variable is refused.
//!
//! A value is checked the same way wherever it comes from; this error adds
//! where it came from (the flag or the variable), so the message names what
//! to fix. A usage error (exit 2): nothing was sent.

use std::fmt;

use crate::exit::{ErrorKind, Failure};

/// A setting's value that its check refuses.
#[derive(Debug)]
pub enum SettingsError {
    /// The value from `from` (a flag or a variable) is refused, for `message`.
    Bad { from: String, message: ValueError },
}

impl Failure for SettingsError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Usage
    }
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingsError::Bad { from, message } => write!(f, "{from}: {message}"),
        }
    }
}

impl std::error::Error for SettingsError {}

/// Why a setting's text or value is refused, wherever it comes from: a
/// flag, the environment, the config file or `config set`. Its words name
/// the key where the caller does not (the file's and `config set`'s), and
/// never where the value came from: the caller adds that.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueError {
    /// An identity or namespace that is empty.
    Empty,
    /// An identity with a control character in it.
    ControlCharacters,
    /// A Basic-auth username with `:` in it.
    Colon,
    /// A profile name with other than plain characters.
    ProfileName { name: String },
    /// A namespace with other than plain characters (or `.`, `..`).
    Namespace { namespace: String },
    /// A base URL with a user name or password in it (`shown` redacted).
    UrlUserInfo { shown: String },
    /// A base URL without `https://`.
    UrlNoScheme { shown: String },
    /// Text that is not a URL.
    NotUrl { shown: String, cause: url::ParseError },
    /// A base URL with a query or fragment.
    UrlQuery { shown: String },
    /// A base URL that holds the upload endpoint's path; `base` is the one to use.
    UrlEndpointPath { shown: String, base: String },
    /// Plain http to a host that is not loopback.
    UrlPlainHttp { shown: String },
    /// A scheme other than https and http.
    UrlScheme { shown: String, scheme: String },
    /// Not `N/PERIOD`.
    NotARate { text: String },
    /// A rate of zero requests.
    RateZero { text: String },
    /// A rate's period under a second or over a day.
    RatePeriod { text: String },
    /// An empty path; `ca_bundle` for the CA bundle's.
    EmptyPath { ca_bundle: bool },
    /// A keyring that is not one of the known ones.
    Keyring { text: String },
    /// A policy name that is not one.
    Policy(crate::policy::PolicyError),
    /// Text (from a flag or a variable) that is not what the setting takes.
    Text { expected: Expected, text: String },
    /// A key that is no setting.
    UnknownKey { name: String },
    /// A key that names a secret, not a setting.
    SecretKey { name: String },
    /// The value of key `name` (in the file or `config set`) is not what it
    /// takes; `found` is the text, when it is shown.
    Named {
        name: &'static str,
        expected: Expected,
        found: Option<String>,
    },
    /// An integer of key `name` out of its range.
    OutOfRange {
        name: &'static str,
        min: i64,
        max: i64,
        number: i64,
    },
    /// A text value of key `name` its check refuses.
    In { name: &'static str, error: Box<ValueError> },
}

/// What a setting takes, as its error says it: "must be {expected}".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// An integer in a range.
    Int { min: i64, max: i64 },
    /// `auto` or an integer in a range (on the command line).
    IntOrAuto { min: i64, max: i64 },
    /// `"auto"` or an integer in a range (in the file).
    IntOrQuotedAuto { min: i64, max: i64 },
    /// One of these names.
    Choice(Vec<String>),
    /// A TOML string.
    Quoted,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expected::Int { min, max } => write!(f, "an integer from {min} to {max}"),
            Expected::IntOrAuto { min, max } => write!(f, "an integer from {min} to {max}, or auto"),
            Expected::IntOrQuotedAuto { min, max } => write!(f, "an integer from {min} to {max}, or \"auto\""),
            Expected::Choice(names) => write!(f, "one of {}", names.join(", ")),
            Expected::Quoted => f.write_str("a string (in quotes)"),
        }
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueError::Empty => f.write_str("must not be empty"),
            ValueError::ControlCharacters => f.write_str("must not contain control characters"),
            ValueError::Colon => f.write_str("must not contain `:`"),
            ValueError::ProfileName { name } => {
                write!(
                    f,
                    "profile name {name:?} may hold only letters, digits, `-`, `_` and `.`"
                )
            }
            ValueError::Namespace { namespace } => {
                write!(f, "{namespace:?} may hold only letters, digits, `-`, `_` and `.`")
            }
            ValueError::UrlUserInfo { shown } => write!(
                f,
                "{shown:?} carries a user name or password; remove it and use `capfile login`"
            ),
            ValueError::UrlNoScheme { shown } => {
                write!(f, "{shown:?} has no scheme; did you mean \"https://{shown}\"?")
            }
            ValueError::NotUrl { shown, cause } => write!(f, "{shown:?} is not a URL ({cause})"),
            ValueError::UrlQuery { shown } => write!(f, "{shown:?} must not have a query or fragment"),
            ValueError::UrlEndpointPath { shown, base } => write!(
                f,
                "{shown:?} includes the upload endpoint's path (/{}/...), which capfile adds itself; use \"{base}\"",
                super::checks::ENDPOINT_SEGMENT
            ),
            ValueError::UrlPlainHttp { shown } => write!(
                f,
                "{shown:?} uses plain http to a host that is not loopback; use https so credentials are encrypted"
            ),
            ValueError::UrlScheme { shown, scheme } => write!(f, "{shown:?} has scheme `{scheme}`; use https"),
            ValueError::NotARate { text } => write!(f, "{text:?} is not a rate like 100/min, 10/2s or 5000/h"),
            ValueError::RateZero { text } => write!(f, "{text:?}: the rate must allow at least one request"),
            ValueError::RatePeriod { text } => write!(f, "{text:?}: the period must be from 1 s to 24 h"),
            ValueError::EmptyPath { ca_bundle: false } => f.write_str("must be a file path, not empty"),
            ValueError::EmptyPath { ca_bundle: true } => {
                f.write_str("must be a file path (a PEM file of CA certificates), not empty")
            }
            ValueError::Keyring { text } => write!(
                f,
                "must be `native` (the platform's: Secret Service, Keychain, Credential Manager) or \
                 `keyutils` (the Linux kernel keyring), not {text:?}"
            ),
            ValueError::Policy(error) => error.fmt(f),
            ValueError::Text { expected, text } => write!(f, "must be {expected}, not {text:?}"),
            ValueError::UnknownKey { name } => {
                write!(f, "unknown setting `{name}`; valid settings: {}", super::Key::names())
            }
            ValueError::SecretKey { name } => write!(
                f,
                "`{name}` is a secret, not a setting: `capfile login` stores it, `capfile logout` removes it"
            ),
            ValueError::Named { name, expected, found } => match found {
                Some(found) => write!(f, "{name} must be {expected}, not {found:?}"),
                None => write!(f, "{name} must be {expected}"),
            },
            ValueError::OutOfRange { name, min, max, number } => {
                write!(f, "{name} must be from {min} to {max}, not {number}")
            }
            ValueError::In { name, error } => write!(f, "{name}: {error}"),
        }
    }
}

impl std::error::Error for ValueError {}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words each error had when the checks returned strings.
    #[test]
    fn values_are_refused_in_the_same_words() {
        let cases: Vec<(ValueError, &str)> = vec![
            (ValueError::Empty, "must not be empty"),
            (ValueError::Colon, "must not contain `:`"),
            (
                ValueError::UrlEndpointPath {
                    shown: "https://h/api_gateway/x".into(),
                    base: "https://h".into(),
                },
                "\"https://h/api_gateway/x\" includes the upload endpoint's path (/api_gateway/...), which capfile \
                 adds itself; use \"https://h\"",
            ),
            (
                ValueError::EmptyPath { ca_bundle: true },
                "must be a file path (a PEM file of CA certificates), not empty",
            ),
            (
                ValueError::Keyring { text: "kwallet".into() },
                "must be `native` (the platform's: Secret Service, Keychain, Credential Manager) or `keyutils` \
                 (the Linux kernel keyring), not \"kwallet\"",
            ),
            (
                ValueError::Text {
                    expected: Expected::IntOrAuto { min: 1, max: 64 },
                    text: "many".into(),
                },
                "must be an integer from 1 to 64, or auto, not \"many\"",
            ),
            (
                ValueError::Named {
                    name: "jobs",
                    expected: Expected::IntOrQuotedAuto { min: 1, max: 64 },
                    found: None,
                },
                "jobs must be an integer from 1 to 64, or \"auto\"",
            ),
            (
                ValueError::In {
                    name: "rate",
                    error: Box::new(ValueError::RateZero { text: "0/s".into() }),
                },
                "rate: \"0/s\": the rate must allow at least one request",
            ),
        ];
        for (error, words) in cases {
            assert_eq!(error.to_string(), words, "{error:?}");
        }
        let bad = SettingsError::Bad {
            from: "CAPFILE_RATE".into(),
            message: ValueError::NotARate { text: "fast".into() },
        };
        assert_eq!(
            bad.to_string(),
            "CAPFILE_RATE: \"fast\" is not a rate like 100/min, 10/2s or 5000/h"
        );
        assert_eq!(bad.exit(), crate::exit::Exit::Usage);
    }
}
