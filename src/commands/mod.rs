//! One module per subcommand: options in, exit status out.
//!
//! What several commands share is here, written once: the selected profile
//! and its settings (`effective_settings`), the secret stores in the order they
//! are read (`Stores`), and an upload's credentials (`resolve_credentials`).
//! Every command gets the environment as the one `Env` captured at start.

pub mod completions;
pub mod config;
pub mod inspect;
pub mod login;
pub mod logout;
pub mod serve;
pub mod status;
pub mod upload;

use std::sync::Arc;

use url::Url;

use crate::cli::GlobalArgs;
use crate::config_file::{Config, Paths, Profile};
use crate::credentials::file::CredentialsFile;
use crate::credentials::keyring::Keyring;
use crate::credentials::{self, Resolved, SecretStore};
use crate::error::Error;
use crate::output::Printer;
use crate::settings::{self, Env, Flags, Key, Setting, Settings};

/// The selected profile: `--profile` or `CAPFILE_PROFILE`, else `default`.
fn select_profile(global: &GlobalArgs, env: &Env) -> Result<Profile, Error> {
    Ok(Profile::select(global.profile.as_deref(), env)?)
}

/// The selected profile and its effective settings: `flags`, then the
/// environment, then the profile in the config file, then the defaults.
fn effective_settings(
    paths: &Paths,
    global: &GlobalArgs,
    env: &Env,
    flags: &Flags,
) -> Result<(Profile, Settings), Error> {
    let profile = select_profile(global, env)?;
    let config = Config::load(&paths.config)?;
    let settings = settings::resolve(flags, env, &config.values(&profile)?)?;
    Ok((profile, settings))
}

/// The places a secret is saved, in the order they are read: the OS keyring,
/// then `credentials.toml` beside the config file.
struct Stores {
    keyring: Keyring,
    file: CredentialsFile,
}

impl Stores {
    /// The stores of a profile's secret, its keyring the one `keyring` names
    /// (see [`keyring_choice`], or [`keyring_setting`] where the settings are
    /// resolved); the file store warns through the printer.
    fn open(paths: &Paths, printer: &Arc<Printer>, keyring: &str) -> Stores {
        let printer = printer.clone();
        Stores {
            keyring: Keyring::chosen(keyring),
            file: CredentialsFile::new(&paths.credentials, move |warning| printer.warn(warning)),
        }
    }

    /// Every store, in the order they are read.
    fn in_order(&self) -> [&dyn SecretStore; 2] {
        [&self.keyring, &self.file]
    }
}

/// The keyring of resolved settings (CAPFILE_KEYRING, the profile's
/// `keyring`, the default), without reading `config.toml` again.
fn keyring_setting(settings: &Settings) -> String {
    settings.get(Key::Keyring).map(|(value, _)| value).unwrap_or_default()
}

/// The keyring that keeps `profile`'s secret, for commands that resolve no
/// settings: CAPFILE_KEYRING, else the profile's `keyring` setting (saved by
/// `login`), else the platform's. A config file that does not parse is said
/// by the command that reads it.
fn keyring_choice(paths: &Paths, env: &Env, profile: &str) -> String {
    if let Some(choice) = env.get(Key::Keyring.env_var()) {
        return choice;
    }
    Config::load(&paths.config)
        .ok()
        .and_then(|config| {
            config
                .get(profile)
                .and_then(|values| values.get(Key::Keyring))
                .map(ToString::to_string)
        })
        .unwrap_or_default()
}

/// The credentials an upload to `base_url` uses: the secret from the
/// environment, or saved for this origin and identity in the OS keyring or
/// `credentials.toml` (see `credentials::resolve`).
fn resolve_credentials(
    paths: &Paths,
    profile: &Profile,
    settings: &Settings,
    base_url: &Setting<Url>,
    env: &Env,
    printer: &Arc<Printer>,
) -> Result<Resolved, Error> {
    // The profile as the file has it, for secrets saved by capfile 0.1.0.
    let saved_profile = Config::load(&paths.config)?.values(profile)?;
    let stores = Stores::open(paths, printer, &keyring_setting(settings));
    let resolved = credentials::resolve(
        settings,
        base_url,
        &profile.name,
        &saved_profile,
        env,
        &stores.in_order(),
        &mut |failure| printer.detail(1, &format!("{failure}; trying the next place")),
    )?;
    Ok(resolved)
}

/// The async runtime for commands that do network work.
fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)
}
