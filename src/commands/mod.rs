//! One module per subcommand: options in, exit status out.

pub mod completions;
pub mod config;
pub mod login;
pub mod logout;
pub mod serve;
pub mod upload;

use std::sync::Arc;

use crate::config_file::Paths;
use crate::credentials::file::CredentialsFile;
use crate::output::Printer;

/// `credentials.toml` beside the config file, warning through the printer.
fn credentials_file(paths: &Paths, printer: &Arc<Printer>) -> CredentialsFile {
    let printer = printer.clone();
    CredentialsFile::new(&paths.credentials, move |warning| printer.warn(warning))
}
