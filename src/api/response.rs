//! Reading the service's answers: size limits, Capillary's error shapes,
//! `Retry-After`, and the fields of a successful upload, checked before
//! anything shows them.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use url::Url;

use super::activity::Activity;
use super::error::{ResponseError, receiving_error};
use super::request_id::request_id;
use super::{ApiError, Uploaded};

/// The most of a response body capfile reads. The service's answer is under
/// 2 KB; a server that sends more (or streams without end) is cut off here.
pub(super) const MAX_RESPONSE: usize = 1024 * 1024;

/// Reads and checks an upload's answer; the body read is also left in
/// `body`, for the trace.
pub(super) async fn read_upload_response(
    response: reqwest::Response,
    activity: &Activity,
    body: &mut Option<Bytes>,
) -> Result<Uploaded, ApiError> {
    let status = response.status();
    if let Some(refused) = super::redirect::refuse(&response) {
        return Err(refused);
    }
    let headers = crate::redact::scrub_headers(response.headers());
    let request_id = request_id(&headers);
    let raw = read_body(response, Some(activity)).await?;
    *body = Some(raw.clone());
    if !status.is_success() {
        return Err(status_error(status, &headers, &raw));
    }
    match parse_uploaded(raw.clone()) {
        Ok(uploaded) => Ok(Uploaded { request_id, ..uploaded }),
        Err(ApiError::Response {
            cause: ResponseError::NotJson(_),
            ..
        }) if let Some(what) = super::gateway::describe_body(&headers, &raw) => {
            Err(ApiError::from(ResponseError::NotService { what }).with_request_id(request_id))
        }
        Err(err) => Err(err.with_request_id(request_id)),
    }
}

/// Reads a response body, refusing one over `MAX_RESPONSE` bytes. Each chunk
/// read counts as progress for the idle timeout. The body is scrubbed of the
/// run's secrets (`redact`) before anything parses, cuts or shows it.
pub(super) async fn read_body(response: reqwest::Response, activity: Option<&Activity>) -> Result<Bytes, ApiError> {
    let too_large = || ApiError::from(ResponseError::TooLarge { limit: MAX_RESPONSE });
    if response.content_length().is_some_and(|len| len > MAX_RESPONSE as u64) {
        return Err(too_large());
    }
    let mut body = bytes::BytesMut::new();
    // A body's errors do not name the URL; the message names its host.
    let url = response.url().clone();
    let mut chunks = response.bytes_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|err| receiving_error(err.with_url(url.clone())))?;
        if let Some(activity) = activity {
            activity.touch();
        }
        if body.len() + chunk.len() > MAX_RESPONSE {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(crate::redact::scrub_body(body.freeze()))
}

/// Reads the fields capfile shows from the service's JSON, keeping the raw body.
///
/// Success is only what the answer says in so many words, in the documented
/// shape: `code` a 2xx integer, `status` true (`"true"`), `file` an object
/// with an integer `version`, and a `secureFilePath`; a nested
/// `response.status` (OAuth errors) must not say otherwise. Anything else is
/// a failure that names the field. Everything here comes from the server, so
/// it is checked before anything shows it: the version must be an integer,
/// and the secure URL an absolute http(s) URL with no whitespace or control
/// characters (one line on output, nothing that can steer a terminal).
pub fn parse_uploaded(raw: Bytes) -> Result<Uploaded, ApiError> {
    // A byte order mark before the JSON (some gateways add one) is dropped.
    let value: serde_json::Value =
        serde_json::from_slice(super::gateway::without_bom(&raw)).map_err(|e| ResponseError::NotJson(Arc::new(e)))?;
    if !value.is_object() {
        return Err(field("the body", "is not a JSON object"));
    }
    if let Some(failure) = body_failure(&value)? {
        return Err(failure);
    }
    let file = match value.get("file") {
        Some(file @ serde_json::Value::Object(_)) => file,
        Some(_) => return Err(field("file", "is not an object")),
        None => return Err(field("file", "is missing")),
    };
    let secure_file_path = match value.get("secureFilePath") {
        Some(serde_json::Value::String(url)) => check_secure_url(url)?,
        Some(_) => return Err(field("secureFilePath", "is not a string")),
        None => return Err(ResponseError::NoSecureUrl.into()),
    };
    let version = match file.get("version") {
        None => return Err(field("file.version", "is missing")),
        Some(serde_json::Value::Number(n)) if n.is_u64() => n.to_string(),
        Some(serde_json::Value::String(s)) if is_version(s) => s.clone(),
        Some(_) => return Err(field("file.version", "is not an integer")),
    };
    let name = match file.get("name") {
        Some(serde_json::Value::String(s)) => s.clone(),
        None => String::new(),
        Some(_) => return Err(field("file.name", "is not a string")),
    };
    Ok(Uploaded {
        name,
        version,
        secure_file_path,
        file_handle: text_field(Some(file), &["file_handle", "fileHandle"]),
        s3_url: text_field(value.get("file").or(Some(&value)), &["s3_url", "s3Url", "s3Path"]),
        raw,
        request_id: None,
        maybe_duplicate: false,
    })
}

/// The first of `keys` in `object` that holds a string.
fn text_field(object: Option<&serde_json::Value>, keys: &[&str]) -> Option<String> {
    let object = object?;
    keys.iter()
        .find_map(|key| object.get(*key)?.as_str().map(str::to_string))
}

/// A failure that a body reports, whatever the HTTP status was, or a body
/// that does not say it succeeded (the error).
///
/// A `code` that is not 2xx (at the top or in `response.status`) is a
/// failure: codes in 100-599 are HTTP statuses (retried, or the auth exit, as
/// such); other codes are Capillary's own (8015, ...) and are plain failures.
/// Then `status` false (or `response.status.success` false) is a failure;
/// `code` and `status` must both be there and say success.
fn body_failure(value: &serde_json::Value) -> Result<Option<ApiError>, ApiError> {
    let message = || error_message(value).unwrap_or_default();
    let nested = value.get("response").and_then(|r| r.get("status"));
    let top_code = code_of(value.get("code")).map_err(|problem| field("code", problem))?;
    let nested_code =
        code_of(nested.and_then(|s| s.get("code"))).map_err(|problem| field("response.status.code", problem))?;
    for code in [top_code, nested_code].into_iter().flatten() {
        if !(200..300).contains(&code) {
            return Ok(Some(code_failure(code, message())));
        }
    }
    let failure = || ResponseError::ServiceFailure { message: message() }.into();
    match says_true(value.get("status")) {
        Some(false) => return Ok(Some(failure())),
        None if value.get("status").is_some() => return Err(field("status", "is not \"true\"")),
        _ => {}
    }
    if let Some(nested) = nested {
        match says_true(nested.get("success")) {
            Some(true) => {}
            Some(false) => return Ok(Some(failure())),
            None => return Err(field("response.status.success", "is not \"true\"")),
        }
    }
    if top_code.is_none() {
        return Err(field("code", "is missing"));
    }
    if value.get("status").is_none() {
        return Err(field("status", "is missing"));
    }
    Ok(None)
}

/// A code that is not 2xx as an error: an HTTP status, or Capillary's own.
fn code_failure(code: u64, message: String) -> ApiError {
    match u16::try_from(code).ok().filter(|c| (100..=599).contains(c)) {
        Some(http) => ApiError::Status {
            status: StatusCode::from_u16(http).unwrap_or(StatusCode::BAD_GATEWAY),
            message,
            retry_after: None,
            request_id: None,
        },
        None => ResponseError::ServiceCode { code, message }.into(),
    }
}

/// `true`/`"true"` or `false`/`"false"` (any case); `None` for anything
/// else (`0`, `"no"`, `null`) or nothing.
fn says_true(value: Option<&serde_json::Value>) -> Option<bool> {
    match value? {
        serde_json::Value::Bool(b) => Some(*b),
        serde_json::Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Some(true),
        serde_json::Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// A `code`, when there is one: a non-negative integer, as a number or a
/// string of digits. `1e3`, `1.5`, `"-1"`, `-401` or `"abc"` are not codes.
fn code_of(value: Option<&serde_json::Value>) -> Result<Option<u64>, &'static str> {
    let Some(value) = value else { return Ok(None) };
    let code = match value {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => {
            let s = s.trim();
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<u64>().ok())
                .flatten()
        }
        _ => None,
    };
    code.map(Some).ok_or("is not a non-negative integer")
}

fn field(field: &'static str, problem: &'static str) -> ApiError {
    ResponseError::Field { field, problem }.into()
}

/// The secure URL as printed: an absolute http(s) URL on one line.
fn check_secure_url(url: &str) -> Result<String, ApiError> {
    match secure_url_problem(url) {
        None => Ok(url.to_string()),
        Some(problem) => Err(field("secureFilePath", problem)),
    }
}

/// What is wrong with a secure URL that capfile would print, if anything: it
/// must be an absolute http(s) URL on one line, with nothing that can steer a
/// terminal or split a TSV row. The same rule for a server's answer and for
/// a manifest's `secure_file_path`.
pub(crate) fn secure_url_problem(url: &str) -> Option<&'static str> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("holds whitespace or control characters");
    }
    match Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "https" | "http") && parsed.host().is_some() => None,
        _ => Some("is not an absolute http(s) URL"),
    }
}

/// Whether `text` is a file version as capfile shows it: decimal digits.
/// The same rule for a server's answer and for a manifest's `version`.
pub(crate) fn is_version(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// The longest server message shown, in characters.
const MAX_MESSAGE: usize = 300;

/// The message of one of Capillary's error shapes:
/// `{"errors":[{"code":N,"message":"..."}]}` (the API gateway, the token
/// endpoint), `{"response":{"status":{"code":N,"message":"..."}}}` (OAuth
/// token errors), or `{"code":N,"status":false,"message":"..."}` (flat).
fn error_message(value: &serde_json::Value) -> Option<String> {
    let from_errors = value.get("errors").and_then(|e| e.as_array()).and_then(|errors| {
        let messages: Vec<&str> = errors.iter().filter_map(|e| e.get("message")?.as_str()).collect();
        (!messages.is_empty()).then(|| messages.join("; "))
    });
    let message = from_errors
        .or_else(|| {
            let status = value.get("response")?.get("status")?;
            Some(status.get("message")?.as_str()?.to_string())
        })
        .or_else(|| Some(value.get("message")?.as_str()?.to_string()))?;
    let message = message.trim();
    (!message.is_empty()).then(|| message.chars().take(MAX_MESSAGE).collect())
}

pub(super) fn status_error(status: StatusCode, headers: &HeaderMap, raw: &[u8]) -> ApiError {
    let message = serde_json::from_slice::<serde_json::Value>(raw)
        .ok()
        .and_then(|v| error_message(&v))
        .or_else(|| super::gateway::html_error_message(headers, raw))
        .unwrap_or_else(|| {
            // Not Capillary's shape: a short, one-line excerpt of the body.
            let text = String::from_utf8_lossy(raw);
            let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
            line.chars().take(200).collect()
        });
    ApiError::Status {
        status,
        message,
        retry_after: retry_after(headers),
        request_id: request_id(headers),
    }
}

/// `Retry-After` as seconds or an HTTP date.
pub(super) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        headers.insert(header::RETRY_AFTER, HeaderValue::from_str(&later).unwrap());
        let wait = retry_after(&headers).unwrap();
        assert!(
            wait > Duration::from_secs(27) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
    }

    #[test]
    fn capillary_error_shape_gives_the_message() {
        let raw = br#"{"errors":[{"status":false,"code":8015,"message":"Authentication failed"}],"warnings":[]}"#;
        let err = status_error(StatusCode::UNAUTHORIZED, &HeaderMap::new(), raw);
        assert_eq!(
            err.to_string(),
            "server answered 401 Unauthorized: Authentication failed"
        );
    }

    #[test]
    fn each_capillary_error_shape_gives_its_message_and_the_request_id() {
        let mut headers = HeaderMap::new();
        headers.insert("x-cap-requestid", HeaderValue::from_static("req-42"));
        for raw in [
            &br#"{"errors":[{"status":false,"code":500,"message":"boom"}],"warnings":[]}"#[..],
            br#"{"response":{"status":{"success":false,"code":"500","message":"boom"}}}"#,
            br#"{"code":500,"status":false,"message":"boom"}"#,
        ] {
            let err = status_error(StatusCode::INTERNAL_SERVER_ERROR, &headers, raw);
            assert_eq!(
                err.to_string(),
                "server answered 500 Internal Server Error: boom (request id req-42)",
                "{}",
                String::from_utf8_lossy(raw)
            );
            assert_eq!(err.request_id(), Some("req-42"));
        }
        // Documented for an invalid token, with a 401 inside a 200.
        let err =
            parsed(r#"{"response":{"status":{"success":"true","code":"401","message":"Unauthorized"}}}"#).unwrap_err();
        assert!(err.is_auth(), "{err}");
        assert_eq!(err.to_string(), "server answered 401 Unauthorized: Unauthorized");
        let expired = status_error(
            StatusCode::from_u16(498).unwrap(),
            &HeaderMap::new(),
            b"Token expired at 10:00",
        );
        assert_eq!(
            expired.to_string(),
            "server answered 498 Token expired: Token expired at 10:00"
        );
        assert!(expired.is_auth() && expired.is_token_refused() && !expired.is_retryable());
    }

    fn parsed(body: &'static str) -> Result<Uploaded, ApiError> {
        parse_uploaded(Bytes::from_static(body.as_bytes()))
    }

    #[test]
    fn the_file_handle_and_s3_url_are_read_once_into_typed_fields() {
        let ok = r#""code":200,"status":true,"secureFilePath":"https://s/a""#;
        let cases: [(String, Option<&str>, Option<&str>); 7] = [
            (format!(r#"{{{ok},"file":{{"version":1}}}}"#), None, None),
            (
                format!(r#"{{{ok},"file":{{"version":1,"file_handle":"h1","s3_url":"s3://b/k"}}}}"#),
                Some("h1"),
                Some("s3://b/k"),
            ),
            (
                format!(r#"{{{ok},"file":{{"version":1,"fileHandle":"h2","s3Url":"s3://b/2"}}}}"#),
                Some("h2"),
                Some("s3://b/2"),
            ),
            // s3Path in `file`, or any of them at the top when `file` has none.
            (
                format!(r#"{{{ok},"file":{{"version":1,"s3Path":"s3://b/3"}}}}"#),
                None,
                Some("s3://b/3"),
            ),
            (
                format!(r#"{{{ok},"s3Url":"s3://top","file":{{"version":1,"file_handle":"h"}}}}"#),
                Some("h"),
                None,
            ),
            // Not strings: left out, not an error.
            (
                format!(r#"{{{ok},"file":{{"version":1,"file_handle":7,"s3_url":null}}}}"#),
                None,
                None,
            ),
            // A handle at the top is not the file's.
            (
                format!(r#"{{{ok},"file_handle":"top","file":{{"version":1}}}}"#),
                None,
                None,
            ),
        ];
        for (body, handle, s3) in cases {
            let done = parse_uploaded(Bytes::from(body.clone())).unwrap();
            assert_eq!(done.file_handle.as_deref(), handle, "{body}");
            assert_eq!(done.s3_url.as_deref(), s3, "{body}");
            assert_eq!(done.raw, Bytes::from(body.clone()), "the raw answer is kept");
        }
    }

    #[test]
    fn body_codes_outside_http_statuses_are_plain_failures() {
        for body in [
            r#"{"code":8015,"errors":[{"message":"bad"}],"secureFilePath":"https://s/a"}"#,
            r#"{"code":65939,"secureFilePath":"https://s/a"}"#,
            r#"{"code":18446744073709551615,"secureFilePath":"https://s/a"}"#,
        ] {
            let err = parsed(body).unwrap_err();
            assert!(
                matches!(
                    err,
                    ApiError::Response {
                        cause: ResponseError::ServiceCode { .. },
                        ..
                    }
                ),
                "{body}: {err:?}"
            );
            assert!(!err.is_retryable() && !err.is_auth(), "{body}");
        }
        let err = parsed(r#"{"code":8015,"errors":[{"message":"bad"}]}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unexpected response: the service reported error code 8015: bad"
        );
        // A string code in range is the HTTP status it names.
        assert!(
            parsed(r#"{"code":"401","secureFilePath":"https://s/a"}"#)
                .unwrap_err()
                .is_auth()
        );
    }

    #[test]
    fn status_false_is_a_failure_whatever_the_http_status() {
        for body in [
            r#"{"status":false,"errors":[{"message":"no"}],"secureFilePath":"https://s/a"}"#,
            r#"{"status":"false","secureFilePath":"https://s/a","file":{"version":1}}"#,
            r#"{"status":"FALSE","code":200,"secureFilePath":"https://s/a"}"#,
        ] {
            assert!(parsed(body).is_err(), "{body}");
        }
        let ok = parsed(r#"{"status":"true","code":200,"file":{"version":3},"secureFilePath":"https://s/a"}"#);
        assert_eq!(ok.unwrap().version, "3");
    }

    #[test]
    fn secure_url_and_version_are_checked_before_anything_shows_them() {
        for body in [
            r#"{"code":200,"status":"true","secureFilePath":"\nhttps://evil.example/x","file":{"version":1}}"#,
            r#"{"code":200,"status":"true","secureFilePath":"https://a/x\nhttps://evil.example/x","file":{"version":1}}"#,
            r#"{"code":200,"status":"true","secureFilePath":"https://a/x y","file":{"version":1}}"#,
            r#"{"code":200,"status":"true","secureFilePath":"https://a/\u001b]0;t\u0007","file":{"version":1}}"#,
            r#"{"code":200,"status":"true","secureFilePath":"/relative/path","file":{"version":1}}"#,
            r#"{"code":200,"status":"true","secureFilePath":"javascript:alert(1)","file":{"version":1}}"#,
            r#"{"code":200,"status":"true","secureFilePath":"file:///etc/passwd","file":{"version":1}}"#,
            r#"{"code":200,"status":"true","secureFilePath":42,"file":{"version":1}}"#,
            r#"{"code":200,"status":"true","secureFilePath":"https://s/a","file":{"version":"1\n2"}}"#,
            r#"{"code":200,"status":"true","secureFilePath":"https://s/a","file":{"version":1.5}}"#,
            r#"{"code":200,"status":"true","secureFilePath":"https://s/a","file":{"version":-1}}"#,
            r#"{"code":200,"status":"true","secureFilePath":"https://s/a","file":{"version":"\t"}}"#,
        ] {
            let err = parsed(body).unwrap_err();
            assert!(
                matches!(
                    err,
                    ApiError::Response {
                        cause: ResponseError::Field { .. },
                        ..
                    }
                ),
                "{body}: {err:?}"
            );
        }
        let ok = parsed(
            r#"{"code":200,"status":"true","secureFilePath":"https://s/a?X-Amz-Expires=3600","file":{"version":"12"}}"#,
        )
        .unwrap();
        assert_eq!(ok.version, "12");
    }

    #[test]
    fn body_code_other_than_2xx_is_an_error() {
        let err = parse_uploaded(Bytes::from_static(br#"{"code":500,"errors":[{"message":"boom"}]}"#)).unwrap_err();
        assert!(err.is_retryable(), "{err}");
        let ok = parse_uploaded(Bytes::from_static(
            br#"{"code":200,"status":"true","file":{"name":"a.png","version":2},"secureFilePath":"https://s/a"}"#,
        ))
        .unwrap();
        assert_eq!((ok.name.as_str(), ok.version.as_str()), ("a.png", "2"));
    }

    #[test]
    fn a_body_that_is_not_json_keeps_the_parse_error() {
        let err = parsed("<html>busy</html>").unwrap_err();
        let ApiError::Response {
            cause: ResponseError::NotJson(cause),
            ..
        } = &err
        else {
            panic!("not-JSON expected: {err:?}")
        };
        assert_eq!(
            err.to_string(),
            format!("unexpected response: the body is not JSON ({cause})")
        );
        let source = std::error::Error::source(&err).and_then(std::error::Error::source);
        assert!(source.is_some_and(|s| s.is::<serde_json::Error>()), "{source:?}");
        let err = parsed(r#"{"status":false}"#).unwrap_err();
        assert!(
            matches!(&err, ApiError::Response { cause: ResponseError::ServiceFailure { message }, .. } if message.is_empty()),
            "{err:?}"
        );
        assert_eq!(err.to_string(), "unexpected response: the service reported a failure");
    }

    #[test]
    fn only_a_well_formed_success_is_success() {
        let ok = r#"{"code":200,"status":"true","file":{"name":"a.png","version":2},"secureFilePath":"https://s/a"}"#;
        assert_eq!(parsed(ok).unwrap().version, "2");
        for (body, says) in [
            (
                r#"{"response":{"status":{"success":false}}}"#,
                "the service reported a failure",
            ),
            (
                r#"{"code":200,"status":"true","response":{"status":{"success":false}},"file":{"version":1},"secureFilePath":"https://s/a"}"#,
                "the service reported a failure",
            ),
            (
                r#"{"code":200,"status":"true","response":{"status":{"success":"maybe"}},"file":{"version":1},"secureFilePath":"https://s/a"}"#,
                "response.status.success is not",
            ),
            (
                r#"{"code":200,"status":"true","file":"a.png","secureFilePath":"https://s/a"}"#,
                "file is not an object",
            ),
            (
                r#"{"code":200,"status":"true","secureFilePath":"https://s/a"}"#,
                "file is missing",
            ),
            (
                r#"{"code":200,"status":"true","file":{},"secureFilePath":"https://s/a"}"#,
                "file.version is missing",
            ),
            (
                r#"{"code":200,"status":"true","file":{"name":7,"version":1},"secureFilePath":"https://s/a"}"#,
                "file.name is not a string",
            ),
            (
                r#"{"code":1e3,"status":"true","file":{"version":1},"secureFilePath":"https://s/a"}"#,
                "code is not",
            ),
            (
                r#"{"code":200.0,"status":"true","file":{"version":1},"secureFilePath":"https://s/a"}"#,
                "code is not",
            ),
            (
                r#"{"code":"-1","status":"true","file":{"version":1},"secureFilePath":"https://s/a"}"#,
                "code is not",
            ),
            (
                r#"{"code":-200,"status":"true","file":{"version":1},"secureFilePath":"https://s/a"}"#,
                "code is not",
            ),
            (
                r#"{"code":"","status":"true","file":{"version":1},"secureFilePath":"https://s/a"}"#,
                "code is not",
            ),
            (
                r#"{"code":null,"status":"true","file":{"version":1},"secureFilePath":"https://s/a"}"#,
                "code is not",
            ),
            (
                r#"{"status":"true","file":{"version":1},"secureFilePath":"https://s/a"}"#,
                "code is missing",
            ),
            (
                r#"{"code":200,"status":0,"file":{"version":1},"secureFilePath":"https://s/a"}"#,
                "status is not",
            ),
            (
                r#"{"code":200,"status":"no","file":{"version":1},"secureFilePath":"https://s/a"}"#,
                "status is not",
            ),
            (
                r#"{"code":200,"status":1,"file":{"version":1},"secureFilePath":"https://s/a"}"#,
                "status is not",
            ),
            (
                r#"{"code":200,"status":null,"file":{"version":1},"secureFilePath":"https://s/a"}"#,
                "status is not",
            ),
            (
                r#"{"code":200,"file":{"version":1},"secureFilePath":"https://s/a"}"#,
                "status is missing",
            ),
            (r#"[{"code":200}]"#, "the body is not a JSON object"),
            ("null", "the body is not a JSON object"),
        ] {
            let err = parsed(body).unwrap_err();
            assert!(err.to_string().contains(says), "{body}: {err}");
            assert!(!err.is_retryable() && !err.is_auth(), "{body}: {err}");
        }
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = Option<serde_json::Value>> {
        use proptest::prelude::*;
        prop_oneof![
            Just(None),
            any::<bool>().prop_map(|b| Some(serde_json::json!(b))),
            (-1000i64..100_000).prop_map(|n| Some(serde_json::json!(n))),
            (100u32..300).prop_map(|n| Some(serde_json::json!(n.to_string()))),
            any::<f64>().prop_map(|f| Some(serde_json::json!(f))),
            "(true|TRUE|false|no|yes|1|0|-1|1e3|200|204|2xx| 200 |)".prop_map(|s| Some(serde_json::json!(s))),
            Just(Some(serde_json::Value::Null)),
            Just(Some(serde_json::json!([200]))),
        ]
    }

    proptest::proptest! {
        /// Whatever `code` and `status` hold, the answer is a success only
        /// when `code` is a 2xx integer (or string of digits) and `status`
        /// is true.
        #[test]
        fn success_is_exactly_what_code_and_status_say(code in json_value(), status in json_value()) {
            let mut body = serde_json::json!({
                "file": {"name": "a.png", "version": 1},
                "secureFilePath": "https://s/a",
            });
            if let Some(code) = &code {
                body["code"] = code.clone();
            }
            if let Some(status) = &status {
                body["status"] = status.clone();
            }
            let code_ok = match &code {
                Some(serde_json::Value::Number(n)) => n.as_u64().is_some_and(|c| (200..300).contains(&c)),
                Some(serde_json::Value::String(s)) => {
                    let s = s.trim();
                    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && s.parse::<u64>().is_ok_and(|c| (200..300).contains(&c))
                }
                _ => false,
            };
            let status_ok = match &status {
                Some(serde_json::Value::Bool(b)) => *b,
                Some(serde_json::Value::String(s)) => s.trim().eq_ignore_ascii_case("true"),
                _ => false,
            };
            let parsed = parse_uploaded(Bytes::from(body.to_string()));
            proptest::prop_assert_eq!(parsed.is_ok(), code_ok && status_ok, "{}", body);
        }
    }
}
