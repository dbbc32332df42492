//! `capfile logout`: removes the profile's secret from the OS keyring and from
//! `credentials.toml`, and says what it removed. The profile's settings stay in
//! `config.toml`, so logging in again only asks for the secret.

use crate::credentials::{SecretSource, StoreError};
use crate::error::{Error, Exit};
use crate::output::Printer;

/// Runs `capfile logout`.
pub(crate) fn run(ctx: &super::Context) -> Result<Exit, Error> {
    let printer = &ctx.printer;
    let paths = ctx.paths()?;
    let profile = ctx.profile()?;
    let stores = super::Stores::open(paths, printer, &ctx.keyring_choice(&profile.name));

    let mut removed = Vec::new();
    let mut failed = Vec::new();
    let mut first_unreachable = None;
    for store in stores.in_order() {
        match store.delete(&profile.name) {
            Ok(true) => removed.push(store.describe()),
            Ok(false) => {}
            Err(err) => {
                if !err.absent && !err.malformed && first_unreachable.is_none() {
                    first_unreachable = Some((store.source(), err.clone()));
                }
                failed.push(err);
            }
        }
    }
    for place in &removed {
        printer.note(&format!(
            "removed the secret of profile `{}` from {place}",
            profile.name
        ));
    }
    if let Some(malformed) = failed.iter().find(|f| f.malformed) {
        return Err(malformed.clone().into_error().into());
    }
    // A keyring that is there but could not be used (locked, no answer) may
    // still hold the secret: that is not a logout (exit 1). One that is not
    // there at all (no D-Bus session) holds nothing, and is only a warning.
    if let Some((source, unreachable)) = first_unreachable {
        return Err(may_remain(&source, &unreachable, &profile.name));
    }
    if removed.is_empty() {
        // `-p prdo logout` for `prod`: a profile named on purpose that is
        // neither saved nor configured is a typo, said as for every command.
        if profile.is_explicit()
            && let Ok(config) = ctx.config()
            && config.get(&profile.name).is_none()
        {
            return Err(config.unknown_profile(&profile.name).into());
        }
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
            tell_unchecked(printer, failure);
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

/// The error for a store that could not be asked and may still hold the
/// profile's secret, with how to remove it.
fn may_remain(source: &SecretSource, failure: &StoreError, profile: &str) -> Error {
    let error = StoreError::new(format!("{failure}; the secret of profile `{profile}` may remain there")).into_error();
    let error = Error::from(error);
    let hint = match source {
        SecretSource::File(path) => format!(
            "fix access to {} and run `capfile logout` again, or delete the profile's table from it",
            path.display()
        ),
        SecretSource::Keyring | SecretSource::Env(_) => format!(
            "make the keyring reachable (unlock or start it) and run `capfile logout` again, \
             or remove its entry (service `capfile`, user `{profile}`) yourself, \
             e.g. `secret-tool clear service capfile username {profile}`"
        ),
    };
    error.with_hint(hint)
}

/// A store that could not be asked. One that is not there at all (no
/// keyring on this host) holds nothing: that is said only with -v, not on
/// every logout.
fn tell_unchecked(printer: &Printer, failure: &StoreError) {
    let line = format!("{failure}; not checked for a secret");
    if failure.absent {
        printer.detail(1, &line);
    } else {
        printer.warn(&line);
    }
}
