//! The context every command runs in, built once in `run` before any command
//! starts: the environment captured at start, the global flags, the printer,
//! and the config paths and `config.toml`, each found or read at most once
//! (as gh's `Factory` and uv's "resolve first" do).
//!
//! The paths and the config file are read when a command first asks for
//! them, not before: `capfile serve`, `completions` and `version` work with
//! no config directory and a config file that does not parse, and a command
//! that needs the file says its error as its own.

use std::sync::{Arc, OnceLock};

use crate::cli::GlobalArgs;
use crate::config_file::{Config, Paths, Profile};
use crate::error::Error;
use crate::output::Printer;
use crate::settings::{self, Env, Flags, Key, Settings};

/// What every command gets: the environment, the global flags, the printer,
/// and the paths and config file, read once.
pub(crate) struct Context {
    pub global: GlobalArgs,
    pub env: Env,
    pub printer: Arc<Printer>,
    paths: OnceLock<Paths>,
    config: OnceLock<Config>,
}

impl Context {
    pub(crate) fn new(global: GlobalArgs, env: Env, printer: Arc<Printer>) -> Context {
        Context {
            global,
            env,
            printer,
            paths: OnceLock::new(),
            config: OnceLock::new(),
        }
    }

    /// Where the config and credentials files are (`--config`,
    /// `CAPFILE_CONFIG`, else the platform's config directory).
    pub(crate) fn paths(&self) -> Result<&Paths, Error> {
        if let Some(paths) = self.paths.get() {
            return Ok(paths);
        }
        let paths = Paths::locate(self.global.config.as_deref())?;
        Ok(self.paths.get_or_init(|| paths))
    }

    /// `config.toml`, read and checked whole the first time it is asked for.
    pub(crate) fn config(&self) -> Result<&Config, Error> {
        if let Some(config) = self.config.get() {
            return Ok(config);
        }
        let config = Config::load(&self.paths()?.config)?;
        Ok(self.config.get_or_init(|| config))
    }

    /// The selected profile: `--profile` or `CAPFILE_PROFILE`, else `default`.
    pub(crate) fn profile(&self) -> Result<Profile, Error> {
        Ok(Profile::select(self.global.profile.as_deref(), &self.env)?)
    }

    /// The selected profile and its effective settings: `flags`, then the
    /// environment, then the profile in the config file, then the defaults.
    pub(crate) fn settings(&self, flags: &Flags) -> Result<(Profile, Settings), Error> {
        let profile = self.profile()?;
        let settings = self.settings_of(&profile, flags)?;
        Ok((profile, settings))
    }

    /// `profile`'s effective settings (`status --all` checks each profile).
    pub(crate) fn settings_of(&self, profile: &Profile, flags: &Flags) -> Result<Settings, Error> {
        Ok(settings::resolve(flags, &self.env, &self.config()?.values(profile)?)?)
    }

    /// The keyring that keeps `profile`'s secret, for commands that resolve
    /// no settings: CAPFILE_KEYRING, else the profile's `keyring` setting
    /// (saved by `login`), else the platform's. A config file that does not
    /// parse is said by the command that reads it.
    pub(crate) fn keyring_choice(&self, profile: &str) -> String {
        if let Some(choice) = self.env.get(Key::Keyring.env_var()) {
            return choice;
        }
        self.config()
            .ok()
            .and_then(|config| config.get(profile).and_then(|values| values.get(Key::Keyring)))
            .map(ToString::to_string)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::Cli;

    fn context(args: &[&str]) -> Context {
        let cli = Cli::try_parse_from([&["capfile"], args].concat()).unwrap();
        let env = Env::from_pairs([("NO_COLOR", "1")]);
        let printer = Arc::new(Printer::new(cli.global.color, true, 0, &env));
        Context::new(cli.global, env, printer)
    }

    #[test]
    fn the_config_file_is_read_once_however_often_it_is_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[profiles.a]\nnamespace = \"one\"\n").unwrap();
        let ctx = context(&["--config", path.to_str().unwrap(), "-p", "a", "status"]);
        let first = ctx.config().unwrap();
        // A second read would see the new text (or fail on it).
        std::fs::write(&path, "not toml [").unwrap();
        let second = ctx.config().unwrap();
        assert!(std::ptr::eq(first, second));
        let (profile, settings) = ctx.settings(&Flags::default()).unwrap();
        assert_eq!((profile.name.as_str(), settings.namespace.value.as_str()), ("a", "one"));
        assert!(std::ptr::eq(ctx.paths().unwrap(), ctx.paths().unwrap()));
    }

    #[test]
    fn a_config_file_that_does_not_parse_is_an_error_only_when_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "not toml [").unwrap();
        let ctx = context(&["--config", path.to_str().unwrap(), "status"]);
        assert_eq!(ctx.paths().unwrap().config, path);
        assert!(ctx.config().is_err());
        assert!(ctx.config().is_err(), "a failure is not cached as a success");
        assert_eq!(
            ctx.keyring_choice("default"),
            "",
            "the keyring falls back to the platform's"
        );
    }
}
