//! `-r`: the images of a directory tree.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::InputError;
use super::list::{DirId, Inputs, Skipped};
use super::{ANY_TYPE, Input, Options, RemoteName, Source, bad_name, check_name, io_error, name_from_path, read_head};
use crate::media_type;

/// Adds the image files under `top`, depth first in sorted order. Hidden
/// entries and files that are not images are passed over; directory links
/// are not followed, so a link cycle cannot loop.
///
/// Each file is added as its directory lists it, then the files found are
/// put in order at once: nothing holds a directory's listing, so a
/// directory of 100,000 images costs its inputs and no more. On a problem,
/// the one a sorted walk would have met first is returned, whatever order
/// the directories listed their entries in.
pub(super) fn walk(top: &Path, options: &Options, inputs: &mut Inputs) -> Result<(), InputError> {
    let start = inputs.len();
    let mut walk = Walk {
        top,
        options,
        inputs,
        first_error: None,
    };
    walk.dir(top);
    if let Some((_, err)) = walk.first_error {
        return Err(err);
    }
    inputs.sort_walked(start);
    Ok(())
}

struct Walk<'a> {
    top: &'a Path,
    options: &'a Options,
    inputs: &'a mut Inputs,
    /// The problem with the first path in walk order, and that path.
    first_error: Option<(PathBuf, InputError)>,
}

impl Walk<'_> {
    fn fail(&mut self, path: &Path, err: InputError) {
        if self
            .first_error
            .as_ref()
            .is_none_or(|(first, _)| path < first.as_path())
        {
            self.first_error = Some((path.to_path_buf(), err));
        }
    }

    fn dir(&mut self, dir: &Path) {
        let label = crate::output::quote_path(&dir.to_string_lossy());
        let listing = match fs::read_dir(dir) {
            Ok(listing) => listing,
            Err(err) => return self.fail(dir, io_error(&label, err)),
        };
        // Added to the list with the first file named after itself.
        let mut id: Option<DirId> = None;
        let mut subdirs = Vec::new();
        for entry in listing {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => return self.fail(dir, io_error(&label, err)),
            };
            let file_name = entry.file_name();
            let path = dir.join(&file_name);
            if file_name.as_encoded_bytes().starts_with(b".") {
                self.inputs.skipped.add(&path, Skipped::HIDDEN);
                continue;
            }
            let added = match entry.file_type() {
                Ok(file_type) if file_type.is_dir() => {
                    subdirs.push(path);
                    continue;
                }
                Ok(_) => self.file(dir, &path, &mut id),
                Err(err) => Err(io_error(&crate::output::quote_path(&path.to_string_lossy()), err)),
            };
            if let Err(err) = added {
                self.fail(&path, err);
            }
        }
        for subdir in subdirs {
            self.dir(&subdir);
        }
    }

    /// Adds the file at `path` (in `dir`, known to the list as `id` once a
    /// file of it was added) if it is an image.
    fn file(&mut self, dir: &Path, path: &Path, id: &mut Option<DirId>) -> Result<(), InputError> {
        let label = || crate::output::quote_path(&path.to_string_lossy());
        let meta = fs::metadata(path).map_err(|e| io_error(&label(), e))?;
        if !meta.is_file() {
            self.inputs.skipped.add(path, Skipped::SPECIAL);
            return Ok(());
        }
        if meta.len() == 0 {
            self.inputs.skipped.add(path, Skipped::EMPTY);
            return Ok(());
        }
        let head = read_head(path).map_err(|e| io_error(&label(), e))?;
        let mime = match (media_type::sniff(&head), self.options.allow_any_type) {
            (Some(mime), _) => mime,
            (None, true) => ANY_TYPE,
            (None, false) => {
                self.inputs.skipped.add(path, Skipped::NOT_IMAGE);
                return Ok(());
            }
        };
        let file_name = path.file_name().unwrap_or_default();
        // Named after its file (UTF-8), an input keeps only its name and a
        // shared directory; otherwise its path.
        let name = match (self.options.name_from_path, file_name.to_str()) {
            (false, Some(name)) => {
                check_name(name).map_err(|source| bad_name(&label(), source))?;
                let id = match *id {
                    Some(id) => id,
                    None => *id.insert(self.inputs.add_dir(Arc::from(dir))?),
                };
                return self.inputs.push_in_dir(name, id, meta.len(), mime);
            }
            (true, _) => name_from_path(path.strip_prefix(self.top).unwrap_or(path)),
            (false, None) => file_name.to_string_lossy().into_owned(),
        };
        let remote = RemoteName::parse_owned(name).map_err(|source| bad_name(&label(), source))?;
        self.inputs.push(Input {
            remote,
            source: Source::File(path.into()),
            size: meta.len(),
            mime,
        })
    }
}
