//! One module per subcommand: options in, exit status out.

pub mod completions;
pub mod config;
pub mod login;
pub mod logout;
pub mod serve;
pub mod upload;

use std::sync::Arc;

use url::Url;

use crate::cli::GlobalArgs;
use crate::config_file::{Config, Paths, Profile};
use crate::credentials::file::CredentialsFile;
use crate::credentials::keyring::Keyring;
use crate::credentials::{self, Resolved};
use crate::error::Error;
use crate::output::Printer;
use crate::settings::{self, Flags, Setting, Settings};

/// The selected profile and its effective settings: `flags`, then the
/// environment, then the profile in the config file, then the defaults.
fn effective_settings(paths: &Paths, global: &GlobalArgs, flags: &Flags) -> Result<(Profile, Settings), Error> {
    let profile = Profile::select(global)?;
    let config = Config::load(&paths.config)?;
    let settings = settings::resolve(flags, &settings::process_env, &config.values(&profile)?)?;
    Ok((profile, settings))
}

/// `credentials.toml` beside the config file, warning through the printer.
fn credentials_file(paths: &Paths, printer: &Arc<Printer>) -> CredentialsFile {
    let printer = printer.clone();
    CredentialsFile::new(&paths.credentials, move |warning| printer.warn(warning))
}

/// The credentials an upload to `base_url` uses: the secret from the
/// environment, or saved for this origin and identity in the OS keyring or
/// `credentials.toml` (see `credentials::resolve`).
fn resolve_credentials(
    paths: &Paths,
    profile: &Profile,
    settings: &Settings,
    base_url: &Setting<Url>,
    printer: &Arc<Printer>,
) -> Result<Resolved, Error> {
    // The profile as the file has it, for secrets saved by capfile 0.1.0.
    let saved_profile = Config::load(&paths.config)?.values(profile)?;
    let keyring = Keyring::native();
    let file = credentials_file(paths, printer);
    credentials::resolve(
        settings,
        base_url,
        &profile.name,
        &saved_profile,
        &settings::process_env,
        &[&keyring, &file],
        &mut |failure| printer.detail(1, &format!("{failure}; trying the next place")),
    )
}
