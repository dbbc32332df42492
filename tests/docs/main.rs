//! The files generated from the command line definitions, and the help text.
//!
//! `completions/` and `man/` are generated from `src/cli/mod.rs` (and its help
//! module) but committed, so that packagers and users get them without building;
//! `tests/snapshots/help/` holds the expected `--help` output. The tests here fail
//! with a diff when any of them no longer matches what this build generates, and
//! say how to regenerate them:
//!
//!     CAPFILE_REGENERATE=1 cargo test --test docs
//!
//! They also check that the committed files work where they are used: each
//! completion script in a real bash (with bash-completion), fish and zsh, and
//! each man page under `man --warnings`. A missing shell or `man` skips those
//! tests locally; CI sets CAPFILE_REQUIRE_TOOLS=1, which turns a missing tool into
//! a failure.

mod generated;
mod help;
mod imports;
mod layout;
mod man;
mod readme;
mod shape;
mod shells;
mod source;
mod tools;
