//! One module per subcommand: options in, exit status out.

pub mod serve;
pub mod upload;
