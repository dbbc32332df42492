//! `credentials.toml`: secrets in a plain file, for `login --insecure-storage`
//! on machines with no keyring. It sits beside `config.toml` and mirrors it:
//!
//! ```toml
//! [profiles.default]
//! password_md5 = "2f23fa3579f3f75175793649115c1b25"
//! origin = "https://eu.api.capillarytech.com"
//! identity = "till"
//!
//! [profiles.ci]
//! client_secret = "..."
//! origin = "https://eu.api.capillarytech.com"
//! identity = "ci-client-key"
//! ```
//!
//! `origin` and `identity` are what the secret was saved for (see
//! `credentials`); a table without them was written by capfile 0.1.0, and is
//! read as bound to its profile in `config.toml`.
//!
//! It is always written with mode 0600 (atomically, through `config_file`), and
//! reading one that group or others can open warns, once per run. Errors name
//! the file, line and column, but never quote it: its lines are secrets.

use std::cell::Cell;
use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item};

use super::{Binding, SavedSecret, Secret, SecretKind, SecretSource, SecretStore, StoreError};
use crate::config_file::{self, FileError, TomlFile};

/// `credentials.toml` as a `SecretStore`.
pub(crate) struct CredentialsFile {
    path: PathBuf,
    warn: Box<dyn Fn(&str)>,
    warned: Cell<bool>,
}

const KINDS: [SecretKind; 2] = [SecretKind::PasswordMd5, SecretKind::ClientSecret];
/// The keys that bind a profile's secret to where it may be sent.
const ORIGIN: &str = "origin";
const IDENTITY: &str = "identity";

impl CredentialsFile {
    /// `warn` receives the warning about a file others can read.
    pub(crate) fn new(path: &Path, warn: impl Fn(&str) + 'static) -> CredentialsFile {
        CredentialsFile {
            path: path.to_path_buf(),
            warn: Box::new(warn),
            warned: Cell::new(false),
        }
    }

    #[cfg(test)]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Reads and checks the file; `None` when there is none.
    fn read(&self) -> Result<Option<(TomlFile, DocumentMut)>, StoreError> {
        let file = TomlFile::read(&self.path).map_err(|e| StoreError::malformed(e.to_string()))?;
        if !file.exists() {
            return Ok(None);
        }
        self.check_mode();
        let doc = file.document().map_err(|e| StoreError::malformed(e.to_string()))?;
        check_layout(&file, &doc).map_err(|e| StoreError::malformed(e.to_string()))?;
        let editable = file.document_mut().map_err(|e| StoreError::malformed(e.to_string()))?;
        Ok(Some((file, editable)))
    }

    fn check_mode(&self) {
        #[cfg(not(unix))]
        let _ = (&self.warn, &self.warned);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let Ok(meta) = std::fs::metadata(&self.path) else {
                return;
            };
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 && !self.warned.replace(true) {
                let path = self.path.display();
                (self.warn)(&format!(
                    "{path} holds secrets but other users can read it (mode {mode:04o}); run `chmod 600 {path}`"
                ));
            }
        }
    }

    fn write(&self, file: &TomlFile, doc: &DocumentMut) -> Result<(), StoreError> {
        file.write(doc, true).map_err(|e| StoreError::new(e.to_string()))
    }
}

/// Only `[profiles.NAME]` tables holding `password_md5` or `client_secret`
/// strings, and `origin` and `identity` strings (both or neither); a
/// 32-hex-digit `password_md5`, an http(s) `origin`.
fn check_layout(file: &TomlFile, doc: &toml_edit::Document<String>) -> Result<(), FileError> {
    let at = |span, message: &str| file.error_at(span, message);
    for (name, item) in doc.as_table().iter() {
        let key_span = doc.as_table().get_key_value(name).and_then(|(k, _)| k.span());
        if name != "profiles" {
            return Err(at(
                key_span,
                &format!("unknown table `{name}`; expected [profiles.NAME] tables"),
            ));
        }
        let Some(profiles) = item.as_table_like() else {
            return Err(at(item.span(), "`profiles` must be a table"));
        };
        for (profile, item) in profiles.iter() {
            let Some(secrets) = item.as_table_like() else {
                return Err(at(item.span(), &format!("profiles.{profile} must be a table")));
            };
            for (key, item) in secrets.iter() {
                let key_span = secrets.get_key_value(key).and_then(|(k, _)| k.span());
                let kind = KINDS.into_iter().find(|k| k.name() == key);
                if kind.is_none() && key != ORIGIN && key != IDENTITY {
                    return Err(at(
                        key_span,
                        &format!("unknown key `{key}`; expected password_md5 or client_secret, origin and identity"),
                    ));
                }
                let Some(value) = item.as_str() else {
                    return Err(at(item.span().or(key_span), &format!("{key} must be a string")));
                };
                if kind == Some(SecretKind::PasswordMd5) && !super::is_md5_hex(value) {
                    return Err(at(item.span(), "password_md5 must be 32 hexadecimal digits"));
                }
                if key == ORIGIN && super::parse_origin(value).is_none() {
                    return Err(at(item.span(), "origin must be an http(s) origin such as https://host"));
                }
            }
            if secrets.contains_key(ORIGIN) != secrets.contains_key(IDENTITY) {
                return Err(at(
                    item.span(),
                    &format!("profiles.{profile} must have both origin and identity, or neither"),
                ));
            }
        }
    }
    Ok(())
}

fn profile_secret(doc: &DocumentMut, profile: &str, kind: SecretKind) -> Option<SavedSecret> {
    let table = doc.get("profiles")?.get(profile)?;
    let secret = Secret::new(table.get(kind.name())?.as_str()?);
    let text = |key| table.get(key).and_then(Item::as_str);
    Some(match (text(ORIGIN), text(IDENTITY)) {
        (Some(origin), Some(identity)) => SavedSecret::bound(
            secret,
            Binding {
                origin: origin.to_string(),
                identity: identity.to_string(),
            },
        ),
        // Written by capfile 0.1.0, which named the kind but no binding.
        _ => SavedSecret::unbound(secret, true),
    })
}

impl SecretStore for CredentialsFile {
    fn source(&self) -> SecretSource {
        SecretSource::File(self.path.clone())
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    fn get(&self, profile: &str, kind: SecretKind) -> Result<Option<SavedSecret>, StoreError> {
        Ok(self.read()?.and_then(|(_, doc)| profile_secret(&doc, profile, kind)))
    }

    fn set(&self, profile: &str, kind: SecretKind, secret: &Secret, binding: &Binding) -> Result<(), StoreError> {
        let (file, mut doc) = match self.read()? {
            Some(read) => read,
            None => (
                TomlFile::read(&self.path).map_err(|e| StoreError::new(e.to_string()))?,
                DocumentMut::new(),
            ),
        };
        let table = config_file::profile_table_mut(&mut doc, profile)
            .map_err(|e| StoreError::malformed(format!("{}: {e}", self.path.display())))?;
        for other in KINDS.into_iter().filter(|k| *k != kind) {
            table.remove(other.name());
        }
        config_file::set_value(table, kind.name(), secret.expose().into());
        config_file::set_value(table, ORIGIN, binding.origin.as_str().into());
        config_file::set_value(table, IDENTITY, binding.identity.as_str().into());
        self.write(&file, &doc)
    }

    fn delete(&self, profile: &str) -> Result<bool, StoreError> {
        let Some((file, mut doc)) = self.read()? else {
            return Ok(false);
        };
        let had = KINDS
            .into_iter()
            .any(|kind| profile_secret(&doc, profile, kind).is_some());
        let removed = doc
            .get_mut("profiles")
            .and_then(Item::as_table_like_mut)
            .and_then(|profiles| profiles.remove(profile))
            .is_some();
        if removed {
            self.write(&file, &doc)?;
        }
        Ok(had)
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::*;

    const MD5: &str = "2f23fa3579f3f75175793649115c1b25";

    fn store(dir: &Path) -> (CredentialsFile, Rc<std::cell::RefCell<Vec<String>>>) {
        let warnings = Rc::new(std::cell::RefCell::new(Vec::new()));
        let sink = warnings.clone();
        let file = CredentialsFile::new(&dir.join("credentials.toml"), move |w| {
            sink.borrow_mut().push(w.to_string())
        });
        (file, warnings)
    }

    fn binding(identity: &str) -> Binding {
        Binding {
            origin: "https://eu.api.capillarytech.com".into(),
            identity: identity.into(),
        }
    }

    fn secret_of(file: &CredentialsFile, profile: &str, kind: SecretKind) -> Option<Secret> {
        file.get(profile, kind).unwrap().map(|saved| saved.secret)
    }

    #[test]
    fn set_get_delete_per_profile_and_kind() {
        let dir = tempfile::tempdir().unwrap();
        let (file, warnings) = store(dir.path());
        assert_eq!(file.get("default", SecretKind::PasswordMd5), Ok(None));
        assert_eq!(file.delete("default"), Ok(false));
        file.set("default", SecretKind::PasswordMd5, &Secret::new(MD5), &binding("till"))
            .unwrap();
        file.set("ci", SecretKind::ClientSecret, &Secret::new("s3cret"), &binding("key"))
            .unwrap();
        assert_eq!(
            file.get("default", SecretKind::PasswordMd5).unwrap(),
            Some(SavedSecret::bound(Secret::new(MD5), binding("till")))
        );
        assert_eq!(file.get("default", SecretKind::ClientSecret).unwrap(), None);
        assert_eq!(
            secret_of(&file, "ci", SecretKind::ClientSecret),
            Some(Secret::new("s3cret"))
        );
        // Switching a profile to OAuth drops its password.
        file.set("default", SecretKind::ClientSecret, &Secret::new("x"), &binding("key"))
            .unwrap();
        assert_eq!(file.get("default", SecretKind::PasswordMd5).unwrap(), None);
        assert_eq!(file.delete("default"), Ok(true));
        assert_eq!(file.get("default", SecretKind::ClientSecret).unwrap(), None);
        assert_eq!(
            secret_of(&file, "ci", SecretKind::ClientSecret),
            Some(Secret::new("s3cret"))
        );
        assert!(warnings.borrow().is_empty());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(file.path()).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[test]
    fn a_0_1_0_file_is_read_and_rewritten_with_its_binding() {
        let dir = tempfile::tempdir().unwrap();
        let (file, _) = store(dir.path());
        std::fs::write(file.path(), format!("[profiles.default]\npassword_md5 = \"{MD5}\"\n")).unwrap();
        assert_eq!(
            file.get("default", SecretKind::PasswordMd5).unwrap(),
            Some(SavedSecret::unbound(Secret::new(MD5), true))
        );
        assert_eq!(file.get("default", SecretKind::ClientSecret).unwrap(), None);
        file.set("default", SecretKind::PasswordMd5, &Secret::new(MD5), &binding("till"))
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(file.path()).unwrap(),
            format!(
                "[profiles.default]\npassword_md5 = \"{MD5}\"\norigin = \"https://eu.api.capillarytech.com\"\nidentity = \"till\"\n"
            )
        );
    }

    #[test]
    fn a_binding_must_be_whole_and_name_an_origin() {
        let dir = tempfile::tempdir().unwrap();
        let (file, _) = store(dir.path());
        for (text, expected) in [
            (
                "origin = \"https://a.example.com\"\n",
                "credentials.toml:1:1: profiles.default must have both origin and identity",
            ),
            (
                "origin = \"ftp://a\"\nidentity = \"till\"\n",
                "credentials.toml:3:10: origin must be an http(s) origin",
            ),
            ("token = \"x\"\n", "credentials.toml:3:1: unknown key `token`"),
        ] {
            std::fs::write(
                file.path(),
                format!("[profiles.default]\npassword_md5 = \"{MD5}\"\n{text}"),
            )
            .unwrap();
            let err = file.get("default", SecretKind::PasswordMd5).unwrap_err();
            assert!(err.malformed);
            assert!(err.message.contains(expected), "{text}: {}", err.message);
            assert!(!err.message.contains(MD5));
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_file_others_can_read_warns_once_and_is_made_private_on_write() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (file, warnings) = store(dir.path());
        std::fs::write(file.path(), format!("[profiles.default]\npassword_md5 = \"{MD5}\"\n")).unwrap();
        std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
        file.get("default", SecretKind::PasswordMd5).unwrap();
        file.get("default", SecretKind::PasswordMd5).unwrap();
        assert_eq!(warnings.borrow().len(), 1);
        assert!(warnings.borrow()[0].contains("mode 0644"), "{:?}", warnings.borrow());
        file.set("other", SecretKind::ClientSecret, &Secret::new("s"), &binding("key"))
            .unwrap();
        let mode = std::fs::metadata(file.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn malformed_files_name_the_place_but_never_quote_it() {
        let dir = tempfile::tempdir().unwrap();
        let (file, _) = store(dir.path());
        std::fs::write(file.path(), "[profiles.default]\npassword_md5 = \"hunter2\"\n").unwrap();
        let err = file.get("default", SecretKind::PasswordMd5).unwrap_err();
        assert!(err.malformed);
        assert!(
            err.message.contains("credentials.toml:2:16: password_md5 must be 32"),
            "{}",
            err.message
        );
        assert!(!err.message.contains("hunter2"));
        std::fs::write(file.path(), "[profiles.default]\nclient_secret = hunter2\n").unwrap();
        let err = file.get("default", SecretKind::ClientSecret).unwrap_err();
        assert!(
            err.message.contains("credentials.toml:2:17: invalid TOML"),
            "{}",
            err.message
        );
        assert!(!err.message.contains("hunter2"), "{}", err.message);
    }
}
