//! Upload policies: named rule sets an image must meet before it is sent.
//!
//! A policy is a `[policies.NAME]` table in `config.toml` whose keys are the
//! rules of the rule table (`rules`): byte and pixel bounds, an exact size,
//! an aspect ratio, allowed formats, a colour model, animation, GPS. Which
//! policy applies to a run is chosen by `select` (from `--policy`,
//! `CAPFILE_POLICY`, the profile's per-namespace `[profiles.NAME.policies]`
//! table, then the profile's `policy`). `check` holds an image's
//! [`ImageFacts`] to a policy and says what breaks it in one line per file,
//! e.g. `banner.png: 1200x400 is not 1:1 (policy reward-art)`.
//!
//! With no policy, and in a policy that sets none, `max_pixels` is
//! [`DEFAULT_MAX_PIXELS`]: a header that declares 100,000 x 100,000 pixels
//! is refused, whatever else is configured.

use std::collections::BTreeMap;
use std::fmt;

use crate::image::ImageFacts;

mod error;
mod rules;
mod select;

pub(crate) use error::PolicyError;
pub(crate) use rules::{Rule, Value};
pub(crate) use select::{UnknownPolicy, select};

/// `max_pixels` when no policy sets it: 100 megapixels.
pub(crate) const DEFAULT_MAX_PIXELS: u64 = 100_000_000;

/// `aspect_tolerance` when a policy with an `aspect` sets none.
pub(crate) const DEFAULT_ASPECT_TOLERANCE: f64 = 0.01;

/// One named policy, its rules checked.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Policy {
    pub name: String,
    pub rules: BTreeMap<Rule, Value>,
}

/// A policy name: it is a TOML key and a part of `policies.NAME.RULE`, so it
/// holds no dot.
pub(crate) fn check_name(name: &str) -> Result<(), PolicyError> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b)) {
        return Err(PolicyError::Name { name: name.to_string() });
    }
    Ok(())
}

impl Policy {
    /// A policy from its table in the config file; the error names the rule
    /// and what is wrong, and the position of the offending part.
    pub(crate) fn from_table(
        name: &str,
        table: &dyn toml_edit::TableLike,
    ) -> Result<Policy, (Option<std::ops::Range<usize>>, String)> {
        let mut rules = BTreeMap::new();
        for (key, item) in table.iter() {
            let key_span = table.get_key_value(key).and_then(|(k, _)| k.span());
            let rule = Rule::parse(key).map_err(|e| (key_span.clone(), e.to_string()))?;
            let value = item.as_value().ok_or_else(|| {
                (
                    item.span().or(key_span.clone()),
                    format!("{key} must be a value, not a table"),
                )
            })?;
            let value = rule
                .check_file(value)
                .map_err(|e| (value.span(), format!("policies.{name}: {e}")))?;
            rules.insert(rule, value);
        }
        Ok(Policy {
            name: name.to_string(),
            rules,
        })
    }

    pub(crate) fn get(&self, rule: Rule) -> Option<&Value> {
        self.rules.get(&rule)
    }

    fn int(&self, rule: Rule) -> Option<u64> {
        match self.get(rule)? {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }
}

/// What an image breaks: one line naming the file, each broken rule with
/// the image's value, and the policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Violations {
    pub label: String,
    pub policy: Option<String>,
    /// Each broken rule, as `1200x400 is not 1:1`.
    pub broken: Vec<String>,
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.label, self.broken.join("; "))?;
        if let Some(policy) = &self.policy {
            write!(f, " (policy {policy})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Violations {}

/// Holds `facts` to `policy` (or, with none, to the default `max_pixels`);
/// `None` when the image meets every rule.
pub(crate) fn check(label: &str, facts: &ImageFacts, policy: Option<&Policy>) -> Option<Violations> {
    let empty = Policy::default();
    let policy_ref = policy.unwrap_or(&empty);
    let mut broken = Vec::new();
    match policy_ref.int(Rule::MaxPixels) {
        Some(max) => max_pixels(facts, max, "max_pixels", &mut broken),
        None => max_pixels(facts, DEFAULT_MAX_PIXELS, "the default max_pixels", &mut broken),
    }
    for (rule, value) in &policy_ref.rules {
        if let Some(why) = breaks(*rule, value, facts, policy_ref) {
            broken.push(why);
        }
    }
    (!broken.is_empty()).then(|| Violations {
        label: label.to_string(),
        policy: policy.map(|p| p.name.clone()),
        broken,
    })
}

fn max_pixels(facts: &ImageFacts, max: u64, what: &str, broken: &mut Vec<String>) {
    if let Some(pixels) = facts.pixels().filter(|p| *p > max) {
        broken.push(format!("{} ({pixels} pixels) is over {what} {max}", facts.size_text()));
    }
}

/// How `facts` breaks one rule, if it does.
fn breaks(rule: Rule, value: &Value, facts: &ImageFacts, policy: &Policy) -> Option<String> {
    let size = facts.size_text();
    let side = |n: Option<u32>| n.map(u64::from);
    let over = |n: Option<u64>, what: &str, max: u64| {
        n.filter(|n| *n > max)
            .map(|n| format!("{what} {n} is over {} {max}", rule.name()))
    };
    let under = |n: Option<u64>, what: &str, min: u64| {
        n.filter(|n| *n < min)
            .map(|n| format!("{what} {n} is under {} {min}", rule.name()))
    };
    let unsized_image = facts
        .width
        .is_none()
        .then(|| format!("{size}, so {} cannot be checked", rule.name()));
    match (rule, value) {
        (Rule::MaxBytes, Value::Int(max)) => {
            (facts.bytes > *max).then(|| format!("{} bytes is over max_bytes {max}", facts.bytes))
        }
        (Rule::MinBytes, Value::Int(min)) => {
            (facts.bytes < *min).then(|| format!("{} bytes is under min_bytes {min}", facts.bytes))
        }
        (Rule::MinWidth, Value::Int(n)) => unsized_image.or_else(|| under(side(facts.width), "width", *n)),
        (Rule::MaxWidth, Value::Int(n)) => unsized_image.or_else(|| over(side(facts.width), "width", *n)),
        (Rule::MinHeight, Value::Int(n)) => unsized_image.or_else(|| under(side(facts.height), "height", *n)),
        (Rule::MaxHeight, Value::Int(n)) => unsized_image.or_else(|| over(side(facts.height), "height", *n)),
        (Rule::Size, Value::Size(w, h)) => unsized_image.or_else(|| {
            (facts.width != Some(*w) || facts.height != Some(*h)).then(|| format!("{size} is not {w}x{h}"))
        }),
        (Rule::Aspect, Value::Ratio(w, h)) => {
            let tolerance = match policy.get(Rule::AspectTolerance) {
                Some(Value::Share(s)) => *s,
                _ => DEFAULT_ASPECT_TOLERANCE,
            };
            unsized_image.or_else(|| (!aspect_fits(facts, *w, *h, tolerance)).then(|| format!("{size} is not {w}:{h}")))
        }
        (Rule::Formats, Value::Formats(list)) => (!list.contains(&facts.format)).then(|| {
            let names: Vec<_> = list.iter().map(|f| f.name()).collect();
            format!("format {} is not one of {}", facts.format, names.join(", "))
        }),
        (Rule::Color, Value::Color(want)) => facts
            .color
            .filter(|c| c != want)
            .map(|c| format!("colour {c} is not {want}")),
        (Rule::Animated, Value::Bool(false)) => facts
            .animated()
            .then(|| format!("animated ({} frames) is not allowed", facts.frames)),
        (Rule::Animated, Value::Bool(true)) => (!facts.animated()).then(|| "not animated".to_string()),
        (Rule::Gps, Value::Gps(true)) => facts.gps.then(|| "carries a GPS location (gps = refuse)".to_string()),
        // max_pixels is checked first; aspect_tolerance goes with aspect.
        _ => None,
    }
}

/// Whether width:height is within `tolerance` (a share) of `w:h`.
fn aspect_fits(facts: &ImageFacts, w: u32, h: u32, tolerance: f64) -> bool {
    let (Some(width), Some(height)) = (facts.width, facts.height) else {
        return false;
    };
    if height == 0 {
        return false;
    }
    let want = f64::from(w) / f64::from(h);
    let got = f64::from(width) / f64::from(height);
    ((got - want) / want).abs() <= tolerance + 1e-9
}

#[cfg(test)]
mod tests;
