//! The environment, read once.
//!
//! `Env::capture` copies the variables capfile reads (`CAPFILE_*`, `NO_COLOR`,
//! `TERM`) when a command starts; everything below the command line (settings,
//! profile selection, secrets, the keyring choice, colour) asks this value, not
//! the process. Tests build one with `Env::from_pairs`. The only other readers
//! of the process environment are clap's `env = ...` attributes on
//! `--profile`, `--config` and `serve`'s identity flags, kept because the help
//! text shows them.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};

/// A snapshot of the variables capfile reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Env {
    vars: BTreeMap<OsString, OsString>,
}

/// Variables read besides the `CAPFILE_*` ones: the proxy variables are
/// `api::route`'s.
const OTHERS: [&str; 12] = [
    "NO_COLOR",
    "TERM",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "https_proxy",
    "HTTPS_PROXY",
    "http_proxy",
    "HTTP_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

impl Env {
    /// The process environment's `CAPFILE_*` and [`OTHERS`].
    pub(crate) fn capture() -> Env {
        let vars = std::env::vars_os()
            .filter(|(name, _)| {
                let name = name.to_string_lossy();
                name.starts_with("CAPFILE_") || OTHERS.contains(&name.as_ref())
            })
            .collect();
        Env { vars }
    }

    /// An environment holding just these variables (for tests).
    #[cfg(test)]
    pub(crate) fn from_pairs<K: AsRef<str>, V: AsRef<str>>(pairs: impl IntoIterator<Item = (K, V)>) -> Env {
        let vars = pairs
            .into_iter()
            .map(|(k, v)| (OsString::from(k.as_ref()), OsString::from(v.as_ref())))
            .collect();
        Env { vars }
    }

    /// A variable as UTF-8 text; empty or not UTF-8 counts as unset.
    pub(crate) fn get(&self, name: &str) -> Option<String> {
        self.vars
            .get(OsStr::new(name))
            .and_then(|v| v.to_str())
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    /// A variable as set, even when empty or not UTF-8.
    pub(crate) fn get_os(&self, name: &str) -> Option<&OsStr> {
        self.vars.get(OsStr::new(name)).map(OsString::as_os_str)
    }
}

/// Anything that answers "what is this variable?": an `Env`, or in tests a
/// closure.
pub trait Lookup {
    fn var(&self, name: &str) -> Option<String>;

    /// Whether the variable is set but empty (as CI sets a secret it holds
    /// back from a fork's pull request): `var` counts it as unset, and a
    /// message that says "set it" should say "it is empty" instead.
    fn is_set_empty(&self, _name: &str) -> bool {
        false
    }
}

impl Lookup for Env {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name)
    }

    fn is_set_empty(&self, name: &str) -> bool {
        self.get_os(name).is_some_and(OsStr::is_empty)
    }
}

impl<F: Fn(&str) -> Option<String>> Lookup for F {
    fn var(&self, name: &str) -> Option<String> {
        self(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_variables_count_as_unset() {
        let env = Env::from_pairs([("CAPFILE_RATE", ""), ("CAPFILE_NAMESPACE", "x")]);
        assert_eq!(env.get("CAPFILE_RATE"), None);
        assert_eq!(env.get_os("CAPFILE_RATE"), Some(OsStr::new("")));
        assert_eq!(env.var("CAPFILE_NAMESPACE").as_deref(), Some("x"));
        assert_eq!(env.get("HOME"), None);
        assert!(env.is_set_empty("CAPFILE_RATE"));
        assert!(!env.is_set_empty("CAPFILE_NAMESPACE"));
        assert!(!env.is_set_empty("CAPFILE_UNSET"));
    }
}
