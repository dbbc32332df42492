//! Answers that come from something between capfile and the file service: a
//! gateway's HTML error page (nginx's 502, a CDN's 503), a login portal's
//! 200 page, a body compressed though capfile asked for no compression.
//!
//! Such answers are not the service's JSON, and saying "the body is not
//! JSON" or quoting 200 characters of flattened markup tells users nothing.
//! [`describe_body`] says what came instead (content type, encoding, the
//! page's title or first heading) and [`gateway_request_id`] finds the id a
//! gateway puts on its own answers, for its operators.

use reqwest::header::{self, HeaderMap};

/// The longest title shown, in characters.
const MAX_TITLE: usize = 120;

/// What a body that is not the service's JSON is, in words; `None` when
/// nothing better than "not JSON" can be said.
pub(super) fn describe_body(headers: &HeaderMap, raw: &[u8]) -> Option<String> {
    let content_type = header_text(headers, header::CONTENT_TYPE);
    let encoding = header_text(headers, header::CONTENT_ENCODING).filter(|e| !e.eq_ignore_ascii_case("identity"));
    if let Some(encoding) = encoding {
        return Some(format!(
            "a body compressed with {encoding} (Content-Encoding: {encoding}), though capfile asked for none: \
             a proxy or gateway between capfile and the service changed the answer"
        ));
    }
    if raw.starts_with(&[0x1f, 0x8b]) {
        return Some("a gzip-compressed body without a Content-Encoding".to_string());
    }
    if is_html(content_type.as_deref(), raw) {
        let kind = content_type.unwrap_or_else(|| "no Content-Type".into());
        return Some(match page_title(raw) {
            Some(title) => format!("an HTML page ({kind}) titled \"{title}\", not the service's JSON"),
            None => format!("an HTML page ({kind}), not the service's JSON"),
        });
    }
    content_type
        .filter(|t| !t.to_ascii_lowercase().contains("json"))
        .map(|t| format!("a body of type {t}, not the service's JSON"))
}

/// The message for an error status whose body is an HTML page: its title
/// or first heading, and the gateway's request id when it sent one.
pub(super) fn html_error_message(headers: &HeaderMap, raw: &[u8]) -> Option<String> {
    let content_type = header_text(headers, header::CONTENT_TYPE);
    if !is_html(content_type.as_deref(), raw) {
        return None;
    }
    let mut message = match page_title(raw) {
        Some(title) => format!("an HTML page titled \"{title}\""),
        None => "an HTML page".to_string(),
    };
    message.push_str(" (from a gateway or proxy, not the file service; -vvv shows the page)");
    if let Some((name, id)) = gateway_request_id(headers) {
        message.push_str(&format!(" [{name}: {id}]"));
    }
    Some(message)
}

/// The request id a gateway or CDN puts on its answers, with its header's
/// name: what their operators ask for when the service's own id is absent.
pub(super) fn gateway_request_id(headers: &HeaderMap) -> Option<(&'static str, String)> {
    [
        "x-amz-cf-id",
        "x-amzn-requestid",
        "x-request-id",
        "cf-ray",
        "x-azure-ref",
    ]
    .into_iter()
    .find_map(|name| {
        let value = headers.get(name)?.to_str().ok()?.trim();
        let clean = !value.is_empty() && value.len() <= 200 && value.chars().all(|c| c.is_ascii_graphic());
        clean.then(|| (name, value.to_string()))
    })
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    let value = headers.get(name)?.to_str().ok()?.trim();
    (!value.is_empty() && !value.chars().any(char::is_control)).then(|| value.chars().take(100).collect())
}

/// An HTML content type, or a body that opens like markup.
fn is_html(content_type: Option<&str>, raw: &[u8]) -> bool {
    if content_type.is_some_and(|t| {
        let t = t.to_ascii_lowercase();
        t.starts_with("text/html") || t.starts_with("application/xhtml")
    }) {
        return true;
    }
    let start = String::from_utf8_lossy(&raw[..raw.len().min(512)])
        .trim_start()
        .to_ascii_lowercase();
    start.starts_with("<!doctype html") || start.starts_with("<html") || start.starts_with("<head")
}

/// The text of the page's `<title>`, else of its first `<h1>`..`<h3>`, on one
/// line, without markup, entities decoded for the common ones.
pub(super) fn page_title(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(&raw[..raw.len().min(64 * 1024)]);
    ["title", "h1", "h2", "h3"]
        .into_iter()
        .find_map(|tag| element_text(&text, tag))
}

fn element_text(html: &str, tag: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let open = format!("<{tag}");
    let mut from = 0;
    let start = loop {
        let at = from + lower[from..].find(&open)?;
        let after = lower.as_bytes().get(at + open.len()).copied();
        if matches!(after, Some(b'>' | b' ' | b'\t' | b'\n' | b'\r')) {
            break at + lower[at..].find('>')? + 1;
        }
        from = at + open.len();
    };
    let end = start + lower[start..].find(&format!("</{tag}"))?;
    let inner = strip_tags(&html[start..end]);
    let words: Vec<&str> = inner.split_whitespace().collect();
    let line = decode_entities(&words.join(" "));
    let line: String = line.chars().filter(|c| !c.is_control()).take(MAX_TITLE).collect();
    (!line.is_empty()).then_some(line)
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

fn decode_entities(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// `raw` without a leading UTF-8 byte order mark.
pub(super) fn without_bom(raw: &[u8]) -> &[u8] {
    raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn pages_are_named_by_their_title_or_first_heading() {
        let cases: [(&[u8], Option<&str>); 6] = [
            (
                b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>",
                Some("502 Bad Gateway"),
            ),
            (b"<HTML><BODY><H1>ERROR</H1><H2>The request could not be satisfied.</H2>", Some("ERROR")),
            (b"<!DOCTYPE html><title data-x=1>Sign in &amp; go\n  now</title>", Some("Sign in & go now")),
            (b"<html><header>x</header><h2><b>Maintenance</b></h2>", Some("Maintenance")),
            (b"<html><title></title><p>no heading</p>", None),
            (b"plain words", None),
        ];
        for (raw, title) in cases {
            assert_eq!(page_title(raw).as_deref(), title, "{}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn bodies_that_are_not_json_say_what_they_are() {
        let html = headers(&[("content-type", "text/html; charset=utf-8")]);
        let text = describe_body(&html, b"<html><title>Corporate login</title>").unwrap();
        assert!(
            text.contains("HTML page (text/html; charset=utf-8) titled \"Corporate login\""),
            "{text}"
        );
        let gzip = headers(&[("content-type", "application/json"), ("content-encoding", "gzip")]);
        assert!(
            describe_body(&gzip, b"\x1f\x8b\x08")
                .unwrap()
                .contains("Content-Encoding: gzip")
        );
        assert!(
            describe_body(&HeaderMap::new(), b"\x1f\x8b\x08")
                .unwrap()
                .contains("gzip")
        );
        let plain = headers(&[("content-type", "text/plain")]);
        assert!(describe_body(&plain, b"ok").unwrap().contains("text/plain"));
        let json = headers(&[("content-type", "application/json")]);
        assert_eq!(describe_body(&json, b"{oops"), None);
    }

    #[test]
    fn an_html_error_page_names_the_gateway_request_id() {
        let cf = headers(&[("content-type", "text/html"), ("x-amz-cf-id", "Abc-123==")]);
        let message = html_error_message(&cf, b"<HTML><H1>503 Service Unavailable</H1>").unwrap();
        assert_eq!(
            message,
            "an HTML page titled \"503 Service Unavailable\" (from a gateway or proxy, not the file service; \
             -vvv shows the page) [x-amz-cf-id: Abc-123==]"
        );
        assert_eq!(
            html_error_message(&headers(&[("content-type", "application/json")]), b"{}"),
            None
        );
    }

    #[test]
    fn a_bom_is_dropped() {
        assert_eq!(without_bom(b"\xEF\xBB\xBF{}"), b"{}");
        assert_eq!(without_bom(b"{}"), b"{}");
    }
}
