//! One module per subcommand: options in, exit status out.

pub mod completions;
pub mod serve;
pub mod upload;
