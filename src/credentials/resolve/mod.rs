//! Which credentials an upload uses, and whether a saved secret may go where
//! the settings point: the environment first (no store is asked), then the
//! stores in order; a saved secret only for the origin and identity it was
//! saved for (see the `credentials` module docs).

use url::Url;

use super::{
    Binding, Credentials, CredentialsError, OtherIdentity, OtherOrigin, SavedSecret, Secret, SecretKind, SecretSource,
    SecretStore, StoreError, Unbindable, is_md5_hex, md5_hex, origin_of, parse_origin,
};
use crate::settings::{AuthKind, FileValues, Lookup, Setting, Settings};

/// A secret given by the environment: its kind, value and variable.
///
/// `CAPFILE_PASSWORD` is hashed here and dropped; `CAPFILE_PASSWORD_MD5` is used
/// as it is. Basic and OAuth secrets together are refused rather than guessed.
pub(super) fn env_secret(env: &dyn Lookup) -> Result<Option<(SecretKind, Secret, &'static str)>, CredentialsError> {
    let basic = match (env.var("CAPFILE_PASSWORD"), env.var("CAPFILE_PASSWORD_MD5")) {
        (Some(_), Some(_)) => return Err(CredentialsError::TwoPasswords),
        (Some(password), None) => Some((md5_hex(&password), "CAPFILE_PASSWORD")),
        (None, Some(md5)) if is_md5_hex(&md5) => Some((Secret::new(md5.to_ascii_lowercase()), "CAPFILE_PASSWORD_MD5")),
        (None, Some(_)) => return Err(CredentialsError::EnvMd5NotHex),
        (None, None) => None,
    };
    let oauth = env
        .var("CAPFILE_CLIENT_SECRET")
        .map(|s| (Secret::new(s), "CAPFILE_CLIENT_SECRET"));
    match (basic, oauth) {
        (Some((_, variable)), Some(_)) => Err(CredentialsError::BasicAndOauth { variable }),
        (Some((secret, name)), None) => Ok(Some((SecretKind::PasswordMd5, secret, name))),
        (None, Some((secret, name))) => Ok(Some((SecretKind::ClientSecret, secret, name))),
        (None, None) => Ok(None),
    }
}

/// An upload's credentials and where the secret came from.
#[derive(Clone, Debug)]
pub(crate) struct Resolved {
    pub credentials: Credentials,
    pub source: SecretSource,
}

/// Where a profile's secret is: in the environment, or looked up in the stores.
pub(crate) enum Located {
    /// Given by the environment; no store was asked.
    Env {
        kind: SecretKind,
        secret: Secret,
        variable: &'static str,
    },
    /// The first store, in order, that holds a secret of `kind` (if any),
    /// and the failures of the stores asked before it.
    Stored {
        kind: SecretKind,
        found: Option<(SavedSecret, SecretSource)>,
        failures: Vec<StoreError>,
    },
}

/// Finds the profile's secret: the environment first, and then, when
/// `before_stores` agrees, the stores in order for the kind `auth` needs. This
/// is the one place that order is written; `resolve` (uploads) and
/// `config list` both go through it.
pub(crate) fn locate(
    env: &dyn Lookup,
    auth: AuthKind,
    profile: &str,
    stores: &[&dyn SecretStore],
    before_stores: impl FnOnce(SecretKind) -> Result<(), CredentialsError>,
) -> Result<Located, CredentialsError> {
    if let Some((kind, secret, variable)) = env_secret(env)? {
        return Ok(Located::Env { kind, secret, variable });
    }
    let kind = SecretKind::for_auth(auth);
    before_stores(kind)?;
    let (found, failures) = find_secret(profile, kind, stores);
    Ok(Located::Stored { kind, found, failures })
}

/// The first store, in order, that holds the profile's secret; stores that
/// failed are passed over and their errors returned beside the answer.
pub(super) fn find_secret(
    profile: &str,
    kind: SecretKind,
    stores: &[&dyn SecretStore],
) -> (Option<(SavedSecret, SecretSource)>, Vec<StoreError>) {
    let mut failures = Vec::new();
    for store in stores {
        match store.get(profile, kind) {
            Ok(Some(saved)) => return (Some((saved, store.source())), failures),
            Ok(None) => {}
            Err(err) => failures.push(err),
        }
    }
    (None, failures)
}

/// The credentials an upload uses. The secret comes from the environment, then
/// from the stores in order (OS keyring, credentials file); the username or
/// client key is a setting (flag, env, file). With a secret in the
/// environment no store is asked at all.
///
/// A saved secret is used only for the origin of `base_url` and the identity
/// it was saved for (see `check_binding`); `saved_profile` is the profile as
/// `config.toml` has it, which stands for the binding of a secret saved by
/// capfile 0.1.0.
pub(crate) fn resolve(
    settings: &Settings,
    base_url: &Setting<Url>,
    profile: &str,
    saved_profile: &FileValues,
    env: &dyn Lookup,
    stores: &[&dyn SecretStore],
    passed_over: &mut dyn FnMut(&StoreError),
) -> Result<Resolved, CredentialsError> {
    resolve_found(settings, base_url, profile, saved_profile, env, stores, passed_over)
        .map_err(|err| explain_empty_variables(err, profile, env))
}

/// The credential variables, in the order a message names them.
const CREDENTIAL_VARIABLES: [&str; 5] = [
    "CAPFILE_USERNAME",
    "CAPFILE_PASSWORD",
    "CAPFILE_PASSWORD_MD5",
    "CAPFILE_CLIENT_KEY",
    "CAPFILE_CLIENT_SECRET",
];

/// "No credentials" becomes "these variables are set but empty" when some
/// are: a hint to set a variable that is set already helps nobody.
fn explain_empty_variables(err: CredentialsError, profile: &str, env: &dyn Lookup) -> CredentialsError {
    let none_found = matches!(
        err,
        CredentialsError::NotLoggedIn { .. } | CredentialsError::NotSaved { .. } | CredentialsError::NoIdentity { .. }
    );
    let variables: Vec<&'static str> = CREDENTIAL_VARIABLES
        .into_iter()
        .filter(|name| env.is_set_empty(name))
        .collect();
    if !none_found || variables.is_empty() {
        return err;
    }
    CredentialsError::EmptyVariables {
        profile: profile.to_string(),
        variables,
    }
}

fn resolve_found(
    settings: &Settings,
    base_url: &Setting<Url>,
    profile: &str,
    saved_profile: &FileValues,
    env: &dyn Lookup,
    stores: &[&dyn SecretStore],
    passed_over: &mut dyn FnMut(&StoreError),
) -> Result<Resolved, CredentialsError> {
    let located = locate(env, settings.auth.value, profile, stores, |kind| {
        if identity(settings, kind).is_none() {
            return Err(CredentialsError::NotLoggedIn {
                profile: profile.to_string(),
            });
        }
        Ok(())
    })?;
    let (kind, found, failures) = match located {
        Located::Env { kind, secret, variable } => {
            let source = SecretSource::Env(variable);
            let Some(identity) = identity(settings, kind) else {
                return Err(CredentialsError::NoIdentity { kind, found_in: source });
            };
            return Ok(Resolved {
                credentials: credentials(kind, identity.value.clone(), secret),
                source,
            });
        }
        Located::Stored { kind, found, failures } => (kind, found, failures),
    };
    if let Some(malformed) = failures.iter().find(|f| f.malformed) {
        return Err(malformed.clone().into_error());
    }
    for failure in &failures {
        passed_over(failure);
    }
    let Some((saved, source)) = found else {
        return Err(CredentialsError::NotSaved {
            profile: profile.to_string(),
            kind,
            places: stores.iter().map(|s| s.describe()).collect(),
            failures,
        });
    };
    let binding = check_binding(
        &saved,
        kind,
        &source,
        profile,
        settings,
        base_url,
        saved_profile,
        "it was not sent",
    )?;
    if kind == SecretKind::PasswordMd5 && !is_md5_hex(saved.secret.expose()) {
        return Err(CredentialsError::SavedMd5NotHex {
            profile: profile.to_string(),
            found_in: source,
        });
    }
    Ok(Resolved {
        credentials: credentials(kind, binding.identity, saved.secret),
        source,
    })
}

/// Checks that a saved secret may go where the settings say: it is of the
/// kind the profile's auth needs, and it was saved for the origin of
/// `base_url` and for the profile's username or client key. Returns what it
/// is bound to. Every refusal is an authentication error (exit 4) that names
/// both sides, ends with `outcome` (what became of the secret) and says how
/// to go on.
#[allow(clippy::too_many_arguments)]
pub(crate) fn check_binding(
    saved: &SavedSecret,
    kind: SecretKind,
    source: &SecretSource,
    profile: &str,
    settings: &Settings,
    base_url: &Setting<Url>,
    saved_profile: &FileValues,
    outcome: &str,
) -> Result<Binding, CredentialsError> {
    let binding = match &saved.binding {
        Some(binding) => binding.clone(),
        None => unbound_binding(saved, kind, source, profile, saved_profile, outcome)?,
    };
    // What a store holds is shown only in the form capfile writes.
    let saved_origin = parse_origin(&binding.origin);
    if saved_origin.as_deref() != Some(origin_of(&base_url.value).as_str()) {
        return Err(CredentialsError::OtherOrigin(Box::new(OtherOrigin {
            profile: profile.to_string(),
            kind,
            found_in: source.clone(),
            saved_origin,
            base_url: base_url.value.clone(),
            base_url_from: base_url.origin.clone(),
            outcome: outcome.to_string(),
        })));
    }
    if let Some(identity) = identity(settings, kind)
        && identity.value != binding.identity
    {
        return Err(CredentialsError::OtherIdentity(Box::new(OtherIdentity {
            profile: profile.to_string(),
            kind,
            found_in: source.clone(),
            saved_identity: binding.identity,
            identity: identity.value.clone(),
            identity_from: identity.origin.clone(),
            outcome: outcome.to_string(),
        })));
    }
    Ok(binding)
}

/// What a secret saved by capfile 0.1.0 is taken as bound to: the base URL
/// and username or client key of its profile in `config.toml`, which that
/// version's `login` wrote beside it. Its keyring entries did not record the
/// kind either: it is the one the profile's single identity implies (0.1.0's
/// `login` kept only the username or only the client key), so after `config
/// set auth oauth` a password's MD5 is not taken for a client secret.
fn unbound_binding(
    saved: &SavedSecret,
    kind: SecretKind,
    source: &SecretSource,
    profile: &str,
    saved_profile: &FileValues,
    outcome: &str,
) -> Result<Binding, CredentialsError> {
    let refuse = |why: Unbindable| -> CredentialsError {
        CredentialsError::Unbound {
            profile: profile.to_string(),
            found_in: source.clone(),
            why,
            outcome: outcome.to_string(),
        }
    };
    if !saved.kind_recorded {
        let saved_kind = match (saved_profile.username(), saved_profile.client_key()) {
            (Some(_), None) => SecretKind::PasswordMd5,
            (None, Some(_)) => SecretKind::ClientSecret,
            _ => return Err(refuse(Unbindable::KindUnknown)),
        };
        if saved_kind != kind {
            return Err(refuse(Unbindable::OtherKind {
                saved: saved_kind,
                needed: kind,
            }));
        }
    }
    let Some(base_url) = saved_profile.base_url() else {
        return Err(refuse(Unbindable::NoBaseUrl));
    };
    let identity = match kind {
        SecretKind::PasswordMd5 => saved_profile.username(),
        SecretKind::ClientSecret => saved_profile.client_key(),
    };
    let Some(identity) = identity else {
        return Err(refuse(Unbindable::NoIdentity { kind }));
    };
    Ok(Binding::new(&base_url, &identity))
}

fn credentials(kind: SecretKind, identity: String, secret: Secret) -> Credentials {
    match kind {
        SecretKind::PasswordMd5 => Credentials::Basic {
            username: identity,
            password_md5: secret,
        },
        SecretKind::ClientSecret => Credentials::OAuth {
            client_key: identity,
            client_secret: secret,
        },
    }
}

/// The username (Basic) or client key (OAuth) that goes with a secret.
fn identity(settings: &Settings, kind: SecretKind) -> Option<&Setting<String>> {
    match kind {
        SecretKind::PasswordMd5 => settings.username.as_ref(),
        SecretKind::ClientSecret => settings.client_key.as_ref(),
    }
}

#[cfg(test)]
mod tests;
