//! The files capfile keeps: `config.toml` (settings, by profile) and, beside it,
//! `credentials.toml` (secrets saved with `login --insecure-storage`).
//!
//! Reading checks the whole file and reports the first problem as
//! `FILE:LINE:COLUMN: what is wrong`, so the user can go straight to it; that is
//! a usage error (exit 2). Editing goes through `toml_edit`, which keeps the
//! user's comments, order and layout. Writing is atomic: a temporary file in the
//! same directory, synced, then renamed over the old one, so a crash leaves the
//! old file or the new one and never half of each. The old file's mode is kept,
//! and a file that is a symlink (dotfile managers) is written through the link.

use std::borrow::Cow;
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Table};

use crate::exit::{ErrorKind, Failure};
use crate::policy::{self, Policy};
use crate::settings::{self, DEFAULT_PROFILE, Env, FileValues, Key, Origin, ValueError};

/// Why a config or credentials file (or its path, or a profile in it) cannot
/// be used: usage errors (exit 2), but for a failed write (exit 1).
#[derive(Debug)]
pub(crate) enum FileError {
    /// `--config` or `CAPFILE_CONFIG` is set to an empty path.
    ConfigPathEmpty,
    /// No platform config directory (no HOME) and no `--config`.
    NoConfigDir,
    /// A config or credentials file that is not UTF-8.
    NotText { path: PathBuf },
    /// A config or credentials file over the size any capfile file has.
    TooLarge { path: PathBuf, limit_mib: u64 },
    /// A config or credentials file that cannot be read.
    Read { path: PathBuf, source: io::Error },
    /// Bad content in a config or credentials file, at a line and column
    /// when known, with what to do when there is an obvious step.
    Invalid {
        path: PathBuf,
        at: Option<(usize, usize)>,
        message: String,
        hint: Option<String>,
    },
    /// A config or credentials file that cannot be written.
    Write { path: PathBuf, source: io::Error },
    /// `--profile` or `CAPFILE_PROFILE` names no possible profile (the reason
    /// is `settings::check_profile_name`'s, shared with `config`).
    BadProfileName { reason: ValueError },
    /// A profile that is not in the config file; `argument` when it was named
    /// as a command's argument (`config delete-profile NAME`) rather than
    /// with `-p`, which changes the did-you-mean.
    UnknownProfile {
        name: String,
        path: PathBuf,
        /// `None`: there is no config file; else the profiles it has.
        existing: Option<Vec<String>>,
        argument: bool,
    },
}

impl Failure for FileError {
    fn kind(&self) -> ErrorKind {
        match self {
            FileError::Write { .. } => ErrorKind::Failure,
            _ => ErrorKind::Usage,
        }
    }

    fn hint(&self) -> Option<Cow<'_, str>> {
        match self {
            FileError::NoConfigDir => Some(Cow::Borrowed("pass --config FILE or set CAPFILE_CONFIG")),
            FileError::Invalid { hint, .. } => hint.as_deref().map(Cow::Borrowed),
            FileError::UnknownProfile {
                name,
                existing,
                argument,
                ..
            } => {
                let names = existing.iter().flatten().map(String::as_str);
                Some(Cow::Owned(match (crate::suggest::closest(name, names), argument) {
                    (Some(close), true) => format!("did you mean `{close}`?"),
                    (Some(close), false) => format!("did you mean `-p {close}`?"),
                    (None, _) => {
                        format!("create it with `capfile -p {name} login` or `capfile -p {name} config set KEY VALUE`")
                    }
                }))
            }
            _ => None,
        }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::ConfigPathEmpty => f.write_str("--config / CAPFILE_CONFIG is empty"),
            FileError::NoConfigDir => f.write_str("cannot find the config directory (is HOME set?)"),
            FileError::NotText { path } => write!(f, "{}: not UTF-8 text", path.display()),
            FileError::TooLarge { path, limit_mib } => {
                write!(
                    f,
                    "{}: larger than {limit_mib} MiB, which no capfile file is",
                    path.display()
                )
            }
            FileError::Read { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            FileError::Invalid { path, at, message, .. } => match at {
                Some((line, column)) => write!(f, "{}:{line}:{column}: {message}", path.display()),
                None => write!(f, "{}: {message}", path.display()),
            },
            FileError::Write { path, source } => write!(f, "cannot write {}: {source}", path.display()),
            FileError::BadProfileName { reason } => reason.fmt(f),
            FileError::UnknownProfile {
                name, path, existing, ..
            } => match existing {
                None => write!(
                    f,
                    "profile `{name}` does not exist: there is no config file at {}",
                    path.display()
                ),
                Some(names) if names.is_empty() => {
                    write!(f, "profile `{name}` does not exist: {} has no profiles", path.display())
                }
                Some(names) => write!(
                    f,
                    "profile `{name}` is not in {}; existing profiles: {}",
                    path.display(),
                    names.join(", ")
                ),
            },
        }
    }
}

impl std::error::Error for FileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FileError::Read { source, .. } | FileError::Write { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Where the config and credentials files are.
#[derive(Clone, Debug)]
pub(crate) struct Paths {
    pub config: PathBuf,
    pub credentials: PathBuf,
}

impl Paths {
    /// `--config` / `CAPFILE_CONFIG` when given, else `config.toml` in the
    /// platform's config directory (on Linux `$XDG_CONFIG_HOME/capfile/`).
    /// `credentials.toml` is always beside the config file.
    pub(crate) fn locate(config: Option<&Path>) -> Result<Paths, FileError> {
        let config = match config {
            Some(path) if path.as_os_str().is_empty() => {
                return Err(FileError::ConfigPathEmpty);
            }
            Some(path) => path.to_path_buf(),
            None => directories::ProjectDirs::from("", "", "capfile")
                .map(|dirs| dirs.config_dir().join("config.toml"))
                .ok_or(FileError::NoConfigDir)?,
        };
        let dir = config.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(Paths {
            credentials: dir.join("credentials.toml"),
            config,
        })
    }
}

/// The profile a command works on.
#[derive(Clone, Debug)]
pub(crate) struct Profile {
    pub name: String,
    /// Chosen with `--profile` or `CAPFILE_PROFILE` rather than by default.
    pub origin: Origin,
}

impl Profile {
    /// The profile named by `--profile` (which clap fills from
    /// `CAPFILE_PROFILE` when the flag is absent), else `default`.
    pub(crate) fn select(name: Option<&str>, env: &Env) -> Result<Profile, FileError> {
        let Some(name) = name.map(str::to_string) else {
            return Ok(Profile {
                name: DEFAULT_PROFILE.to_string(),
                origin: Origin::Default,
            });
        };
        settings::check_profile_name(&name).map_err(|reason| FileError::BadProfileName { reason })?;
        // clap reads the flag over the variable; equal values mean either.
        let origin = if env.get_os("CAPFILE_PROFILE").and_then(|v| v.to_str()) == Some(name.as_str()) {
            Origin::Env("CAPFILE_PROFILE")
        } else {
            Origin::Flag
        };
        Ok(Profile { name, origin })
    }

    pub(crate) fn is_explicit(&self) -> bool {
        self.origin != Origin::Default
    }
}

/// A TOML file as read from disk; a missing file reads as empty.
#[derive(Clone, Debug)]
pub(crate) struct TomlFile {
    pub path: PathBuf,
    text: Option<String>,
}

impl TomlFile {
    pub(crate) fn read(path: &Path) -> Result<TomlFile, FileError> {
        let text = match read_capped(path) {
            Ok(text) => Some(text),
            Err(err) if err.kind() == io::ErrorKind::NotFound => None,
            Err(err) if err.kind() == io::ErrorKind::InvalidData => {
                return Err(FileError::NotText {
                    path: path.to_path_buf(),
                });
            }
            Err(err) if err.kind() == io::ErrorKind::FileTooLarge => {
                return Err(FileError::TooLarge {
                    path: path.to_path_buf(),
                    limit_mib: MAX_FILE_LEN >> 20,
                });
            }
            Err(source) => {
                return Err(FileError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        Ok(TomlFile {
            path: path.to_path_buf(),
            text,
        })
    }

    pub(crate) fn exists(&self) -> bool {
        self.text.is_some()
    }

    fn text(&self) -> &str {
        self.text.as_deref().unwrap_or("")
    }

    /// The parsed document with the positions of its parts, for checking.
    pub(crate) fn document(&self) -> Result<toml_edit::Document<String>, FileError> {
        toml_edit::Document::parse(self.text().to_string()).map_err(|e| self.parse_error(&e))
    }

    /// The parsed document for editing.
    pub(crate) fn document_mut(&self) -> Result<DocumentMut, FileError> {
        self.text().parse::<DocumentMut>().map_err(|e| self.parse_error(&e))
    }

    fn parse_error(&self, err: &toml_edit::TomlError) -> FileError {
        // The message only: `TomlError`'s Display quotes the offending line,
        // which in credentials.toml could be a secret.
        self.error_at(err.span(), &format!("invalid TOML: {}", err.message()))
    }

    /// A usage error naming the file and, when known, the line and column.
    pub(crate) fn error_at(&self, span: Option<Range<usize>>, message: &str) -> FileError {
        FileError::Invalid {
            path: self.path.clone(),
            at: span.map(|span| line_column(self.text(), span.start)),
            message: message.to_string(),
            hint: None,
        }
    }

    /// Writes the document atomically. `private` files get mode 0600 whatever
    /// they had; others keep their mode (new ones get 0644 less the umask).
    /// Missing directories are created 0700.
    pub(crate) fn write(&self, doc: &DocumentMut, private: bool) -> Result<(), FileError> {
        write_atomically(&self.path, doc.to_string().as_bytes(), private).map_err(|source| FileError::Write {
            path: self.path.clone(),
            source,
        })
    }
}

/// The most capfile reads of a config or credentials file. Real ones are a
/// few hundred bytes; the cap keeps `--config /dev/zero` (or a log file named
/// by mistake) from filling memory.
const MAX_FILE_LEN: u64 = 1 << 20;

/// Reads a whole text file of at most `MAX_FILE_LEN` bytes; a longer one is
/// `FileTooLarge`, found without reading more than one byte past the cap.
/// Read through the bounded reader: a FIFO or a device is refused unread.
fn read_capped(path: &Path) -> io::Result<String> {
    let bytes = crate::fsio::read_regular(path, MAX_FILE_LEN)?;
    String::from_utf8(bytes).map_err(|_| io::ErrorKind::InvalidData.into())
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

/// Creates a directory and its missing parents with mode 0700 (a umask can
/// only narrow it): capfile's directories hold credentials, and a directory others can
/// write to would let them replace a file in it. Existing directories are left
/// as they are.
pub(crate) fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

fn write_atomically(path: &Path, contents: &[u8], private: bool) -> io::Result<()> {
    // Write through a symlink rather than replacing it with a plain file.
    let target = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    create_private_dir_all(&dir)?;
    let old_mode = fs::metadata(&target).ok().map(|m| m.permissions());
    let mut builder = tempfile::Builder::new();
    builder.prefix(".capfile-").suffix(".tmp");
    // A new file that is not private is created 0644 less the umask, as any
    // editor would create it; tempfile's own default (0600) is kept for
    // private files, so a secret is never readable by others, not even for a
    // moment.
    #[cfg(unix)]
    if !private && old_mode.is_none() {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o644));
    }
    let mut temp = builder.tempfile_in(&dir)?;
    temp.write_all(contents)?;
    // Then the mode is made exact: 0600 for a private file whatever the
    // umask, and an existing file keeps its own (never widened, never
    // narrowed behind the user's back).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if private {
            Some(0o600)
        } else {
            old_mode.map(|p| p.mode() & 0o7777)
        };
        if let Some(mode) = mode {
            fs::set_permissions(temp.path(), fs::Permissions::from_mode(mode))?;
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (private, old_mode);
    }
    temp.as_file().sync_all()?;
    temp.persist(&target).map_err(|e| e.error)?;
    #[cfg(unix)]
    if let Ok(dir) = fs::File::open(&dir) {
        // Makes the rename itself durable; not every filesystem supports it.
        let _ = dir.sync_all();
    }
    Ok(())
}

/// `config.toml`: checked profiles and policies, and the file for editing.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub file: TomlFile,
    profiles: Vec<(String, FileValues)>,
    /// The `[policies.NAME]` tables, in the order of the file.
    policies: Vec<Policy>,
    /// Each profile's `[profiles.NAME.policies]`: namespace -> policy name.
    namespace_policies: Vec<(String, Vec<(String, String)>)>,
}

impl Config {
    /// Reads and checks the whole file: every table, key and value.
    pub(crate) fn load(path: &Path) -> Result<Config, FileError> {
        let file = TomlFile::read(path)?;
        let doc = file.document()?;
        let mut config = Config {
            file: file.clone(),
            profiles: Vec::new(),
            policies: Vec::new(),
            namespace_policies: Vec::new(),
        };
        for (name, item) in doc.as_table().iter() {
            let key_span = doc.as_table().get_key_value(name).and_then(|(k, _)| k.span());
            match name {
                "profiles" => config.load_profiles(item)?,
                "policies" => config.policies = load_policies(&file, item)?,
                _ => {
                    let mut error = file.error_at(
                        key_span,
                        &format!(
                            "unknown table `{name}`; the config file holds [profiles.NAME] and [policies.NAME] tables only"
                        ),
                    );
                    // `[default]` or `[staging]`, as aws-cli and others name a profile.
                    let profile = name.trim();
                    if let (Ok(()), FileError::Invalid { hint, .. }) =
                        (settings::check_profile_name(profile), &mut error)
                    {
                        *hint = Some(format!("did you mean [profiles.{profile}]?"));
                    }
                    return Err(error);
                }
            }
        }
        Ok(config)
    }

    fn load_profiles(&mut self, item: &Item) -> Result<(), FileError> {
        let file = &self.file;
        let Some(table) = item.as_table_like() else {
            return Err(file.error_at(item.span(), "`profiles` must be a table of [profiles.NAME] tables"));
        };
        for (profile, item) in table.iter() {
            let key_span = table.get_key_value(profile).and_then(|(k, _)| k.span());
            settings::check_profile_name(profile).map_err(|e| file.error_at(key_span.clone(), &e.to_string()))?;
            let Some(values) = item.as_table_like() else {
                return Err(file.error_at(item.span(), &format!("profiles.{profile} must be a table")));
            };
            let mut checked = FileValues::default();
            for (key, item) in values.iter() {
                let key_span = values.get_key_value(key).and_then(|(k, _)| k.span());
                if key == NAMESPACE_POLICIES {
                    let map = load_namespace_policies(file, profile, item)?;
                    self.namespace_policies.push((profile.to_string(), map));
                    continue;
                }
                let setting = Key::parse(key).map_err(|e| file.error_at(key_span.clone(), &e.to_string()))?;
                let value = item.as_value().ok_or_else(|| {
                    file.error_at(item.span().or(key_span), &format!("{key} must be a value, not a table"))
                })?;
                checked
                    .set(setting, value)
                    .map_err(|e| file.error_at(value.span(), &e.to_string()))?;
            }
            self.profiles.push((profile.to_string(), checked));
        }
        Ok(())
    }

    /// The `[policies.NAME]` tables, in the order of the file.
    pub(crate) fn policies(&self) -> &[Policy] {
        &self.policies
    }

    /// The policy a profile's `[profiles.NAME.policies]` gives a namespace.
    pub(crate) fn namespace_policy(&self, profile: &str, namespace: &str) -> Option<&str> {
        let (_, map) = self.namespace_policies.iter().find(|(p, _)| p == profile)?;
        map.iter()
            .find(|(ns, _)| ns == namespace)
            .map(|(_, policy)| policy.as_str())
    }

    /// A profile's namespace policies, in the order of the file.
    pub(crate) fn namespace_policies(&self, profile: &str) -> &[(String, String)] {
        self.namespace_policies
            .iter()
            .find(|(p, _)| p == profile)
            .map_or(&[], |(_, map)| map.as_slice())
    }

    /// Profile names in the order of the file.
    pub(crate) fn names(&self) -> Vec<&str> {
        self.profiles.iter().map(|(name, _)| name.as_str()).collect()
    }

    pub(crate) fn get(&self, name: &str) -> Option<&FileValues> {
        self.profiles.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The profile's values. A profile chosen with `--profile` or
    /// `CAPFILE_PROFILE` must exist (a typo must not silently fall back to
    /// defaults); the implicit `default` profile may be absent, as in CI where
    /// the environment carries everything.
    pub(crate) fn values(&self, profile: &Profile) -> Result<FileValues, FileError> {
        match self.get(&profile.name) {
            Some(values) => Ok(values.clone()),
            None if profile.is_explicit() => Err(self.unknown_profile(&profile.name)),
            None => Ok(FileValues::default()),
        }
    }

    /// The error for a profile that is not in the file, listing those that are.
    pub(crate) fn unknown_profile(&self, name: &str) -> FileError {
        FileError::UnknownProfile {
            name: name.to_string(),
            path: self.file.path.clone(),
            existing: self
                .file
                .exists()
                .then(|| self.names().into_iter().map(str::to_string).collect()),
            argument: false,
        }
    }

    /// The error for a profile named as a command's argument (`config
    /// delete-profile NAME`): a did-you-mean names the profile alone.
    pub(crate) fn unknown_profile_argument(&self, name: &str) -> FileError {
        match self.unknown_profile(name) {
            FileError::UnknownProfile {
                name, path, existing, ..
            } => FileError::UnknownProfile {
                name,
                path,
                existing,
                argument: true,
            },
            other => other,
        }
    }
}

/// The key of a profile's table of namespace policies:
/// `[profiles.NAME.policies]`, `rewards = "reward-art"`.
pub(crate) const NAMESPACE_POLICIES: &str = "policies";

/// Checks every `[policies.NAME]` table.
fn load_policies(file: &TomlFile, item: &Item) -> Result<Vec<Policy>, FileError> {
    let Some(table) = item.as_table_like() else {
        return Err(file.error_at(item.span(), "`policies` must be a table of [policies.NAME] tables"));
    };
    let mut policies = Vec::new();
    for (name, item) in table.iter() {
        let key_span = table.get_key_value(name).and_then(|(k, _)| k.span());
        policy::check_name(name).map_err(|e| file.error_at(key_span.clone(), &e.to_string()))?;
        let Some(rules) = item.as_table_like() else {
            return Err(file.error_at(item.span().or(key_span), &format!("policies.{name} must be a table")));
        };
        let checked = Policy::from_table(name, rules).map_err(|(span, e)| file.error_at(span, &e))?;
        policies.push(checked);
    }
    Ok(policies)
}

/// Checks a profile's `[profiles.NAME.policies]`: namespace = "policy".
fn load_namespace_policies(file: &TomlFile, profile: &str, item: &Item) -> Result<Vec<(String, String)>, FileError> {
    let Some(table) = item.as_table_like() else {
        return Err(file.error_at(
            item.span(),
            &format!("profiles.{profile}.policies must be a table of namespace = \"policy\""),
        ));
    };
    let mut map = Vec::new();
    for (namespace, item) in table.iter() {
        let key_span = table.get_key_value(namespace).and_then(|(k, _)| k.span());
        settings::check_namespace(namespace).map_err(|e| file.error_at(key_span.clone(), &format!("namespace {e}")))?;
        let name = item.as_str().ok_or_else(|| {
            file.error_at(
                item.span().or(key_span),
                "a namespace's policy must be a string (in quotes)",
            )
        })?;
        policy::check_name(name).map_err(|e| file.error_at(item.span(), &e.to_string()))?;
        map.push((namespace.to_string(), name.to_string()));
    }
    Ok(map)
}

/// The `[profiles.NAME]` table of a document for editing, created when missing
/// (under an implicit `[profiles]`, so the file shows only `[profiles.NAME]`).
pub(crate) fn profile_table_mut<'a>(doc: &'a mut DocumentMut, name: &str) -> Result<&'a mut Table, NotEditable> {
    let profiles = doc.as_table_mut().entry("profiles").or_insert_with(|| {
        let mut table = Table::new();
        table.set_implicit(true);
        Item::Table(table)
    });
    let profiles = profiles.as_table_mut().ok_or(NotEditable::Profiles)?;
    let profile = profiles.entry(name).or_insert_with(|| Item::Table(Table::new()));
    // An inline `name = { ... }` table is turned into a standard one to edit.
    if let Item::Value(toml_edit::Value::InlineTable(inline)) = profile {
        let table = std::mem::take(inline).into_table();
        *profile = Item::Table(table);
    }
    profile
        .as_table_mut()
        .ok_or_else(|| NotEditable::Profile { name: name.to_string() })
}

/// Why a document's profile table cannot be edited: `profiles`, or the
/// profile, is not a table (the caller names the file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum NotEditable {
    Profiles,
    Profile {
        name: String,
    },
    /// Another table to edit (`policies`, a policy's): `key` is not one.
    Table {
        key: String,
    },
}

impl fmt::Display for NotEditable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotEditable::Profiles => f.write_str("`profiles` is not a table of [profiles.NAME] tables"),
            NotEditable::Profile { name } => write!(f, "profiles.{name} is not a table"),
            NotEditable::Table { key } => write!(f, "`{key}` is not a table"),
        }
    }
}

impl std::error::Error for NotEditable {}

/// Sets a value in a table, keeping the comments around the old one (above
/// the key, and after the value on its line).
pub(crate) fn set_value(table: &mut Table, key: &str, mut value: toml_edit::Value) {
    match table.get_mut(key) {
        Some(item) => {
            if let Some(old) = item.as_value() {
                *value.decor_mut() = old.decor().clone();
            }
            *item = Item::Value(value);
        }
        None => {
            table.insert(key, Item::Value(value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join("config.toml");
        fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn the_profile_origin_comes_from_the_env_given() {
        let env = Env::from_pairs([("CAPFILE_PROFILE", "ci")]);
        let chosen = Profile::select(Some("ci"), &env).unwrap();
        assert_eq!(chosen.origin, Origin::Env("CAPFILE_PROFILE"));
        let flagged = Profile::select(Some("ci"), &Env::default()).unwrap();
        assert_eq!(flagged.origin, Origin::Flag);
        let default = Profile::select(None, &env).unwrap();
        assert_eq!((default.name.as_str(), default.origin), ("default", Origin::Default));
        let bad = Profile::select(Some("a b"), &env).unwrap_err();
        assert_eq!(
            bad.message(),
            "profile name \"a b\" may hold only letters, digits, `-`, `_` and `.`"
        );
        assert_eq!(bad.exit(), crate::exit::Exit::Usage);
    }

    #[test]
    fn line_and_column_are_one_based_characters() {
        assert_eq!(line_column("abc", 0), (1, 1));
        assert_eq!(line_column("ab\ncdé\nf", 7), (2, 4));
        assert_eq!(line_column("ab\ncdé\nf", 8), (3, 1));
        assert_eq!(line_column("ab\nédf", 6), (2, 3));
    }

    #[test]
    fn malformed_toml_names_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "[profiles.default]\njobs = = 3\n");
        let err = Config::load(&path).unwrap_err();
        let expected = format!("{}:2:8: invalid TOML", path.display());
        assert!(err.message().starts_with(&expected), "{}", err.message());
        assert_eq!(err.exit().code(), 2);
    }

    #[test]
    fn wrong_values_and_unknown_keys_point_at_themselves() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "[profiles.default]\nnamespace = \"ok\"\njobs = 0\n");
        let err = Config::load(&path).unwrap_err();
        assert!(
            err.message().contains("config.toml:3:8: jobs must be from 1 to 64"),
            "{}",
            err.message()
        );
        let path = write(dir.path(), "[profiles.ci]\n  namespce = \"x\"\n");
        let err = Config::load(&path).unwrap_err();
        assert!(
            err.message().contains("config.toml:2:3: unknown setting `namespce`"),
            "{}",
            err.message()
        );
        let path = write(dir.path(), "colour = 1\n");
        assert!(
            Config::load(&path)
                .unwrap_err()
                .message()
                .contains(":1:1: unknown table")
        );
    }

    #[test]
    fn profiles_in_file_order_and_unknown_profile_lists_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "[profiles.staging]\nnamespace = \"s\"\n[profiles.default]\njobs = 8\n[profiles.inline]\nx = {}\n",
        );
        assert!(Config::load(&path).is_err(), "x is not a setting");
        let path = write(
            dir.path(),
            "[profiles.staging]\nnamespace = \"s\"\n\n[profiles.default]\njobs = 8\n",
        );
        let config = Config::load(&path).unwrap();
        assert_eq!(config.names(), ["staging", "default"]);
        assert_eq!(
            config.get("default").unwrap().typed::<crate::settings::Jobs>(Key::Jobs),
            Some(crate::settings::Jobs::Fixed(8))
        );
        let explicit = Profile {
            name: "prod".into(),
            origin: Origin::Flag,
        };
        let err = config.values(&explicit).unwrap_err();
        assert!(
            err.message().contains("existing profiles: staging, default"),
            "{}",
            err.message()
        );
        let implicit = Profile {
            name: "other".into(),
            origin: Origin::Default,
        };
        assert_eq!(config.values(&implicit).unwrap(), FileValues::default());
    }

    #[test]
    fn missing_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::load(&dir.path().join("none.toml")).unwrap();
        assert!(config.names().is_empty());
        assert!(!config.file.exists());
    }

    #[test]
    fn edits_keep_comments_and_write_atomically_with_mode() {
        let dir = tempfile::tempdir().unwrap();
        let text = "# my capfile settings\n[profiles.default]\n# the EU host\nbase_url = \"https://eu.example.com\" # prod\njobs = 4\n";
        let path = write(dir.path(), text);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        }
        let file = TomlFile::read(&path).unwrap();
        let mut doc = file.document_mut().unwrap();
        let table = profile_table_mut(&mut doc, "default").unwrap();
        set_value(table, "base_url", "https://us.example.com".into());
        let table = profile_table_mut(&mut doc, "ci").unwrap();
        set_value(table, "jobs", 2.into());
        file.write(&doc, false).unwrap();
        let written = fs::read_to_string(&path).unwrap();
        assert_eq!(
            written,
            "# my capfile settings\n[profiles.default]\n# the EU host\nbase_url = \"https://us.example.com\" # prod\njobs = 4\n\n[profiles.ci]\njobs = 2\n"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
        }
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_config_is_written_through_the_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles.toml");
        fs::write(&real, "").unwrap();
        let link = dir.path().join("config.toml");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let file = TomlFile::read(&link).unwrap();
        let mut doc = file.document_mut().unwrap();
        set_value(profile_table_mut(&mut doc, "default").unwrap(), "jobs", 3.into());
        file.write(&doc, false).unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read_to_string(&real).unwrap(), "[profiles.default]\njobs = 3\n");
    }

    #[test]
    fn new_files_go_in_new_directories_and_private_ones_are_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a").join("b").join("credentials.toml");
        let file = TomlFile::read(&path).unwrap();
        let mut doc = file.document_mut().unwrap();
        set_value(profile_table_mut(&mut doc, "default").unwrap(), "k", "v".into());
        file.write(&doc, true).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn files_over_a_mebibyte_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = "# padding\n".repeat(110_000);
        text.push_str("[profiles.default]\njobs = 3\n");
        assert!(text.len() > 1 << 20);
        let path = write(dir.path(), &text);
        let err = TomlFile::read(&path).unwrap_err();
        assert_eq!(
            err.message(),
            format!("{}: larger than 1 MiB, which no capfile file is", path.display())
        );
        assert_eq!(err.exit().code(), 2);
        // Exactly the cap is still read.
        let path = write(dir.path(), &"#".repeat(1 << 20));
        assert!(TomlFile::read(&path).unwrap().exists());
    }

    #[cfg(unix)]
    #[test]
    fn an_endless_file_is_refused_without_reading_it_all() {
        // Refused for what it is, unread.
        let err = TomlFile::read(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(
            err.message(),
            "cannot read /dev/zero: it is a character device, not a regular file"
        );
        assert_eq!(err.exit().code(), 2);
    }

    #[cfg(unix)]
    #[test]
    fn new_directories_are_private_and_new_files_follow_the_umask_up_to_0644() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        let parent = dir.path().join("a").join("b");
        let path = parent.join("config.toml");
        let file = TomlFile::read(&path).unwrap();
        let mut doc = file.document_mut().unwrap();
        set_value(profile_table_mut(&mut doc, "default").unwrap(), "jobs", 3.into());
        file.write(&doc, false).unwrap();
        assert_eq!(mode(&parent), 0o700);
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        // The test process's umask narrows 0644 at most.
        assert_eq!(mode(&path) & !0o644, 0, "{:o}", mode(&path));
    }
}
