//! One module per subcommand: options in, exit status out.
//!
//! What several commands share is here, written once: the secret stores in
//! the order they are read (`Stores`), and an upload's credentials
//! (`resolve_credentials`); the selected profile and its settings are the
//! context's (`Context::settings`).
//! Every command gets one [`Context`], built once in `run`: the environment
//! captured at start, the global flags, the printer, and the config file read
//! at most once.

pub(crate) mod completions;
pub(crate) mod config;
mod context;
pub(crate) mod inspect;
pub(crate) mod login;
pub(crate) mod logout;
pub(crate) mod serve;
pub(crate) mod status;
pub(crate) mod upload;

use std::sync::Arc;

use url::Url;

pub(crate) use context::Context;

use crate::config_file::{Paths, Profile};
use crate::credentials::file::CredentialsFile;
use crate::credentials::keyring::Keyring;
use crate::credentials::{self, Resolved, SecretStore};
use crate::error::Error;
use crate::output::Printer;
use crate::settings::{Key, Setting, Settings};

/// The places a secret is saved, in the order they are read: the OS keyring,
/// then `credentials.toml` beside the config file.
struct Stores {
    keyring: Keyring,
    file: CredentialsFile,
}

impl Stores {
    /// The stores of a profile's secret, its keyring the one `keyring` names
    /// (see [`Context::keyring_choice`], or [`keyring_setting`] where the settings are
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

/// The credentials an upload to `base_url` uses: the secret from the
/// environment, or saved for this origin and identity in the OS keyring or
/// `credentials.toml` (see `credentials::resolve`).
fn resolve_credentials(
    ctx: &Context,
    profile: &Profile,
    settings: &Settings,
    base_url: &Setting<Url>,
) -> Result<Resolved, Error> {
    let (env, printer) = (&ctx.env, &ctx.printer);
    // The profile as the file has it, for secrets saved by capfile 0.1.0.
    let saved_profile = ctx.config()?.values(profile)?;
    let stores = Stores::open(ctx.paths()?, printer, &keyring_setting(settings));
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

/// How many threads a command's async runtime runs its tasks on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Threads {
    /// One: a client's work is waiting on the network; blocking work (large
    /// file reads, transforms, the manifest's lock) still goes to tokio's
    /// blocking threads.
    One,
    /// One per CPU: a server (`serve`, or `upload --local` with the emulator
    /// inside the command) answers many clients at once.
    PerCpu,
}

/// The async runtime for commands that do network work.
///
/// A client runs its tasks on one thread (issue 22). On a multi-threaded
/// runtime every upload's tasks were handed between worker threads: about 7
/// futex calls and context switches per upload against curl's near zero,
/// and CPU per upload 1.2-1.3x curl's on plain HTTP (pinning capfile to one
/// CPU gave back most of it). On one thread it is at or below curl's, and
/// the loopback batch is no slower: the client's work per upload is small
/// against the network's, and uploads overlap while they wait.
fn runtime(threads: Threads) -> Result<tokio::runtime::Runtime, Error> {
    let mut builder = match threads {
        Threads::One => tokio::runtime::Builder::new_current_thread(),
        Threads::PerCpu => tokio::runtime::Builder::new_multi_thread(),
    };
    builder.enable_all().build().map_err(Error::Runtime)
}
