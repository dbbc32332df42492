//! Resolves every setting from its sources into one `Settings`, keeping where
//! each value came from.
//!
//! Order, first match wins: command-line flag, environment variable, profile in
//! the config file, built-in default. The origin is kept beside each value so
//! `config list` can say why a value is what it is, and so error messages can
//! name the variable or file to fix.
//!
//! What each setting is (its key, variable, flag, check, default and help)
//! is declared once, in `table`. A value is checked the same way whether it
//! comes from `config set`, from the file or from the environment, so a value
//! that `config set` accepts is one an upload can use. The environment is
//! read once (`env::Env`) and handed down.

use std::collections::BTreeMap;
use std::fmt;

use url::Url;

mod checks;
pub(crate) mod env;
mod error;
mod rate;
mod table;
pub(crate) mod types;

pub use checks::parse_base_url;
pub(crate) use checks::{check_namespace, check_profile_name, origin_of};
pub(crate) use env::{Env, Lookup};
pub(crate) use error::{SettingsError, ValueError};
pub(crate) use rate::Rate;
pub(crate) use table::{FromValue, Value};
pub use table::{Key, Kind};
pub(crate) use types::{AuthKind, BodyFormat, ColorChoice, HttpVersion, Jobs, OutputFormat, choice_name};

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

pub(crate) const DEFAULT_PROFILE: &str = "default";

/// The settings of one `[profiles.NAME]` table, each checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileValues {
    values: BTreeMap<Key, Value>,
}

impl FileValues {
    /// Checks one value as found in the config file and keeps it; the error
    /// says what is wrong with it, without naming the file (the caller does).
    pub fn set(&mut self, key: Key, value: &toml_edit::Value) -> Result<(), ValueError> {
        let value = key.from_file(value)?;
        self.values.insert(key, value);
        Ok(())
    }

    pub fn get(&self, key: Key) -> Option<&Value> {
        self.values.get(&key)
    }

    /// A value as its type, e.g. `file.typed::<Url>(Key::BaseUrl)`.
    pub fn typed<T: FromValue>(&self, key: Key) -> Option<T> {
        self.get(key).and_then(T::from_value)
    }

    pub fn base_url(&self) -> Option<Url> {
        self.typed(Key::BaseUrl)
    }

    pub fn auth(&self) -> Option<AuthKind> {
        self.typed(Key::Auth)
    }

    pub fn username(&self) -> Option<String> {
        self.typed(Key::Username)
    }

    pub fn client_key(&self) -> Option<String> {
        self.typed(Key::ClientKey)
    }
}

/// Settings given on the command line (upload's flags, login's flags).
#[derive(Clone, Debug, Default)]
pub struct Flags {
    /// As typed: checked like the file's value.
    pub base_url: Option<String>,
    pub auth: Option<AuthKind>,
    /// As typed: checked like the file's value.
    pub username: Option<String>,
    /// As typed: checked like the file's value.
    pub client_key: Option<String>,
    /// As typed: checked like the file's value.
    pub namespace: Option<String>,
    /// `auto` or a number, checked by clap already.
    pub jobs: Option<String>,
    pub jobs_max: Option<u16>,
    pub retries: Option<u32>,
    pub timeout: Option<u64>,
    /// As typed: checked like the file's value.
    pub rate: Option<String>,
    pub rate_wait: Option<u64>,
    pub output: Option<OutputFormat>,
    pub body: Option<BodyFormat>,
    pub http: Option<HttpVersion>,
    pub manifest: Option<String>,
    pub ca_bundle: Option<String>,
    /// As typed: checked like the file's value.
    pub policy: Option<String>,
}

/// A flag's value: checked by clap already, or text to check.
enum FlagValue {
    Checked(Value),
    Text(String),
}

impl Flags {
    /// The flag given for `key`, if any. A setting without a flag needs no
    /// arm: it falls to the last one.
    #[allow(unreachable_patterns)]
    fn get(&self, key: Key) -> Option<FlagValue> {
        use FlagValue::{Checked, Text};
        let int = |n: u64| Checked(Value::Int(i64::try_from(n).unwrap_or(i64::MAX)));
        match key {
            Key::BaseUrl => self.base_url.clone().map(Text),
            Key::Auth => self.auth.map(|v| Checked(v.into())),
            Key::Username => self.username.clone().map(Text),
            Key::ClientKey => self.client_key.clone().map(Text),
            Key::Namespace => self.namespace.clone().map(Text),
            Key::Jobs => self.jobs.clone().map(Text),
            Key::JobsMax => self.jobs_max.map(|n| int(n.into())),
            Key::Retries => self.retries.map(|n| int(n.into())),
            Key::Timeout => self.timeout.map(int),
            Key::Rate => self.rate.clone().map(Text),
            Key::RateWait => self.rate_wait.map(int),
            Key::Output => self.output.map(|v| Checked(v.into())),
            Key::Body => self.body.map(|v| Checked(v.into())),
            Key::Http => self.http.map(|v| Checked(v.into())),
            Key::Manifest => self.manifest.clone().map(Text),
            Key::CaBundle => self.ca_bundle.clone().map(Text),
            Key::Policy => self.policy.clone().map(Text),
            _ => None,
        }
    }
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
    pub jobs: Setting<Jobs>,
    /// The ceiling of `jobs = auto`.
    pub jobs_max: Setting<u16>,
    pub retries: Setting<u32>,
    pub timeout: Setting<u64>,
    /// The most requests to send per period; unset means no set limit.
    pub rate: Option<Setting<Rate>>,
    /// Seconds one upload may wait in all for rate limits.
    pub rate_wait: Setting<u64>,
    pub output: Setting<OutputFormat>,
    pub body: Setting<BodyFormat>,
    pub http: Setting<HttpVersion>,
    /// `--manifest FILE`: the upload manifest, when one is used.
    pub manifest: Option<Setting<String>>,
    /// `--cacert FILE`: CA certificates trusted besides the system's.
    pub ca_bundle: Option<Setting<String>>,
    /// `--policy NAME`: the upload policy named by flag, environment or profile.
    pub policy: Option<Setting<String>>,
    /// Every resolved setting, for `get`.
    values: BTreeMap<Key, Setting<Value>>,
}

/// One setting, resolved: the flag, else the environment variable, else the
/// profile's value in the config file, else the default; `None` when none is
/// set. The flag's text and the variable are both checked, whichever wins.
/// This is the one place that order is written.
pub(crate) fn resolve_key(
    key: Key,
    flags: &Flags,
    env: &dyn Lookup,
    file: &FileValues,
) -> Result<Option<Setting<Value>>, SettingsError> {
    let spec = key.spec();
    let flag = match flags.get(key) {
        Some(FlagValue::Checked(value)) => Some(value),
        Some(FlagValue::Text(text)) => Some(key.from_text(&text).map_err(|message| SettingsError::Bad {
            from: spec.flag.unwrap_or(spec.name).to_string(),
            message,
        })?),
        None => None,
    };
    let var = spec.env;
    let from_env = match env.var(var).map(|text| (var, text)) {
        Some((var, text)) => Some((
            key.from_text(&text).map_err(|message| SettingsError::Bad {
                from: var.to_string(),
                message,
            })?,
            var,
        )),
        None => None,
    };
    Ok(if let Some(value) = flag {
        Some(Setting::new(value, Origin::Flag))
    } else if let Some((value, var)) = from_env {
        Some(Setting::new(value, Origin::Env(var)))
    } else if let Some(value) = file.get(key) {
        Some(Setting::new(value.clone(), Origin::File))
    } else {
        key.default_value().map(|value| Setting::new(value, Origin::Default))
    })
}

/// Resolves every setting: flag, then environment, then the profile's values
/// from the config file, then the default.
pub fn resolve(flags: &Flags, env: &dyn Lookup, file: &FileValues) -> Result<Settings, SettingsError> {
    let mut values = BTreeMap::new();
    for key in Key::ALL {
        if let Some(setting) = resolve_key(key, flags, env, file)? {
            values.insert(key, setting);
        }
    }
    if !values.contains_key(&Key::Auth) {
        let inferred = inferred_auth(
            values.contains_key(&Key::Username),
            values.contains_key(&Key::ClientKey),
        );
        values.insert(Key::Auth, Setting::new(inferred.into(), Origin::Default));
    }
    Ok(Settings::from_values(values))
}

/// The auth kind when none is set: OAuth when only a client key is set,
/// else Basic.
pub(crate) fn inferred_auth(username_set: bool, client_key_set: bool) -> AuthKind {
    if client_key_set && !username_set {
        AuthKind::Oauth
    } else {
        AuthKind::Basic
    }
}

/// A resolved setting as its type.
fn typed<T: FromValue>(values: &BTreeMap<Key, Setting<Value>>, key: Key) -> Option<Setting<T>> {
    let setting = values.get(&key)?;
    T::from_value(&setting.value).map(|value| Setting::new(value, setting.origin.clone()))
}

/// A resolved setting that has a default, as its type.
fn required<T: FromValue>(values: &BTreeMap<Key, Setting<Value>>, key: Key) -> Setting<T> {
    typed(values, key)
        .unwrap_or_else(|| unreachable!("{} has a default of its type (a unit test holds it)", key.name()))
}

impl Settings {
    fn from_values(values: BTreeMap<Key, Setting<Value>>) -> Settings {
        Settings {
            base_url: typed(&values, Key::BaseUrl),
            auth: required(&values, Key::Auth),
            username: typed(&values, Key::Username),
            client_key: typed(&values, Key::ClientKey),
            namespace: required(&values, Key::Namespace),
            jobs: required(&values, Key::Jobs),
            jobs_max: required(&values, Key::JobsMax),
            retries: required(&values, Key::Retries),
            timeout: required(&values, Key::Timeout),
            rate: typed(&values, Key::Rate),
            rate_wait: required(&values, Key::RateWait),
            output: required(&values, Key::Output),
            body: required(&values, Key::Body),
            http: required(&values, Key::Http),
            manifest: typed(&values, Key::Manifest),
            ca_bundle: typed(&values, Key::CaBundle),
            policy: typed(&values, Key::Policy),
            values,
        }
    }

    /// A setting's effective value as text, and its origin; `None` when unset.
    pub fn get(&self, key: Key) -> Option<(String, Origin)> {
        self.values
            .get(&key)
            .map(|setting| (setting.value.to_string(), setting.origin.clone()))
    }

    /// Points the settings at the local file service (`upload --local`).
    pub fn use_local(&mut self, base_url: Url) {
        self.values
            .insert(Key::BaseUrl, Setting::new(Value::Url(base_url.clone()), Origin::Local));
        self.base_url = Some(Setting::new(base_url, Origin::Local));
    }
}

#[cfg(test)]
mod tests;
