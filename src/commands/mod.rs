//! One module per subcommand: options in, exit status out.

pub mod completions;
pub mod config;
pub mod login;
pub mod logout;
pub mod serve;
pub mod upload;

use std::sync::Arc;

use crate::cli::GlobalArgs;
use crate::config_file::{Config, Paths, Profile};
use crate::credentials::file::CredentialsFile;
use crate::error::Error;
use crate::output::Printer;
use crate::settings::{self, Flags, Settings};

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
