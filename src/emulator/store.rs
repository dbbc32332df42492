//! Versioned, atomic storage of uploaded files in the emulator's data directory.
//!
//! Layout (every name on disk is chosen here, never taken from a client):
//!
//! ```text
//! secret.key             master key (see signing.rs)
//! tmp/                   bodies being received, metadata being written
//! objects/{uuid}         one stored version's bytes
//! objects/{uuid}.json    its metadata (name, namespace, version, type, size, ...)
//! names/{sha256}.json    latest version of one (namespace, name); the hash is
//!                        of namespace NUL name, so any remote name is safe
//!
//! lock                   held by the one emulator that writes here (see mod.rs)
//! ```
//!
//! A body is first spooled to a temporary file in `tmp/` (deleted if the
//! upload fails or is dropped part-way); only a complete body is published,
//! by renames within one file system, so a reader never sees half a file and
//! a failed upload leaves nothing. The version is assigned at publish time
//! under a per-name lock, so concurrent uploads of one name get distinct,
//! consecutive versions, and the counter lives on disk so it survives restarts.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tempfile::TempPath;
use uuid::Uuid;

/// The organisation id the emulator puts into `s3_token`, where Capillary puts
/// the caller's org.
pub(crate) const ORG_ID: &str = "100000";

/// Content type of a placeholder (an upload without bytes).
pub(crate) const PLACEHOLDER_TYPE: &str = "application/octet-stream";

/// What the emulator knows about one stored version.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ObjectMeta {
    pub(crate) namespace: String,
    pub(crate) name: String,
    pub(crate) version: u64,
    pub(crate) content_type: String,
    pub(crate) size: u64,
    pub(crate) file_handle: String,
    pub(crate) s3_token: String,
    pub(crate) last_modified: String,
}

/// The per-name record of the latest version.
#[derive(Serialize, Deserialize)]
struct NameIndex {
    namespace: String,
    name: String,
    latest_version: u64,
}

/// A fully received body, ready to be published.
pub(crate) struct Upload {
    pub(crate) namespace: String,
    pub(crate) name: String,
    pub(crate) content_type: String,
    pub(crate) size: u64,
    /// The spooled body; deleted on drop unless published.
    pub(crate) body: TempPath,
}

pub(crate) struct Store {
    tmp: PathBuf,
    objects: PathBuf,
    names: PathBuf,
    /// One lock per name key. Entries are never removed: the map grows with
    /// the number of distinct names uploaded in one run, which for an
    /// emulator is small.
    locks: Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

impl Store {
    /// Opens (creating if needed) the store in `data_dir`, and clears
    /// temporary files left by a run that was killed. The caller holds the
    /// data directory's lock, so no other emulator is receiving into `tmp/`.
    pub(crate) fn open(data_dir: &Path) -> io::Result<Store> {
        let store = Store {
            tmp: data_dir.join("tmp"),
            objects: data_dir.join("objects"),
            names: data_dir.join("names"),
            locks: Mutex::new(HashMap::new()),
        };
        for dir in [&store.tmp, &store.objects, &store.names] {
            // 0700 explicitly: under umask 000 `create_dir_all` gives 0777.
            super::create_private_dir_all(dir)?;
            // Folders made so by an earlier version are made private too.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
            }
        }
        store.remove_leftover_temps();
        Ok(store)
    }

    fn remove_leftover_temps(&self) {
        let Ok(entries) = std::fs::read_dir(&self.tmp) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                let _ = std::fs::remove_dir_all(path);
            } else {
                let _ = std::fs::remove_file(path);
            }
        }
    }

    /// A new temporary file to spool a body into. It is deleted when the
    /// returned path is dropped, which is what happens to an upload that fails
    /// or whose handler is dropped with its connection.
    pub(crate) fn spool_file(&self) -> io::Result<(std::fs::File, TempPath)> {
        Ok(tempfile::Builder::new()
            .prefix("upload-")
            .tempfile_in(&self.tmp)?
            .into_parts())
    }

    /// Publishes a received body as the next version of its name. Blocking:
    /// run it off the async threads.
    pub(crate) fn publish(&self, upload: Upload, last_modified: String) -> io::Result<ObjectMeta> {
        let key = name_key(&upload.namespace, &upload.name);
        let lock = self.lock_for(&key);
        let _guard = lock.lock().unwrap_or_else(PoisonError::into_inner);

        let index_path = self.names.join(format!("{key}.json"));
        let latest = match std::fs::read(&index_path) {
            Ok(json) => {
                serde_json::from_slice::<NameIndex>(&json)
                    .map_err(|err| {
                        io::Error::new(io::ErrorKind::InvalidData, format!("{}: {err}", index_path.display()))
                    })?
                    .latest_version
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => 0,
            Err(err) => return Err(err),
        };
        let version = latest + 1;

        let object_id = Uuid::new_v4();
        let ext = extension(&upload.name, &upload.content_type);
        let meta = ObjectMeta {
            s3_token: format!("{}/{ORG_ID}/{object_id}.{ext}", upload.namespace),
            namespace: upload.namespace,
            name: upload.name,
            version,
            content_type: upload.content_type,
            size: upload.size,
            file_handle: Uuid::new_v4().to_string(),
            last_modified,
        };
        let meta_path = self.objects.join(format!("{object_id}.json"));
        let blob_path = self.objects.join(object_id.to_string());

        // Order matters: the object (metadata, then bytes) exists before the
        // name index points past it, so a crash in between leaves at worst an
        // unreferenced object, never a version without its bytes.
        self.write_atomically(&meta_path, &serde_json::to_vec_pretty(&meta)?)?;
        if let Err(err) = upload.body.persist(&blob_path) {
            let _ = std::fs::remove_file(&meta_path);
            return Err(err.error);
        }
        let index = NameIndex {
            namespace: meta.namespace.clone(),
            name: meta.name.clone(),
            latest_version: version,
        };
        if let Err(err) = self.write_atomically(&index_path, &serde_json::to_vec_pretty(&index)?) {
            let _ = std::fs::remove_file(&blob_path);
            let _ = std::fs::remove_file(&meta_path);
            return Err(err);
        }
        Ok(meta)
    }

    fn lock_for(&self, key: &str) -> Arc<Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(locks.entry(key.to_owned()).or_default())
    }

    fn write_atomically(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let mut tmp = tempfile::Builder::new().prefix("meta-").tempfile_in(&self.tmp)?;
        tmp.write_all(bytes)?;
        tmp.as_file().sync_all()?;
        tmp.persist(path).map_err(|err| err.error)?;
        Ok(())
    }

    /// The metadata and blob path of the object an `s3_token` names, or
    /// `None` when there is no such object.
    pub(crate) async fn lookup(&self, s3_token: &str) -> io::Result<Option<(ObjectMeta, PathBuf)>> {
        // Only the last segment locates the object, and only once it parses as
        // a UUID, so no part of the client's path reaches the file system.
        let file = s3_token.rsplit('/').next().unwrap_or_default();
        let stem = file.split_once('.').map_or(file, |(stem, _)| stem);
        let Ok(object_id) = Uuid::parse_str(stem) else {
            return Ok(None);
        };
        let meta_path = self.objects.join(format!("{object_id}.json"));
        let json = match tokio::fs::read(&meta_path).await {
            Ok(json) => json,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err),
        };
        let meta: ObjectMeta = serde_json::from_slice(&json)?;
        if meta.s3_token != s3_token {
            return Ok(None);
        }
        Ok(Some((meta, self.objects.join(object_id.to_string()))))
    }
}

/// File-name-safe key of one (namespace, name).
fn name_key(namespace: &str, name: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(namespace.as_bytes());
    hash.update([0]);
    hash.update(name.as_bytes());
    hex::encode(hash.finalize())
}

/// The extension used in `s3_token`: the name's own when it is a plain one,
/// else one implied by the content type, else `bin`.
fn extension(name: &str, content_type: &str) -> String {
    let plain = name
        .rsplit_once('.')
        .map(|(_, ext)| ext)
        .filter(|ext| !ext.is_empty() && ext.len() <= 16)
        .filter(|ext| ext.bytes().all(|b| b.is_ascii_alphanumeric()));
    if let Some(ext) = plain {
        return ext.to_ascii_lowercase();
    }
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/bmp" => "bmp",
        "image/tiff" => "tiff",
        "image/x-icon" | "image/vnd.microsoft.icon" => "ico",
        "image/avif" => "avif",
        "image/heic" => "heic",
        "image/svg+xml" => "svg",
        _ => "bin",
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_prefers_a_plain_name_extension() {
        assert_eq!(extension("a.PNG", "image/jpeg"), "png");
        assert_eq!(extension("noext", "image/jpeg; q=1"), "jpg");
        assert_eq!(extension("weird.p n g", "text/plain"), "bin");
        assert_eq!(extension("trailing.", "image/svg+xml"), "svg");
    }

    #[test]
    fn name_keys_separate_namespace_from_name() {
        assert_ne!(name_key("ab", "c"), name_key("a", "bc"));
        assert_eq!(name_key("a", "b").len(), 64);
    }
}
