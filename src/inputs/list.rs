//! The checked inputs of a batch, held compactly.
//!
//! Every input is checked before the first is sent, so a batch holds all of
//! them at once. A file found by `-r` under its own name is held as 16 bytes
//! plus its name in one shared buffer: its size, where its name starts in the
//! buffer (a remote name holds no control character, so a NUL ends it), and
//! a tag with its media type (an index) and its directory (an index into the
//! directories walked). Any other input (a named file, standard input, a
//! placeholder, a file named after its path) also keeps its [`Source`]. An
//! [`Input`] is made whole only when it is used, one at a time.

use std::cmp::Ordering;
use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use super::InputError;
use super::{Input, RemoteName, Source};

/// An entry's tag: this bit set for an index into `others`, clear for one
/// into `dirs`; then the media type's index; then the index.
const OTHER: u32 = 1 << 31;
const MIME_SHIFT: u32 = 27;
const MIMES: usize = 1 << (31 - MIME_SHIFT);
const INDEX: u32 = (1 << MIME_SHIFT) - 1;

/// One input as the list holds it.
#[derive(Clone, Copy, Debug)]
struct Entry {
    size: u64,
    name_start: u32,
    tag: u32,
}

impl Entry {
    /// Where its bytes come from: `Ok` a directory's index, `Err` an
    /// other source's.
    fn source(&self) -> Result<usize, usize> {
        let index = (self.tag & INDEX) as usize;
        if self.tag & OTHER == 0 { Ok(index) } else { Err(index) }
    }

    fn mime(&self) -> usize {
        ((self.tag & !OTHER) >> MIME_SHIFT) as usize
    }
}

/// A directory of the list, for [`Inputs::push_in_dir`].
#[derive(Clone, Copy, Debug)]
pub(super) struct DirId(u32);

/// Checked inputs in batch order.
#[derive(Debug, Default)]
pub(crate) struct Inputs {
    /// Every input's remote name, one after another, each ended by a NUL.
    names: String,
    entries: Vec<Entry>,
    /// The directories whose files are named after themselves.
    dirs: Vec<Arc<Path>>,
    /// The sources of every other input.
    others: Vec<Source>,
    /// The media types in use (a handful).
    mimes: Vec<&'static str>,
    /// What `-r` passed over, and why.
    pub skipped: Skipped,
}

/// The files `-r` passed over, counted by why, and the first of them by
/// path (for `-v`; a bounded list, so a tree of non-images costs nothing).
#[derive(Debug, Default)]
pub(crate) struct Skipped {
    pub hidden: u64,
    pub empty: u64,
    pub not_image: u64,
    pub special: u64,
    pub first: Vec<(PathBuf, &'static str)>,
}

impl Skipped {
    /// How many paths are listed at most.
    pub(crate) const LISTED: usize = 1000;

    pub(crate) fn total(&self) -> u64 {
        self.hidden + self.empty + self.not_image + self.special
    }

    /// Counts `path`, passed over because `why` (one of the [`Skipped`] reasons).
    pub(crate) fn add(&mut self, path: &Path, why: &'static str) {
        match why {
            Self::HIDDEN => self.hidden += 1,
            Self::EMPTY => self.empty += 1,
            Self::NOT_IMAGE => self.not_image += 1,
            _ => self.special += 1,
        }
        if self.first.len() < Self::LISTED {
            self.first.push((path.to_path_buf(), why));
        }
    }

    pub(crate) const HIDDEN: &str = "hidden";
    pub(crate) const EMPTY: &str = "empty";
    pub(crate) const NOT_IMAGE: &str = "not an image";
    pub(crate) const SPECIAL: &str = "not a regular file";

    /// "5 files skipped: 2 hidden, 1 empty, 2 not images", or `None`.
    pub(crate) fn summary(&self) -> Option<String> {
        let total = usize::try_from(self.total()).unwrap_or(usize::MAX);
        if total == 0 {
            return None;
        }
        let parts: Vec<String> = [
            (self.hidden, "hidden", "hidden"),
            (self.empty, "empty", "empty"),
            (self.not_image, "not an image", "not images"),
            (self.special, "not a regular file", "not regular files"),
        ]
        .into_iter()
        .filter(|(n, ..)| *n > 0)
        .map(|(n, one, many)| format!("{n} {}", if n == 1 { one } else { many }))
        .collect();
        Some(format!(
            "-r skipped {}: {}",
            crate::output::count(total, "file", "files"),
            parts.join(", ")
        ))
    }
}

impl Inputs {
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The input at `index`, made whole.
    pub(crate) fn get(&self, index: usize) -> Option<Input> {
        let entry = self.entries.get(index)?;
        let source = match entry.source() {
            Ok(dir) => Source::InDir(self.dirs[dir].clone()),
            Err(other) => self.others[other].clone(),
        };
        Some(Input {
            remote: RemoteName(self.name(entry).into()),
            source,
            size: entry.size,
            mime: self.mimes[entry.mime()],
        })
    }

    /// Every input in order, each made whole in turn.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Input> + '_ {
        (0..self.len()).filter_map(|index| self.get(index))
    }

    /// The bytes of every input together.
    pub(crate) fn total_bytes(&self) -> u64 {
        self.entries.iter().map(|entry| entry.size).sum()
    }

    /// Adds a checked input.
    pub(super) fn push(&mut self, input: Input) -> Result<(), InputError> {
        let source = match input.source {
            // Files of one directory share it.
            Source::InDir(dir) => match self.dirs.last() {
                Some(last) if Arc::ptr_eq(last, &dir) => index_below(self.dirs.len() - 1, INDEX)?,
                _ => self.add_dir(dir)?.0,
            },
            other => {
                let index = index_below(self.others.len(), INDEX)?;
                self.others.push(other);
                index | OTHER
            }
        };
        self.push_entry(input.remote.as_str(), source, input.size, input.mime)
    }

    /// A directory whose files are then added under their own (checked)
    /// names with [`Inputs::push_in_dir`].
    pub(super) fn add_dir(&mut self, dir: Arc<Path>) -> Result<DirId, InputError> {
        let index = index_below(self.dirs.len(), INDEX)?;
        self.dirs.push(dir);
        Ok(DirId(index))
    }

    /// Adds the file `name` (a checked remote name) of a directory.
    pub(super) fn push_in_dir(
        &mut self,
        name: &str,
        dir: DirId,
        size: u64,
        mime: &'static str,
    ) -> Result<(), InputError> {
        self.push_entry(name, dir.0, size, mime)
    }

    fn push_entry(&mut self, name: &str, source: u32, size: u64, mime: &'static str) -> Result<(), InputError> {
        debug_assert!(!name.contains('\0'), "a remote name holds no control character");
        let name_start = index_below(self.names.len(), u32::MAX)?;
        index_below(name.len() + 1, u32::MAX - name_start)?;
        let mime = match self.mimes.iter().position(|m| *m == mime) {
            Some(index) => index,
            None if self.mimes.len() < MIMES => {
                self.mimes.push(mime);
                self.mimes.len() - 1
            }
            None => return Err(InputError::TooManyInputs),
        };
        self.names.push_str(name);
        self.names.push('\0');
        self.entries.push(Entry {
            size,
            name_start,
            // Below MIMES and INDEX: checked above and by the callers.
            tag: source | (mime as u32) << MIME_SHIFT,
        });
        Ok(())
    }

    /// Adds every input of `other` after these.
    pub(crate) fn append(&mut self, other: Inputs) -> Result<(), InputError> {
        for index in 0..other.len() {
            if let Some(input) = other.get(index) {
                self.push(input)?;
            }
        }
        Ok(())
    }

    /// Puts the inputs from `start` on in the order of a walk of their
    /// directories: depth first, each directory's entries by name (which is
    /// their paths' order, component by component).
    pub(super) fn sort_walked(&mut self, start: usize) {
        let Inputs {
            names,
            entries,
            dirs,
            others,
            ..
        } = self;
        let view = View { names, dirs, others };
        entries[start..].sort_unstable_by(|a, b| view.walk_order(a, b));
    }

    /// The inputs whose remote name an earlier input already has, in input
    /// order, each with the first input of that name.
    pub(super) fn duplicates(&self) -> Vec<(usize, usize)> {
        // Indexes fit in u32: every input has a name of at least a byte.
        let mut order: Vec<u32> = (0..self.entries.len()).filter_map(|i| u32::try_from(i).ok()).collect();
        let name = |index: u32| self.name(&self.entries[index as usize]);
        order.sort_unstable_by(|&a, &b| name(a).cmp(name(b)).then(a.cmp(&b)));
        let mut pairs: Vec<(usize, usize)> = order
            .chunk_by(|&a, &b| name(a) == name(b))
            .flat_map(|same| same[1..].iter().map(|&later| (later as usize, same[0] as usize)))
            .collect();
        pairs.sort_unstable();
        pairs
    }

    /// Frees the room kept for more inputs: the list lives until the batch
    /// ends.
    pub(super) fn shrink_to_fit(&mut self) {
        self.names.shrink_to_fit();
        self.entries.shrink_to_fit();
        self.dirs.shrink_to_fit();
        self.others.shrink_to_fit();
    }

    /// The bytes the list holds on the heap, less what the directories'
    /// paths and the other inputs' sources hold.
    #[cfg(test)]
    pub(super) fn held_bytes(&self) -> usize {
        self.names.capacity()
            + self.entries.capacity() * std::mem::size_of::<Entry>()
            + self.dirs.capacity() * std::mem::size_of::<Arc<Path>>()
            + self.others.capacity() * std::mem::size_of::<Source>()
    }

    fn name(&self, entry: &Entry) -> &str {
        name_of(&self.names, entry)
    }
}

fn name_of<'a>(names: &'a str, entry: &Entry) -> &'a str {
    let name = &names[entry.name_start as usize..];
    name.split_once('\0').map_or(name, |(name, _)| name)
}

/// `value` as a u32 below `limit`: past it the list cannot index its
/// inputs, and the batch is refused.
fn index_below(value: usize, limit: u32) -> Result<u32, InputError> {
    u32::try_from(value)
        .ok()
        .filter(|v| *v < limit)
        .ok_or(InputError::TooManyInputs)
}

/// The components of `dir` joined with `name`.
fn walked_path<'a>(dir: &'a Path, name: &'a OsStr) -> impl Iterator<Item = Component<'a>> {
    dir.components().chain(std::iter::once(Component::Normal(name)))
}

/// The parts of the list `sort_walked` compares by, beside the entries it
/// moves.
struct View<'a> {
    names: &'a str,
    dirs: &'a [Arc<Path>],
    others: &'a [Source],
}

impl View<'_> {
    fn walk_order(&self, a: &Entry, b: &Entry) -> Ordering {
        // Most often: two files of one directory.
        if a.source().is_ok() && a.source() == b.source() {
            return name_of(self.names, a).cmp(name_of(self.names, b));
        }
        let (dir_a, name_a) = self.listed(a);
        let (dir_b, name_b) = self.listed(b);
        walked_path(dir_a, name_a).cmp(walked_path(dir_b, name_b))
    }

    /// The directory an input was found in and its name there.
    fn listed<'s>(&'s self, entry: &Entry) -> (&'s Path, &'s OsStr) {
        let other = match entry.source() {
            Ok(dir) => return (&self.dirs[dir], OsStr::new(name_of(self.names, entry))),
            Err(other) => other,
        };
        match &self.others[other] {
            Source::File(path) => (
                path.parent().unwrap_or(Path::new("")),
                path.file_name().unwrap_or_default(),
            ),
            _ => (Path::new(""), OsStr::new(name_of(self.names, entry))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, source: Source) -> Input {
        Input {
            remote: RemoteName::parse(name).unwrap(),
            source,
            size: name.len() as u64,
            mime: "image/png",
        }
    }

    #[test]
    fn an_entry_is_small() {
        // A batch holds every checked input at once (issue 11 item 10).
        assert_eq!(std::mem::size_of::<Entry>(), 16);
    }

    #[test]
    fn inputs_come_back_whole() {
        let mut list = Inputs::default();
        let dir: Arc<Path> = Arc::from(Path::new("photos"));
        let id = list.add_dir(dir.clone()).unwrap();
        list.push_in_dir("a.png", id, 10, "image/png").unwrap();
        list.push(input("b.gif", Source::File(Path::new("x/y.gif").into())))
            .unwrap();
        list.push_in_dir("c.jpg", id, 30, "image/jpeg").unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list.total_bytes(), 10 + 5 + 30);
        let all: Vec<Input> = list.iter().collect();
        assert_eq!(all[0].remote.as_str(), "a.png");
        assert_eq!(all[0].body_path().as_deref(), Some(Path::new("photos/a.png")));
        assert_eq!(all[1].body_path().as_deref(), Some(Path::new("x/y.gif")));
        assert_eq!((all[2].size, all[2].mime), (30, "image/jpeg"));
        assert_eq!(all[1].remote.as_str(), "b.gif");
        assert!(list.get(3).is_none());
    }

    #[test]
    fn walk_order_is_by_path_component() {
        let mut list = Inputs::default();
        let top = list.add_dir(Arc::from(Path::new("t"))).unwrap();
        let sub = list.add_dir(Arc::from(Path::new("t/a"))).unwrap();
        // As a directory lists them: in no particular order.
        list.push_in_dir("b.png", top, 1, "image/png").unwrap();
        list.push_in_dir("z.png", sub, 1, "image/png").unwrap();
        list.push_in_dir("a.png", top, 1, "image/png").unwrap();
        list.push(input("t_a_b.png", Source::File(Path::new("t/a/b.png").into())))
            .unwrap();
        list.push_in_dir("a-.png", top, 1, "image/png").unwrap();
        list.sort_walked(0);
        let names: Vec<String> = list.iter().map(|i| i.remote.to_string()).collect();
        // The directory `a` comes before `a-.png` and `a.png`, though the
        // paths' strings sort `t/a-.png` first.
        assert_eq!(names, ["t_a_b.png", "z.png", "a-.png", "a.png", "b.png"]);
    }

    #[test]
    fn duplicates_name_the_first_input() {
        let mut list = Inputs::default();
        let dir = list.add_dir(Arc::from(Path::new("d"))).unwrap();
        for name in ["x.png", "y.png", "x.png", "z.png", "y.png", "x.png"] {
            list.push_in_dir(name, dir, 1, "image/png").unwrap();
        }
        assert_eq!(list.duplicates(), [(2, 0), (4, 1), (5, 0)]);
    }

    #[test]
    fn appended_inputs_keep_their_sources() {
        let mut first = Inputs::default();
        first.push(input("a.png", Source::Placeholder("a".into()))).unwrap();
        let mut second = Inputs::default();
        let dir = second.add_dir(Arc::from(Path::new("d"))).unwrap();
        second.push_in_dir("b.png", dir, 7, "image/gif").unwrap();
        first.append(second).unwrap();
        let b = first.get(1).unwrap();
        assert_eq!(b.body_path().as_deref(), Some(Path::new("d/b.png")));
        assert_eq!((b.size, b.mime), (7, "image/gif"));
        assert!(first.get(0).unwrap().body_path().is_none());
    }
}
