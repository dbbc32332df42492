//! The settings table: one declaration per setting.
//!
//! Each entry gives a setting's key (as written in `config.toml` and to
//! `config get/set`), its environment variable, its flag, what its text must
//! be (an integer range, one of fixed names, or text a function checks), its
//! default and its help line. Everything else is derived from the entry: the
//! `Key` enum and `Key::ALL` (the order `config list` shows), resolution
//! (`super::resolve`), `config get/set/unset/list`, the config file's checks,
//! every validation message, and the ranges and `[env: ...]` / `[default: ...]`
//! notes in the upload flags' help (`cli/mod.rs` calls `Key::flag_help` and
//! `Key::range`).
//!
//! Adding a setting is one entry here plus its use (a field of `Settings`, and
//! a flag if it has one); its environment variable is `CAPFILE_` and its key
//! in capitals.

use std::fmt;
use std::ops::RangeInclusive;

use clap::ValueEnum;
use url::Url;

use super::checks::{check_identity, check_namespace, parse_base_url};
use super::error::{Expected, ValueError};
use super::rate::Rate;
use super::types::{AuthKind, BodyFormat, HttpVersion, Jobs, OutputFormat, choice_name, choice_names};

/// A setting's value, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    /// An integer, or `auto` (`jobs`).
    Jobs(Jobs),
    Text(String),
    Url(Url),
    Rate(Rate),
    Auth(AuthKind),
    Output(OutputFormat),
    Body(BodyFormat),
    Http(HttpVersion),
}

impl fmt::Display for Value {
    /// The value as `config get` prints it and the config file holds it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(n) => write!(f, "{n}"),
            Value::Jobs(Jobs::Auto) => f.write_str("auto"),
            Value::Jobs(Jobs::Fixed(n)) => write!(f, "{n}"),
            Value::Text(text) => f.write_str(text),
            Value::Url(url) => f.write_str(url.as_str()),
            Value::Rate(rate) => write!(f, "{rate}"),
            Value::Auth(auth) => f.write_str(&choice_name(auth)),
            Value::Output(output) => f.write_str(&choice_name(output)),
            Value::Body(body) => f.write_str(&choice_name(body)),
            Value::Http(http) => f.write_str(&choice_name(http)),
        }
    }
}

/// What a setting's text must be.
#[derive(Clone, Copy)]
pub enum Kind {
    /// An integer in a range; a TOML integer in the config file.
    Int { min: i64, max: i64 },
    /// `auto`, or an integer in a range; a TOML integer or the string
    /// `"auto"` in the config file.
    IntOrAuto { min: i64, max: i64 },
    /// One of the names of a clap value enum; a string in the file.
    Choice {
        parse: fn(&str) -> Option<Value>,
        names: fn() -> Vec<String>,
    },
    /// Text that `check` accepts; a string in the file. Its errors do not name
    /// the setting: the caller says where the text came from.
    Text(fn(&str) -> Result<Value, ValueError>),
}

/// The declaration of one setting.
pub struct Spec {
    /// The key in `config.toml`, `config get/set/unset` and `config list`.
    pub name: &'static str,
    /// The environment variable that sets it, between the flag and the file:
    /// `CAPFILE_` and the key in capitals, for every setting (a unit test
    /// holds the rule, so a user can tell a variable's name from the key).
    pub env: &'static str,
    /// The flag that sets it, as error messages name it.
    pub flag: Option<&'static str>,
    pub kind: Kind,
    /// The default, as text (it is checked like any other text); `None` for a
    /// setting that may stay unset.
    pub default: Option<&'static str>,
    /// The flag's help line, without the `[env: ...]` and `[default: ...]` notes.
    pub help: &'static str,
}

/// Generates `Key`, `Key::ALL` and `Key::spec` from the table below.
macro_rules! settings_table {
    ($( $(#[$doc:meta])* $variant:ident => $spec:expr; )*) => {
        /// A setting a profile can hold, in the order `config list` shows them.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Key {
            $( $(#[$doc])* $variant, )*
        }

        impl Key {
            /// Every setting, in the order of the table.
            pub const ALL: [Key; [$(stringify!($variant)),*].len()] = [$(Key::$variant),*];

            /// This setting's declaration.
            pub fn spec(self) -> &'static Spec {
                match self {
                    $( Key::$variant => {
                        static SPEC: Spec = $spec;
                        &SPEC
                    } )*
                }
            }
        }
    };
}

/// One of the names of a clap value enum, e.g. `basic` or `oauth`.
fn choice<E: ValueEnum + Into<Value>>(text: &str) -> Option<Value> {
    E::from_str(text.trim(), false).ok().map(Into::into)
}

fn url(text: &str) -> Result<Value, ValueError> {
    parse_base_url(text).map(Value::Url)
}

fn username(text: &str) -> Result<Value, ValueError> {
    check_identity(text, true).map(|()| Value::Text(text.to_string()))
}

fn client_key(text: &str) -> Result<Value, ValueError> {
    check_identity(text, false).map(|()| Value::Text(text.to_string()))
}

fn namespace(text: &str) -> Result<Value, ValueError> {
    check_namespace(text).map(|()| Value::Text(text.to_string()))
}

fn rate(text: &str) -> Result<Value, ValueError> {
    Rate::parse(text).map(Value::Rate)
}

fn manifest(text: &str) -> Result<Value, ValueError> {
    if text.trim().is_empty() {
        return Err(ValueError::EmptyPath { ca_bundle: false });
    }
    Ok(Value::Text(text.to_string()))
}

fn ca_bundle(text: &str) -> Result<Value, ValueError> {
    if text.trim().is_empty() {
        return Err(ValueError::EmptyPath { ca_bundle: true });
    }
    Ok(Value::Text(text.to_string()))
}

/// Which OS keyring keeps the profile's secret.
fn keyring(text: &str) -> Result<Value, ValueError> {
    match text.trim() {
        name @ ("native" | "secret-service" | "keyutils") => Ok(Value::Text(name.to_string())),
        other => Err(ValueError::Keyring {
            text: other.to_string(),
        }),
    }
}

fn policy(text: &str) -> Result<Value, ValueError> {
    crate::policy::check_name(text.trim())
        .map(|()| Value::Text(text.trim().to_string()))
        .map_err(ValueError::Policy)
}

settings_table! {
    BaseUrl => Spec {
        name: "base_url",
        env: "CAPFILE_BASE_URL",
        flag: Some("--base-url"),
        kind: Kind::Text(url),
        default: None,
        help: "Base URL of the Capillary API host, e.g. https://eu.api.capillarytech.com",
    };
    Auth => Spec {
        name: "auth",
        env: "CAPFILE_AUTH",
        flag: Some("--auth"),
        kind: Kind::Choice { parse: choice::<AuthKind>, names: choice_names::<AuthKind> },
        // Inferred when unset: OAuth when only a client key is set.
        default: None,
        help: "Authentication kind",
    };
    Username => Spec {
        name: "username",
        env: "CAPFILE_USERNAME",
        flag: Some("--username"),
        kind: Kind::Text(username),
        default: None,
        help: "Till username (basic auth)",
    };
    ClientKey => Spec {
        name: "client_key",
        env: "CAPFILE_CLIENT_KEY",
        flag: Some("--client-key"),
        kind: Kind::Text(client_key),
        default: None,
        help: "API client key (OAuth)",
    };
    Namespace => Spec {
        name: "namespace",
        env: "CAPFILE_NAMESPACE",
        flag: Some("--namespace"),
        kind: Kind::Text(namespace),
        default: Some("rewards"),
        help: "Namespace to upload into",
    };
    Jobs => Spec {
        name: "jobs",
        env: "CAPFILE_JOBS",
        flag: Some("--jobs"),
        kind: Kind::IntOrAuto { min: 1, max: 64 },
        default: Some("auto"),
        help: "Number of uploads in flight at once, or `auto`: start at 4 and find the level \
               the link and the service take (up to --jobs-max)",
    };
    JobsMax => Spec {
        name: "jobs_max",
        env: "CAPFILE_JOBS_MAX",
        flag: Some("--jobs-max"),
        kind: Kind::Int { min: 1, max: 256 },
        default: Some("64"),
        help: "The most uploads in flight at once with --jobs auto",
    };
    Retries => Spec {
        name: "retries",
        env: "CAPFILE_RETRIES",
        flag: Some("--retries"),
        kind: Kind::Int { min: 0, max: 20 },
        default: Some("3"),
        help: "Retries for connection errors, timeouts, 408 and 5xx; a 429 waits for \
               the rate limit instead (see --max-rate-wait)",
    };
    Timeout => Spec {
        name: "timeout",
        env: "CAPFILE_TIMEOUT",
        flag: Some("--timeout"),
        kind: Kind::Int { min: 1, max: 86400 },
        default: Some("60"),
        help: "Fail a request that makes no progress for this many seconds",
    };
    Rate => Spec {
        name: "rate",
        env: "CAPFILE_RATE",
        flag: Some("--rate"),
        kind: Kind::Text(rate),
        default: None,
        help: "Send at most N requests per PERIOD, e.g. 100/min or 10/2s: set it to \
               the org's rate limit and the service never has to answer 429",
    };
    RateWait => Spec {
        name: "rate_wait",
        env: "CAPFILE_RATE_WAIT",
        flag: Some("--max-rate-wait"),
        kind: Kind::Int { min: 0, max: 86400 },
        // Five minutes: the longest one upload waits in all for rate limits
        // (the same as `api::DEFAULT_RATE_WAIT`, which a test holds).
        default: Some("300"),
        help: "Seconds one upload may wait in all for rate limits (429s) before it \
               fails; 429s do not use up --retries",
    };
    Output => Spec {
        name: "output",
        env: "CAPFILE_OUTPUT",
        flag: Some("--output"),
        kind: Kind::Choice { parse: choice::<OutputFormat>, names: choice_names::<OutputFormat> },
        default: Some("table"),
        help: "Output format on standard output",
    };
    Body => Spec {
        name: "body",
        env: "CAPFILE_BODY",
        flag: Some("--body"),
        kind: Kind::Choice { parse: choice::<BodyFormat>, names: choice_names::<BodyFormat> },
        default: Some("multipart"),
        help: "How the image is sent: a multipart part named `file`, or the raw bytes",
    };
    Http => Spec {
        name: "http",
        env: "CAPFILE_HTTP",
        flag: Some("--http"),
        kind: Kind::Choice { parse: choice::<HttpVersion>, names: choice_names::<HttpVersion> },
        default: Some("auto"),
        help: "HTTP version: auto (HTTP/1.1 for uploads, faster than HTTP/2 far from the \
               service: see the README), 1.1 or 2",
    };
    Manifest => Spec {
        name: "manifest",
        env: "CAPFILE_MANIFEST",
        flag: Some("--manifest"),
        kind: Kind::Text(manifest),
        default: None,
        help: "Record each upload in FILE and skip inputs unchanged since (see --force, --no-refresh)",
    };
    CaBundle => Spec {
        name: "ca_bundle",
        env: "CAPFILE_CA_BUNDLE",
        flag: Some("--cacert"),
        kind: Kind::Text(ca_bundle),
        default: None,
        help: "Trust the CA certificates in FILE (PEM) besides the system's, e.g. a private or intercepting CA",
    };
    Keyring => Spec {
        name: "keyring",
        env: "CAPFILE_KEYRING",
        flag: None,
        kind: Kind::Text(keyring),
        default: Some("native"),
        help: "The OS keyring that keeps the secret: native, or keyutils (the Linux kernel keyring)",
    };
    Policy => Spec {
        name: "policy",
        env: "CAPFILE_POLICY",
        flag: Some("--policy"),
        kind: Kind::Text(policy),
        default: None,
        help: "Check every image against the [policies.NAME] rules of config.toml before sending; \
               a breach refuses the batch",
    };
}

impl From<AuthKind> for Value {
    fn from(value: AuthKind) -> Value {
        Value::Auth(value)
    }
}

impl From<OutputFormat> for Value {
    fn from(value: OutputFormat) -> Value {
        Value::Output(value)
    }
}

impl From<BodyFormat> for Value {
    fn from(value: BodyFormat) -> Value {
        Value::Body(value)
    }
}

impl From<HttpVersion> for Value {
    fn from(value: HttpVersion) -> Value {
        Value::Http(value)
    }
}

/// The names under which secrets are kept (keyring, credentials file); they are
/// not settings, and are shown only as their source.
pub(super) const SECRET_NAMES: [&str; 2] = ["password_md5", "client_secret"];

impl Key {
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The key of that name, or a message listing the valid ones.
    pub fn parse(name: &str) -> Result<Key, ValueError> {
        if let Some(key) = Key::ALL.iter().find(|k| k.name() == name) {
            return Ok(*key);
        }
        let name = name.to_string();
        if SECRET_NAMES.contains(&name.as_str()) {
            return Err(ValueError::SecretKey { name });
        }
        Err(ValueError::UnknownKey { name })
    }

    /// Every key name, comma-separated, for error messages.
    pub fn names() -> String {
        Key::ALL.map(Key::name).join(", ")
    }

    /// The environment variable that sets this key.
    pub fn env_var(self) -> &'static str {
        self.spec().env
    }

    /// Whether the value is an integer (a TOML integer, a JSON number).
    pub fn is_integer(self) -> bool {
        matches!(self.spec().kind, Kind::Int { .. } | Kind::IntOrAuto { .. })
    }

    /// The allowed range of an integer setting, for clap's `value_parser`;
    /// the full `i64` range for the others.
    pub fn range(self) -> RangeInclusive<i64> {
        match self.spec().kind {
            Kind::Int { min, max } | Kind::IntOrAuto { min, max } => min..=max,
            _ => i64::MIN..=i64::MAX,
        }
    }

    /// `range` for clap's `u64` parser, whose bounds are `u64`.
    pub fn range_u64(self) -> RangeInclusive<u64> {
        let range = self.range();
        u64::try_from(*range.start()).unwrap_or(0)..=u64::try_from(*range.end()).unwrap_or(u64::MAX)
    }

    /// The flag's help: the help line, then `[env: VAR]` and `[default: D]`
    /// when there are such.
    pub fn flag_help(self) -> String {
        let spec = self.spec();
        let mut help = spec.help.to_string();
        help.push_str(&format!(" [env: {}]", spec.env));
        if let Some(default) = spec.default {
            help.push_str(&format!(" [default: {default}]"));
        }
        help
    }

    /// Checks text from a flag or the environment. The error does not say
    /// where the text came from: the caller prefixes the flag or variable.
    pub fn from_text(self, text: &str) -> Result<Value, ValueError> {
        let refused = |expected| ValueError::Text {
            expected,
            text: text.to_string(),
        };
        match self.spec().kind {
            Kind::Int { min, max } => text
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .map(Value::Int)
                .ok_or_else(|| refused(Expected::Int { min, max })),
            Kind::IntOrAuto { min, max } => {
                jobs_text(text, min, max).ok_or_else(|| refused(Expected::IntOrAuto { min, max }))
            }
            Kind::Choice { parse, names } => parse(text).ok_or_else(|| refused(Expected::Choice(names()))),
            Kind::Text(check) => check(text),
        }
    }

    /// The default value, when the setting has one.
    pub fn default_value(self) -> Option<Value> {
        // A default the table's own check refuses is a bug the unit tests catch.
        self.spec().default.and_then(|text| self.from_text(text).ok())
    }

    /// Checks a value typed on the command line (`config set KEY VALUE`) and
    /// returns it as the config file stores it: an integer for the integer
    /// settings, a string for the others.
    pub fn parse_input(self, input: &str) -> Result<toml_edit::Value, ValueError> {
        let refused = |expected| ValueError::Named {
            name: self.name(),
            expected,
            found: Some(input.to_string()),
        };
        let value = match self.spec().kind {
            Kind::Int { min, max } => {
                let number = input
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| refused(Expected::Int { min, max }))?;
                toml_edit::Value::from(number)
            }
            Kind::IntOrAuto { min, max } => match input.trim().parse::<i64>() {
                Ok(number) => toml_edit::Value::from(number),
                Err(_) if input.trim().eq_ignore_ascii_case("auto") => toml_edit::Value::from("auto"),
                Err(_) => return Err(refused(Expected::IntOrAuto { min, max })),
            },
            _ => toml_edit::Value::from(input.trim()),
        };
        self.from_file(&value)?;
        Ok(value)
    }

    /// Checks one value as found in the config file; the error says what is
    /// wrong with it, without naming the file (the caller does).
    pub fn from_file(self, value: &toml_edit::Value) -> Result<Value, ValueError> {
        let name = self.name();
        let refused = |expected, found| ValueError::Named { name, expected, found };
        let out_of_range = |min, max, number| ValueError::OutOfRange { name, min, max, number };
        match self.spec().kind {
            Kind::Int { min, max } => {
                let number = value
                    .as_integer()
                    .ok_or_else(|| refused(Expected::Int { min, max }, None))?;
                if !(min..=max).contains(&number) {
                    return Err(out_of_range(min, max, number));
                }
                Ok(Value::Int(number))
            }
            Kind::IntOrAuto { min, max } => {
                let wrong = || refused(Expected::IntOrQuotedAuto { min, max }, None);
                match (value.as_integer(), value.as_str()) {
                    (Some(number), _) if (min..=max).contains(&number) => {
                        Ok(Value::Jobs(Jobs::Fixed(u16::try_from(number).map_err(|_| wrong())?)))
                    }
                    (Some(number), _) => Err(out_of_range(min, max, number)),
                    (None, Some("auto")) => Ok(Value::Jobs(Jobs::Auto)),
                    _ => Err(wrong()),
                }
            }
            Kind::Choice { parse, names } => {
                let text = file_text(name, value)?;
                parse(text).ok_or_else(|| refused(Expected::Choice(names()), Some(text.to_string())))
            }
            Kind::Text(check) => check(file_text(name, value)?).map_err(|error| ValueError::In {
                name,
                error: Box::new(error),
            }),
        }
    }
}

/// `auto`, or an integer in `min..=max`, as typed.
fn jobs_text(text: &str, min: i64, max: i64) -> Option<Value> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("auto") {
        return Some(Value::Jobs(Jobs::Auto));
    }
    let number = text.parse::<i64>().ok().filter(|n| (min..=max).contains(n))?;
    u16::try_from(number).ok().map(|n| Value::Jobs(Jobs::Fixed(n)))
}

fn file_text<'a>(name: &'static str, value: &'a toml_edit::Value) -> Result<&'a str, ValueError> {
    value.as_str().ok_or(ValueError::Named {
        name,
        expected: Expected::Quoted,
        found: None,
    })
}

/// A typed view of a `Value`, for the fields of `Settings`.
pub trait FromValue: Sized {
    fn from_value(value: &Value) -> Option<Self>;
}

macro_rules! from_value {
    ($($ty:ty => $pattern:pat => $out:expr;)*) => {
        $(impl FromValue for $ty {
            fn from_value(value: &Value) -> Option<Self> {
                match value {
                    $pattern => $out,
                    _ => None,
                }
            }
        })*
    };
}

from_value! {
    Url => Value::Url(url) => Some(url.clone());
    String => Value::Text(text) => Some(text.clone());
    u16 => Value::Int(n) => u16::try_from(*n).ok();
    u32 => Value::Int(n) => u32::try_from(*n).ok();
    u64 => Value::Int(n) => u64::try_from(*n).ok();
    Rate => Value::Rate(rate) => Some(*rate);
    AuthKind => Value::Auth(auth) => Some(*auth);
    OutputFormat => Value::Output(output) => Some(*output);
    BodyFormat => Value::Body(body) => Some(*body);
    HttpVersion => Value::Http(http) => Some(*http);
    Jobs => Value::Jobs(jobs) => Some(*jobs);
}
