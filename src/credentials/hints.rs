//! What to tell a user whose credentials are missing or were refused: the
//! `capfile login` command for the profile in use, and where the refused
//! secret came from, so they know which one to fix.

use super::SecretSource;

/// The hint every authentication failure carries.
pub(crate) const LOGIN_HINT: &str = "run `capfile login`, or set CAPFILE_USERNAME and CAPFILE_PASSWORD (or CAPFILE_CLIENT_KEY and CAPFILE_CLIENT_SECRET)";

/// `capfile login` for the profile in use: `capfile -p demo login`.
pub(super) fn login_command(profile: &str) -> String {
    match profile {
        "default" => "capfile login".to_string(),
        other => format!("capfile -p {other} login"),
    }
}

/// What to do when there are no credentials for `profile`.
pub(crate) fn login_hint(profile: &str) -> String {
    format!(
        "run `{}`, or set CAPFILE_USERNAME and CAPFILE_PASSWORD (or CAPFILE_CLIENT_KEY and CAPFILE_CLIENT_SECRET)",
        login_command(profile)
    )
}

/// What to do when the service refused `profile`'s secret from `source`;
/// without a source (the built-in credentials of `upload --local`), the
/// general [`LOGIN_HINT`].
pub(crate) fn refused_hint(profile: &str, source: Option<&SecretSource>) -> String {
    let Some(source) = source else {
        return LOGIN_HINT.to_string();
    };
    match source {
        SecretSource::Env(variable) => format!(
            "the secret in the environment's {variable} was refused: check its value, or unset it to use the one `{}` saves",
            login_command(profile)
        ),
        SecretSource::Keyring => format!(
            "the secret saved in the OS keyring for profile `{profile}` was refused: run `{}` again",
            login_command(profile)
        ),
        SecretSource::File(path) => format!(
            "the secret saved in {} for profile `{profile}` was refused: run `{}` again",
            path.display(),
            login_command(profile)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_name_the_profile_and_where_the_secret_came_from() {
        assert!(login_hint("demo").starts_with("run `capfile -p demo login`"));
        assert!(login_hint("default").starts_with("run `capfile login`"));
        let env = refused_hint("demo", Some(&SecretSource::Env("CAPFILE_PASSWORD")));
        assert!(
            env.starts_with("the secret in the environment's CAPFILE_PASSWORD was refused"),
            "{env}"
        );
        assert!(!env.contains("set CAPFILE_PASSWORD"), "{env}");
        let keyring = refused_hint("demo", Some(&SecretSource::Keyring));
        assert!(keyring.contains("`capfile -p demo login`"), "{keyring}");
        assert_eq!(refused_hint("demo", None), LOGIN_HINT);
    }
}
