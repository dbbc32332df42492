//! The server's request id, which Capillary support asks for.
//!
//! Capillary answers with `X-Cap-Requestid`; older hosts send
//! `X-CAP-REQUEST-ID`. The value comes from the server, so it is cut down to a
//! short printable token before it reaches a terminal, a log or a record: a
//! hostile or broken server cannot inject escape sequences or line breaks, nor
//! flood a log line.

use reqwest::header::HeaderMap;

/// The header names, in order of preference (header lookup ignores case).
pub(super) const HEADERS: [&str; 2] = ["x-cap-requestid", "x-cap-request-id"];

/// At most this many characters are kept.
pub(super) const MAX_LEN: usize = 64;

/// The request id in `headers`, sanitized; `None` when absent or empty after
/// sanitizing.
pub(super) fn request_id(headers: &HeaderMap) -> Option<String> {
    HEADERS
        .iter()
        .filter_map(|name| headers.get(*name))
        .find_map(|value| sanitize(value.as_bytes()))
}

/// Keeps ASCII letters, digits and `-_.:/+=`, at most [`MAX_LEN`] of them;
/// everything else is dropped.
pub(super) fn sanitize(raw: &[u8]) -> Option<String> {
    let token: String = raw
        .iter()
        .copied()
        .filter(|b| b.is_ascii_alphanumeric() || b"-_.:/+=".contains(b))
        .take(MAX_LEN)
        .map(char::from)
        .collect();
    (!token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_bytes(value).unwrap());
        }
        map
    }

    #[test]
    fn both_spellings_are_read_in_any_case() {
        assert_eq!(
            request_id(&headers(&[("X-Cap-Requestid", b"abc-123")])).as_deref(),
            Some("abc-123")
        );
        assert_eq!(
            request_id(&headers(&[("X-CAP-REQUEST-ID", b"old.1")])).as_deref(),
            Some("old.1")
        );
        assert_eq!(
            request_id(&headers(&[("x-cap-request-id", b"old"), ("x-cap-requestid", b"new")])).as_deref(),
            Some("new"),
            "the current name wins"
        );
        assert_eq!(request_id(&headers(&[("x-request-id", b"other")])), None);
        assert_eq!(request_id(&HeaderMap::new()), None);
    }

    #[test]
    fn values_are_cut_to_a_short_printable_token() {
        assert_eq!(
            request_id(&headers(&[("x-cap-requestid", b"a;b c\t\xff\"<x>")])).as_deref(),
            Some("abcx")
        );
        assert_eq!(sanitize(b"a\x1b]0;title\x07b\r\nc").as_deref(), Some("a0titlebc"));
        let long = "x".repeat(500);
        assert_eq!(sanitize(long.as_bytes()).map(|s| s.len()), Some(MAX_LEN));
        // Nothing printable left: treated as absent, and the next header is tried.
        assert_eq!(
            request_id(&headers(&[
                ("x-cap-requestid", b" ;\t\xfe"),
                ("x-cap-request-id", b"fallback")
            ]))
            .as_deref(),
            Some("fallback")
        );
        assert_eq!(sanitize(b""), None);
    }
}
