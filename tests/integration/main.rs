//! capfile's integration tests: one test binary, one module per concern, so
//! the suite links once. `common` holds the fixtures: the emulator in this
//! process ([`common::Service`]), the built binary with a clean environment,
//! and [`common::Test`], a builder that runs it and checks its exit status,
//! standard output and standard error.
//!
//! Run one module with `cargo test --test integration MODULE::`, for example
//! `cargo test --test integration keyring::` (what CI runs under real keyrings).
//! The generated files and help snapshots are checked by their own binary,
//! `cargo test --test docs`.

mod common;

mod batch;
mod concurrency;
mod emulator;
mod exits;
mod first_day;
mod fit;
mod hostile;
mod hostile_files;
mod hostile_local;
mod inspect;
mod interactive;
mod json_output;
mod keyring;
mod local;
mod login_tty;
mod manifest;
mod oauth;
mod profiles;
mod properties;
mod rate_limit;
mod real_network;
mod records;
mod redirects;
mod secret_binding;
mod settings_env;
mod status;
mod tracing;
mod upload;
mod waits;
