//! Resolves every setting from its sources into one `Settings`, keeping where
//! each value came from.
//!
//! Order, first match wins: command-line flag, environment variable, profile in
//! the config file, built-in default. The origin is kept beside each value so
//! `config list` can say why a value is what it is, and so error messages can
//! name the variable or file to fix.

use std::fmt;

use url::{Host, Url};

use crate::cli::{BodyFormat, OutputFormat};
use crate::error::Error;

/// Where a setting's value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Flag,
    Env(&'static str),
    File,
    Default,
    /// Chosen by `upload --local`.
    Local,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag => f.write_str("flag"),
            Origin::Env(name) => write!(f, "env {name}"),
            Origin::File => f.write_str("file"),
            Origin::Default => f.write_str("default"),
            Origin::Local => f.write_str("--local"),
        }
    }
}

/// A value and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting<T> {
    pub value: T,
    pub origin: Origin,
}

impl<T> Setting<T> {
    pub fn new(value: T, origin: Origin) -> Self {
        Setting { value, origin }
    }
}

pub const DEFAULT_NAMESPACE: &str = "rewards";
pub const DEFAULT_JOBS: u16 = 4;
pub const DEFAULT_RETRIES: u32 = 3;
pub const DEFAULT_TIMEOUT_SECS: u64 = 60;

/// The environment, as a function so tests can pass their own.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment; empty variables count as unset.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Upload settings given on the command line.
#[derive(Clone, Debug, Default)]
pub struct Flags {
    pub base_url: Option<String>,
    pub namespace: Option<String>,
    pub jobs: Option<u16>,
    pub retries: Option<u32>,
    pub timeout: Option<u64>,
    pub output: Option<OutputFormat>,
    pub body: Option<BodyFormat>,
}

/// Everything an upload needs to know, resolved.
#[derive(Clone, Debug)]
pub struct Settings {
    pub base_url: Option<Setting<Url>>,
    pub namespace: Setting<String>,
    pub jobs: Setting<u16>,
    pub retries: Setting<u32>,
    pub timeout: Setting<u64>,
    pub output: Setting<OutputFormat>,
    pub body: Setting<BodyFormat>,
}

/// The first of flag, environment and default that is set.
fn pick<T>(flag: Option<T>, env: Option<(T, &'static str)>, default: T) -> Setting<T> {
    if let Some(value) = flag {
        Setting::new(value, Origin::Flag)
    } else if let Some((value, name)) = env {
        Setting::new(value, Origin::Env(name))
    } else {
        Setting::new(default, Origin::Default)
    }
}

pub fn resolve(flags: &Flags, env: Env) -> Result<Settings, Error> {
    let base_url = match (&flags.base_url, env("CAPFILE_BASE_URL")) {
        (Some(flag), _) => Some(Setting::new(
            parse_base_url(flag).map_err(|e| Error::usage(format!("--base-url: {e}")))?,
            Origin::Flag,
        )),
        (None, Some(value)) => Some(Setting::new(
            parse_base_url(&value).map_err(|e| Error::usage(format!("CAPFILE_BASE_URL: {e}")))?,
            Origin::Env("CAPFILE_BASE_URL"),
        )),
        (None, None) => None,
    };
    let namespace_env = env("CAPFILE_NAMESPACE").map(|v| (v, "CAPFILE_NAMESPACE"));
    let namespace = pick(flags.namespace.clone(), namespace_env, DEFAULT_NAMESPACE.to_string());
    check_namespace(&namespace.value).map_err(|e| Error::usage(format!("namespace ({}): {e}", namespace.origin)))?;
    Ok(Settings {
        base_url,
        namespace,
        jobs: pick(flags.jobs, None, DEFAULT_JOBS),
        retries: pick(flags.retries, None, DEFAULT_RETRIES),
        timeout: pick(flags.timeout, None, DEFAULT_TIMEOUT_SECS),
        output: pick(flags.output, None, OutputFormat::Table),
        body: pick(flags.body, None, BodyFormat::Multipart),
    })
}

/// A namespace is one URL path segment of plain characters.
pub fn check_namespace(namespace: &str) -> Result<(), String> {
    if namespace.is_empty() {
        return Err("must not be empty".into());
    }
    if !namespace
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        || namespace == "."
        || namespace == ".."
    {
        return Err(format!("{namespace:?} may hold only letters, digits, `-`, `_` and `.`"));
    }
    Ok(())
}

/// Parses a base URL: `https://`, or `http://` to a loopback host only, so that
/// credentials never cross a network in clear text.
pub fn parse_base_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value.trim()).map_err(|e| format!("{value:?} is not a URL ({e})"))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{value:?} must not have a query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the URL must not carry credentials; use `capfile login`".into());
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(format!(
            "{value:?} uses plain http to a host that is not loopback; use https so credentials are encrypted"
        )),
        other => Err(format!("{value:?} has scheme `{other}`; use https")),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    #[test]
    fn flag_beats_env_beats_default() {
        let env = env_of(&[
            ("CAPFILE_NAMESPACE", "solutions"),
            ("CAPFILE_BASE_URL", "https://eu.example.com"),
        ]);
        let none = resolve(&Flags::default(), &|_| None).unwrap();
        assert_eq!(none.namespace, Setting::new("rewards".to_string(), Origin::Default));
        assert!(none.base_url.is_none());
        let from_env = resolve(&Flags::default(), &env).unwrap();
        assert_eq!(from_env.namespace.origin, Origin::Env("CAPFILE_NAMESPACE"));
        assert_eq!(from_env.namespace.value, "solutions");
        let flags = Flags {
            namespace: Some("customerImage".into()),
            base_url: Some("https://flag.example.com".into()),
            ..Flags::default()
        };
        let from_flag = resolve(&flags, &env).unwrap();
        assert_eq!(
            from_flag.namespace,
            Setting::new("customerImage".to_string(), Origin::Flag)
        );
        assert_eq!(from_flag.base_url.unwrap().value.as_str(), "https://flag.example.com/");
    }

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(parse_base_url("https://eu.api.capillarytech.com").is_ok());
        for ok in [
            "http://127.0.0.1:7878",
            "http://127.1.2.3",
            "http://[::1]:80",
            "http://localhost:1",
        ] {
            assert!(parse_base_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://eu.api.capillarytech.com",
            "http://10.0.0.1",
            "ftp://x",
            "https://u:p@x.com",
            "nonsense",
        ] {
            assert!(parse_base_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_env_value_names_the_variable() {
        let env = env_of(&[("CAPFILE_BASE_URL", "http://example.com")]);
        let err = resolve(&Flags::default(), &env).unwrap_err();
        assert!(err.message().starts_with("CAPFILE_BASE_URL:"), "{}", err.message());
    }

    #[test]
    fn namespaces_are_one_plain_segment() {
        assert!(check_namespace("rewards").is_ok());
        assert!(check_namespace("customerImage").is_ok());
        for bad in ["", "a/b", "..", "a b", "é"] {
            assert!(check_namespace(bad).is_err(), "{bad}");
        }
    }
}
