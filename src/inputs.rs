//! The inputs of an upload: which bytes go under which remote name.
//!
//! Every input is checked here, before the first byte is sent: the remote name
//! is valid, the file exists, is readable, is not empty, and is an image (by its
//! magic bytes). All problems are collected, so one run reports every bad file of
//! a batch at once, and the batch is refused whole: nothing half-sent.

use std::borrow::Cow;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::error::Error;
use crate::media_type;

/// A file name as the file service will store it (boxed: a batch holds one
/// per input).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RemoteName(Box<str>);

/// Characters left as they are in a URL path segment: RFC 3986 "unreserved".
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

impl RemoteName {
    /// Refuses what cannot be a file name on the service: empty, `.`, `..`, or
    /// containing a path separator or a control character.
    pub fn parse(name: &str) -> Result<RemoteName, NameError> {
        check_name(name)?;
        Ok(RemoteName(name.into()))
    }

    /// As `parse`, keeping the string's allocation.
    fn parse_owned(name: String) -> Result<RemoteName, NameError> {
        check_name(&name)?;
        Ok(RemoteName(name.into_boxed_str()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as one percent-encoded URL path segment.
    pub fn url_segment(&self) -> String {
        utf8_percent_encode(&self.0, SEGMENT).to_string()
    }
}

fn check_name(name: &str) -> Result<(), NameError> {
    {
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name == "." || name == ".." {
            return Err(NameError::Dots(name.to_string()));
        }
        if name.contains(['/', '\\']) {
            return Err(NameError::Separator(name.to_string()));
        }
        if name.chars().any(char::is_control) {
            return Err(NameError::Control(name.to_string()));
        }
        Ok(())
    }
}

impl std::fmt::Display for RemoteName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a name cannot be a file name on the service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NameError {
    Empty,
    /// `.` or `..`.
    Dots(String),
    /// Holds `/` or `\\`.
    Separator(String),
    /// Holds a control character (shown escaped).
    Control(String),
}

impl std::fmt::Display for NameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NameError::Empty => f.write_str("the remote name is empty"),
            NameError::Dots(name) => write!(f, "`{name}` is not a file name"),
            NameError::Separator(name) => write!(f, "remote name {name:?} contains a path separator"),
            NameError::Control(name) => write!(f, "remote name {name:?} contains a control character"),
        }
    }
}

impl std::error::Error for NameError {}

/// Where an input's bytes come from. Kept small (boxed): a batch holds one
/// per input, all checked before the first is sent.
#[derive(Debug)]
pub enum Source {
    File(Box<Path>),
    /// A file found by `-r` under its own name: the directory it is in
    /// (shared with its siblings) joined with the remote name.
    InDir(Arc<Path>),
    /// Standard input, spooled to a temporary file so a retry can resend it.
    Spooled(Box<tempfile::NamedTempFile>),
    /// No body: the service creates a placeholder. Holds the input as the
    /// user named it, for messages.
    Placeholder(Box<str>),
}

/// One checked upload.
#[derive(Debug)]
pub struct Input {
    pub remote: RemoteName,
    pub source: Source,
    pub size: u64,
    pub mime: &'static str,
}

impl Input {
    /// How the user named it, for messages: the path (quoted as needed), the
    /// `--name` of standard input, or the placeholder as given. Derived, not
    /// stored: a batch holds every input at once.
    pub fn label(&self) -> String {
        match &self.source {
            Source::File(path) => crate::output::quote_path(&path.to_string_lossy()),
            Source::InDir(dir) => crate::output::quote_path(&dir.join(self.remote.as_str()).to_string_lossy()),
            // Reported under the name it was given, not `-`.
            Source::Spooled(_) => self.remote.to_string(),
            Source::Placeholder(label) => label.to_string(),
        }
    }

    /// The file to stream the body from, if there is a body.
    pub fn body_path(&self) -> Option<Cow<'_, Path>> {
        match &self.source {
            Source::File(path) => Some(Cow::Borrowed(path)),
            Source::InDir(dir) => Some(Cow::Owned(dir.join(self.remote.as_str()))),
            Source::Spooled(file) => Some(Cow::Borrowed(file.path())),
            Source::Placeholder(_) => None,
        }
    }
}

/// What the user asked for, beside the list of inputs.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub name: Option<String>,
    pub placeholder: bool,
    pub recursive: bool,
    pub allow_any_type: bool,
    /// Name each file after its path (`en/banner.png` -> `en_banner.png`;
    /// under a directory given with -r, the path below that directory).
    pub name_from_path: bool,
}

/// The inputs named on the command line, then those listed in the
/// `--files-from` file (`-`: standard input), one per line or, with `nul`,
/// NUL-separated as `find -print0` writes them. Empty entries are skipped;
/// a line's trailing `\r` is dropped.
pub fn with_listed(files: &[PathBuf], files_from: Option<&Path>, nul: bool) -> Result<Vec<PathBuf>, Error> {
    let mut all = files.to_vec();
    let Some(list) = files_from else {
        return Ok(all);
    };
    let label = crate::output::quote_path(&list.to_string_lossy());
    if list.as_os_str() == "-" && files.iter().any(|f| f.as_os_str() == "-") {
        return Err(Error::StdinTwice);
    }
    let mut bytes = Vec::new();
    let read = if list.as_os_str() == "-" {
        io::stdin().lock().read_to_end(&mut bytes)
    } else {
        File::open(list).and_then(|mut f| f.read_to_end(&mut bytes))
    };
    read.map_err(|e| io_error(&format!("--files-from {label}"), e))?;
    all.extend(parse_list(&bytes, nul));
    if all.is_empty() {
        return Err(Error::usage(format!("--files-from {label}: the list names no files")));
    }
    Ok(all)
}

/// The paths of a `--files-from` list.
fn parse_list(bytes: &[u8], nul: bool) -> Vec<PathBuf> {
    let separator = if nul { b'\0' } else { b'\n' };
    bytes
        .split(|b| *b == separator)
        .map(|entry| match nul {
            true => entry,
            false => entry.strip_suffix(b"\r").unwrap_or(entry),
        })
        .filter(|entry| !entry.is_empty())
        .map(path_of_bytes)
        .collect()
}

#[cfg(unix)]
fn path_of_bytes(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn path_of_bytes(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

/// The remote name `--name-from-path` gives `path`: its normal components
/// (no root, `.` or `..`) joined with `_`.
fn name_from_path(path: &Path) -> String {
    path.components()
        .filter_map(|c| match c {
            std::path::Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("_")
}

/// The MIME type sent for files that are not images, with `--allow-any-type`.
const ANY_TYPE: &str = "application/octet-stream";

/// Checks every input; on any problem returns all of them (as usage errors).
/// `stdin` is read only when an input is `-`.
pub fn collect(files: &[PathBuf], options: &Options, stdin: &mut dyn Read) -> Result<Vec<Input>, Vec<Error>> {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();

    if options.name.is_some() && files.len() != 1 {
        errors.push(Error::NameNeedsOneInput);
    }
    if files.iter().filter(|f| f.as_os_str() == "-").count() > 1 {
        errors.push(Error::StdinTwice);
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    for file in files {
        let result = if options.placeholder {
            placeholder(file, options)
        } else if file.as_os_str() == "-" {
            spool_stdin(options, stdin).map(|input| vec![input])
        } else {
            from_path(file, options)
        };
        match result {
            Ok(found) => inputs.extend(found),
            Err(err) => errors.push(err),
        }
    }

    duplicates(&inputs, &mut errors);
    if inputs.is_empty() && errors.is_empty() {
        errors.push(Error::NoImagesFound);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // The list lives until the batch ends: no spare capacity.
    inputs.shrink_to_fit();
    Ok(inputs)
}

/// Refuses a remote name used twice, naming the first input that used it.
/// The map of names is freed before anything is sent.
fn duplicates(inputs: &[Input], errors: &mut Vec<Error>) {
    let mut seen: std::collections::HashMap<&str, &Input> = std::collections::HashMap::with_capacity(inputs.len());
    for input in inputs {
        if let Some(first) = seen.insert(input.remote.as_str(), input) {
            errors.push(Error::DuplicateName {
                label: input.label(),
                remote: input.remote.to_string(),
                first: first.label(),
            });
        }
    }
}

fn placeholder(file: &Path, options: &Options) -> Result<Vec<Input>, Error> {
    let label = crate::output::quote_path(&file.to_string_lossy());
    let name = options
        .name
        .clone()
        .unwrap_or_else(|| file.to_string_lossy().into_owned());
    let remote = RemoteName::parse(&name).map_err(|source| bad_name(&label, source))?;
    Ok(vec![Input {
        remote,
        source: Source::Placeholder(label.into()),
        size: 0,
        mime: ANY_TYPE,
    }])
}

fn spool_stdin(options: &Options, stdin: &mut dyn Read) -> Result<Input, Error> {
    let label = "-".to_string();
    let Some(name) = &options.name else {
        return Err(Error::StdinNeedsName);
    };
    let remote = RemoteName::parse(name).map_err(|source| bad_name(&label, source))?;
    let cause = Error::Spool;
    let mut spool = tempfile::NamedTempFile::new().map_err(cause)?;
    let size = io::copy(stdin, &mut spool).map_err(cause)?;
    let mime = check_content(spool.path(), &label, size, options)?;
    Ok(Input {
        remote,
        source: Source::Spooled(Box::new(spool)),
        size,
        mime,
    })
}

fn from_path(path: &Path, options: &Options) -> Result<Vec<Input>, Error> {
    let label = crate::output::quote_path(&path.to_string_lossy());
    let meta = fs::metadata(path).map_err(|e| io_error(&label, e))?;
    if meta.is_dir() {
        if !options.recursive {
            return Err(Error::IsDirectory { label });
        }
        if options.name.is_some() {
            return Err(Error::NameForDirectory { label });
        }
        let mut inputs = Vec::new();
        walk(path, path, options, &mut inputs)?;
        return Ok(inputs);
    }
    let base = match &options.name {
        Some(name) => name.clone(),
        None if options.name_from_path => name_from_path(path),
        None => match path.file_name() {
            Some(base) => base.to_string_lossy().into_owned(),
            None => return Err(Error::NoFileName { label }),
        },
    };
    let remote = RemoteName::parse(&base).map_err(|source| bad_name(&label, source))?;
    let mime = check_content(path, &label, meta.len(), options)?;
    Ok(vec![Input {
        remote,
        source: Source::File(path.into()),
        size: meta.len(),
        mime,
    }])
}

/// A directory's image files, depth first in sorted order. Hidden entries and
/// files that are not images are passed over; directory links are not followed,
/// so a link cycle cannot loop.
fn walk(top: &Path, dir: &Path, options: &Options, inputs: &mut Vec<Input>) -> Result<(), Error> {
    let label = crate::output::quote_path(&dir.to_string_lossy());
    // Only the paths (allocated once: each becomes its input's source) and
    // file types are held while the directory is walked, not its
    // `DirEntry`s: a directory of 100,000 images is listed in full, beside
    // the inputs found so far. Hidden entries are passed over here.
    let mut entries: Vec<(std::ffi::OsString, io::Result<fs::FileType>)> = fs::read_dir(dir)
        .and_then(|rd| {
            rd.filter(|e| {
                !e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().starts_with('.'))
            })
            .map(|e| e.map(|e| (e.file_name(), e.file_type())))
            .collect()
        })
        .map_err(|e| io_error(&label, e))?;
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    // An input named after its file keeps only this and its name.
    let shared: Arc<Path> = Arc::from(dir);
    for (file_name, file_type) in entries {
        let path = dir.join(&file_name);
        let file_label = crate::output::quote_path(&path.to_string_lossy());
        let file_type = file_type.map_err(|e| io_error(&file_label, e))?;
        if file_type.is_dir() {
            walk(top, &path, options, inputs)?;
            continue;
        }
        let meta = fs::metadata(&path).map_err(|e| io_error(&file_label, e))?;
        if !meta.is_file() || meta.len() == 0 {
            continue;
        }
        let head = read_head(&path).map_err(|e| io_error(&file_label, e))?;
        let mime = match (media_type::sniff(&head), options.allow_any_type) {
            (Some(mime), _) => mime,
            (None, true) => ANY_TYPE,
            (None, false) => continue,
        };
        // The listed name becomes the remote name without a copy when it
        // is one (UTF-8); the path is then not kept.
        let (name, source) = match (options.name_from_path, file_name.into_string()) {
            (true, _) => (
                name_from_path(path.strip_prefix(top).unwrap_or(&path)),
                Source::File(path.into()),
            ),
            (false, Ok(name)) => (name, Source::InDir(shared.clone())),
            (false, Err(name)) => (name.to_string_lossy().into_owned(), Source::File(path.into())),
        };
        let remote = RemoteName::parse_owned(name).map_err(|source| bad_name(&file_label, source))?;
        inputs.push(Input {
            remote,
            source,
            size: meta.len(),
            mime,
        });
    }
    Ok(())
}

/// The content checks shared by files and standard input.
fn check_content(path: &Path, label: &str, size: u64, options: &Options) -> Result<&'static str, Error> {
    if size == 0 {
        return Err(Error::EmptyFile {
            label: label.to_string(),
        });
    }
    let head = read_head(path).map_err(|e| io_error(label, e))?;
    match media_type::sniff(&head) {
        Some(mime) => Ok(mime),
        None if options.allow_any_type => Ok(ANY_TYPE),
        None => Err(Error::NotAnImage {
            label: label.to_string(),
        }),
    }
}

fn read_head(path: &Path) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(media_type::SNIFF_LEN);
    File::open(path)?
        .take(media_type::SNIFF_LEN as u64)
        .read_to_end(&mut head)?;
    Ok(head)
}

fn io_error(label: &str, err: io::Error) -> Error {
    Error::Io {
        label: label.to_string(),
        source: err,
    }
}

fn bad_name(label: &str, source: NameError) -> Error {
    Error::BadName {
        label: label.to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_on_newlines_or_nuls() {
        let paths = |v: &[&str]| v.iter().map(PathBuf::from).collect::<Vec<_>>();
        assert_eq!(
            parse_list(b"a.png\r\nb c.png\n\nd.png", false),
            paths(&["a.png", "b c.png", "d.png"])
        );
        assert_eq!(parse_list(b"a\nb.png\0c.png\0", true), paths(&["a\nb.png", "c.png"]));
        assert!(parse_list(b"", false).is_empty());
    }

    #[test]
    fn names_from_paths_join_components() {
        assert_eq!(name_from_path(Path::new("en/banner.png")), "en_banner.png");
        assert_eq!(name_from_path(Path::new("./a/../b/c.png")), "a_b_c.png");
        assert_eq!(name_from_path(Path::new("/abs/x.png")), "abs_x.png");
    }

    #[test]
    fn remote_names_are_checked() {
        assert!(RemoteName::parse("a b#?%é.png").is_ok());
        for bad in ["", ".", "..", "a/b.png", "a\\b.png", "a\nb.png", "tab\t.png"] {
            assert!(RemoteName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn url_segment_encodes_reserved_and_non_ascii() {
        let name = RemoteName::parse("my image #1?%é.png").unwrap();
        assert_eq!(name.url_segment(), "my%20image%20%231%3F%25%C3%A9.png");
        assert_eq!(RemoteName::parse("a-b_c~d.png").unwrap().url_segment(), "a-b_c~d.png");
    }

    #[test]
    fn a_batch_reports_every_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "hello").unwrap();
        let empty = dir.path().join("empty.png");
        std::fs::write(&empty, "").unwrap();
        let missing = dir.path().join("missing.png");
        let files = vec![text, empty, missing, dir.path().to_path_buf()];
        let errors = collect(&files, &Options::default(), &mut io::empty()).unwrap_err();
        let messages: Vec<String> = errors.iter().map(|e| e.message()).collect();
        assert_eq!(messages.len(), 4, "{messages:?}");
        assert!(
            messages[0].ends_with("notes.txt: not an image (PNG, JPEG, GIF, WebP, BMP, TIFF, ICO, AVIF, HEIC or SVG)")
        );
        assert!(messages[1].ends_with("empty.png: file is empty"));
        assert!(messages[2].ends_with("missing.png: no such file or directory"));
        assert!(messages[3].ends_with(": is a directory"));
        assert!(matches!(errors[0], Error::NotAnImage { .. }));
        assert!(matches!(errors[1], Error::EmptyFile { .. }));
        assert!(matches!(&errors[2], Error::Io { source, .. } if source.kind() == io::ErrorKind::NotFound));
        assert!(matches!(errors[3], Error::IsDirectory { .. }));
        assert_eq!(errors[3].hint(), Some("use -r to upload the images inside it"));
        assert!(errors.iter().all(|e| e.exit() == crate::error::Exit::Usage));
    }

    #[test]
    fn stdin_is_spooled_and_needs_a_name() {
        let png = b"\x89PNG\r\n\x1a\nrest".to_vec();
        let without = collect(&[PathBuf::from("-")], &Options::default(), &mut &png[..]).unwrap_err();
        assert!(without[0].message().contains("needs --name"));
        assert!(matches!(without[0], Error::StdinNeedsName));
        let options = Options {
            name: Some("in.png".into()),
            ..Options::default()
        };
        let inputs = collect(&[PathBuf::from("-")], &options, &mut &png[..]).unwrap();
        assert_eq!(inputs[0].size, png.len() as u64);
        assert_eq!(inputs[0].mime, "image/png");
        assert_eq!(std::fs::read(inputs[0].body_path().unwrap()).unwrap(), png);
        assert_eq!(inputs[0].label(), "in.png", "reported under its --name");
    }

    #[test]
    fn an_input_is_small() {
        // A batch holds every checked input at once (issue 11 item 10): no
        // stored label, boxed path and name, the spool behind a pointer.
        assert!(std::mem::size_of::<Input>() <= 64, "{}", std::mem::size_of::<Input>());
    }

    #[test]
    fn labels_name_the_input_as_given() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a b.gif");
        std::fs::write(&file, b"GIF89a....").unwrap();
        let inputs = collect(std::slice::from_ref(&file), &Options::default(), &mut io::empty()).unwrap();
        assert_eq!(inputs[0].label(), crate::output::quote_path(&file.to_string_lossy()));
        let options = Options {
            placeholder: true,
            name: Some("p.png".into()),
            ..Options::default()
        };
        let inputs = collect(&[PathBuf::from("dir/x")], &options, &mut io::empty()).unwrap();
        assert_eq!(
            (inputs[0].label().as_str(), inputs[0].remote.as_str()),
            ("dir/x", "p.png")
        );
    }

    #[test]
    fn duplicate_remote_names_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["a", "b"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
            std::fs::write(dir.path().join(sub).join("x.gif"), b"GIF89a....").unwrap();
        }
        let options = Options {
            recursive: true,
            ..Options::default()
        };
        let errors = collect(&[dir.path().to_path_buf()], &options, &mut io::empty()).unwrap_err();
        assert!(errors[0].message().contains("remote name `x.gif` is also used by"));
        assert!(matches!(&errors[0], Error::DuplicateName { remote, .. } if remote == "x.gif"));
    }

    #[test]
    fn recursion_is_sorted_and_skips_non_images() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("b.gif"), b"GIF89a....").unwrap();
        std::fs::write(dir.path().join("a.gif"), b"GIF87a....").unwrap();
        std::fs::write(dir.path().join("readme.txt"), b"text").unwrap();
        std::fs::write(dir.path().join("sub").join("c.gif"), b"GIF89a....").unwrap();
        let options = Options {
            recursive: true,
            ..Options::default()
        };
        let inputs = collect(&[dir.path().to_path_buf()], &options, &mut io::empty()).unwrap();
        let names: Vec<&str> = inputs.iter().map(|i| i.remote.as_str()).collect();
        assert_eq!(names, ["a.gif", "b.gif", "c.gif"]);
        // Named after their files, they keep only their directory, shared.
        let c = dir.path().join("sub").join("c.gif");
        assert!(matches!(inputs[2].source, Source::InDir(_)));
        assert_eq!(inputs[2].body_path().as_deref(), Some(c.as_path()));
        assert_eq!(inputs[2].label(), crate::output::quote_path(&c.to_string_lossy()));
        let options = Options {
            name_from_path: true,
            ..options
        };
        let inputs = collect(&[dir.path().to_path_buf()], &options, &mut io::empty()).unwrap();
        assert_eq!(inputs[2].remote.as_str(), "sub_c.gif");
        assert_eq!(inputs[2].body_path().as_deref(), Some(c.as_path()));
    }
}
