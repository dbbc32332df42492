//! capfile: upload images to Capillary's file service, and run a local emulator
//! of that service.
//!
//! `main.rs` parses the command line and calls `run`; everything else lives in
//! this library so the integration tests can start the emulator in-process.

mod api;
mod batch;
pub mod cli;
mod commands;
mod config_file;
mod credentials;
pub mod emulator;
mod error;
mod exit;
mod fsio;
mod image;
mod inputs;
mod interrupt;
mod manifest;
mod media_type;
mod output;
mod policy;
mod redact;
pub mod settings;
mod suggest;
mod transform;

// What the binary and the tests use, and nothing else: the command line
// (`cli`), the emulator the tests run in-process, the settings parsers the
// property tests drive, and a few single items.
pub use api::parse_uploaded;
pub use commands::completions;
pub use credentials::md5_hex;
pub use exit::Exit;
pub use inputs::RemoteName;
pub use output::STDOUT_CLOSED_AT_START;

use std::sync::Arc;

use cli::{Cli, Command};
use error::Error;
use output::Printer;

/// Runs a parsed command line and returns the exit status; every error has
/// been reported on standard error by then.
pub fn run(cli: Cli) -> Exit {
    // The environment is read here, once; everything below asks this value.
    let env = settings::Env::capture();
    let global = &cli.global;
    let printer = Arc::new(Printer::new(global.color, global.quiet, global.verbose, &env));
    // Whether results that cannot be written may be of finished uploads.
    let uploads = matches!(&cli.command, Command::Upload(args) if !args.dry_run);
    let result = match cli.command {
        Command::Upload(args) => commands::upload::run(args, global, &env, &printer),
        Command::Inspect(args) => commands::inspect::run(args, global, &env, &printer),
        Command::Serve(args) => commands::serve::run(args, &env, &printer),
        Command::Completions { shell } => commands::completions::run(shell, &printer),
        Command::Login(args) => commands::login::run(args, global, &env, &printer),
        Command::Logout => commands::logout::run(global, &env, &printer),
        Command::Status(args) => commands::status::run(args, global, &env, &printer),
        Command::Config { action } => commands::config::run(action, global, &env, &printer),
        Command::Version => {
            printer.result(&version_text());
            Ok(Exit::Success)
        }
    };
    let exit = match result {
        Ok(exit) => exit,
        Err(err) => {
            printer.error(&err);
            err.exit()
        }
    };
    // Results that could not be written are lost: the run did not succeed,
    // even if every upload did.
    match printer.stdout_failure() {
        Some(cause) if matches!(exit, Exit::Success | Exit::Partial) => {
            printer.error(&Error::ResultsLost { cause, uploads });
            Exit::Failure
        }
        _ => exit,
    }
}

/// `capfile version`: what `--version` says, then how this binary was built.
pub fn version_text() -> String {
    format!(
        "capfile {}\ncommit: {}\ntarget: {}\ntls: rustls (ring crypto provider)\n",
        env!("CARGO_PKG_VERSION"),
        env!("CAPFILE_COMMIT"),
        env!("CAPFILE_TARGET"),
    )
}
