//! Which credentials an upload uses, and whether a saved secret may go where
//! the settings point: the environment first (no store is asked), then the
//! stores in order; a saved secret only for the origin and identity it was
//! saved for (see the `credentials` module docs).

use url::Url;

use super::{
    Binding, Credentials, SavedSecret, Secret, SecretKind, SecretSource, SecretStore, StoreError, is_md5_hex, md5_hex,
    origin_of, parse_origin,
};
use crate::error::{Error, LOGIN_HINT, login_hint};
use crate::settings::{AuthKind, FileValues, Lookup, Origin, Setting, Settings};

/// A secret given by the environment: its kind, value and variable.
///
/// `CAPFILE_PASSWORD` is hashed here and dropped; `CAPFILE_PASSWORD_MD5` is used
/// as it is. Basic and OAuth secrets together are refused rather than guessed.
pub fn env_secret(env: &dyn Lookup) -> Result<Option<(SecretKind, Secret, &'static str)>, Error> {
    let basic = match (env.var("CAPFILE_PASSWORD"), env.var("CAPFILE_PASSWORD_MD5")) {
        (Some(_), Some(_)) => {
            return Err(Error::usage(
                "both CAPFILE_PASSWORD and CAPFILE_PASSWORD_MD5 are set; keep one",
            ));
        }
        (Some(password), None) => Some((md5_hex(&password), "CAPFILE_PASSWORD")),
        (None, Some(md5)) if is_md5_hex(&md5) => Some((Secret::new(md5.to_ascii_lowercase()), "CAPFILE_PASSWORD_MD5")),
        (None, Some(_)) => {
            return Err(Error::usage("CAPFILE_PASSWORD_MD5 is not 32 hexadecimal digits"));
        }
        (None, None) => None,
    };
    let oauth = env
        .var("CAPFILE_CLIENT_SECRET")
        .map(|s| (Secret::new(s), "CAPFILE_CLIENT_SECRET"));
    match (basic, oauth) {
        (Some((_, basic)), Some(_)) => Err(Error::usage(format!(
            "both {basic} (Basic) and CAPFILE_CLIENT_SECRET (OAuth) are set; keep one"
        ))),
        (Some((secret, name)), None) => Ok(Some((SecretKind::PasswordMd5, secret, name))),
        (None, Some((secret, name))) => Ok(Some((SecretKind::ClientSecret, secret, name))),
        (None, None) => Ok(None),
    }
}

/// An upload's credentials and where the secret came from.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub credentials: Credentials,
    pub source: SecretSource,
}

/// Where a profile's secret is: in the environment, or looked up in the stores.
pub enum Located {
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
pub fn locate(
    env: &dyn Lookup,
    auth: AuthKind,
    profile: &str,
    stores: &[&dyn SecretStore],
    before_stores: impl FnOnce(SecretKind) -> Result<(), Error>,
) -> Result<Located, Error> {
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
pub fn find_secret(
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
pub fn resolve(
    settings: &Settings,
    base_url: &Setting<Url>,
    profile: &str,
    saved_profile: &FileValues,
    env: &dyn Lookup,
    stores: &[&dyn SecretStore],
    passed_over: &mut dyn FnMut(&StoreError),
) -> Result<Resolved, Error> {
    let located = locate(env, settings.auth.value, profile, stores, |kind| {
        if identity(settings, kind).is_none() {
            return Err(Error::auth(format!(
                "no credentials: profile `{profile}` is not logged in and the environment has none"
            ))
            .with_hint(login_hint(profile)));
        }
        Ok(())
    })?;
    let (kind, found, failures) = match located {
        Located::Env { kind, secret, variable } => {
            let source = SecretSource::Env(variable);
            let Some(identity) = identity(settings, kind) else {
                return Err(no_identity(kind, &source));
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
        let places: Vec<String> = stores.iter().map(|s| s.describe()).collect();
        let mut message = format!(
            "no saved {} for profile `{profile}` (looked in {})",
            kind.name(),
            places.join(" and ")
        );
        for failure in &failures {
            message.push_str(&format!("; {failure}"));
        }
        return Err(Error::auth(message).with_hint(login_hint(profile)));
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
        return Err(Error::auth(format!(
            "the password_md5 saved for profile `{profile}` ({source}) is not 32 hexadecimal digits"
        ))
        .with_hint(login_again(profile)));
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
pub fn check_binding(
    saved: &SavedSecret,
    kind: SecretKind,
    source: &SecretSource,
    profile: &str,
    settings: &Settings,
    base_url: &Setting<Url>,
    saved_profile: &FileValues,
    outcome: &str,
) -> Result<Binding, Error> {
    let binding = match &saved.binding {
        Some(binding) => binding.clone(),
        None => unbound_binding(saved, kind, source, profile, saved_profile, outcome)?,
    };
    let env_hint = match kind {
        SecretKind::PasswordMd5 => "CAPFILE_USERNAME and CAPFILE_PASSWORD",
        SecretKind::ClientSecret => "CAPFILE_CLIENT_KEY and CAPFILE_CLIENT_SECRET",
    };
    let origin = origin_of(&base_url.value);
    let saved_origin = parse_origin(&binding.origin);
    if saved_origin.as_deref() != Some(origin.as_str()) {
        // The URL to log in with: the base URL itself when it has a path.
        let login_url = match base_url.value.path() {
            "/" => origin.clone(),
            _ => base_url.value.to_string(),
        };
        return Err(Error::auth(format!(
            "the {} saved for profile `{profile}` ({source}) is for {}, not for {origin} (base URL from {}); {outcome}",
            kind.name(),
            // What a store holds is shown only in the form capfile writes.
            saved_origin.as_deref().unwrap_or("an origin that is not a URL"),
            given_by(&base_url.origin, "--base-url", "CAPFILE_BASE_URL")
        ))
        .with_hint(match base_url.origin {
            // The profile itself now names another host (`config set base_url`).
            Origin::File => format!(
                "to use {origin} with this profile, run `capfile -p {profile} login` again, or give {env_hint} in the environment"
            ),
            _ => format!(
                "log in for {origin} under a profile of its own (`capfile -p NAME login --base-url {login_url}`), or give {env_hint} in the environment"
            ),
        }));
    }
    let (what, flag, variable) = identity_names(kind);
    if let Some(identity) = identity(settings, kind)
        && identity.value != binding.identity
    {
        return Err(Error::auth(format!(
            "the {} saved for profile `{profile}` ({source}) belongs to {what} `{}`, not `{}` ({what} from {}); {outcome}",
            kind.name(),
            binding.identity.escape_debug(),
            identity.value,
            given_by(&identity.origin, flag, variable)
        ))
        .with_hint(match identity.origin {
            Origin::File => format!(
                "to use {what} `{}` with this profile, run `capfile -p {profile} login` again, or give {env_hint} in the environment",
                identity.value
            ),
            _ => format!(
                "log in as `{}` under a profile of its own (`capfile -p NAME login`), or give {env_hint} in the environment",
                identity.value
            ),
        }));
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
) -> Result<Binding, Error> {
    let refuse = |why: String| {
        Error::auth(format!(
            "the secret saved for profile `{profile}` ({source}) by capfile 0.1.0 {why}; {outcome}"
        ))
        .with_hint(login_again(profile))
    };
    if !saved.kind_recorded {
        let saved_kind = match (saved_profile.username(), saved_profile.client_key()) {
            (Some(_), None) => SecretKind::PasswordMd5,
            (None, Some(_)) => SecretKind::ClientSecret,
            _ => {
                return Err(refuse(
                    "does not say whether it is a password_md5 or a client_secret, and the profile does not tell (it sets both username and client_key, or neither)".into(),
                ));
            }
        };
        if saved_kind != kind {
            return Err(refuse(format!(
                "is a {}, but the profile's auth needs a {}",
                saved_kind.name(),
                kind.name()
            )));
        }
    }
    let Some(base_url) = saved_profile.base_url() else {
        return Err(refuse(
            "is bound to the profile's base_url in config.toml, and the profile has none".into(),
        ));
    };
    let (what, _, _) = identity_names(kind);
    let identity = match kind {
        SecretKind::PasswordMd5 => saved_profile.username(),
        SecretKind::ClientSecret => saved_profile.client_key(),
    };
    let Some(identity) = identity else {
        return Err(refuse(format!(
            "is bound to the profile's {what} in config.toml, and the profile has none"
        )));
    };
    Ok(Binding::new(&base_url, &identity))
}

fn login_again(profile: &str) -> String {
    format!("run `capfile -p {profile} login` again")
}

/// Where a setting came from, in words for a message.
fn given_by(origin: &Origin, flag: &str, variable: &str) -> String {
    match origin {
        Origin::Flag => flag.to_string(),
        Origin::Env(_) => variable.to_string(),
        Origin::File => "config.toml".to_string(),
        other => other.to_string(),
    }
}

/// What the identity of a kind is called: in words, as a flag, as a variable.
fn identity_names(kind: SecretKind) -> (&'static str, &'static str, &'static str) {
    match kind {
        SecretKind::PasswordMd5 => ("user", "--username", "CAPFILE_USERNAME"),
        SecretKind::ClientSecret => ("client key", "--client-key", "CAPFILE_CLIENT_KEY"),
    }
}

fn no_identity(kind: SecretKind, source: &SecretSource) -> Error {
    let (what, variable, key) = match kind {
        SecretKind::PasswordMd5 => ("username", "CAPFILE_USERNAME", "username"),
        SecretKind::ClientSecret => ("client key", "CAPFILE_CLIENT_KEY", "client_key"),
    };
    Error::auth(format!(
        "the secret comes from {source} but there is no {what}: set {variable}, or `capfile config set {key} ...`"
    ))
    .with_hint(LOGIN_HINT)
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
