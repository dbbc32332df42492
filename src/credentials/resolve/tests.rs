//! Unit tests of `resolve` and `check_binding`, over an in-memory store.

use self::memory::MemoryStore;
use super::*;
use crate::credentials::LOGIN_HINT;
use crate::exit::Failure;
use crate::settings::{Flags, Key, Origin};

fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
}

fn file_values(pairs: &[(Key, &str)]) -> FileValues {
    let mut file = FileValues::default();
    for (key, value) in pairs {
        file.set(*key, &(*value).into()).unwrap();
    }
    file
}

fn settings(pairs: &[(Key, &str)], env: &dyn Lookup) -> Settings {
    crate::settings::resolve(&Flags::default(), env, &file_values(pairs)).unwrap()
}

const MD5: &str = "0123456789abcdef0123456789abcdef";
const HOST_A: &str = "https://a.example.com";

fn url(text: &str) -> Setting<Url> {
    Setting::new(Url::parse(text).unwrap(), Origin::File)
}

/// Resolves with the base URL HOST_A from the file, as most tests want.
fn resolve_at_a(
    settings: &Settings,
    profile: &str,
    env: &dyn Lookup,
    stores: &[&dyn SecretStore],
) -> Result<Resolved, CredentialsError> {
    resolve(
        settings,
        &url(HOST_A),
        profile,
        &FileValues::default(),
        env,
        stores,
        &mut |_| {},
    )
}

#[test]
fn plain_password_is_hashed() {
    let env = env_of(&[("CAPFILE_USERNAME", "store123"), ("CAPFILE_PASSWORD", "Pass123")]);
    let (kind, secret, name) = env_secret(&env).unwrap().unwrap();
    assert_eq!((kind, name), (SecretKind::PasswordMd5, "CAPFILE_PASSWORD"));
    assert_eq!(secret.expose(), "2f23fa3579f3f75175793649115c1b25");
}

#[test]
fn env_conflicts_are_refused() {
    let both = env_of(&[
        ("CAPFILE_CLIENT_SECRET", "s"),
        ("CAPFILE_PASSWORD_MD5", "bdc87b9c894da5168059e00ebffb9077"),
    ]);
    assert!(env_secret(&both).is_err());
    let two = env_of(&[("CAPFILE_PASSWORD", "x"), ("CAPFILE_PASSWORD_MD5", MD5)]);
    assert!(env_secret(&two).is_err());
    assert!(env_secret(&env_of(&[("CAPFILE_PASSWORD_MD5", "nothex")])).is_err());
    assert!(env_secret(&|_: &str| None).unwrap().is_none());
}

#[test]
fn env_secret_wins_and_no_store_is_asked() {
    let env = env_of(&[("CAPFILE_PASSWORD", "pw")]);
    let settings = settings(&[(Key::Username, "till")], &env);
    let keyring = MemoryStore::holding("default", SecretKind::PasswordMd5, MD5, HOST_A, "till");
    // The environment's secret goes wherever the base URL points.
    let resolved = resolve(
        &settings,
        &url("https://b.example.com"),
        "default",
        &FileValues::default(),
        &env,
        &[&keyring],
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(resolved.source, SecretSource::Env("CAPFILE_PASSWORD"));
    assert_eq!(*keyring.calls.borrow(), 0, "the keyring must not be touched");
    let Credentials::Basic { username, password_md5 } = resolved.credentials else {
        panic!("basic expected");
    };
    assert_eq!(username, "till");
    assert_eq!(password_md5, md5_hex("pw"));
}

#[test]
fn keyring_before_file_and_failures_are_passed_over() {
    let none = |_: &str| None;
    let settings = settings(&[(Key::Username, "till")], &none);
    let keyring = MemoryStore::default();
    let file = MemoryStore::holding("default", SecretKind::PasswordMd5, MD5, HOST_A, "till");
    let resolved = resolve_at_a(&settings, "default", &none, &[&keyring, &file]).unwrap();
    assert!(matches!(resolved.credentials, Credentials::Basic { .. }));
    let binding = Binding::new(&url(HOST_A).value, "till");
    keyring
        .set(
            "default",
            SecretKind::PasswordMd5,
            &Secret::new("f".repeat(32)),
            &binding,
        )
        .unwrap();
    let resolved = resolve_at_a(&settings, "default", &none, &[&keyring, &file]).unwrap();
    let Credentials::Basic { password_md5, .. } = resolved.credentials else {
        panic!()
    };
    assert_eq!(password_md5.expose(), "f".repeat(32));

    let broken = MemoryStore {
        fail: Some("no D-Bus".into()),
        ..MemoryStore::default()
    };
    let mut seen = Vec::new();
    let resolved = resolve(
        &settings,
        &url(HOST_A),
        "default",
        &FileValues::default(),
        &none,
        &[&broken, &file],
        &mut |e| seen.push(e.message.clone()),
    )
    .unwrap();
    assert_eq!(
        resolved.credentials,
        Credentials::Basic {
            username: "till".into(),
            password_md5: Secret::new(MD5),
        }
    );
    assert_eq!(seen, ["no D-Bus"]);
}

#[test]
fn missing_pieces_are_auth_errors_with_the_login_hint() {
    let none = |_: &str| None;
    let empty = MemoryStore::default();
    let err = resolve_at_a(&settings(&[], &none), "default", &none, &[&empty]).unwrap_err();
    assert_eq!(err.exit().code(), 4);
    assert_eq!(err.hint().as_deref(), Some(LOGIN_HINT));
    let oauth = settings(&[(Key::ClientKey, "key")], &none);
    let err = resolve_at_a(&oauth, "ci", &none, &[&empty]).unwrap_err();
    assert!(
        err.message().contains("no saved client_secret for profile `ci`"),
        "{}",
        err.message()
    );
    let env = env_of(&[("CAPFILE_CLIENT_SECRET", "s")]);
    let err = resolve_at_a(&settings(&[], &env), "default", &env, &[]).unwrap_err();
    assert!(err.message().contains("CAPFILE_CLIENT_KEY"), "{}", err.message());
}

#[test]
fn oauth_profile_reads_the_client_secret() {
    let none = |_: &str| None;
    let keyring = MemoryStore::holding("ci", SecretKind::ClientSecret, "sekrit", HOST_A, "key");
    let settings = settings(&[(Key::ClientKey, "key"), (Key::Auth, "oauth")], &none);
    let resolved = resolve_at_a(&settings, "ci", &none, &[&keyring]).unwrap();
    assert_eq!(
        resolved.credentials,
        Credentials::OAuth {
            client_key: "key".into(),
            client_secret: Secret::new("sekrit"),
        }
    );
    assert_eq!(resolved.source, SecretSource::Keyring);
}

#[test]
fn a_saved_secret_goes_only_to_its_origin() {
    let none = |_: &str| None;
    let settings = settings(&[(Key::Username, "till")], &none);
    let keyring = MemoryStore::holding("default", SecretKind::PasswordMd5, MD5, HOST_A, "till");
    // The same origin under another path, or with the default port spelled out.
    for same in ["https://a.example.com/api", "https://A.example.com:443/"] {
        let resolved = resolve(
            &settings,
            &url(same),
            "default",
            &FileValues::default(),
            &none,
            &[&keyring],
            &mut |_| {},
        );
        assert!(resolved.is_ok(), "{same}: {:?}", resolved.err());
    }
    for other in [
        "https://b.example.com",
        "https://a.example.com:8443",
        "http://a.example.com",
        "https://a.example.com.evil.example",
    ] {
        let base_url = Setting::new(Url::parse(other).unwrap(), Origin::Env("CAPFILE_BASE_URL"));
        let err = resolve(
            &settings,
            &base_url,
            "default",
            &FileValues::default(),
            &none,
            &[&keyring],
            &mut |_| {},
        )
        .unwrap_err();
        assert_eq!(err.exit().code(), 4, "{other}");
        let message = err.message();
        assert!(
            message.contains("is for https://a.example.com, not for")
                && message.contains("(base URL from CAPFILE_BASE_URL); it was not sent"),
            "{other}: {message}"
        );
        assert!(!message.contains(MD5));
        let hint = err.hint().unwrap();
        assert!(hint.contains("capfile -p NAME login --base-url"), "{hint}");
        assert!(hint.contains("CAPFILE_PASSWORD"), "{hint}");
    }
}

#[test]
fn a_saved_secret_goes_only_with_its_identity() {
    let env = env_of(&[("CAPFILE_USERNAME", "other")]);
    let settings = settings(&[(Key::Username, "till")], &env);
    let keyring = MemoryStore::holding("default", SecretKind::PasswordMd5, MD5, HOST_A, "till");
    let err = resolve_at_a(&settings, "default", &env, &[&keyring]).unwrap_err();
    assert_eq!(err.exit().code(), 4);
    assert_eq!(
        err.message(),
        "the password_md5 saved for profile `default` (keyring) belongs to user `till`, not `other` (user from CAPFILE_USERNAME); it was not sent"
    );
    assert!(err.hint().unwrap().contains("log in as `other`"));

    let none = |_: &str| None;
    let oauth = settings_oauth(&none, "someone-else");
    let keyring = MemoryStore::holding("ci", SecretKind::ClientSecret, "sekrit", HOST_A, "key");
    let err = resolve_at_a(&oauth, "ci", &none, &[&keyring]).unwrap_err();
    assert!(
        err.message()
            .contains("belongs to client key `key`, not `someone-else`")
    );
}

#[test]
fn a_profile_edited_after_login_is_told_to_log_in_again() {
    // `config set base_url` / `config set username` after login: the file
    // itself now names another host or user.
    let none = |_: &str| None;
    let keyring = MemoryStore::holding("ci", SecretKind::PasswordMd5, MD5, HOST_A, "till");
    let moved = settings(&[(Key::Username, "till")], &none);
    let err = resolve(
        &moved,
        &url("https://b.example.com"),
        "ci",
        &FileValues::default(),
        &none,
        &[&keyring],
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        err.message().contains("(base URL from config.toml)"),
        "{}",
        err.message()
    );
    assert_eq!(
        err.hint().as_deref(),
        Some(
            "to use https://b.example.com with this profile, run `capfile -p ci login` again, or give CAPFILE_USERNAME and CAPFILE_PASSWORD in the environment"
        )
    );
    let renamed = settings(&[(Key::Username, "jo")], &none);
    let err = resolve_at_a(&renamed, "ci", &none, &[&keyring]).unwrap_err();
    assert!(err.message().contains("(user from config.toml)"), "{}", err.message());
    assert!(
        err.hint()
            .unwrap()
            .starts_with("to use user `jo` with this profile, run `capfile -p ci login` again"),
        "{:?}",
        err.hint()
    );
}

#[test]
fn what_a_store_holds_reaches_the_terminal_only_escaped() {
    // A keyring entry written by something else: control characters in its
    // origin and identity must not reach the terminal.
    let none = |_: &str| None;
    let settings = settings(&[(Key::Username, "till")], &none);
    let keyring = MemoryStore::holding("default", SecretKind::PasswordMd5, MD5, "\u{1b}]0;pwned\u{7}", "till");
    let err = resolve_at_a(&settings, "default", &none, &[&keyring]).unwrap_err();
    assert!(
        err.message()
            .contains("is for an origin that is not a URL, not for https://a.example.com"),
        "{}",
        err.message()
    );
    let keyring = MemoryStore::holding("default", SecretKind::PasswordMd5, MD5, HOST_A, "x\u{1b}[2K");
    let err = resolve_at_a(&settings, "default", &none, &[&keyring]).unwrap_err();
    assert!(!err.message().contains('\u{1b}'), "{:?}", err.message());
    assert!(
        err.message().contains("belongs to user `x\\u{1b}[2K`"),
        "{:?}",
        err.message()
    );

    // A base URL with a path is what the hint logs in with.
    let err = resolve(
        &settings,
        &Setting::new(Url::parse("https://b.example.com/api/").unwrap(), Origin::Flag),
        "default",
        &FileValues::default(),
        &none,
        &[&MemoryStore::holding(
            "default",
            SecretKind::PasswordMd5,
            MD5,
            HOST_A,
            "till",
        )],
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        err.hint().unwrap().contains("--base-url https://b.example.com/api/`"),
        "{:?}",
        err.hint()
    );
}

fn settings_oauth(env: &dyn Lookup, client_key: &str) -> Settings {
    settings(&[(Key::ClientKey, client_key), (Key::Auth, "oauth")], env)
}

#[test]
fn a_secret_of_another_kind_is_never_sent() {
    // `config set auth oauth` on a Basic login: the saved MD5 is not a client secret.
    let none = |_: &str| None;
    let oauth = settings_oauth(&none, "key");
    let keyring = MemoryStore::holding("default", SecretKind::PasswordMd5, MD5, HOST_A, "key");
    let err = resolve_at_a(&oauth, "default", &none, &[&keyring]).unwrap_err();
    assert!(err.message().contains("no saved client_secret"), "{}", err.message());
}

#[test]
fn secrets_saved_by_0_1_0_are_bound_to_their_profile() {
    let none = |_: &str| None;
    let keyring = MemoryStore::holding_unbound("default", MD5);
    let saved = file_values(&[(Key::BaseUrl, HOST_A), (Key::Username, "till")]);
    let settings = settings(&[(Key::BaseUrl, HOST_A), (Key::Username, "till")], &none);
    let run = |settings: &Settings, base_url: &str, saved: &FileValues| {
        resolve(
            settings,
            &url(base_url),
            "default",
            saved,
            &none,
            &[&keyring],
            &mut |_| {},
        )
    };
    let resolved = run(&settings, HOST_A, &saved).unwrap();
    assert_eq!(
        resolved.credentials,
        Credentials::Basic {
            username: "till".into(),
            password_md5: Secret::new(MD5),
        }
    );
    let err = run(&settings, "https://b.example.com", &saved).unwrap_err();
    assert!(
        err.message()
            .contains("is for https://a.example.com, not for https://b.example.com")
    );
    let err = run(&settings, HOST_A, &file_values(&[(Key::Username, "till")])).unwrap_err();
    assert!(err.message().contains("the profile has none"), "{}", err.message());
    assert_eq!(err.exit().code(), 4);

    // The kind is what the profile's one identity implies: after `config
    // set auth oauth` (and a client key) the MD5 stays unsent.
    let oauth = settings_oauth(&none, "key");
    let both = file_values(&[
        (Key::BaseUrl, HOST_A),
        (Key::Username, "till"),
        (Key::ClientKey, "key"),
        (Key::Auth, "oauth"),
    ]);
    let err = run(&oauth, HOST_A, &both).unwrap_err();
    assert!(err.message().contains("does not say whether"), "{}", err.message());
    let err = run(&oauth, HOST_A, &saved).unwrap_err();
    assert!(
        err.message()
            .contains("is a password_md5, but the profile's auth needs a client_secret"),
        "{}",
        err.message()
    );
    assert_eq!(err.hint().as_deref(), Some("run `capfile -p default login` again"));
}

/// An in-memory store, which can also be made to fail.
mod memory {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use super::*;

    /// Secrets by profile, each with its kind (`None`: not recorded, as in
    /// capfile 0.1.0's keyring entries).
    #[derive(Default)]
    pub(super) struct MemoryStore {
        pub secrets: RefCell<HashMap<String, (Option<SecretKind>, SavedSecret)>>,
        pub fail: Option<String>,
        pub calls: RefCell<usize>,
    }

    impl MemoryStore {
        /// A store holding one secret, saved by `login` for `origin` and `identity`.
        pub(super) fn holding(
            profile: &str,
            kind: SecretKind,
            secret: &str,
            origin: &str,
            identity: &str,
        ) -> MemoryStore {
            let store = MemoryStore::default();
            let binding = Binding {
                origin: origin.into(),
                identity: identity.into(),
            };
            store.secrets.borrow_mut().insert(
                profile.into(),
                (Some(kind), SavedSecret::bound(Secret::new(secret), binding)),
            );
            store
        }

        /// A store holding the bare secret capfile 0.1.0's keyring kept.
        pub(super) fn holding_unbound(profile: &str, secret: &str) -> MemoryStore {
            let store = MemoryStore::default();
            store
                .secrets
                .borrow_mut()
                .insert(profile.into(), (None, SavedSecret::unbound(Secret::new(secret), false)));
            store
        }
    }

    impl SecretStore for MemoryStore {
        fn source(&self) -> SecretSource {
            SecretSource::Keyring
        }
        fn describe(&self) -> String {
            "the test store".into()
        }
        fn get(&self, profile: &str, kind: SecretKind) -> Result<Option<SavedSecret>, StoreError> {
            *self.calls.borrow_mut() += 1;
            if let Some(fail) = &self.fail {
                return Err(StoreError::new(fail.clone()));
            }
            Ok(self
                .secrets
                .borrow()
                .get(profile)
                .filter(|(saved_kind, _)| saved_kind.is_none_or(|k| k == kind))
                .map(|(_, saved)| saved.clone()))
        }
        fn set(&self, profile: &str, kind: SecretKind, secret: &Secret, binding: &Binding) -> Result<(), StoreError> {
            *self.calls.borrow_mut() += 1;
            self.secrets.borrow_mut().insert(
                profile.to_string(),
                (Some(kind), SavedSecret::bound(secret.clone(), binding.clone())),
            );
            Ok(())
        }
        fn delete(&self, profile: &str) -> Result<bool, StoreError> {
            *self.calls.borrow_mut() += 1;
            Ok(self.secrets.borrow_mut().remove(profile).is_some())
        }
    }
}
