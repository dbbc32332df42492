//! Resolves every setting from its sources into one `Settings`, keeping where
//! each value came from.
//!
//! Order, first match wins: command-line flag, environment variable, profile in
//! the config file, built-in default. The origin is kept beside each value so
//! `config list` can say why a value is what it is, and so error messages can
//! name the variable or file to fix.
//!
//! The keys a profile may hold are the `Key`s below. A value is checked the same
//! way whether it comes from `config set`, from the file or from the
//! environment, so a value that `config set` accepts is one an upload can use.

use std::fmt;

use clap::ValueEnum;
use url::{Host, Url};

use crate::cli::{AuthKind, BodyFormat, OutputFormat};
use crate::error::Error;
use crate::pacing::Rate;

/// Where a setting's value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Flag,
    Env(&'static str),
    File,
    Default,
    /// Chosen by `upload --local`.
    Local,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag => f.write_str("flag"),
            Origin::Env(name) => write!(f, "env {name}"),
            Origin::File => f.write_str("file"),
            Origin::Default => f.write_str("default"),
            Origin::Local => f.write_str("--local"),
        }
    }
}

/// A value and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting<T> {
    pub value: T,
    pub origin: Origin,
}

impl<T> Setting<T> {
    pub fn new(value: T, origin: Origin) -> Self {
        Setting { value, origin }
    }
}

pub const DEFAULT_PROFILE: &str = "default";
pub const DEFAULT_NAMESPACE: &str = "rewards";
pub const DEFAULT_JOBS: u16 = 4;
pub const DEFAULT_RETRIES: u32 = 3;
pub const DEFAULT_TIMEOUT_SECS: u64 = 60;
/// Five minutes: the longest one upload waits in all for rate limits.
pub const DEFAULT_RATE_WAIT_SECS: u64 = crate::api::DEFAULT_RATE_WAIT.as_secs();

/// The environment, as a function so tests can pass their own.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment; empty variables count as unset.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// A setting a profile can hold, in the order `config list` shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    BaseUrl,
    Auth,
    Username,
    ClientKey,
    Namespace,
    Jobs,
    Retries,
    Timeout,
    Rate,
    RateWait,
    Output,
    Body,
}

/// The names under which secrets are kept (keyring, credentials file); they are
/// not settings, and are shown only as their source.
pub const SECRET_NAMES: [&str; 2] = ["password_md5", "client_secret"];

impl Key {
    pub const ALL: [Key; 12] = [
        Key::BaseUrl,
        Key::Auth,
        Key::Username,
        Key::ClientKey,
        Key::Namespace,
        Key::Jobs,
        Key::Retries,
        Key::Timeout,
        Key::Rate,
        Key::RateWait,
        Key::Output,
        Key::Body,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Key::BaseUrl => "base_url",
            Key::Auth => "auth",
            Key::Username => "username",
            Key::ClientKey => "client_key",
            Key::Namespace => "namespace",
            Key::Jobs => "jobs",
            Key::Retries => "retries",
            Key::Timeout => "timeout",
            Key::Rate => "rate",
            Key::RateWait => "rate_wait",
            Key::Output => "output",
            Key::Body => "body",
        }
    }

    /// The key of that name, or a message listing the valid ones.
    pub fn parse(name: &str) -> Result<Key, String> {
        if let Some(key) = Key::ALL.iter().find(|k| k.name() == name) {
            return Ok(*key);
        }
        if SECRET_NAMES.contains(&name) {
            return Err(format!(
                "`{name}` is a secret, not a setting: `capfile login` stores it, `capfile logout` removes it"
            ));
        }
        Err(format!("unknown setting `{name}`; valid settings: {}", Key::names()))
    }

    /// Every key name, comma-separated, for error messages.
    pub fn names() -> String {
        Key::ALL.map(Key::name).join(", ")
    }

    /// The environment variable that sets this key, if there is one.
    pub fn env_var(self) -> Option<&'static str> {
        match self {
            Key::BaseUrl => Some("CAPFILE_BASE_URL"),
            Key::Username => Some("CAPFILE_USERNAME"),
            Key::ClientKey => Some("CAPFILE_CLIENT_KEY"),
            Key::Namespace => Some("CAPFILE_NAMESPACE"),
            Key::Rate => Some("CAPFILE_RATE"),
            _ => None,
        }
    }

    /// The allowed range of an integer setting (the same as the upload flags').
    fn range(self) -> Option<(i64, i64)> {
        match self {
            Key::Jobs => Some((1, 64)),
            Key::Retries => Some((0, 20)),
            Key::Timeout => Some((1, 86400)),
            Key::RateWait => Some((0, 86400)),
            _ => None,
        }
    }

    /// Checks a value typed on the command line (`config set KEY VALUE`) and
    /// returns it as the config file stores it: an integer for the integer
    /// settings, a string for the others.
    pub fn parse_input(self, input: &str) -> Result<toml_edit::Value, String> {
        let value = match self.range() {
            Some((min, max)) => {
                let number = input
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| format!("{} must be an integer from {min} to {max}, not {input:?}", self.name()))?;
                toml_edit::Value::from(number)
            }
            None => toml_edit::Value::from(input.trim()),
        };
        FileValues::default().set(self, &value)?;
        Ok(value)
    }
}

/// The settings of one `[profiles.NAME]` table, each checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileValues {
    pub base_url: Option<Url>,
    pub auth: Option<AuthKind>,
    pub username: Option<String>,
    pub client_key: Option<String>,
    pub namespace: Option<String>,
    pub jobs: Option<u16>,
    pub retries: Option<u32>,
    pub timeout: Option<u64>,
    pub rate: Option<Rate>,
    pub rate_wait: Option<u64>,
    pub output: Option<OutputFormat>,
    pub body: Option<BodyFormat>,
}

impl FileValues {
    /// Checks one value as found in the config file and keeps it; the error
    /// says what is wrong with it, without naming the file (the caller does).
    pub fn set(&mut self, key: Key, value: &toml_edit::Value) -> Result<(), String> {
        let name = key.name();
        if let Some((min, max)) = key.range() {
            let number = value
                .as_integer()
                .ok_or_else(|| format!("{name} must be an integer from {min} to {max}"))?;
            if !(min..=max).contains(&number) {
                return Err(format!("{name} must be from {min} to {max}, not {number}"));
            }
            match key {
                Key::Jobs => self.jobs = Some(number as u16),
                Key::Retries => self.retries = Some(number as u32),
                Key::RateWait => self.rate_wait = Some(number as u64),
                _ => self.timeout = Some(number as u64),
            }
            return Ok(());
        }
        let text = value
            .as_str()
            .ok_or_else(|| format!("{name} must be a string (in quotes)"))?;
        match key {
            Key::BaseUrl => self.base_url = Some(parse_base_url(text).map_err(|e| format!("base_url: {e}"))?),
            Key::Auth => self.auth = Some(parse_choice(name, text)?),
            Key::Output => self.output = Some(parse_choice(name, text)?),
            Key::Body => self.body = Some(parse_choice(name, text)?),
            Key::Rate => self.rate = Some(Rate::parse(text).map_err(|e| format!("rate: {e}"))?),
            Key::Namespace => {
                check_namespace(text).map_err(|e| format!("namespace: {e}"))?;
                self.namespace = Some(text.to_string());
            }
            Key::Username => {
                check_identity(text, true).map_err(|e| format!("username: {e}"))?;
                self.username = Some(text.to_string());
            }
            Key::ClientKey => {
                check_identity(text, false).map_err(|e| format!("client_key: {e}"))?;
                self.client_key = Some(text.to_string());
            }
            Key::Jobs | Key::Retries | Key::Timeout | Key::RateWait => {
                unreachable!("integer settings are handled above")
            }
        }
        Ok(())
    }
}

/// One of the names of a clap value enum, e.g. `basic` or `oauth`.
fn parse_choice<E: ValueEnum>(name: &str, text: &str) -> Result<E, String> {
    E::from_str(text.trim(), false).map_err(|_| {
        let names: Vec<String> = E::value_variants().iter().map(choice_name).collect();
        format!("{name} must be one of {}, not {text:?}", names.join(", "))
    })
}

/// The name a value enum is written as in files and output.
pub fn choice_name<E: ValueEnum>(value: &E) -> String {
    value
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

/// A username or client key: something that fits in a header. A Basic-auth
/// user name cannot hold `:`, which separates it from the password.
fn check_identity(text: &str, basic: bool) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if text.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    if basic && text.contains(':') {
        return Err("must not contain `:`".into());
    }
    Ok(())
}

/// A profile name: it names a TOML table and a keyring entry, so it is kept
/// to plain characters.
pub fn check_profile_name(name: &str) -> Result<(), String> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
        return Err(format!(
            "profile name {name:?} may hold only letters, digits, `-`, `_` and `.`"
        ));
    }
    Ok(())
}

/// Settings given on the command line (upload's flags, login's flags).
#[derive(Clone, Debug, Default)]
pub struct Flags {
    pub base_url: Option<String>,
    pub auth: Option<AuthKind>,
    pub username: Option<String>,
    pub client_key: Option<String>,
    pub namespace: Option<String>,
    pub jobs: Option<u16>,
    pub retries: Option<u32>,
    pub timeout: Option<u64>,
    /// As typed: checked like the file's value.
    pub rate: Option<String>,
    pub rate_wait: Option<u64>,
    pub output: Option<OutputFormat>,
    pub body: Option<BodyFormat>,
}

/// Everything an upload needs to know, resolved.
#[derive(Clone, Debug)]
pub struct Settings {
    pub base_url: Option<Setting<Url>>,
    /// Set by a flag or the file; otherwise inferred from which of username and
    /// client key is set (origin `Default`).
    pub auth: Setting<AuthKind>,
    pub username: Option<Setting<String>>,
    pub client_key: Option<Setting<String>>,
    pub namespace: Setting<String>,
    pub jobs: Setting<u16>,
    pub retries: Setting<u32>,
    pub timeout: Setting<u64>,
    /// The most requests to send per period; unset means no set limit.
    pub rate: Option<Setting<Rate>>,
    /// Seconds one upload may wait in all for rate limits.
    pub rate_wait: Setting<u64>,
    pub output: Setting<OutputFormat>,
    pub body: Setting<BodyFormat>,
}

/// The first of flag, environment and file that is set.
fn pick<T>(flag: Option<T>, env: Option<(T, &'static str)>, file: Option<T>) -> Option<Setting<T>> {
    if let Some(value) = flag {
        Some(Setting::new(value, Origin::Flag))
    } else if let Some((value, name)) = env {
        Some(Setting::new(value, Origin::Env(name)))
    } else {
        file.map(|value| Setting::new(value, Origin::File))
    }
}

fn or_default<T>(setting: Option<Setting<T>>, default: T) -> Setting<T> {
    setting.unwrap_or(Setting::new(default, Origin::Default))
}

/// A key's environment variable, checked the way the file's value would be.
fn from_env<T>(
    env: Env,
    key: Key,
    check: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<(T, &'static str)>, Error> {
    let Some(name) = key.env_var() else {
        return Ok(None);
    };
    match env(name) {
        Some(value) => check(&value)
            .map(|v| Some((v, name)))
            .map_err(|e| Error::usage(format!("{name}: {e}"))),
        None => Ok(None),
    }
}

/// A flag's value, checked the way the file's value would be.
fn from_flag<T>(
    value: Option<&String>,
    flag: &str,
    check: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<T>, Error> {
    value
        .map(|v| check(v))
        .transpose()
        .map_err(|e| Error::usage(format!("{flag}: {e}")))
}

fn text(check: fn(&str) -> Result<(), String>) -> impl Fn(&str) -> Result<String, String> {
    move |value| check(value).map(|()| value.to_string())
}

/// Resolves every setting: flag, then environment, then the profile's values
/// from the config file, then the default.
pub fn resolve(flags: &Flags, env: Env, file: &FileValues) -> Result<Settings, Error> {
    let check_username = text(|v| check_identity(v, true));
    let check_client_key = text(|v| check_identity(v, false));
    let base_url = pick(
        from_flag(flags.base_url.as_ref(), "--base-url", parse_base_url)?,
        from_env(env, Key::BaseUrl, parse_base_url)?,
        file.base_url.clone(),
    );
    let username = pick(
        from_flag(flags.username.as_ref(), "--username", &check_username)?,
        from_env(env, Key::Username, &check_username)?,
        file.username.clone(),
    );
    let client_key = pick(
        from_flag(flags.client_key.as_ref(), "--client-key", &check_client_key)?,
        from_env(env, Key::ClientKey, &check_client_key)?,
        file.client_key.clone(),
    );
    let namespace = pick(
        from_flag(flags.namespace.as_ref(), "--namespace", text(check_namespace))?,
        from_env(env, Key::Namespace, text(check_namespace))?,
        file.namespace.clone(),
    );
    let check_rate = |v: &str| Rate::parse(v);
    let rate = pick(
        from_flag(flags.rate.as_ref(), "--rate", check_rate)?,
        from_env(env, Key::Rate, check_rate)?,
        file.rate,
    );
    let inferred = if username.is_none() && client_key.is_some() {
        AuthKind::Oauth
    } else {
        AuthKind::Basic
    };
    Ok(Settings {
        base_url,
        auth: or_default(pick(flags.auth, None, file.auth), inferred),
        username,
        client_key,
        namespace: or_default(namespace, DEFAULT_NAMESPACE.to_string()),
        jobs: or_default(pick(flags.jobs, None, file.jobs), DEFAULT_JOBS),
        retries: or_default(pick(flags.retries, None, file.retries), DEFAULT_RETRIES),
        timeout: or_default(pick(flags.timeout, None, file.timeout), DEFAULT_TIMEOUT_SECS),
        rate,
        rate_wait: or_default(pick(flags.rate_wait, None, file.rate_wait), DEFAULT_RATE_WAIT_SECS),
        output: or_default(pick(flags.output, None, file.output), OutputFormat::Table),
        body: or_default(pick(flags.body, None, file.body), BodyFormat::Multipart),
    })
}

impl Settings {
    /// A setting's effective value as text, and its origin; `None` when unset.
    pub fn get(&self, key: Key) -> Option<(String, Origin)> {
        fn show<T: ToString>(s: &Setting<T>) -> (String, Origin) {
            (s.value.to_string(), s.origin.clone())
        }
        fn show_choice<E: ValueEnum>(s: &Setting<E>) -> (String, Origin) {
            (choice_name(&s.value), s.origin.clone())
        }
        match key {
            Key::BaseUrl => self.base_url.as_ref().map(show),
            Key::Auth => Some(show_choice(&self.auth)),
            Key::Username => self.username.as_ref().map(show),
            Key::ClientKey => self.client_key.as_ref().map(show),
            Key::Namespace => Some(show(&self.namespace)),
            Key::Jobs => Some(show(&self.jobs)),
            Key::Retries => Some(show(&self.retries)),
            Key::Timeout => Some(show(&self.timeout)),
            Key::Rate => self.rate.as_ref().map(show),
            Key::RateWait => Some(show(&self.rate_wait)),
            Key::Output => Some(show_choice(&self.output)),
            Key::Body => Some(show_choice(&self.body)),
        }
    }
}

/// A namespace is one URL path segment of plain characters.
pub fn check_namespace(namespace: &str) -> Result<(), String> {
    if namespace.is_empty() {
        return Err("must not be empty".into());
    }
    if !namespace
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        || namespace == "."
        || namespace == ".."
    {
        return Err(format!("{namespace:?} may hold only letters, digits, `-`, `_` and `.`"));
    }
    Ok(())
}

/// Parses a base URL: `https://`, or `http://` to a loopback host only, so that
/// credentials never cross a network in clear text. A URL with a user name or
/// password in it is refused before anything else is looked at, and no message
/// ever quotes that part.
pub fn parse_base_url(value: &str) -> Result<Url, String> {
    let shown = redact_userinfo(value.trim());
    if shown != value.trim() {
        return Err(format!(
            "{shown:?} carries a user name or password; remove it and use `capfile login`"
        ));
    }
    let url = Url::parse(value.trim()).map_err(|e| format!("{shown:?} is not a URL ({e})"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "{shown:?} carries a user name or password; remove it and use `capfile login`"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{shown:?} must not have a query or fragment"));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(format!(
            "{shown:?} uses plain http to a host that is not loopback; use https so credentials are encrypted"
        )),
        other => Err(format!("{shown:?} has scheme `{other}`; use https")),
    }
}

/// The URL text with anything before an `@` in its authority replaced by
/// `***`, for messages: `https://user:pw@host/` -> `https://***@host/`.
pub fn redact_userinfo(text: &str) -> String {
    let rest_start = text.find("://").map_or(0, |i| i + 3);
    let authority_end = text[rest_start..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |i| rest_start + i);
    match text[rest_start..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &text[..rest_start], &text[rest_start + at..]),
        None => text.to_string(),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    fn file_with(pairs: &[(Key, toml_edit::Value)]) -> FileValues {
        let mut file = FileValues::default();
        for (key, value) in pairs {
            file.set(*key, value).unwrap();
        }
        file
    }

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn flag_beats_env_beats_file_beats_default() {
        let env = env_of(&[
            ("CAPFILE_NAMESPACE", "solutions"),
            ("CAPFILE_BASE_URL", "https://env.example.com"),
        ]);
        let file = file_with(&[
            (Key::Namespace, "fromfile".into()),
            (Key::BaseUrl, "https://file.example.com".into()),
        ]);
        let defaults = resolve(&Flags::default(), &none, &FileValues::default()).unwrap();
        assert_eq!(defaults.namespace, Setting::new("rewards".to_string(), Origin::Default));
        assert!(defaults.base_url.is_none());

        let from_file = resolve(&Flags::default(), &none, &file).unwrap();
        assert_eq!(from_file.namespace, Setting::new("fromfile".to_string(), Origin::File));
        assert_eq!(from_file.base_url.unwrap().origin, Origin::File);

        let from_env = resolve(&Flags::default(), &env, &file).unwrap();
        assert_eq!(from_env.namespace.origin, Origin::Env("CAPFILE_NAMESPACE"));
        assert_eq!(from_env.namespace.value, "solutions");
        assert_eq!(from_env.base_url.unwrap().value.as_str(), "https://env.example.com/");

        let flags = Flags {
            namespace: Some("customerImage".into()),
            base_url: Some("https://flag.example.com".into()),
            ..Flags::default()
        };
        let from_flag = resolve(&flags, &env, &file).unwrap();
        assert_eq!(
            from_flag.namespace,
            Setting::new("customerImage".to_string(), Origin::Flag)
        );
        assert_eq!(from_flag.base_url.unwrap().value.as_str(), "https://flag.example.com/");
    }

    #[test]
    fn every_upload_setting_has_flag_file_default_layers() {
        let file = file_with(&[
            (Key::Jobs, 9.into()),
            (Key::Retries, 7.into()),
            (Key::Timeout, 99.into()),
            (Key::Output, "url".into()),
            (Key::Body, "raw".into()),
        ]);
        let defaults = resolve(&Flags::default(), &none, &FileValues::default()).unwrap();
        assert_eq!(defaults.jobs, Setting::new(DEFAULT_JOBS, Origin::Default));
        assert_eq!(defaults.retries, Setting::new(DEFAULT_RETRIES, Origin::Default));
        assert_eq!(defaults.timeout, Setting::new(DEFAULT_TIMEOUT_SECS, Origin::Default));
        assert_eq!(defaults.output, Setting::new(OutputFormat::Table, Origin::Default));
        assert_eq!(defaults.body, Setting::new(BodyFormat::Multipart, Origin::Default));

        let from_file = resolve(&Flags::default(), &none, &file).unwrap();
        assert_eq!(from_file.jobs, Setting::new(9, Origin::File));
        assert_eq!(from_file.retries, Setting::new(7, Origin::File));
        assert_eq!(from_file.timeout, Setting::new(99, Origin::File));
        assert_eq!(from_file.output, Setting::new(OutputFormat::Url, Origin::File));
        assert_eq!(from_file.body, Setting::new(BodyFormat::Raw, Origin::File));

        let flags = Flags {
            jobs: Some(2),
            retries: Some(0),
            timeout: Some(5),
            output: Some(OutputFormat::Json),
            body: Some(BodyFormat::Multipart),
            ..Flags::default()
        };
        let from_flag = resolve(&flags, &none, &file).unwrap();
        assert_eq!(from_flag.jobs, Setting::new(2, Origin::Flag));
        assert_eq!(from_flag.retries, Setting::new(0, Origin::Flag));
        assert_eq!(from_flag.timeout, Setting::new(5, Origin::Flag));
        assert_eq!(from_flag.output, Setting::new(OutputFormat::Json, Origin::Flag));
        assert_eq!(from_flag.body, Setting::new(BodyFormat::Multipart, Origin::Flag));
    }

    #[test]
    fn rate_comes_from_flag_env_or_file_and_rate_wait_from_flag_or_file() {
        let file = file_with(&[(Key::Rate, "100/min".into()), (Key::RateWait, 0.into())]);
        let defaults = resolve(&Flags::default(), &none, &FileValues::default()).unwrap();
        assert_eq!(defaults.rate, None);
        assert_eq!(defaults.get(Key::Rate), None);
        assert_eq!(defaults.rate_wait, Setting::new(300, Origin::Default));

        let from_file = resolve(&Flags::default(), &none, &file).unwrap();
        assert_eq!(from_file.get(Key::Rate), Some(("100/min".to_string(), Origin::File)));
        assert_eq!(from_file.rate_wait, Setting::new(0, Origin::File));

        let env = env_of(&[("CAPFILE_RATE", "10/2s")]);
        let from_env = resolve(&Flags::default(), &env, &file).unwrap();
        assert_eq!(
            from_env.get(Key::Rate),
            Some(("10/2s".to_string(), Origin::Env("CAPFILE_RATE")))
        );

        let flags = Flags {
            rate: Some("5/s".into()),
            rate_wait: Some(60),
            ..Flags::default()
        };
        let from_flag = resolve(&flags, &env, &file).unwrap();
        assert_eq!(from_flag.get(Key::Rate), Some(("5/s".to_string(), Origin::Flag)));
        assert_eq!(from_flag.rate_wait, Setting::new(60, Origin::Flag));

        let bad = env_of(&[("CAPFILE_RATE", "fast")]);
        let err = resolve(&Flags::default(), &bad, &file).unwrap_err();
        assert!(
            err.message().starts_with("CAPFILE_RATE: \"fast\" is not a rate"),
            "{}",
            err.message()
        );
        let flags = Flags {
            rate: Some("0/s".into()),
            ..Flags::default()
        };
        let err = resolve(&flags, &none, &file).unwrap_err();
        assert!(err.message().starts_with("--rate: "), "{}", err.message());

        assert_eq!(Key::Rate.parse_input("60/10s").unwrap().as_str(), Some("60/10s"));
        assert_eq!(Key::RateWait.parse_input("0").unwrap().as_integer(), Some(0));
        assert!(Key::Rate.parse_input("60").unwrap_err().starts_with("rate: "));
        assert!(Key::RateWait.parse_input("-1").unwrap_err().contains("rate_wait"));
        let mut values = FileValues::default();
        assert!(values.set(Key::Rate, &60.into()).unwrap_err().contains("string"));
    }

    #[test]
    fn identity_layers_and_auth_inference() {
        let file = file_with(&[(Key::Username, "till-file".into())]);
        let env = env_of(&[("CAPFILE_USERNAME", "till-env")]);
        let resolved = resolve(&Flags::default(), &env, &file).unwrap();
        assert_eq!(
            resolved.username,
            Some(Setting::new("till-env".to_string(), Origin::Env("CAPFILE_USERNAME")))
        );
        assert_eq!(resolved.auth, Setting::new(AuthKind::Basic, Origin::Default));

        let oauth_only = file_with(&[(Key::ClientKey, "key".into())]);
        let resolved = resolve(&Flags::default(), &none, &oauth_only).unwrap();
        assert_eq!(resolved.auth, Setting::new(AuthKind::Oauth, Origin::Default));

        let explicit = file_with(&[(Key::ClientKey, "key".into()), (Key::Auth, "basic".into())]);
        let resolved = resolve(&Flags::default(), &none, &explicit).unwrap();
        assert_eq!(resolved.auth, Setting::new(AuthKind::Basic, Origin::File));
        let flags = Flags {
            auth: Some(AuthKind::Oauth),
            ..Flags::default()
        };
        assert_eq!(resolve(&flags, &none, &explicit).unwrap().auth.origin, Origin::Flag);
    }

    #[test]
    fn config_set_input_is_checked_like_the_flags() {
        assert_eq!(Key::Jobs.parse_input("8").unwrap().as_integer(), Some(8));
        assert_eq!(Key::Retries.parse_input("0").unwrap().as_integer(), Some(0));
        assert_eq!(Key::Timeout.parse_input("86400").unwrap().as_integer(), Some(86400));
        for (key, bad) in [
            (Key::Jobs, "0"),
            (Key::Jobs, "65"),
            (Key::Jobs, "four"),
            (Key::Retries, "21"),
            (Key::Timeout, "0"),
            (Key::Output, "yaml"),
            (Key::Body, "form"),
            (Key::Auth, "token"),
            (Key::BaseUrl, "http://eu.api.capillarytech.com"),
            (Key::Namespace, "a/b"),
            (Key::Username, "a:b"),
            (Key::ClientKey, ""),
        ] {
            let err = key.parse_input(bad).unwrap_err();
            assert!(err.contains(key.name()), "{key:?} {bad:?}: {err}");
        }
        assert_eq!(Key::Auth.parse_input("oauth").unwrap().as_str(), Some("oauth"));
        assert_eq!(
            Key::BaseUrl.parse_input("http://127.0.0.1:7878").unwrap().as_str(),
            Some("http://127.0.0.1:7878")
        );
    }

    #[test]
    fn unknown_keys_list_the_valid_ones_and_secrets_are_not_settings() {
        let err = Key::parse("namespce").unwrap_err();
        assert!(
            err.contains("base_url, auth, username, client_key, namespace, jobs"),
            "{err}"
        );
        assert!(Key::parse("password_md5").unwrap_err().contains("capfile login"));
        assert_eq!(Key::parse("timeout"), Ok(Key::Timeout));
    }

    #[test]
    fn file_values_must_have_the_right_type() {
        let mut file = FileValues::default();
        assert!(file.set(Key::Jobs, &"4".into()).unwrap_err().contains("integer"));
        assert!(file.set(Key::Namespace, &4.into()).unwrap_err().contains("string"));
        assert!(file.set(Key::Retries, &(-1).into()).is_err());
    }

    #[test]
    fn settings_show_as_text_with_origin() {
        let file = file_with(&[(Key::Output, "json".into())]);
        let resolved = resolve(&Flags::default(), &none, &file).unwrap();
        assert_eq!(resolved.get(Key::Output), Some(("json".to_string(), Origin::File)));
        assert_eq!(resolved.get(Key::Jobs), Some(("4".to_string(), Origin::Default)));
        assert_eq!(resolved.get(Key::BaseUrl), None);
    }

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(parse_base_url("https://eu.api.capillarytech.com").is_ok());
        for ok in [
            "http://127.0.0.1:7878",
            "http://127.1.2.3",
            "http://[::1]:80",
            "http://localhost:1",
        ] {
            assert!(parse_base_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://eu.api.capillarytech.com",
            "http://10.0.0.1",
            "ftp://x",
            "https://u:p@x.com",
            "nonsense",
        ] {
            assert!(parse_base_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_password_in_the_base_url_is_refused_first_and_never_quoted() {
        for bad in [
            "https://user:hunter2@host/?a=1",
            "http://user:hunter2@example.com",
            "ftp://user:hunter2@x",
            "https://user:hunter2@[not a host/",
            "https://hunter2@h",
        ] {
            let err = parse_base_url(bad).unwrap_err();
            assert!(!err.contains("hunter2"), "{bad}: {err}");
            assert!(err.contains("user name or password"), "{bad}: {err}");
        }
        assert_eq!(redact_userinfo("https://a:b@h:1/p@x"), "https://***@h:1/p@x");
        assert_eq!(redact_userinfo("https://h/p@x"), "https://h/p@x");
    }

    #[test]
    fn bad_env_value_names_the_variable() {
        let env = env_of(&[("CAPFILE_BASE_URL", "http://example.com")]);
        let err = resolve(&Flags::default(), &env, &FileValues::default()).unwrap_err();
        assert!(err.message().starts_with("CAPFILE_BASE_URL:"), "{}", err.message());
        let env = env_of(&[("CAPFILE_USERNAME", "a:b")]);
        let err = resolve(&Flags::default(), &env, &FileValues::default()).unwrap_err();
        assert!(err.message().starts_with("CAPFILE_USERNAME:"), "{}", err.message());
    }

    #[test]
    fn namespaces_are_one_plain_segment() {
        assert!(check_namespace("rewards").is_ok());
        assert!(check_namespace("customerImage").is_ok());
        for bad in ["", "a/b", "..", "a b", "é"] {
            assert!(check_namespace(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn profile_names_are_plain() {
        assert!(check_profile_name("default").is_ok());
        assert!(check_profile_name("ci-eu.2").is_ok());
        for bad in ["", "a b", "a/b", "x]"] {
            assert!(check_profile_name(bad).is_err(), "{bad}");
        }
    }
}
