//! How `upload --local` finds the emulator of a data directory.
//!
//! An emulator holds its data directory's lock while it runs, so at most one
//! serves a directory. Once it listens it announces itself there, in
//! `serve.json`: its base URL and an instance id chosen at start; it answers
//! `GET /.well-known/capfile-emulator` with the same id; it removes the file
//! when it stops. A client that finds the file asks that address for the id:
//! only a match proves that the listener is this directory's emulator, and not
//! a program that took the port after an emulator died. Nothing here reads
//! the client's code: the client calls these.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Where an emulator answers who it is.
pub(crate) const IDENTITY_PATH: &str = "/.well-known/capfile-emulator";

/// What the identity route answers in `service`.
pub(crate) const SERVICE_NAME: &str = "capfile-emulator";

/// The announcement's file name in the data directory.
const FILE: &str = "serve.json";

/// The largest announcement read (it is a URL and an id).
const MAX_BYTES: u64 = 4096;

/// What a running emulator announces in its data directory, and answers on
/// [`IDENTITY_PATH`] (with `service`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Announcement {
    /// The base URL it serves, `http://ADDR`.
    pub url: String,
    /// Chosen at start; the identity route answers it.
    pub instance: String,
}

/// The identity route's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Identity {
    pub service: String,
    pub instance: String,
}

fn path_in(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

/// Writes the announcement (atomically, private to its owner).
pub(crate) fn announce(dir: &Path, announcement: &Announcement) -> io::Result<()> {
    let text = serde_json::to_string(announcement).map_err(io::Error::other)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    io::Write::write_all(&mut tmp, text.as_bytes())?;
    tmp.persist(path_in(dir)).map_err(|err| err.error)?;
    Ok(())
}

/// Removes the announcement when it is still this instance's.
pub(crate) fn withdraw(dir: &Path, instance: &str) {
    if announced(dir).is_some_and(|a| a.instance == instance) {
        let _ = std::fs::remove_file(path_in(dir));
    }
}

/// The announcement in `dir`, if there is a readable one. Only a regular
/// file is read, at most [`MAX_BYTES`] of it.
pub(crate) fn announced(dir: &Path) -> Option<Announcement> {
    let path = path_in(dir);
    if !std::fs::symlink_metadata(&path).ok()?.is_file() {
        return None;
    }
    let mut text = Vec::new();
    std::fs::File::open(&path)
        .ok()?
        .take(MAX_BYTES)
        .read_to_end(&mut text)
        .ok()?;
    serde_json::from_slice(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_announcement_round_trips_and_is_withdrawn_only_by_its_instance() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(announced(dir.path()), None);
        let a = Announcement {
            url: "http://127.0.0.1:4242".into(),
            instance: "one".into(),
        };
        announce(dir.path(), &a).unwrap();
        assert_eq!(announced(dir.path()), Some(a.clone()));
        withdraw(dir.path(), "another");
        assert_eq!(announced(dir.path()), Some(a));
        withdraw(dir.path(), "one");
        assert_eq!(announced(dir.path()), None);
    }

    #[test]
    fn a_file_that_is_not_an_announcement_is_none() {
        let dir = tempfile::tempdir().unwrap();
        for text in ["", "{", "{\"url\":1}", "null"] {
            std::fs::write(path_in(dir.path()), text).unwrap();
            assert_eq!(announced(dir.path()), None, "{text}");
        }
        std::fs::remove_file(path_in(dir.path())).unwrap();
        std::fs::create_dir(path_in(dir.path())).unwrap();
        assert_eq!(announced(dir.path()), None);
    }
}
