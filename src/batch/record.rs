//! The record of one input: what happened to it, and enough about the run it
//! belongs to that `--retry-from` can refuse a report from another service.
//!
//! Records are written as one JSON object per line (NDJSON) to `--report` and,
//! with `-o records`, to standard output. Every field is always present (`null`
//! when it does not apply), so `jq` filters never meet a missing key, and the
//! run binding (`profile`, `origin`, `namespace`) is repeated on every record
//! rather than written once in a header line: a report cut short by a crash, or
//! filtered with `grep`/`jq`, still says where each record belongs.
//!
//! `schema` is the version of this layout. It changes only when a field changes
//! meaning or disappears; new fields may be added within a version, so readers
//! ignore fields they do not know.

use serde::{Deserialize, Serialize};

/// The layout version written in every record's `schema` field.
pub(crate) const SCHEMA: u32 = 1;

/// How one input ended. Every input ends in exactly one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Outcome {
    /// The server stored it.
    Uploaded,
    /// It was sent (or tried) and did not succeed.
    Failed,
    /// Not sent because it is unchanged since a recorded upload (manifest).
    Skipped,
    /// Never tried: the batch stopped first (Ctrl-C, fail-fast, auth error).
    NotAttempted,
}

impl Outcome {
    /// Whether `--retry-from` sends this input again.
    pub(crate) fn needs_retry(self) -> bool {
        matches!(self, Outcome::Failed | Outcome::NotAttempted)
    }

    /// The word used in records and summaries.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Outcome::Uploaded => "uploaded",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
            Outcome::NotAttempted => "not_attempted",
        }
    }
}

/// The service a run talked to. A report is only replayed against the same one:
/// retrying another cluster's failures there would upload the wrong set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Binding {
    /// The profile name, `null` when none was used.
    pub profile: Option<String>,
    /// `scheme://host[:port]` of the base URL, no path, no credentials.
    pub origin: String,
    /// The file-service namespace the names were uploaded under.
    pub namespace: String,
}

impl Binding {
    /// How the binding reads in an error message.
    pub(crate) fn describe(&self) -> String {
        let profile = match &self.profile {
            Some(p) => format!("profile `{p}`"),
            None => "no profile".to_string(),
        };
        format!("{profile}, {} namespace `{}`", self.origin, self.namespace)
    }
}

/// One input's record. Field order here is the order in the JSON line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Record {
    /// Always [`SCHEMA`] when written by this version.
    pub schema: u32,
    /// The input path as given on the command line (or found under a directory);
    /// a path that is not UTF-8 is written with U+FFFD in place of bad bytes,
    /// and its bytes are kept in `input_bytes`.
    pub input: String,
    /// The input path's bytes in base64 (standard, padded), only when the
    /// path is not UTF-8; `--retry-from` finds the file by them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_bytes: Option<String>,
    /// The remote name it was (or would have been) uploaded under.
    pub name: String,
    pub outcome: Outcome,
    /// The version the server gave the stored file.
    #[serde(default)]
    pub version: Option<u64>,
    #[serde(default)]
    pub file_handle: Option<String>,
    /// The secure URL of the stored file (`secureFilePath` in the server's body).
    #[serde(default)]
    pub secure_file_path: Option<String>,
    /// The HTTP status of the last response, `null` when none was received.
    #[serde(default)]
    pub status: Option<u16>,
    /// Why it failed or was not attempted, one line; `null` when uploaded.
    #[serde(default)]
    pub error: Option<String>,
    /// The server's request id (`X-Cap-Requestid`) of the last response.
    #[serde(default)]
    pub request_id: Option<String>,
    /// Requests sent for this input, retries included (0 if never sent).
    #[serde(default)]
    pub attempts: u32,
    /// Size of the input file in bytes.
    #[serde(default)]
    pub bytes: Option<u64>,
    /// The image's width and height in pixels, from its header; `null` for
    /// an SVG with no intrinsic size, a placeholder or a file that is not an
    /// image.
    #[serde(default)]
    pub width: Option<u32>,
    #[serde(default)]
    pub height: Option<u32>,
    /// The image format (`png`, `jpeg`, ...), from its bytes.
    #[serde(default)]
    pub format: Option<String>,
    /// Time from the first request to the outcome, in milliseconds.
    #[serde(default)]
    pub elapsed_ms: u64,
    /// Part of `elapsed_ms` spent waiting for a rate limit (429s, `--rate`).
    #[serde(default)]
    pub rate_wait_ms: u64,
    /// The server's JSON body of the last response, when it was JSON and
    /// at most [`MAX_RECORDED_RESPONSE`] bytes.
    #[serde(default)]
    pub response: Option<serde_json::Value>,
    /// The answer was JSON but larger than [`MAX_RECORDED_RESPONSE`], so
    /// `response` is left out (null) rather than copied into every record.
    #[serde(default)]
    pub response_truncated: bool,
    /// Skipped (manifest): whether its recorded `secure_file_path` has
    /// expired (or expires within 5 minutes); absent for other outcomes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_expired: Option<bool>,
    /// Uploaded after a retry that followed a failure after the whole body
    /// was sent (a 500/502/504, a timeout): the service may hold an extra
    /// version. Written only when true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub maybe_duplicate: bool,
    /// What the transforms did (`--fit`, `--strip-metadata`, ...), when the
    /// image sent is not the source's bytes.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub fit: Option<Fitted>,
    /// The uploads allowed in flight at once when this one started (the
    /// level `--jobs auto` had found, or `--jobs N`); absent when not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    #[serde(flatten)]
    pub binding: Binding,
}

/// What was sent in place of a transformed source: `width`, `height` and
/// `format` of the record are those of the image sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Fitted {
    /// What was done, in order, e.g. `fit 4000x3000->2048x1536`.
    pub transforms: Vec<String>,
    pub original_bytes: u64,
    pub original_width: Option<u32>,
    pub original_height: Option<u32>,
    pub original_format: String,
    pub sent_bytes: u64,
    /// SHA-256 of the bytes sent, lower-case hex.
    pub sent_sha256: String,
}

/// The largest server answer a record keeps whole in `response`: the
/// service's answer is under 2 KB, and a record is one line of a report.
pub(crate) const MAX_RECORDED_RESPONSE: usize = 16 * 1024;

/// `path`'s bytes in base64 when it is not UTF-8 (its `input` is then
/// lossy), for a record's `input_bytes`.
pub(crate) fn input_bytes_of(path: &std::path::Path) -> Option<String> {
    use base64::Engine;
    if path.to_str().is_some() {
        return None;
    }
    Some(base64::engine::general_purpose::STANDARD.encode(path.as_os_str().as_encoded_bytes()))
}

/// The path a record names: its `input_bytes` when it has them (decoded),
/// else its `input`.
pub(crate) fn path_of(input: &str, input_bytes: Option<&str>) -> std::path::PathBuf {
    use base64::Engine;
    let bytes = input_bytes.and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok());
    match bytes {
        #[cfg(unix)]
        Some(bytes) => {
            use std::os::unix::ffi::OsStringExt;
            std::ffi::OsString::from_vec(bytes).into()
        }
        _ => std::path::PathBuf::from(input),
    }
}

impl Record {
    /// Keeps the server's answer `raw` in `response` when it is JSON and
    /// small enough; a larger one is left out and `response_truncated` set.
    pub(crate) fn keep_response(&mut self, raw: &[u8]) {
        if raw.len() > MAX_RECORDED_RESPONSE {
            self.response = None;
            self.response_truncated = serde_json::from_slice::<serde::de::IgnoredAny>(raw).is_ok();
        } else {
            self.response = serde_json::from_slice(raw).ok();
            self.response_truncated = false;
        }
    }

    /// A record with the given outcome and every optional field empty.
    pub(crate) fn new(input: impl Into<String>, name: impl Into<String>, outcome: Outcome, binding: Binding) -> Self {
        Record {
            schema: SCHEMA,
            input: input.into(),
            input_bytes: None,
            name: name.into(),
            outcome,
            version: None,
            file_handle: None,
            secure_file_path: None,
            status: None,
            error: None,
            request_id: None,
            attempts: 0,
            bytes: None,
            width: None,
            height: None,
            format: None,
            elapsed_ms: 0,
            rate_wait_ms: 0,
            response: None,
            response_truncated: false,
            url_expired: None,
            maybe_duplicate: false,
            fit: None,
            concurrency: None,
            binding,
        }
    }

    /// Sets the error, kept to one line: line breaks and other control
    /// characters become spaces, so a record never spans two lines of a log.
    pub(crate) fn with_error(mut self, error: &str) -> Self {
        self.error = Some(one_line(error));
        self
    }

    /// Fills `width`, `height` and `format` from the image at `path`, read
    /// again from its header (the batch does not hold them: a few bytes read
    /// per record keep a batch's memory flat).
    pub(crate) fn with_image_of(mut self, path: Option<&std::path::Path>) -> Self {
        if let Some(facts) = path.and_then(|path| crate::image::read_path(path, "").ok()) {
            self.width = facts.width;
            self.height = facts.height;
            self.format = Some(facts.format.name().to_string());
        }
        self
    }

    /// The record as one JSON line, without the trailing newline.
    pub(crate) fn to_line(&self) -> String {
        // Serializing plain data with string keys cannot fail; fall back to a
        // minimal record rather than panic if it ever did.
        serde_json::to_string(self).unwrap_or_else(|e| {
            serde_json::json!({
                "schema": SCHEMA,
                "input": self.input,
                "name": self.name,
                "outcome": self.outcome.as_str(),
                "error": format!("cannot write this record: {e}"),
            })
            .to_string()
        })
    }
}

/// `text` with every control character (line breaks included) replaced by a
/// space and runs of whitespace collapsed, trimmed.
pub(crate) fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split(|c: char| c.is_whitespace() || c.is_control()) {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
pub(crate) fn test_binding() -> Binding {
    Binding {
        profile: Some("dev".into()),
        origin: "http://127.0.0.1:8080".into(),
        namespace: "ns".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_one_line_with_every_field_in_order() {
        let mut r = Record::new("dir/a.png", "a.png", Outcome::Uploaded, test_binding());
        r.version = Some(3);
        r.status = Some(200);
        r.response = Some(serde_json::json!({"secureFilePath": "https://s/a"}));
        let line = r.to_line();
        assert!(!line.contains('\n'));
        let keys: Vec<String> = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&line)
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(
            keys,
            [
                "schema",
                "input",
                "name",
                "outcome",
                "version",
                "file_handle",
                "secure_file_path",
                "status",
                "error",
                "request_id",
                "attempts",
                "bytes",
                "width",
                "height",
                "format",
                "elapsed_ms",
                "rate_wait_ms",
                "response",
                "response_truncated",
                "profile",
                "origin",
                "namespace"
            ]
        );
        assert!(
            line.starts_with(r#"{"schema":1,"input":"dir/a.png","name":"a.png","outcome":"uploaded","version":3,"#)
        );
        assert!(line.contains(r#""file_handle":null"#), "absent fields are null: {line}");
    }

    #[test]
    fn origins_are_normalized_and_hold_no_credentials() {
        for (url, origin) in [
            ("HTTPS://Eu.Example:443/v2/?sig=s", "https://eu.example"),
            ("http://user:pass@127.0.0.1:8080/base", "http://127.0.0.1:8080"),
            ("http://[::1]:80", "http://[::1]"),
        ] {
            assert_eq!(crate::settings::origin_of(&url::Url::parse(url).unwrap()), origin);
        }
    }

    #[test]
    fn records_round_trip() {
        let mut r = Record::new("a.png", "x/a.png", Outcome::NotAttempted, test_binding()).with_error("stopped");
        r.binding.profile = None;
        let back: Record = serde_json::from_str(&r.to_line()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn outcomes_are_snake_case_and_only_failures_are_retried() {
        for (o, word, retry) in [
            (Outcome::Uploaded, "uploaded", false),
            (Outcome::Failed, "failed", true),
            (Outcome::Skipped, "skipped", false),
            (Outcome::NotAttempted, "not_attempted", true),
        ] {
            assert_eq!(serde_json::to_string(&o).unwrap(), format!("\"{word}\""));
            assert_eq!(o.as_str(), word);
            assert_eq!(o.needs_retry(), retry);
        }
    }

    #[test]
    fn errors_are_kept_to_one_line() {
        let r =
            Record::new("a", "a", Outcome::Failed, test_binding()).with_error("HTTP 500:\n  boom\r\n\u{1b}[31mred\t");
        assert_eq!(r.error.as_deref(), Some("HTTP 500: boom [31mred"));
    }

    #[test]
    fn unknown_fields_are_ignored_and_missing_optional_ones_default() {
        let line = r#"{"schema":1,"input":"a","name":"a","outcome":"failed","future":1,"profile":null,"origin":"http://h","namespace":"n"}"#;
        let r: Record = serde_json::from_str(line).unwrap();
        assert_eq!(r.outcome, Outcome::Failed);
        assert_eq!(r.attempts, 0);
        assert_eq!(r.response, None);
    }
}
