//! The one scrubber: every text a server sends (bodies, header values, the
//! request id) passes through here as it enters capfile, before anything
//! parses, cuts, records, prints or traces it, and loses every form of this
//! run's secrets. Base URLs are redacted here too, from the parsed URL.
//!
//! A run's secrets are remembered as they come into being: the raw password
//! when it is hashed (`credentials::md5_hex`), the MD5, the Basic header value
//! and the OAuth client secret when the client is built, each OAuth token as
//! it is received. Each is matched in every form a server might echo it in:
//! as it is, JSON-escaped (`\/`, `\uXXXX`), percent-encoded (any case), and
//! inside base64 text at any alignment; matching ignores ASCII case. Text that
//! still holds a secret once percent- or JSON-decoded is replaced by its
//! decoded, scrubbed self. Values shorter than [`MIN_SECRET`] characters are
//! not matched: they would turn ordinary text into `REDACTED`.
//!
//! The secrets are process-wide ([`remember`], [`scrub`]) so that every path
//! uses the same set; [`Scrubber`] is the set itself, for tests.

use std::borrow::Cow;
use std::sync::{Arc, RwLock};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use base64::Engine;
use bytes::Bytes;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use url::Url;

/// What stands in for a secret.
pub(crate) const REDACTED: &str = "REDACTED";

/// The shortest value matched as a secret.
pub(crate) const MIN_SECRET: usize = 4;

/// How many times decoding is tried on text that is encoded more than once.
const DECODE_ROUNDS: usize = 3;

/// A set of secrets and the automaton that finds any form of them.
#[derive(Clone, Default)]
pub(crate) struct Scrubber {
    secrets: Vec<String>,
    finder: Option<Arc<AhoCorasick>>,
}

impl Scrubber {
    /// Adds `secret` (and every form of it); returns whether it was new.
    pub(crate) fn add(&mut self, secret: &str) -> bool {
        if secret.chars().count() < MIN_SECRET || self.secrets.iter().any(|s| s == secret) {
            return false;
        }
        self.secrets.push(secret.to_string());
        let mut patterns: Vec<String> = self.secrets.iter().flat_map(|s| forms(s)).collect();
        patterns.sort();
        patterns.dedup();
        self.finder = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .ok()
            .map(Arc::new);
        true
    }

    /// Drops `value` from the secrets: a value shown on purpose (the user
    /// name) is not one, even when a password equals it.
    pub(crate) fn remove(&mut self, value: &str) {
        let before = self.secrets.len();
        self.secrets.retain(|s| s != value);
        if self.secrets.len() != before {
            let rest = std::mem::take(&mut self.secrets);
            *self = Scrubber::default();
            for secret in rest {
                self.add(&secret);
            }
        }
    }

    /// `text` with every form of every secret replaced by [`REDACTED`].
    pub(crate) fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let Some(finder) = &self.finder else {
            return Cow::Borrowed(text);
        };
        let mut out: Cow<'a, str> = replace(finder, text);
        // A secret that is only partly escaped, or escaped twice, shows once
        // the text is decoded: then the decoded text is what is kept.
        let mut view = decode_once(&out);
        for _ in 0..DECODE_ROUNDS {
            let Some(decoded) = view else { break };
            if finder.is_match(&decoded) {
                let clean = replace(finder, &decoded).into_owned();
                view = decode_once(&clean);
                out = Cow::Owned(clean);
            } else {
                view = decode_once(&decoded);
            }
        }
        out
    }

    /// A body as received, scrubbed. JSON stays JSON: its strings and keys
    /// are scrubbed one by one (after JSON decoding), and the body is written
    /// again only when one held a secret. Other bytes are scrubbed as text,
    /// or byte for byte when they are not UTF-8.
    pub(crate) fn scrub_body(&self, body: Bytes) -> Bytes {
        let Some(finder) = &self.finder else { return body };
        let Ok(text) = std::str::from_utf8(&body) else {
            let mut out = Vec::with_capacity(body.len());
            finder.replace_all_with_bytes(&body, &mut out, |_, _, dst| {
                dst.extend_from_slice(REDACTED.as_bytes());
                true
            });
            return Bytes::from(out);
        };
        if let Ok(mut value) = serde_json::from_str::<serde_json::Value>(text) {
            if !self.scrub_json(&mut value) && !finder.is_match(text) {
                return body;
            }
            let written = serde_json::to_string(&value).unwrap_or_default();
            return Bytes::from(replace(finder, &written).into_owned());
        }
        match self.scrub(text) {
            Cow::Borrowed(_) => body,
            Cow::Owned(text) => Bytes::from(text),
        }
    }

    /// Scrubs every string and key of `value`; whether any changed.
    fn scrub_json(&self, value: &mut serde_json::Value) -> bool {
        use serde_json::Value;
        match value {
            Value::String(text) => match self.scrub(text) {
                Cow::Owned(clean) => {
                    *text = clean;
                    true
                }
                Cow::Borrowed(_) => false,
            },
            Value::Array(items) => items.iter_mut().fold(false, |changed, v| self.scrub_json(v) | changed),
            Value::Object(map) => {
                let old = std::mem::take(map);
                let mut changed = false;
                for (key, mut v) in old {
                    changed |= self.scrub_json(&mut v);
                    let clean = self.scrub(&key).into_owned();
                    changed |= clean != key;
                    map.insert(clean, v);
                }
                changed
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => false,
        }
    }
}

fn replace<'a>(finder: &AhoCorasick, text: &'a str) -> Cow<'a, str> {
    if finder.is_match(text) {
        Cow::Owned(finder.replace_all(text, &vec![REDACTED; finder.patterns_len()]))
    } else {
        Cow::Borrowed(text)
    }
}

/// `text` percent-decoded and then JSON-unescaped, when either changes it.
fn decode_once(text: &str) -> Option<String> {
    match percent_decoded(text) {
        Some(decoded) => Some(json_unescaped(&decoded).unwrap_or(decoded)),
        None => json_unescaped(text),
    }
}

/// `text` percent-decoded, when it has anything to decode.
fn percent_decoded(text: &str) -> Option<String> {
    text.contains('%')
        .then(|| percent_decode_str(text).decode_utf8_lossy().into_owned())
        .filter(|decoded| decoded != text)
}

/// `text` with JSON string escapes (`\"`, `\/`, `\n`, `\uXXXX`, ...)
/// decoded, when it has any; escapes that are not JSON's stay as they are.
fn json_unescaped(text: &str) -> Option<String> {
    if !text.contains('\\') {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let (decoded, used) = match rest.as_bytes().get(1) {
            Some(b'u') => match rest.get(2..6).and_then(|hex| u32::from_str_radix(hex, 16).ok()) {
                Some(code) => (char::from_u32(code).unwrap_or('\u{fffd}'), 6),
                None => ('\\', 1),
            },
            Some(&b) => match b {
                b'"' | b'\\' | b'/' => (b as char, 2),
                b'n' => ('\n', 2),
                b't' => ('\t', 2),
                b'r' => ('\r', 2),
                b'b' => ('\u{8}', 2),
                b'f' => ('\u{c}', 2),
                _ => ('\\', 1),
            },
            None => ('\\', 1),
        };
        out.push(decoded);
        rest = &rest[used..];
    }
    out.push_str(rest);
    (out != text).then_some(out)
}

/// Characters kept as they are by percent-encoders that leave RFC 3986's
/// unreserved characters alone.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Every form in which `secret` is looked for (matched ignoring ASCII case).
pub(crate) fn forms(secret: &str) -> Vec<String> {
    let mut out = vec![secret.to_string()];
    // JSON: as serde writes it, with `/` escaped, and every character escaped.
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json[1..json.len() - 1].to_string();
    out.push(json.replace('/', "\\/"));
    out.push(json);
    let mut units = [0u16; 2];
    out.push(
        secret
            .chars()
            .flat_map(|c| c.encode_utf16(&mut units).to_vec())
            .map(|unit| format!("\\u{unit:04x}"))
            .collect(),
    );
    // Percent-encoded: everything but letters and digits, every byte, and the
    // unreserved set kept (space as `%20` or `+`).
    out.push(utf8_percent_encode(secret, NON_ALPHANUMERIC).to_string());
    out.push(utf8_percent_encode(secret, COMPONENT).to_string());
    out.push(utf8_percent_encode(secret, COMPONENT).to_string().replace("%20", "+"));
    out.push(secret.bytes().map(|b| format!("%{b:02x}")).collect());
    out.extend(base64_cores(secret.as_bytes()));
    out.retain(|form| form.len() >= MIN_SECRET);
    out.sort();
    out.dedup();
    out
}

/// The base64 text that `bytes` always turns into, wherever it starts inside
/// longer data: one core per alignment, for the standard and URL-safe
/// alphabets, without the characters its neighbours would change.
fn base64_cores(bytes: &[u8]) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let mut out = Vec::new();
    for shift in 0..3usize {
        let mut data = vec![0u8; shift];
        data.extend_from_slice(bytes);
        let whole = (data.len() / 3) * 3;
        if whole <= shift {
            continue;
        }
        // Leading characters mix in the shift bytes; a trailing partial group
        // would mix in what follows.
        let skip = if shift == 0 { 0 } else { (shift * 8).div_ceil(6) };
        for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            let text = engine.encode(&data[..whole]);
            if let Some(core) = text.get(skip..)
                && core.len() >= 2 * MIN_SECRET
            {
                out.push(core.to_string());
            }
        }
    }
    out
}

/// The secrets of this run.
static RUN: RwLock<Option<Scrubber>> = RwLock::new(None);

/// Adds a secret of this run: from now on no form of it passes [`scrub`].
pub(crate) fn remember(secret: &str) {
    if let Ok(mut run) = RUN.write() {
        run.get_or_insert_with(Scrubber::default).add(secret);
    }
}

/// Marks `value` as shown on purpose (the user name): it is not scrubbed,
/// even if a password equal to it was remembered.
pub(crate) fn public(value: &str) {
    if let Ok(mut run) = RUN.write()
        && let Some(scrubber) = run.as_mut()
    {
        scrubber.remove(value);
    }
}

/// The run's scrubber, as it is now.
pub(crate) fn run_scrubber() -> Scrubber {
    RUN.read().ok().and_then(|run| run.clone()).unwrap_or_default()
}

/// `text` (a server's) without any form of this run's secrets.
pub(crate) fn scrub(text: &str) -> Cow<'_, str> {
    let scrubber = run_scrubber();
    match scrubber.scrub(text) {
        Cow::Borrowed(_) => Cow::Borrowed(text),
        Cow::Owned(clean) => Cow::Owned(clean),
    }
}

/// A body as a server sent it, without any form of this run's secrets.
pub(crate) fn scrub_body(body: Bytes) -> Bytes {
    run_scrubber().scrub_body(body)
}

/// Header values as received, each scrubbed (a value that held a secret and
/// is not text once scrubbed is dropped).
pub(crate) fn scrub_headers(headers: &reqwest::header::HeaderMap) -> reqwest::header::HeaderMap {
    let scrubber = run_scrubber();
    let mut out = reqwest::header::HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let text = String::from_utf8_lossy(value.as_bytes());
        match scrubber.scrub(&text) {
            Cow::Borrowed(_) => {
                out.append(name.clone(), value.clone());
            }
            Cow::Owned(clean) => {
                if let Ok(value) = reqwest::header::HeaderValue::from_str(&clean) {
                    out.append(name.clone(), value);
                }
            }
        }
    }
    out
}

/// A base URL as it may be shown: a user name or password in it, wherever
/// the parser finds one (`https:///u:pw@host` has one), replaced by `***`.
/// Text that does not parse as a URL with a host (`user:pw@host` parses as
/// the scheme `user`) has everything between its scheme and its last
/// `@` replaced, since what a parser would take as user info cannot be told.
pub(crate) fn redact_url_userinfo(text: &str) -> String {
    if let Ok(url) = Url::parse(text)
        && url.has_host()
    {
        if url.username().is_empty() && url.password().is_none() {
            return text.to_string();
        }
        let mut shown = format!("{}://***@", url.scheme());
        shown.push_str(url.host_str().unwrap_or_default());
        if let Some(port) = url.port() {
            shown.push_str(&format!(":{port}"));
        }
        shown.push_str(&url[url::Position::BeforePath..]);
        return shown;
    }
    match text.rfind('@') {
        Some(at) => {
            let start = text.find(':').map_or(0, |i| i + 1);
            let start = start + text[start..].len() - text[start..].trim_start_matches(['/', '\\']).len();
            if start <= at {
                format!("{}***{}", &text[..start], &text[at..])
            } else {
                text.to_string()
            }
        }
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests;
