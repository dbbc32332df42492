//! The manifest and journal formats: rendering and parsing.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml_edit::{DocumentMut, Item, Table, Value};

use super::*;

pub(super) fn render(binding: &Binding, entries: &BTreeMap<String, Entry>) -> String {
    let mut doc = DocumentMut::new();
    let mut header = Table::new();
    header.decor_mut().set_prefix(
        "# capfile upload manifest: what was uploaded, so a re-run sends only what changed.\n\
         # Written by capfile; commit it with the files it describes.\n",
    );
    header.insert("format", Item::Value(Value::from(FORMAT_VERSION)));
    header.insert("origin", Item::Value(Value::from(binding.origin.as_str())));
    header.insert("namespace", Item::Value(Value::from(binding.namespace.as_str())));
    header.insert("body", Item::Value(Value::from(binding.body.as_str())));
    doc.insert("manifest", Item::Table(header));
    let mut files = Table::new();
    files.set_implicit(true);
    for (name, entry) in entries {
        let mut table = Table::new();
        table.decor_mut().set_prefix("\n");
        let mut put = |key: &str, value: Value| {
            table.insert(key, Item::Value(value));
        };
        put("sha256", Value::from(entry.sha256.as_str()));
        // TOML integers are i64; a size beyond that cannot exist on disk.
        put("size", Value::from(i64::try_from(entry.size).unwrap_or(i64::MAX)));
        put("content_type", Value::from(entry.content_type.as_str()));
        put("version", Value::from(entry.version.as_str()));
        if let Some(handle) = &entry.file_handle {
            put("file_handle", Value::from(handle.as_str()));
        }
        if let Some(s3_url) = &entry.s3_url {
            put("s3_url", Value::from(s3_url.as_str()));
        }
        put("secure_file_path", Value::from(entry.secure_file_path.as_str()));
        if let Some(at) = entry.url_expires_at {
            put("url_expires_at", Value::from(format_time(at)));
        }
        put("uploaded_at", Value::from(format_time(entry.uploaded_at)));
        files.insert(name, Item::Table(table));
    }
    doc.insert("files", Item::Table(files));
    doc.to_string()
}

/// Where a parse error points: 1-based lines of a text, found by a binary
/// search in the offsets where lines start, which are found once. (Counting
/// the newlines before each entry's offset made a parse quadratic in the
/// manifest's size: 20,000 entries took 100 s.)
pub(super) struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    pub(super) fn of(text: &str) -> Lines {
        #[cfg(test)]
        scanned::add(text.len());
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(at, _)| at + 1),
        );
        Lines { starts }
    }

    /// The line `span` starts on.
    pub(super) fn line(&self, span: Option<std::ops::Range<usize>>) -> Option<usize> {
        let offset = span?.start;
        // The number of line starts at or before `offset`.
        Some(self.starts.partition_point(|&start| start <= offset))
    }
}

/// Where a parse error points: a 1-based line of the text (for a single
/// error; use [`Lines`] for many).
pub(super) fn line_of(text: &str, span: Option<std::ops::Range<usize>>) -> Option<usize> {
    let offset = span?.start.min(text.len());
    #[cfg(test)]
    scanned::add(offset);
    Some(text.get(..offset).unwrap_or(text).matches('\n').count() + 1)
}

/// How many bytes of text this thread scanned for line numbers: a test
/// checks that a parse scans its text a bounded number of times, whatever
/// the number of entries (a count, not a timing, so it cannot flake).
#[cfg(test)]
pub(super) mod scanned {
    use std::cell::Cell;

    thread_local!(static SCANNED: Cell<usize> = const { Cell::new(0) });

    pub(in super::super) fn add(bytes: usize) {
        SCANNED.with(|n| n.set(n.get() + bytes));
    }

    /// Returns the count and starts again from zero.
    pub(in super::super) fn take() -> usize {
        SCANNED.with(|n| n.replace(0))
    }
}

/// The manifest's entries. A manifest as capfile writes it (and most hand
/// edits of one) is read a table at a time ([`parse_by_table`]): parsing the
/// whole file as one TOML document held about 9 KB per entry (900 MB for
/// 100,000 entries). Anything that path does not take whole, including every
/// error, is parsed as one document ([`parse_whole`]), which has the line
/// numbers for the error.
pub(super) fn parse_manifest(
    path: &Path,
    bytes: &[u8],
    binding: &Binding,
) -> Result<BTreeMap<String, Entry>, ManifestError> {
    if let Ok(text) = std::str::from_utf8(bytes)
        && let Some(entries) = parse_by_table(path, text, binding)
    {
        return Ok(entries);
    }
    parse_whole(path, bytes, binding)
}

/// The entries of `text` read one `[files."NAME"]` table at a time, or
/// `None` when anything is not as simple as that (then [`parse_whole`]
/// decides, and names the line of any error).
///
/// The text is cut before each line that starts with `[files.`; the part
/// before the first holds the `[manifest]` header. Each part must parse on
/// its own as TOML holding exactly one entry, and no name may come twice.
/// A cut inside a multi-line string would leave that string unterminated in
/// its part, which then does not parse: so when every part parses, the parts
/// mean what the whole means.
pub(super) fn parse_by_table(path: &Path, text: &str, binding: &Binding) -> Option<BTreeMap<String, Entry>> {
    let mut cuts: Vec<usize> = text.match_indices("\n[files.").map(|(at, _)| at + 1).collect();
    if text.starts_with("[files.") {
        cuts.insert(0, 0);
    }
    let header_end = cuts.first().copied().unwrap_or(text.len());
    // The header, checked as a whole manifest with no entries.
    let header = &text[..header_end];
    if !parse_whole(path, header.as_bytes(), binding).ok()?.is_empty() {
        return None;
    }
    let mut entries = BTreeMap::new();
    cuts.push(text.len());
    for part in cuts.windows(2).map(|w| &text[w[0]..w[1]]) {
        let doc = toml_edit::Document::parse(part).ok()?;
        let root = doc.as_table();
        let files = root.get("files")?.as_table()?;
        if root.len() != 1 || files.len() != 1 {
            return None;
        }
        let (name, item) = files.iter().next()?;
        let entry = entry_from_table(item.as_table()?).ok()?;
        if entries.insert(name.to_string(), entry).is_some() {
            return None;
        }
    }
    Some(entries)
}

/// The manifest parsed as one TOML document; see [`parse_manifest`].
pub(super) fn parse_whole(
    path: &Path,
    bytes: &[u8],
    binding: &Binding,
) -> Result<BTreeMap<String, Entry>, ManifestError> {
    let invalid = |line: Option<usize>, message: String| ManifestError::Invalid {
        path: path.to_path_buf(),
        line,
        message,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = line_of(&String::from_utf8_lossy(bytes), Some(e.valid_up_to()..e.valid_up_to()));
        invalid(line, "not UTF-8 text".into())
    })?;
    let doc = toml_edit::Document::parse(text).map_err(|e| {
        invalid(
            line_of(text, e.span()),
            format!("invalid TOML: {}", e.message().trim_end()),
        )
    })?;
    let root = doc.as_table();
    let header_line = check_header(path, text, root, binding)?;
    let mut entries = BTreeMap::new();
    let Some(files) = root.get("files") else {
        return Ok(entries);
    };
    let Some(files) = files.as_table() else {
        return Err(invalid(line_of(text, files.span()), "files is not a table".into()));
    };
    // Line numbers are needed only for an error, but are looked up once per
    // entry: through an index, so that the parse stays linear.
    let lines = Lines::of(text);
    for (name, item) in files.iter() {
        let Some(table) = item.as_table() else {
            return Err(invalid(
                lines.line(item.span()),
                format!("files.{name:?} is not a table"),
            ));
        };
        let entry = entry_from_table(table).map_err(|(span, message)| {
            let line = lines.line(span).or(lines.line(table.span())).or(header_line);
            invalid(line, format!("entry {name:?}: {message}"))
        })?;
        entries.insert(name.to_string(), entry);
    }
    Ok(entries)
}

/// Checks the `[manifest]` table: its format, and that it is bound to this
/// origin, namespace and body format; gives its line.
fn check_header(path: &Path, text: &str, root: &Table, binding: &Binding) -> Result<Option<usize>, ManifestError> {
    let invalid = |line: Option<usize>, message: String| ManifestError::Invalid {
        path: path.to_path_buf(),
        line,
        message,
    };
    let Some(header) = root.get("manifest").and_then(Item::as_table) else {
        return Err(invalid(Some(1), "not a capfile manifest (no [manifest] table)".into()));
    };
    let header_line = line_of(text, header.span()).or(Some(1));
    let format = match header.get("format") {
        Some(item) => item
            .as_integer()
            .ok_or_else(|| invalid(line_of(text, item.span()), "format is not an integer".into()))?,
        None => return Err(invalid(header_line, "the [manifest] table has no format".into())),
    };
    if format != FORMAT_VERSION {
        return Err(invalid(
            line_of(text, header.get("format").and_then(Item::span)),
            format!(
                "manifest format {format} is not supported (this capfile reads format {FORMAT_VERSION}; a newer capfile may have written it)"
            ),
        ));
    }
    for (field, expected) in [
        ("origin", &binding.origin),
        ("namespace", &binding.namespace),
        ("body", &binding.body),
    ] {
        let found = match header.get(field) {
            Some(item) => item
                .as_str()
                .ok_or_else(|| invalid(line_of(text, item.span()), format!("{field} is not a string")))?,
            None => return Err(invalid(header_line, format!("the [manifest] table has no {field}"))),
        };
        if found != expected {
            return Err(ManifestError::WrongBinding {
                path: path.to_path_buf(),
                field,
                found: found.to_string(),
                expected: expected.clone(),
            });
        }
    }
    Ok(header_line)
}

type FieldError = (Option<std::ops::Range<usize>>, String);

pub(super) fn entry_from_table(table: &Table) -> Result<Entry, FieldError> {
    let text = |key: &str| -> Result<Option<String>, FieldError> {
        match table.get(key) {
            None => Ok(None),
            Some(item) => match item.as_value() {
                Some(Value::String(s)) => Ok(Some(s.value().clone())),
                // A hand edit may turn a time into a TOML datetime.
                Some(Value::Datetime(d)) => Ok(Some(d.value().to_string())),
                _ => Err((item.span(), format!("{key} is not a string"))),
            },
        }
    };
    let required = |key: &str| -> Result<String, FieldError> { text(key)?.ok_or_else(|| (None, format!("no {key}"))) };
    let size = match table.get("size") {
        Some(item) => item
            .as_integer()
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| (item.span(), "size is not a non-negative integer".to_string()))?,
        None => return Err((None, "no size".into())),
    };
    let time_field = |key: &str, value: String| {
        parse_time(&value).ok_or_else(|| {
            (
                table.get(key).and_then(Item::span),
                format!("{key} is not a time like 2024-05-08T03:40:59Z"),
            )
        })
    };
    let fields = RawEntry {
        sha256: required("sha256")?,
        size,
        content_type: required("content_type")?,
        version: required("version")?,
        file_handle: text("file_handle")?,
        s3_url: text("s3_url")?,
        secure_file_path: required("secure_file_path")?,
        url_expires_at: text("url_expires_at")?,
        uploaded_at: required("uploaded_at")?,
    };
    if !is_sha256(&fields.sha256) {
        return Err((
            table.get("sha256").and_then(Item::span),
            "sha256 is not 64 hex digits".into(),
        ));
    }
    if let Err((key, problem)) = check_shown_fields(&fields) {
        return Err((table.get(key).and_then(Item::span), format!("{key} {problem}")));
    }
    Ok(Entry {
        sha256: fields.sha256.to_ascii_lowercase(),
        size: fields.size,
        content_type: fields.content_type,
        version: fields.version,
        file_handle: fields.file_handle,
        s3_url: fields.s3_url,
        secure_file_path: fields.secure_file_path,
        url_expires_at: fields
            .url_expires_at
            .map(|v| time_field("url_expires_at", v))
            .transpose()?,
        uploaded_at: time_field("uploaded_at", fields.uploaded_at)?,
    })
}

/// Guarantee 4 for a manifest: the fields capfile prints from an entry get
/// the same checks as a server's answer ([`crate::api::is_version`],
/// [`crate::api::secure_url_problem`]), and the other text fields hold no
/// control or invisible characters, so that a hand-edited (or hostile)
/// manifest cannot forge an output row or steer a terminal. A manifest that
/// fails them is refused with the line of the field (exit 2), like one that
/// does not parse. Returns the field and what is wrong with it.
pub(super) fn check_shown_fields(fields: &RawEntry) -> Result<(), (&'static str, &'static str)> {
    // An upload whose answer had no version is recorded with an empty one.
    if !fields.version.is_empty() && !crate::api::is_version(&fields.version) {
        return Err(("version", "is not an integer (digits only)"));
    }
    if let Some(problem) = crate::api::secure_url_problem(&fields.secure_file_path) {
        return Err(("secure_file_path", problem));
    }
    let plain = [
        ("content_type", Some(&fields.content_type)),
        ("file_handle", fields.file_handle.as_ref()),
        ("s3_url", fields.s3_url.as_ref()),
    ];
    for (key, value) in plain {
        if value.is_some_and(|v| v.chars().any(unprintable)) {
            return Err((key, "holds control or invisible characters"));
        }
    }
    Ok(())
}

/// Characters that must not be printed raw: controls (C0, DEL, C1), line and
/// paragraph separators, bidirectional controls and zero-width characters.
fn unprintable(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
        )
}

pub(super) fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// An entry's fields as text, before their times are checked.
pub(super) struct RawEntry {
    sha256: String,
    size: u64,
    content_type: String,
    version: String,
    file_handle: Option<String>,
    s3_url: Option<String>,
    secure_file_path: String,
    url_expires_at: Option<String>,
    uploaded_at: String,
}

/// The journal's first line.
#[derive(Serialize, Deserialize)]
pub(super) struct JournalHeader {
    journal: i64,
    origin: String,
    namespace: String,
    body: String,
}

impl JournalHeader {
    pub(super) fn of(binding: &Binding) -> Self {
        JournalHeader {
            journal: FORMAT_VERSION,
            origin: binding.origin.clone(),
            namespace: binding.namespace.clone(),
            body: binding.body.clone(),
        }
    }
}

/// One recorded upload in the journal.
#[derive(Serialize, Deserialize)]
pub(super) struct JournalLine {
    name: String,
    sha256: String,
    size: u64,
    content_type: String,
    version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    file_handle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s3_url: Option<String>,
    secure_file_path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    url_expires_at: Option<String>,
    uploaded_at: String,
}

impl JournalLine {
    pub(super) fn of(name: &str, entry: &Entry) -> Self {
        JournalLine {
            name: name.to_string(),
            sha256: entry.sha256.clone(),
            size: entry.size,
            content_type: entry.content_type.clone(),
            version: entry.version.clone(),
            file_handle: entry.file_handle.clone(),
            s3_url: entry.s3_url.clone(),
            secure_file_path: entry.secure_file_path.clone(),
            url_expires_at: entry.url_expires_at.map(format_time),
            uploaded_at: format_time(entry.uploaded_at),
        }
    }

    fn into_entry(self) -> Option<(String, Entry)> {
        if !is_sha256(&self.sha256) {
            return None;
        }
        let shown = RawEntry {
            sha256: String::new(),
            size: self.size,
            content_type: self.content_type.clone(),
            version: self.version.clone(),
            file_handle: self.file_handle.clone(),
            s3_url: self.s3_url.clone(),
            secure_file_path: self.secure_file_path.clone(),
            url_expires_at: None,
            uploaded_at: String::new(),
        };
        check_shown_fields(&shown).ok()?;
        let url_expires_at = match self.url_expires_at {
            Some(at) => Some(parse_time(&at)?),
            None => None,
        };
        Some((
            self.name,
            Entry {
                sha256: self.sha256.to_ascii_lowercase(),
                size: self.size,
                content_type: self.content_type,
                version: self.version,
                file_handle: self.file_handle,
                s3_url: self.s3_url,
                secure_file_path: self.secure_file_path,
                url_expires_at,
                uploaded_at: parse_time(&self.uploaded_at)?,
            },
        ))
    }
}

/// The journal's entries, in order. A last line without its newline was torn
/// by a kill and is ignored; any other bad line is an error.
pub(super) fn parse_journal(
    path: &Path,
    bytes: &[u8],
    binding: &Binding,
) -> Result<Vec<(String, Entry)>, ManifestError> {
    let complete = match bytes.iter().rposition(|&b| b == b'\n') {
        Some(last) => &bytes[..=last],
        None => &[][..],
    };
    let mut entries = Vec::new();
    for (index, line) in complete.split(|&b| b == b'\n').enumerate() {
        let number = index + 1;
        if index == 0 {
            if line.is_empty() && complete.is_empty() {
                break;
            }
            let header: JournalHeader = serde_json::from_slice(line).map_err(|e| ManifestError::Invalid {
                path: path.to_path_buf(),
                line: Some(number),
                message: format!("invalid journal header: {e}"),
            })?;
            for (field, found, expected) in [
                ("origin", header.origin, &binding.origin),
                ("namespace", header.namespace, &binding.namespace),
                ("body", header.body, &binding.body),
            ] {
                if &found != expected {
                    return Err(ManifestError::WrongBinding {
                        path: path.to_path_buf(),
                        field,
                        found,
                        expected: expected.clone(),
                    });
                }
            }
            continue;
        }
        if line.is_empty() {
            // What follows the last newline: nothing.
            continue;
        }
        let entry = serde_json::from_slice::<JournalLine>(line)
            .ok()
            .and_then(JournalLine::into_entry)
            .ok_or_else(|| ManifestError::Invalid {
                path: path.to_path_buf(),
                line: Some(number),
                message: "invalid journal entry".into(),
            })?;
        entries.push(entry);
    }
    Ok(entries)
}
