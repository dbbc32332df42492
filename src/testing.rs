//! What the integration and docs tests reach inside the crate, named one by
//! one (as just's `testing` module does): the emulator they start in-process,
//! the settings parsers the property tests drive, and the command line and
//! help tables the docs tests render. Not an API; hidden from the docs.
//!
//! The modules themselves stay private, so the dead-code lint sees every item
//! nothing uses, and a test that needs one more item says so here.

/// The emulator, started in-process by the tests.
pub mod emulator {
    pub use crate::emulator::{
        Clock, Config, DEFAULT_ADDR, DEFAULT_CLIENT_KEY, DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_USERNAME,
        Emulator, ErrorShape, Faults, RateLimit, RequestLog, Stats, default_data_dir,
    };
}

/// The settings table and resolution, for the property tests.
pub mod settings {
    pub use crate::settings::{FileValues, Flags, Key, Kind, parse_base_url, resolve};
}

/// The command line and its help tables, for the docs tests.
pub mod cli {
    pub use crate::cli::{Cli, Shell};

    pub mod help {
        pub use crate::cli::help::{
            BASH_INSTALL, ENVIRONMENT, ENVIRONMENT_NOTE, EXIT_STATUS, Entry, Example, FILES, FILES_NOTE, FISH_INSTALL,
            examples,
        };
    }
}
