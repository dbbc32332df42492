//! `capfile completions SHELL`: print a shell completion script.
//!
//! The scripts are generated from the clap definitions in `cli.rs`, so they
//! always offer the subcommands and flags this build has. The same scripts are
//! committed under `completions/` for packagers; a test (`tests/docs`) fails
//! when those copies fall behind.

use clap::CommandFactory;
use clap_complete::Generator;

use crate::cli::{Cli, Shell};
use crate::error::{Error, Exit};
use crate::output::Printer;

/// The name the scripts complete.
pub const BIN_NAME: &str = "capfile";

pub fn run(shell: Shell, printer: &Printer) -> Result<Exit, Error> {
    printer.result(&script(shell));
    Ok(Exit::Success)
}

/// The completion script for `shell`.
pub fn script(shell: Shell) -> String {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(generator(shell), &mut cmd, BIN_NAME, &mut out);
    // The generators write the UTF-8 text of the definitions; lossy decoding
    // only guards against a generator bug.
    String::from_utf8_lossy(&out).into_owned()
}

/// The conventional file name of the script, e.g. `_capfile` for zsh.
pub fn file_name(shell: Shell) -> String {
    generator(shell).file_name(BIN_NAME)
}

fn generator(shell: Shell) -> clap_complete::Shell {
    match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
        Shell::Powershell => clap_complete::Shell::PowerShell,
        Shell::Elvish => clap_complete::Shell::Elvish,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn every_shell_has_a_script_that_names_the_subcommands() {
        for shell in Shell::value_variants() {
            let script = script(*shell);
            assert!(script.contains("upload"), "{shell:?}");
            assert!(script.contains("json"), "{shell:?}");
        }
    }

    #[test]
    fn file_names_are_the_conventional_ones() {
        let names: Vec<String> = Shell::value_variants().iter().map(|s| file_name(*s)).collect();
        assert_eq!(
            names,
            [
                "capfile.bash",
                "_capfile",
                "capfile.fish",
                "_capfile.ps1",
                "capfile.elv"
            ]
        );
    }
}
