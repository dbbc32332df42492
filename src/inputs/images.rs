//! The image checks of the pre-flight pass: every input that is an image has
//! its header read (`crate::image`, header only, bounded) and is held to the
//! run's policy, or with none to the default `max_pixels`. A header that
//! cannot be read, or an image that breaks a rule, is one error line naming
//! the file; like every other input problem it refuses the whole batch.
//!
//! With transforms (`--fit`, ...), the policy is held to what the image will
//! be once transformed (`transform::check`), so a policy can make an image
//! fit instead of refusing it; a transform that cannot be applied (an
//! animation to resize, a CMYK image to convert) refuses it here, before
//! anything is sent.

use std::sync::Arc;

use super::InputError;
use super::{ANY_TYPE, Inputs};
use crate::image;
use crate::policy::{self, Policy, Violations};
use crate::transform::{self, Settings};

/// Checks every image of `inputs`, adding one error per bad file.
pub(super) fn check(
    inputs: &Inputs,
    policy: Option<&Arc<Policy>>,
    fit: Option<&Settings>,
    errors: &mut Vec<InputError>,
) {
    for input in inputs.iter() {
        if input.mime == ANY_TYPE {
            continue;
        }
        let Some(path) = input.body_path() else {
            continue;
        };
        let label = input.label();
        match image::read_path(&path, &label) {
            Ok(facts) => {
                let facts = match fit.map(|settings| transform::check(&facts, settings)) {
                    Some(Ok(plan)) => plan.after,
                    Some(Err(why)) => {
                        errors.push(InputError::Policy(Violations {
                            label,
                            policy: policy.map(|p| p.name.clone()),
                            broken: vec![why.to_string()],
                        }));
                        continue;
                    }
                    None => facts,
                };
                if let Some(violations) = policy::check(&label, &facts, policy.map(Arc::as_ref)) {
                    errors.push(InputError::Policy(violations));
                }
            }
            Err(err) => errors.push(InputError::Image(err)),
        }
    }
}
