//! `capfile config` for upload policies: the keys `policies.NAME.RULE` (a
//! rule of the `[policies.NAME]` table, one of the rule table's keys) and
//! `policy.NAMESPACE` (the selected profile's `[profiles.NAME.policies]`
//! entry for a namespace). Values are checked by the rule table, as the
//! config file's are; edits keep the file's comments (toml_edit).

use serde_json::{Map, Value, json};
use toml_edit::{DocumentMut, Item, Table};

use super::ConfigError;
use crate::config_file::{self, Config, NAMESPACE_POLICIES, NotEditable, Paths};
use crate::error::Error;
use crate::policy::{self, Rule};
use crate::settings::check_namespace;

/// A key that names a policy rule or a namespace's policy.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum PolicyKey {
    Rule { policy: String, rule: Rule },
    Namespace(String),
}

/// The key, when `name` is one of the policy forms (`policies.…` or
/// `policy.…`); `None` for any other key. A malformed one is a `BadKey`.
pub(super) fn parse(name: &str) -> Option<Result<PolicyKey, Error>> {
    let bad = |message: String| {
        Err(Error::from(ConfigError::BadKey {
            name: name.to_string(),
            message,
        }))
    };
    if let Some(rest) = name.strip_prefix("policies.") {
        let Some((policy, rule)) = rest.split_once('.') else {
            return Some(bad(format!(
                "`{name}` names a policy, not a rule: use policies.{rest}.RULE; rules: {}",
                Rule::names()
            )));
        };
        if let Err(message) = policy::check_name(policy) {
            return Some(bad(message.to_string()));
        }
        return Some(match Rule::parse(rule) {
            Ok(rule) => Ok(PolicyKey::Rule {
                policy: policy.to_string(),
                rule,
            }),
            Err(message) => bad(message.to_string()),
        });
    }
    let namespace = name.strip_prefix("policy.")?;
    Some(match check_namespace(namespace) {
        Ok(()) => Ok(PolicyKey::Namespace(namespace.to_string())),
        Err(message) => bad(format!("policy.NAMESPACE: namespace {message}")),
    })
}

/// `config get`: the value as the file holds it, checked.
pub(super) fn get(config: &Config, profile: &str, key: &PolicyKey, name: &str) -> Result<String, Error> {
    let value = match key {
        PolicyKey::Rule { policy, rule } => config
            .policies()
            .iter()
            .find(|p| &p.name == policy)
            .and_then(|p| p.get(*rule))
            .map(ToString::to_string),
        PolicyKey::Namespace(namespace) => config.namespace_policy(profile, namespace).map(str::to_string),
    };
    value.ok_or_else(|| {
        ConfigError::KeyNotSet {
            key: name.to_string(),
            profile: profile.to_string(),
        }
        .into()
    })
}

/// `config set`: checks the value and writes it into the document.
pub(super) fn set(
    doc: &mut DocumentMut,
    paths: &Paths,
    profile: &str,
    key: &PolicyKey,
    input: &str,
) -> Result<(), Error> {
    let invalid = super::not_editable(paths);
    match key {
        PolicyKey::Rule { policy, rule } => {
            let value = rule.parse_input(input).map_err(|message| {
                Error::from(ConfigError::BadValue {
                    message: message.to_string(),
                })
            })?;
            let policies = table_mut(doc.as_table_mut(), "policies", true).map_err(&invalid)?;
            let table = table_mut(policies, policy, false).map_err(&invalid)?;
            config_file::set_value(table, rule.name(), value);
        }
        PolicyKey::Namespace(namespace) => {
            policy::check_name(input.trim()).map_err(|message| {
                Error::from(ConfigError::BadValue {
                    message: message.to_string(),
                })
            })?;
            let profile = config_file::profile_table_mut(doc, profile).map_err(&invalid)?;
            let table = table_mut(profile, NAMESPACE_POLICIES, false).map_err(&invalid)?;
            config_file::set_value(table, namespace, toml_edit::Value::from(input.trim()));
        }
    }
    Ok(())
}

/// `config unset`: whether the key was there to remove.
pub(super) fn unset(doc: &mut DocumentMut, profile: &str, key: &PolicyKey) -> bool {
    let (path, leaf): (Vec<&str>, &str) = match key {
        PolicyKey::Rule { policy, rule } => (vec!["policies", policy], rule.name()),
        PolicyKey::Namespace(namespace) => (vec!["profiles", profile, NAMESPACE_POLICIES], namespace),
    };
    let mut table = doc.as_table_mut() as &mut dyn toml_edit::TableLike;
    for part in path {
        match table.get_mut(part).and_then(Item::as_table_like_mut) {
            Some(next) => table = next,
            None => return false,
        }
    }
    table.remove(leaf).is_some()
}

/// `config list`: one `key: value (file)` line per rule and namespace policy.
pub(super) fn list_lines(config: &Config, profile: &str) -> String {
    let mut text = String::new();
    for policy in config.policies() {
        for (rule, value) in &policy.rules {
            text.push_str(&format!("policies.{}.{}: {value} (file)\n", policy.name, rule.name()));
        }
    }
    for (namespace, policy) in config.namespace_policies(profile) {
        text.push_str(&format!("policy.{namespace}: {policy} (file)\n"));
    }
    text
}

/// `config list --json`: `policies` (by name, then rule) and
/// `namespace_policies` (namespace -> policy name).
pub(super) fn list_json(config: &Config, profile: &str, doc: &mut Map<String, Value>) {
    let mut policies = Map::new();
    for policy in config.policies() {
        let rules: Map<String, Value> = policy
            .rules
            .iter()
            .map(|(rule, value)| (rule.name().to_string(), rule_json(value)))
            .collect();
        policies.insert(policy.name.clone(), Value::Object(rules));
    }
    doc.insert("policies".into(), Value::Object(policies));
    let namespaces: Map<String, Value> = config
        .namespace_policies(profile)
        .iter()
        .map(|(namespace, policy)| (namespace.clone(), json!(policy)))
        .collect();
    doc.insert("namespace_policies".into(), Value::Object(namespaces));
}

fn rule_json(value: &policy::Value) -> Value {
    match value {
        policy::Value::Int(n) => json!(n),
        policy::Value::Share(s) => json!(s),
        policy::Value::Bool(b) => json!(b),
        policy::Value::Formats(list) => json!(list.iter().map(|f| f.name()).collect::<Vec<_>>()),
        other => json!(other.to_string()),
    }
}

/// The table `key` of `parent`, created when missing (`implicit`: shown only
/// through its sub-tables, as `[policies.NAME]`); an inline table is made a
/// standard one to edit.
fn table_mut<'a>(parent: &'a mut Table, key: &str, implicit: bool) -> Result<&'a mut Table, NotEditable> {
    let item = parent.entry(key).or_insert_with(|| {
        let mut table = Table::new();
        table.set_implicit(implicit);
        Item::Table(table)
    });
    if let Item::Value(toml_edit::Value::InlineTable(inline)) = item {
        let table = std::mem::take(inline).into_table();
        *item = Item::Table(table);
    }
    item.as_table_mut()
        .ok_or_else(|| NotEditable::Table { key: key.to_string() })
}
