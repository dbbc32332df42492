//! `capfile config`: read and edit settings.
//!
//! `list` and `get` show the effective values, resolved as an upload would
//! (environment over the profile in the file over the defaults), so scripts
//! can read what will be used; secrets appear only as where they come from.
//! `set` and `unset` edit the selected profile in `config.toml`, checking values
//! the way the upload flags are checked and keeping the file's comments.
//!
//! Its own refusals are [`ConfigError`]s, reported as [`Error::Command`]; a
//! config file it cannot edit is the file's [`Error::FileInvalid`].

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::Context;
use crate::cli::ConfigAction;
use crate::config_file::{self, Paths, Profile};
use crate::credentials::{self, Located, SecretKind, SecretSource};
use crate::error::{CommandError, Error, ErrorKind, Exit, Failure};
use crate::output::Printer;
use crate::settings::{self, Key, Origin, Settings};

mod policies;

use policies::PolicyKey;

/// What `capfile config` refuses, or cannot answer. Each displays as one line
/// naming the key; [`ConfigError::kind`] gives the exit code.
#[derive(Debug)]
pub(crate) enum ConfigError {
    /// A key typed on the command line that is not a setting (or is a
    /// secret); `message` is the settings table's, which lists the valid keys.
    BadKey { name: String, message: String },
    /// A value `config set` refuses; `message` is the settings table's check,
    /// which names the key and the allowed values.
    BadValue { message: String },
    /// `config get` of a key the profile leaves unset.
    NotSet { key: Key, profile: String },
    /// `config get` of a policy rule or namespace policy that is not set.
    KeyNotSet { key: String, profile: String },
}

impl ConfigError {
    /// The kind, which decides the exit code: a bad key or value is a usage
    /// error (2); an unset key is a failure (1), so scripts can tell "no
    /// value" from a typo.
    pub(crate) fn kind(&self) -> ErrorKind {
        match self {
            ConfigError::BadKey { .. } | ConfigError::BadValue { .. } => ErrorKind::Usage,
            ConfigError::NotSet { .. } | ConfigError::KeyNotSet { .. } => ErrorKind::Failure,
        }
    }

    /// The next step for the user, if there is an obvious one: the key meant
    /// by a typo, or how to set an unset one.
    pub(crate) fn hint(&self) -> Option<String> {
        match self {
            ConfigError::BadKey { name, .. } => crate::suggest::closest(name, Key::ALL.iter().map(|k| k.name()))
                .map(|key| format!("did you mean `{key}`?")),
            ConfigError::BadValue { .. } => None,
            ConfigError::NotSet { key, .. } => Some(format!("set it with `capfile config set {} VALUE`", key.name())),
            ConfigError::KeyNotSet { key, .. } => Some(format!("set it with `capfile config set {key} VALUE`")),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::BadKey { message, .. } | ConfigError::BadValue { message } => f.write_str(message),
            ConfigError::NotSet { key, profile } => {
                write!(f, "`{}` is not set for profile `{profile}`", key.name())
            }
            ConfigError::KeyNotSet { key, profile } => write!(f, "`{key}` is not set for profile `{profile}`"),
        }
    }
}

impl std::error::Error for ConfigError {}

impl Failure for ConfigError {
    fn kind(&self) -> ErrorKind {
        ConfigError::kind(self)
    }

    fn hint(&self) -> Option<Cow<'_, str>> {
        ConfigError::hint(self).map(Cow::Owned)
    }
}

/// Wrapped by the top-level `Error` as a command's own error.
impl CommandError for ConfigError {}

/// Runs `capfile config ...`.
pub(crate) fn run(action: ConfigAction, ctx: &Context) -> Result<Exit, Error> {
    let printer = &ctx.printer;
    let paths = ctx.paths()?;
    match action {
        ConfigAction::Path => {
            printer.result(&format!("{}\n", paths.config.display()));
            Ok(Exit::Success)
        }
        ConfigAction::Profiles => {
            let config = ctx.config()?;
            let names = config.names();
            if names.is_empty() {
                printer.note(&format!("no profiles in {}", paths.config.display()));
            }
            let active = ctx.profile().map(|p| p.name).ok();
            printer.result(&profile_lines(&names, active.as_deref(), printer.stdout_is_terminal()));
            Ok(Exit::Success)
        }
        ConfigAction::DeleteProfile { name } => delete_profile(ctx, &name),
        ConfigAction::List { json } => list(paths, ctx, printer, json),
        ConfigAction::Get { key } => get(paths, ctx, printer, &key),
        ConfigAction::Set { key, value } => set(paths, ctx, printer, &key, &value),
        ConfigAction::Unset { key } => unset(paths, ctx, printer, &key),
    }
}

/// `config profiles`: one name a line. On a terminal the active profile is
/// marked `*`, as `git branch` marks the current branch; piped, the names
/// stay bare for scripts.
fn profile_lines(names: &[&str], active: Option<&str>, terminal: bool) -> String {
    names
        .iter()
        .map(|name| match (terminal, Some(*name) == active) {
            (false, _) => format!("{name}\n"),
            (true, true) => format!("* {name}\n"),
            (true, false) => format!("  {name}\n"),
        })
        .collect()
}

/// `config delete-profile NAME`: removes the profile's table from
/// `config.toml` and its secret from the keyring and `credentials.toml`.
fn delete_profile(ctx: &Context, name: &str) -> Result<Exit, Error> {
    let (paths, printer) = (ctx.paths()?, &ctx.printer);
    let config = ctx.config()?;
    if config.get(name).is_none() {
        return Err(config.unknown_profile_argument(name).into());
    }
    let stores = super::Stores::open(paths, printer, &ctx.keyring_choice(name));
    for store in stores.in_order() {
        match store.delete(name) {
            Ok(true) => printer.note(&format!(
                "removed the secret of profile `{name}` from {}",
                store.describe()
            )),
            Ok(false) => {}
            Err(err) if err.malformed => return Err(err.into_error().into()),
            Err(err) => printer.warn(&format!("{err}; not checked for a secret of profile `{name}`")),
        }
    }
    let mut doc = config.file.document_mut()?;
    if let Some(profiles) = doc.get_mut("profiles").and_then(|p| p.as_table_like_mut()) {
        profiles.remove(name);
    }
    config.file.write(&doc, false)?;
    printer.note(&format!("deleted profile `{name}` from {}", paths.config.display()));
    Ok(Exit::Success)
}

/// The effective settings of the selected profile, as an upload would see
/// them without flags.
fn effective(ctx: &Context) -> Result<(Profile, Settings), Error> {
    ctx.settings(&settings::Flags::default())
}

/// A key typed on the command line. Its errors do not name the config file:
/// the file is not at fault.
fn parse_key(name: &str) -> Result<Key, Error> {
    Key::parse(name).map_err(|message| {
        Error::from(ConfigError::BadKey {
            name: name.to_string(),
            message: message.to_string(),
        })
    })
}

/// What `config set` says about a key or value it refuses: the cause, and
/// that the file was left alone.
fn not_set(paths: &Paths) -> impl Fn(Error) -> Error + '_ {
    |err| {
        let unchanged = format!("{} was not changed", paths.config.display());
        // A did-you-mean the error carries comes first.
        let hint = match err.hint() {
            Some(hint) => format!("{hint} ({unchanged})"),
            None => unchanged,
        };
        err.with_hint(hint)
    }
}

/// The error for a config file whose profile table cannot be edited (its
/// `profiles` or the profile is not a table).
fn not_editable(paths: &Paths) -> impl Fn(config_file::NotEditable) -> Error + '_ {
    |message| {
        config_file::FileError::Invalid {
            path: paths.config.clone(),
            at: None,
            message: message.to_string(),
            hint: None,
        }
        .into()
    }
}

fn get(_paths: &Paths, ctx: &Context, printer: &Printer, name: &str) -> Result<Exit, Error> {
    if let Some(key) = policies::parse(name) {
        let profile = ctx.profile()?;
        let value = policies::get(ctx.config()?, &profile.name, &key?, name)?;
        printer.result(&format!("{value}\n"));
        return Ok(Exit::Success);
    }
    let key = parse_key(name)?;
    let (profile, settings) = effective(ctx)?;
    match settings.get(key) {
        Some((value, _)) => {
            printer.result(&format!("{value}\n"));
            Ok(Exit::Success)
        }
        None => Err(ConfigError::NotSet {
            key,
            profile: profile.name,
        }
        .into()),
    }
}

/// Where the profile's secret is, without reading more than needed: the
/// environment first, then the stores in upload order.
fn secret_source(
    settings: &Settings,
    profile: &Profile,
    ctx: &Context,
) -> Result<(SecretKind, Option<SecretSource>), Error> {
    let (env, printer) = (&ctx.env, &ctx.printer);
    let stores = super::Stores::open(ctx.paths()?, printer, &super::keyring_setting(settings));
    let (kind, found, failures) =
        match credentials::locate(env, settings.auth.value, &profile.name, &stores.in_order(), |_| Ok(()))? {
            Located::Env { kind, variable, .. } => return Ok((kind, Some(SecretSource::Env(variable)))),
            Located::Stored { kind, found, failures } => (kind, found, failures),
        };
    // A secret that an upload would refuse to send is worth a word.
    if let (Some((saved, source)), Some(base_url)) = (&found, &settings.base_url) {
        let saved_profile = ctx.config()?.values(profile)?;
        if let Err(refusal) = credentials::check_binding(
            saved,
            kind,
            source,
            &profile.name,
            settings,
            base_url,
            &saved_profile,
            "an upload would not send it",
        ) {
            printer.warn(&refusal.to_string());
        }
    }
    for failure in failures {
        if failure.malformed {
            return Err(failure.into_error().into());
        }
        // A keyring that cannot be reached matters only when the secret was
        // not found elsewhere.
        if found.is_some() {
            printer.detail(1, &failure.message);
        } else {
            printer.warn(&failure.message);
        }
    }
    Ok((kind, found.map(|(_, source)| source)))
}

fn list(_paths: &Paths, ctx: &Context, printer: &Arc<Printer>, as_json: bool) -> Result<Exit, Error> {
    let (profile, settings) = effective(ctx)?;
    let (kind, source) = secret_source(&settings, &profile, ctx)?;
    if as_json {
        let mut doc = Map::new();
        doc.insert("profile".into(), entry_of(json!(profile.name), Some(&profile.origin)));
        for key in Key::ALL {
            let value = settings.get(key);
            doc.insert(
                key.name().into(),
                entry(
                    key,
                    value.as_ref().map(|(v, _)| v.as_str()),
                    value.as_ref().map(|(_, o)| o),
                ),
            );
        }
        let (origin, variable) = match &source {
            Some(SecretSource::Env(name)) => (json!("env"), Some(*name)),
            Some(SecretSource::Keyring) => (json!("keyring"), None),
            Some(SecretSource::File(_)) => (json!("credentials_file"), None),
            None => (Value::Null, None),
        };
        let mut secret = Map::new();
        secret.insert("value".into(), Value::Null);
        secret.insert("origin".into(), origin);
        if let Some(variable) = variable {
            secret.insert("variable".into(), json!(variable));
        }
        doc.insert(kind.name().into(), Value::Object(secret));
        policies::list_json(ctx.config()?, &profile.name, &mut doc);
        let doc = Value::Object(doc);
        let text = if printer.stdout_is_terminal() {
            serde_json::to_string_pretty(&doc)
        } else {
            serde_json::to_string(&doc)
        };
        printer.result(&format!("{}\n", text.unwrap_or_default()));
        return Ok(Exit::Success);
    }
    let mut text = format!("profile: {} ({})\n", profile.name, profile.origin);
    for key in Key::ALL {
        match settings.get(key) {
            Some((value, origin)) => text.push_str(&format!("{}: {value} ({origin})\n", key.name())),
            None => text.push_str(&format!("{}: (not set)\n", key.name())),
        }
    }
    match &source {
        Some(source) => text.push_str(&format!("{}: ({source})\n", kind.name())),
        None => text.push_str(&format!("{}: (not set)\n", kind.name())),
    }
    text.push_str(&policies::list_lines(ctx.config()?, &profile.name));
    printer.result(&text);
    Ok(Exit::Success)
}

/// `{"value": ..., "origin": ...}` for a setting: integers as numbers.
fn entry(key: Key, value: Option<&str>, origin: Option<&Origin>) -> Value {
    let value = match value {
        None => Value::Null,
        Some(text) if key.is_integer() => text.parse::<u64>().map_or_else(|_| json!(text), |n| json!(n)),
        Some(text) => json!(text),
    };
    entry_of(value, origin)
}

/// `{"value": ..., "origin": ...}`, with `"variable"` for the environment.
fn entry_of(value: Value, origin: Option<&Origin>) -> Value {
    let mut entry = Map::new();
    entry.insert("value".into(), value);
    let (origin, variable) = match origin {
        Some(Origin::Env(name)) => (json!("env"), Some(*name)),
        Some(other) => (json!(other.to_string()), None),
        None => (Value::Null, None),
    };
    entry.insert("origin".into(), origin);
    if let Some(variable) = variable {
        entry.insert("variable".into(), json!(variable));
    }
    Value::Object(entry)
}

fn set(paths: &Paths, ctx: &Context, printer: &Printer, name: &str, input: &str) -> Result<Exit, Error> {
    if let Some(key) = policies::parse(name) {
        return set_policy(paths, ctx, printer, name, &key.map_err(not_set(paths))?, input);
    }
    let key = parse_key(name).map_err(not_set(paths))?;
    let profile = ctx.profile()?;
    let config = ctx.config()?;
    let value = key.parse_input(input).map_err(|message| {
        not_set(paths)(
            ConfigError::BadValue {
                message: message.to_string(),
            }
            .into(),
        )
    })?;
    let mut doc = config.file.document_mut()?;
    let table = config_file::profile_table_mut(&mut doc, &profile.name).map_err(not_editable(paths))?;
    config_file::set_value(table, key.name(), value);
    config.file.write(&doc, false)?;
    printer.detail(
        1,
        &format!("set {name} in profile `{}` of {}", profile.name, paths.config.display()),
    );
    let variable = key.env_var();
    if ctx.env.get(variable).is_some() {
        printer.warn(&format!("{variable} is set, and overrides this value"));
    }
    Ok(Exit::Success)
}

/// `config set` of a policy rule or a namespace's policy.
fn set_policy(
    paths: &Paths,
    ctx: &Context,
    printer: &Printer,
    name: &str,
    key: &PolicyKey,
    input: &str,
) -> Result<Exit, Error> {
    let profile = ctx.profile()?;
    let config = ctx.config()?;
    let mut doc = config.file.document_mut()?;
    policies::set(&mut doc, paths, &profile.name, key, input).map_err(not_set(paths))?;
    config.file.write(&doc, false)?;
    printer.detail(1, &format!("set {name} in {}", paths.config.display()));
    Ok(Exit::Success)
}

fn unset(paths: &Paths, ctx: &Context, printer: &Printer, name: &str) -> Result<Exit, Error> {
    if let Some(key) = policies::parse(name) {
        let key = key?;
        let profile = ctx.profile()?;
        let config = ctx.config()?;
        let mut doc = config.file.document_mut()?;
        if !policies::unset(&mut doc, &profile.name, &key) {
            printer.note(&format!("`{name}` was not set"));
            return Ok(Exit::Success);
        }
        config.file.write(&doc, false)?;
        printer.detail(1, &format!("removed {name} from {}", paths.config.display()));
        return Ok(Exit::Success);
    }
    let key = parse_key(name)?;
    let profile = ctx.profile()?;
    let config = ctx.config()?;
    if config.get(&profile.name).is_none() {
        return Err(config.unknown_profile(&profile.name).into());
    }
    let mut doc = config.file.document_mut()?;
    let table = config_file::profile_table_mut(&mut doc, &profile.name).map_err(not_editable(paths))?;
    if table.remove(key.name()).is_none() {
        printer.note(&format!("`{name}` was not set in profile `{}`", profile.name));
        return Ok(Exit::Success);
    }
    config.file.write(&doc, false)?;
    printer.detail(
        1,
        &format!(
            "removed {name} from profile `{}` of {}",
            profile.name,
            paths.config.display()
        ),
    );
    Ok(Exit::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_of_a_key_is_a_usage_error_hinting_the_key_meant() {
        let err = parse_key("base_ur").unwrap_err();
        assert_eq!(err.exit(), Exit::Usage);
        assert!(
            err.message().starts_with("unknown setting `base_ur`"),
            "{}",
            err.message()
        );
        assert_eq!(err.hint().as_deref(), Some("did you mean `base_url`?"));
        assert_eq!(parse_key("zzzzzzzz").unwrap_err().hint(), None);
        let value = Error::from(ConfigError::BadValue { message: "m".into() });
        assert_eq!(
            (value.exit(), value.message(), value.hint()),
            (Exit::Usage, "m".into(), None)
        );
    }

    #[test]
    fn an_unset_key_is_a_failure_saying_how_to_set_it() {
        let err = Error::from(ConfigError::NotSet {
            key: Key::parse("namespace").unwrap(),
            profile: "demo".into(),
        });
        assert_eq!(err.exit(), Exit::Failure);
        assert_eq!(err.message(), "`namespace` is not set for profile `demo`");
        assert_eq!(
            err.hint().as_deref(),
            Some("set it with `capfile config set namespace VALUE`")
        );
    }

    #[test]
    fn the_active_profile_is_marked_on_a_terminal_only() {
        let names = ["default", "demo"];
        assert_eq!(profile_lines(&names, Some("demo"), true), "  default\n* demo\n");
        assert_eq!(profile_lines(&names, Some("demo"), false), "default\ndemo\n");
    }
}
