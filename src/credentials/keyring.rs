//! The OS keyring, through the keyring-core family of crates: the Secret
//! Service on Linux and FreeBSD (the pure-Rust zbus store, so no libdbus is
//! needed to build or run), the login Keychain on macOS, Credential Manager on
//! Windows.
//!
//! On Linux, `CAPFILE_KEYRING=keyutils` picks the kernel keyring instead of the
//! Secret Service: it needs no D-Bus and no daemon, so it serves headless hosts,
//! but its keys live only as long as the kernel keeps the user's keyrings (they
//! do not survive a reboot). Its entries are described `keyring:PROFILE@capfile`
//! (`keyctl request user keyring:PROFILE@capfile`).
//!
//! An entry has service `capfile` and user = the profile name, and holds a
//! small JSON object: the secret's kind, the origin and identity it was saved
//! for, and the secret itself (`md5_hex(password)` for Basic, the client
//! secret for OAuth):
//!
//! ```json
//! {"kind":"password_md5","origin":"https://eu.api.capillarytech.com","identity":"till","secret":"2f23..."}
//! ```
//!
//! A profile has one entry, so a secret of another kind is never read as the
//! one asked for. capfile 0.1.0 kept the bare secret; such an entry is still
//! read, as a secret with no recorded kind or binding (see `credentials`), and
//! the next `login` replaces it. With `secret-tool`:
//! `secret-tool lookup service capfile username PROFILE`.
//!
//! Every call runs on a thread of its own and is waited for at most
//! `TIME_LIMIT`: a missing D-Bus fails at once, a hung one costs at most that
//! long, and capfile never hangs on it. A call that overran is left on its
//! thread, which ends with the process.

use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use keyring_core::{CredentialStore, Entry};

use super::{Binding, SavedSecret, Secret, SecretKind, SecretSource, SecretStore, StoreError};

/// The keyring service name of every capfile entry.
pub(crate) const SERVICE: &str = "capfile";
/// The longest capfile waits for one keyring call.
pub(crate) const TIME_LIMIT: Duration = Duration::from_secs(3);

/// Opens the platform's credential store (connects to it, on Linux).
type Opener = Arc<dyn Fn() -> keyring_core::Result<Arc<CredentialStore>> + Send + Sync>;

/// The OS keyring as a `SecretStore`.
pub(crate) struct Keyring {
    open: Opener,
    limit: Duration,
    name: &'static str,
}

#[cfg(any(target_os = "linux", target_os = "freebsd"))]
const NATIVE_NAME: &str = "Secret Service";
#[cfg(target_os = "macos")]
const NATIVE_NAME: &str = "macOS Keychain";
#[cfg(target_os = "windows")]
const NATIVE_NAME: &str = "Windows Credential Manager";
#[cfg(not(any(
    target_os = "linux",
    target_os = "freebsd",
    target_os = "macos",
    target_os = "windows"
)))]
const NATIVE_NAME: &str = "none on this platform";

fn open_native() -> keyring_core::Result<Arc<CredentialStore>> {
    #[cfg(any(target_os = "linux", target_os = "freebsd"))]
    let store: Arc<CredentialStore> = zbus_secret_service_keyring_store::Store::new()?;
    #[cfg(target_os = "macos")]
    let store: Arc<CredentialStore> = apple_native_keyring_store::keychain::Store::new()?;
    #[cfg(target_os = "windows")]
    let store: Arc<CredentialStore> = windows_native_keyring_store::Store::new()?;
    #[cfg(not(any(
        target_os = "linux",
        target_os = "freebsd",
        target_os = "macos",
        target_os = "windows"
    )))]
    let store: Arc<CredentialStore> = {
        return Err(keyring_core::Error::NotSupportedByStore(
            "capfile has no OS keyring for this platform".into(),
        ));
    };
    Ok(store)
}

#[cfg(target_os = "linux")]
fn open_kernel() -> keyring_core::Result<Arc<CredentialStore>> {
    let store: Arc<CredentialStore> = linux_keyutils_keyring_store::Store::new()?;
    Ok(store)
}

impl Keyring {
    /// The keyring named by `choice` (the `keyring` setting: `native`,
    /// `secret-service` or `keyutils`; empty for the platform's).
    pub(crate) fn chosen(choice: &str) -> Keyring {
        let open: Opener = match choice {
            "" | "native" | "secret-service" => Arc::new(open_native),
            #[cfg(target_os = "linux")]
            "keyutils" => {
                return Keyring {
                    open: Arc::new(open_kernel),
                    limit: TIME_LIMIT,
                    name: "Linux kernel keyring",
                };
            }
            other => {
                let message = format!("keyring {other:?} is not a keyring here; use `native`, or `keyutils` on Linux");
                Arc::new(move || Err(keyring_core::Error::NotSupportedByStore(message.clone())))
            }
        };
        Keyring {
            open,
            limit: TIME_LIMIT,
            name: NATIVE_NAME,
        }
    }

    #[cfg(test)]
    /// A keyring over another credential store (tests: the mock store, a slow
    /// store).
    pub(crate) fn with_store(
        open: impl Fn() -> keyring_core::Result<Arc<CredentialStore>> + Send + Sync + 'static,
        limit: Duration,
    ) -> Keyring {
        Keyring {
            open: Arc::new(open),
            limit,
            name: "test store",
        }
    }

    /// Runs one operation on the profile's entry, on its own thread, under the
    /// time limit.
    fn call<T: Send + 'static>(
        &self,
        profile: &str,
        op: impl FnOnce(Entry) -> keyring_core::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let open = self.open.clone();
        let user = profile.to_string();
        let (sender, receiver) = mpsc::channel();
        std::thread::Builder::new()
            .name("capfile-keyring".into())
            .spawn(move || {
                let result = open()
                    .and_then(|store| Entry::new_in_store(&store, SERVICE, &user))
                    .and_then(op);
                let _ = sender.send(result);
            })
            .map_err(|e| StoreError::new(format!("cannot use {}: cannot start a thread: {e}", self.describe())))?;
        match receiver.recv_timeout(self.limit) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(self.error(profile, err)),
            Err(RecvTimeoutError::Timeout) => Err(StoreError::new(format!(
                "{} did not answer within {} s",
                self.describe(),
                self.limit.as_secs_f64()
            ))),
            Err(RecvTimeoutError::Disconnected) => {
                Err(StoreError::new(format!("{} failed unexpectedly", self.describe())))
            }
        }
    }

    /// The keyring's error in words. Only names and causes: keyring-core's
    /// errors that carry secret bytes are described, not shown.
    fn error(&self, profile: &str, err: keyring_core::Error) -> StoreError {
        use keyring_core::Error as E;
        let what = self.describe();
        // No keyring here at all: nothing can be stored in it.
        let absent = match &err {
            E::PlatformFailure(inner) | E::NoStorageAccess(inner) => {
                let plain = plain_cause(&inner.to_string());
                plain == NO_SESSION || plain == NO_SERVICE
            }
            E::NoDefaultStore | E::NotSupportedByStore(_) => true,
            _ => false,
        };
        let cause = match &err {
            E::PlatformFailure(inner) | E::NoStorageAccess(inner) => plain_cause(&inner.to_string()),
            E::BadEncoding(_) | E::BadDataFormat(..) => {
                format!("the secret saved for profile `{profile}` is not text")
            }
            E::Ambiguous(entries) => format!(
                "{} entries match service `{SERVICE}` and user `{profile}`; remove the extra ones",
                entries.len()
            ),
            E::NoDefaultStore | E::NoEntry => err.to_string(),
            other => other.to_string(),
        };
        // The kernel keyring denies a process whose session keyring is the
        // per-user default one it may not write to (an SSH or CI shell).
        let squeezed = cause.to_ascii_lowercase().replace(' ', "");
        let denied = squeezed.contains("accessdenied") || squeezed.contains("accesswasdenied");
        let cause = if what.contains("kernel keyring") && denied {
            "access denied: this shell has no session keyring capfile may write to; run capfile under \
             `keyctl session` (e.g. `keyctl session - bash`), or link the user keyring into the session \
             with `keyctl link @u @s`"
                .to_string()
        } else {
            cause
        };
        let message = format!("cannot use {what}: {}", one_line(&cause));
        if absent {
            StoreError::absent(message)
        } else {
            StoreError::new(message)
        }
    }
}

/// The causes that mean there is no keyring here (see [`StoreError::absent`]).
const NO_SESSION: &str = "there is no D-Bus session to reach it on";
const NO_SERVICE: &str = "no Secret Service (gnome-keyring, KWallet) is running";

/// A platform failure in capfile's words: the usual causes (no D-Bus session,
/// no Secret Service daemon, a locked keyring) get a short sentence instead of
/// the raw D-Bus text; anything else is kept, on one line.
fn plain_cause(raw: &str) -> String {
    let lower = raw.to_ascii_lowercase();
    let has = |needle: &str| lower.contains(needle);
    if has("failed to connect") || has("dbus_session_bus_address") || has("no such file or directory") {
        NO_SESSION.into()
    } else if has("serviceunknown") || has("org.freedesktop.secrets") || has("not provided by any") {
        NO_SERVICE.into()
    } else if has("locked") || has("dismissed") || has("prompt") {
        "the keyring is locked and was not unlocked".into()
    } else if has("permission denied") || has("access denied") {
        "access was denied".into()
    } else {
        one_line(raw.trim_start_matches("zbus error: "))
    }
}

/// Platform messages can span lines; an error is one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What an entry holds: the JSON object of the module docs.
fn entry_value(kind: SecretKind, secret: &Secret, binding: &Binding) -> Secret {
    let value = serde_json::json!({
        "kind": kind.name(),
        "origin": binding.origin,
        "identity": binding.identity,
        "secret": secret.expose(),
    });
    Secret::new(value.to_string())
}

/// An entry's secret when it is of `kind`. A value that is not capfile's JSON
/// object is the bare secret capfile 0.1.0 saved.
fn read_entry(value: &str, kind: SecretKind) -> Option<SavedSecret> {
    let Ok(serde_json::Value::Object(object)) = serde_json::from_str::<serde_json::Value>(value) else {
        return Some(SavedSecret::unbound(Secret::new(value), false));
    };
    let field = |name: &str| object.get(name).and_then(serde_json::Value::as_str);
    match (field("kind"), field("origin"), field("identity"), field("secret")) {
        (Some(saved_kind), Some(origin), Some(identity), Some(secret)) => (saved_kind == kind.name()).then(|| {
            SavedSecret::bound(
                Secret::new(secret),
                Binding {
                    origin: origin.to_string(),
                    identity: identity.to_string(),
                },
            )
        }),
        // Some other JSON (a client secret may be anything): a bare secret.
        _ => Some(SavedSecret::unbound(Secret::new(value), false)),
    }
}

impl SecretStore for Keyring {
    fn source(&self) -> SecretSource {
        SecretSource::Keyring
    }

    fn describe(&self) -> String {
        format!("the OS keyring ({})", self.name)
    }

    fn get(&self, profile: &str, kind: SecretKind) -> Result<Option<SavedSecret>, StoreError> {
        let value = self.call(profile, |entry| match entry.get_password() {
            Ok(value) => Ok(Some(value)),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(err) => Err(err),
        })?;
        Ok(value.and_then(|value| read_entry(&value, kind)))
    }

    fn set(&self, profile: &str, kind: SecretKind, secret: &Secret, binding: &Binding) -> Result<(), StoreError> {
        let value = entry_value(kind, secret, binding);
        self.call(profile, move |entry| entry.set_password(value.expose()))
    }

    fn delete(&self, profile: &str) -> Result<bool, StoreError> {
        self.call(profile, |entry| match entry.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(err) => Err(err),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn mock() -> Keyring {
        let store: Arc<CredentialStore> = keyring_core::mock::Store::new().unwrap();
        Keyring::with_store(move || Ok(store.clone()), Duration::from_secs(5))
    }

    fn binding(identity: &str) -> Binding {
        Binding {
            origin: "https://eu.api.capillarytech.com".into(),
            identity: identity.into(),
        }
    }

    #[test]
    fn the_keyring_is_chosen_by_the_env_given() {
        let err = Keyring::chosen("no-such-keyring")
            .get("default", SecretKind::PasswordMd5)
            .unwrap_err();
        assert!(
            err.message.contains("\"no-such-keyring\" is not a keyring here"),
            "{err}"
        );
    }

    #[test]
    fn access_denied_by_the_kernel_keyring_says_what_to_do() {
        let kernel = Keyring::chosen("keyutils");
        for raw in ["AccessDenied", "Access denied", "keyctl: access denied (EACCES)"] {
            let err = kernel.error("p", keyring_core::Error::PlatformFailure(raw.into()));
            if cfg!(target_os = "linux") {
                assert!(err.message.contains("no session keyring"), "{raw}: {}", err.message);
                assert!(err.message.contains("keyctl session"), "{}", err.message);
            }
        }
        // The Secret Service's own denial keeps its plain words.
        let native = Keyring::chosen("native");
        let err = native.error("p", keyring_core::Error::PlatformFailure("AccessDenied".into()));
        assert!(!err.message.contains("keyctl"), "{}", err.message);
    }

    #[test]
    fn round_trip_per_profile() {
        let keyring = mock();
        let kind = SecretKind::PasswordMd5;
        assert_eq!(keyring.get("default", kind), Ok(None));
        keyring
            .set("default", kind, &Secret::new("abc"), &binding("till"))
            .unwrap();
        keyring.set("ci", kind, &Secret::new("other"), &binding("ci")).unwrap();
        assert_eq!(
            keyring.get("default", kind).unwrap(),
            Some(SavedSecret::bound(Secret::new("abc"), binding("till")))
        );
        assert!(keyring.delete("default").unwrap());
        assert!(!keyring.delete("default").unwrap());
        assert_eq!(keyring.get("default", kind), Ok(None));
        assert_eq!(keyring.get("ci", kind).unwrap().unwrap().secret.expose(), "other");
    }

    #[test]
    fn a_secret_is_read_only_as_its_own_kind() {
        let keyring = mock();
        keyring
            .set(
                "default",
                SecretKind::PasswordMd5,
                &Secret::new("abc"),
                &binding("till"),
            )
            .unwrap();
        assert_eq!(keyring.get("default", SecretKind::ClientSecret), Ok(None));
        keyring
            .set("default", SecretKind::ClientSecret, &Secret::new("s"), &binding("key"))
            .unwrap();
        assert_eq!(keyring.get("default", SecretKind::PasswordMd5), Ok(None));
        assert_eq!(
            keyring
                .get("default", SecretKind::ClientSecret)
                .unwrap()
                .unwrap()
                .secret
                .expose(),
            "s"
        );
    }

    #[test]
    fn the_entry_is_json_and_a_bare_0_1_0_entry_is_still_read() {
        let value = entry_value(SecretKind::ClientSecret, &Secret::new("s\"x"), &binding("key"));
        let parsed: serde_json::Value = serde_json::from_str(value.expose()).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({
                "kind": "client_secret",
                "origin": "https://eu.api.capillarytech.com",
                "identity": "key",
                "secret": "s\"x",
            })
        );
        for bare in [
            "2f23fa3579f3f75175793649115c1b25",
            "{not json",
            "{\"a\":1}",
            "\"quoted\"",
        ] {
            assert_eq!(
                read_entry(bare, SecretKind::PasswordMd5),
                Some(SavedSecret::unbound(Secret::new(bare), false)),
                "{bare}"
            );
        }
    }

    #[test]
    fn a_hung_keyring_costs_only_the_time_limit() {
        let keyring = Keyring::with_store(
            || {
                std::thread::sleep(Duration::from_secs(30));
                keyring_core::mock::Store::new().map(|s| s as Arc<CredentialStore>)
            },
            Duration::from_millis(200),
        );
        let started = Instant::now();
        let err = keyring.get("default", SecretKind::PasswordMd5).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
        assert!(err.message.contains("did not answer within 0.2 s"), "{}", err.message);
        assert!(!err.absent, "a keyring that does not answer may hold a secret");
    }

    #[test]
    fn an_unreachable_keyring_names_the_cause() {
        let keyring = Keyring::with_store(
            || {
                Err(keyring_core::Error::NoStorageAccess(
                    "no D-Bus session bus\n(DBUS_SESSION_BUS_ADDRESS is unset)".into(),
                ))
            },
            Duration::from_secs(1),
        );
        let err = keyring
            .set("default", SecretKind::ClientSecret, &Secret::new("s"), &binding("key"))
            .unwrap_err();
        assert_eq!(
            err.message,
            "cannot use the OS keyring (test store): there is no D-Bus session to reach it on"
        );
        assert!(err.absent, "no session: no keyring to hold a secret");
        let locked = Keyring::with_store(
            || Err(keyring_core::Error::NoStorageAccess("Collection is locked".into())),
            Duration::from_secs(1),
        );
        assert!(
            !locked.delete("default").unwrap_err().absent,
            "a locked keyring may hold one"
        );
    }
}

#[cfg(test)]
mod plain_words {
    use super::plain_cause;

    #[test]
    fn raw_dbus_text_becomes_a_sentence() {
        let raw = "zbus error: Failed to connect to address `unix:path=/run/user/0/bus`: No such file or directory (os error 2)";
        assert_eq!(plain_cause(raw), "there is no D-Bus session to reach it on");
        let raw = "org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.secrets was not provided by any .service files";
        assert_eq!(
            plain_cause(raw),
            "no Secret Service (gnome-keyring, KWallet) is running"
        );
        assert_eq!(
            plain_cause("Collection is locked"),
            "the keyring is locked and was not unlocked"
        );
        assert_eq!(plain_cause("zbus error: something\nnew"), "something new");
    }
}
