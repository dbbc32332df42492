//! `capfile completions SHELL`: prints the shell's completion script. The
//! engine that answers the shell's calls back is `cli::complete`, beside the
//! command line it completes.

use crate::cli::{Shell, complete};
use crate::exit::Exit;
use crate::output::Printer;

pub(crate) fn run(shell: Shell, printer: &Printer) -> Exit {
    printer.result(&complete::script(shell));
    Exit::Success
}
