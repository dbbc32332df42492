//! `capfile logout`: removes the profile's secret from the OS keyring and from
//! `credentials.toml`, and says what it removed. The profile's settings stay in
//! `config.toml`, so logging in again only asks for the secret.

use std::sync::Arc;

use crate::cli::GlobalArgs;
use crate::config_file::Paths;
use crate::error::{Error, Exit};
use crate::output::Printer;
use crate::settings::Env;

/// Runs `capfile logout`.
pub fn run(global: &GlobalArgs, env: &Env, printer: &Arc<Printer>) -> Result<Exit, Error> {
    let paths = Paths::locate(global.config.as_deref())?;
    let profile = super::select_profile(global, env)?;
    let stores = super::Stores::open(&paths, env, printer);

    let mut removed = Vec::new();
    let mut failed = Vec::new();
    for store in stores.in_order() {
        match store.delete(&profile.name) {
            Ok(true) => removed.push(store.describe()),
            Ok(false) => {}
            Err(err) => failed.push(err),
        }
    }
    for place in &removed {
        printer.note(&format!(
            "removed the secret of profile `{}` from {place}",
            profile.name
        ));
    }
    if let Some(malformed) = failed.iter().find(|f| f.malformed) {
        return Err(malformed.clone().into_error());
    }
    if removed.is_empty() {
        if failed.is_empty() {
            printer.note(&format!(
                "profile `{}`: nothing stored; nothing to remove",
                profile.name
            ));
            return Ok(Exit::Success);
        }
        // Nothing is stored anywhere capfile can look: logging out twice is
        // not an error. A store that could not be asked is said once, in its
        // own line, since a secret there (if any) stays.
        for failure in &failed {
            printer.warn(&format!("{failure}; not checked for a secret"));
        }
        printer.note(&format!(
            "profile `{}`: nothing stored in {}; nothing to remove",
            profile.name,
            paths.credentials.display()
        ));
        return Ok(Exit::Success);
    }
    // Something was removed (say, from the file on a machine whose keyring
    // cannot be reached); the rest is worth a warning, not a failure.
    for failure in &failed {
        printer.warn(&format!("{failure}; not checked for a secret"));
    }
    printer.note(&format!(
        "the settings of profile `{}` stay in {}",
        profile.name,
        paths.config.display()
    ));
    Ok(Exit::Success)
}
