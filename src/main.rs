//! The `capfile` binary: parse the command line, run it, exit with its status.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = capfile::cli::Cli::parse();
    std::process::ExitCode::from(capfile::run(cli).code())
}
