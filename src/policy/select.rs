//! Which policy a run uses: `--policy`, else `CAPFILE_POLICY`, else the
//! profile's `[profiles.NAME.policies]` entry for the run's namespace, else
//! the profile's `policy`; none when none of them names one.

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;

use crate::config_file::Config;
use crate::exit::{ErrorKind, Failure};
use crate::settings::{Origin, Settings};

use super::Policy;

/// The policy the run uses, looked up in the config file; a name the file
/// does not define is a usage error naming where the name came from.
pub(crate) fn select(config: &Config, profile: &str, settings: &Settings) -> Result<Option<Policy>, UnknownPolicy> {
    let chosen = settings.policy.as_ref();
    let namespace = &settings.namespace.value;
    let (name, from) = match chosen {
        Some(setting) if matches!(setting.origin, Origin::Flag | Origin::Env(_)) => {
            let from = match setting.origin {
                Origin::Env(var) => var.to_string(),
                _ => "--policy".to_string(),
            };
            (setting.value.clone(), from)
        }
        _ => match (config.namespace_policy(profile, namespace), chosen) {
            (Some(name), _) => (name.to_string(), format!("profiles.{profile}.policies.{namespace}")),
            (None, Some(setting)) => (setting.value.clone(), format!("profiles.{profile}.policy")),
            (None, None) => return Ok(None),
        },
    };
    match config.policies().iter().find(|p| p.name == name) {
        Some(policy) => Ok(Some(policy.clone())),
        None => Err(UnknownPolicy {
            name,
            from,
            path: config.file.path.clone(),
            known: config.policies().iter().map(|p| p.name.clone()).collect(),
        }),
    }
}

/// `--policy`, CAPFILE_POLICY or the profile names a policy that the config
/// file does not hold; `from` says which. A usage error (exit 2).
#[derive(Debug)]
pub(crate) struct UnknownPolicy {
    pub name: String,
    pub from: String,
    pub path: PathBuf,
    pub known: Vec<String>,
}

impl Failure for UnknownPolicy {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Usage
    }

    fn hint(&self) -> Option<Cow<'_, str>> {
        Some(match self.known.is_empty() {
            true => Cow::Borrowed("add a [policies.NAME] table to the config file"),
            false => Cow::Owned(format!("policies: {}", self.known.join(", "))),
        })
    }
}

impl fmt::Display for UnknownPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let UnknownPolicy { name, from, path, .. } = self;
        write!(
            f,
            "{from} names policy `{name}`, which {} does not define",
            path.display()
        )
    }
}

impl std::error::Error for UnknownPolicy {}
