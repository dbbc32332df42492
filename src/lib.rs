//! capfile: upload images to Capillary's file service, and run a local emulator
//! of that service.
//!
//! `main.rs` parses the command line and calls `run`; everything else lives in
//! this library so the integration tests can start the emulator in-process.

// pub(crate) by default: a `pub` item must be reachable from outside (the
// binary, the tests through `testing`), so the dead-code lint sees the rest.
#![warn(unreachable_pub)]

mod api;
mod batch;
mod cli;
mod commands;
mod config_file;
mod credentials;
mod emulator;
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
mod settings;
mod suggest;
#[doc(hidden)]
pub mod testing;
mod transform;

// What the binary uses, and nothing else: the command line and a few single
// items. What the tests reach inside is named one by one in `testing`.
pub use api::parse_uploaded;
pub use cli::Cli;
pub use cli::complete as completions;
pub use credentials::md5_hex;
pub use exit::Exit;
pub use inputs::RemoteName;
pub use output::STDOUT_CLOSED_AT_START;

use std::sync::Arc;

use cli::Command;
use error::Error;
use output::Printer;

/// Runs a parsed command line and returns the exit status; every error has
/// been reported on standard error by then.
pub fn run(cli: Cli) -> Exit {
    // The environment is read here, once; everything below asks this value.
    let env = settings::Env::capture();
    let global = cli.global;
    let printer = Arc::new(Printer::new(global.color, global.quiet, global.verbose, &env));
    // Whether results that cannot be written may be of finished uploads.
    let uploads = matches!(&cli.command, Command::Upload(args) if !args.dry_run);
    let ctx = commands::Context::new(global, env, printer.clone());
    let result = match cli.command {
        Command::Upload(args) => commands::upload::run(args, &ctx),
        Command::Inspect(args) => commands::inspect::run(args, &ctx),
        Command::Serve(args) => commands::serve::run(args, &ctx),
        Command::Completions { shell } => Ok(commands::completions::run(shell, &printer)),
        Command::Login(args) => commands::login::run(args, &ctx),
        Command::Logout => commands::logout::run(&ctx),
        Command::Status(args) => commands::status::run(args, &ctx),
        Command::Config { action } => commands::config::run(action, &ctx),
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
    report_peak_memory(&ctx.env);
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

/// With `CAPFILE_TEST_PEAK_FILE` (undocumented, for tests), writes this
/// process's peak resident memory (`VmHWM` in kB) to that file. The tests'
/// bounded-memory checks read it: `wait4`'s maxrss of a spawned child also
/// counts the test process's own peak (Linux folds the memory the child was
/// spawned from into it at exec), which made those checks flaky.
fn report_peak_memory(env: &settings::Env) {
    let Some(path) = env.get_os("CAPFILE_TEST_PEAK_FILE") else {
        return;
    };
    let Ok(status) = fsio::read_regular(std::path::Path::new("/proc/self/status"), 64 * 1024) else {
        return;
    };
    let status = String::from_utf8_lossy(&status);
    let Some(peak) = status.lines().find_map(|line| line.strip_prefix("VmHWM:")) else {
        return;
    };
    // Only into a regular file the test made, never through a link.
    let _ =
        fsio::open_own(std::path::Path::new(&path), std::fs::OpenOptions::new().write(true)).and_then(|mut file| {
            file.set_len(0)?;
            std::io::Write::write_all(&mut file, peak.trim().trim_end_matches(" kB").as_bytes())
        });
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
