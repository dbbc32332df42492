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
use super::error::{ResponseError, network_error};
use super::{ApiError, Uploaded};

/// The most of a response body capfile reads. The service's answer is under
/// 2 KB; a server that sends more (or streams without end) is cut off here.
pub const MAX_RESPONSE: usize = 1024 * 1024;

pub(super) async fn read_upload_response(
    response: reqwest::Response,
    activity: &Activity,
) -> Result<Uploaded, ApiError> {
    let status = response.status();
    if let Some(refused) = super::redirect::refuse(&response) {
        return Err(refused);
    }
    let headers = response.headers().clone();
    let raw = read_body(response, Some(activity)).await?;
    if !status.is_success() {
        return Err(status_error(status, &headers, &raw));
    }
    parse_uploaded(raw)
}

/// Reads a response body, refusing one over `MAX_RESPONSE` bytes. Each chunk
/// read counts as progress for the idle timeout.
pub(super) async fn read_body(response: reqwest::Response, activity: Option<&Activity>) -> Result<Bytes, ApiError> {
    let too_large = || ApiError::Response(ResponseError::TooLarge { limit: MAX_RESPONSE });
    if response.content_length().is_some_and(|len| len > MAX_RESPONSE as u64) {
        return Err(too_large());
    }
    let mut body = bytes::BytesMut::new();
    let mut chunks = response.bytes_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(network_error)?;
        if let Some(activity) = activity {
            activity.touch();
        }
        if body.len() + chunk.len() > MAX_RESPONSE {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Reads the fields capfile shows from the service's JSON, keeping the raw body.
///
/// Everything here comes from the server, so it is checked before anything
/// shows it: a body that reports a failure is a failure whatever the HTTP
/// status, the version must be an integer, and the secure URL an absolute
/// http(s) URL with no whitespace or control characters (one line on output,
/// nothing that can steer a terminal).
pub fn parse_uploaded(raw: Bytes) -> Result<Uploaded, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(&raw).map_err(|e| ResponseError::NotJson(Arc::new(e)))?;
    if let Some(failure) = body_failure(&value) {
        return Err(failure);
    }
    let file = value.get("file");
    let secure_file_path = match value.get("secureFilePath") {
        Some(serde_json::Value::String(url)) => check_secure_url(url)?,
        Some(_) => return Err(field("secureFilePath", "is not a string")),
        None => return Err(ResponseError::NoSecureUrl.into()),
    };
    let version = match file.and_then(|f| f.get("version")) {
        None => String::new(),
        Some(serde_json::Value::Number(n)) if n.is_u64() => n.to_string(),
        Some(serde_json::Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.clone(),
        Some(_) => return Err(field("file.version", "is not an integer")),
    };
    let name = match file.and_then(|f| f.get("name")) {
        Some(serde_json::Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    Ok(Uploaded {
        name,
        version,
        secure_file_path,
        raw,
        request_id: None, // stub: 11B implements
    })
}

/// A failure that a body reports, whatever the HTTP status was: `status`
/// false (boolean or string), or a `code` that is not 2xx. Codes in 100-599
/// are HTTP statuses (retried, or the auth exit, as such); other codes are
/// Capillary's own (8015, ...) and are plain failures.
fn body_failure(value: &serde_json::Value) -> Option<ApiError> {
    let message = || error_message(value).unwrap_or_default();
    let code = match value.get("code") {
        Some(serde_json::Value::Number(n)) => n.as_u64().or_else(|| n.as_i64().map(|_| u64::MAX)),
        Some(serde_json::Value::String(s)) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    if let Some(code) = code
        && !(200..300).contains(&code)
    {
        return Some(match u16::try_from(code).ok().filter(|c| (100..=599).contains(c)) {
            Some(http) => ApiError::Status {
                status: StatusCode::from_u16(http).unwrap_or(StatusCode::BAD_GATEWAY),
                message: message(),
                retry_after: None,
            },
            None => ResponseError::ServiceCode {
                code,
                message: message(),
            }
            .into(),
        });
    }
    let failed = match value.get("status") {
        Some(serde_json::Value::Bool(ok)) => !ok,
        Some(serde_json::Value::String(s)) => s.trim().eq_ignore_ascii_case("false"),
        _ => false,
    };
    failed.then(|| ResponseError::ServiceFailure { message: message() }.into())
}

fn field(field: &'static str, problem: &'static str) -> ApiError {
    ResponseError::Field { field, problem }.into()
}

/// The secure URL as printed: an absolute http(s) URL on one line.
fn check_secure_url(url: &str) -> Result<String, ApiError> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(field("secureFilePath", "holds whitespace or control characters"));
    }
    match Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "https" | "http") && parsed.host().is_some() => Ok(url.to_string()),
        _ => Err(field("secureFilePath", "is not an absolute http(s) URL")),
    }
}

/// The message of Capillary's error shape `{"errors":[{"message":...}]}`.
fn error_message(value: &serde_json::Value) -> Option<String> {
    let errors = value.get("errors")?.as_array()?;
    let messages: Vec<&str> = errors.iter().filter_map(|e| e.get("message")?.as_str()).collect();
    (!messages.is_empty()).then(|| messages.join("; "))
}

pub(super) fn status_error(status: StatusCode, headers: &HeaderMap, raw: &[u8]) -> ApiError {
    let message = serde_json::from_slice::<serde_json::Value>(raw)
        .ok()
        .and_then(|v| error_message(&v))
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
    }
}

/// `Retry-After` as seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
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

    fn parsed(body: &'static str) -> Result<Uploaded, ApiError> {
        parse_uploaded(Bytes::from_static(body.as_bytes()))
    }

    #[test]
    fn body_codes_outside_http_statuses_are_plain_failures() {
        for body in [
            r#"{"code":8015,"errors":[{"message":"bad"}],"secureFilePath":"https://s/a"}"#,
            r#"{"code":65939,"secureFilePath":"https://s/a"}"#,
            r#"{"code":-401,"secureFilePath":"https://s/a"}"#,
            r#"{"code":18446744073709551615,"secureFilePath":"https://s/a"}"#,
        ] {
            let err = parsed(body).unwrap_err();
            assert!(
                matches!(err, ApiError::Response(ResponseError::ServiceCode { .. })),
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
            r#"{"secureFilePath":"\nhttps://evil.example/x"}"#,
            r#"{"secureFilePath":"https://a/x\nhttps://evil.example/x"}"#,
            r#"{"secureFilePath":"https://a/x y"}"#,
            r#"{"secureFilePath":"https://a/\u001b]0;t\u0007"}"#,
            r#"{"secureFilePath":"/relative/path"}"#,
            r#"{"secureFilePath":"javascript:alert(1)"}"#,
            r#"{"secureFilePath":"file:///etc/passwd"}"#,
            r#"{"secureFilePath":42}"#,
            r#"{"secureFilePath":"https://s/a","file":{"version":"1\n2"}}"#,
            r#"{"secureFilePath":"https://s/a","file":{"version":1.5}}"#,
            r#"{"secureFilePath":"https://s/a","file":{"version":-1}}"#,
            r#"{"secureFilePath":"https://s/a","file":{"version":"\t"}}"#,
        ] {
            let err = parsed(body).unwrap_err();
            assert!(
                matches!(err, ApiError::Response(ResponseError::Field { .. })),
                "{body}: {err:?}"
            );
        }
        let ok = parsed(r#"{"secureFilePath":"https://s/a?X-Amz-Expires=3600","file":{"version":"12"}}"#).unwrap();
        assert_eq!(ok.version, "12");
    }

    #[test]
    fn body_code_other_than_2xx_is_an_error() {
        let err = parse_uploaded(Bytes::from_static(br#"{"code":500,"errors":[{"message":"boom"}]}"#)).unwrap_err();
        assert!(err.is_retryable(), "{err}");
        let ok = parse_uploaded(Bytes::from_static(
            br#"{"code":200,"file":{"name":"a.png","version":2},"secureFilePath":"https://s/a"}"#,
        ))
        .unwrap();
        assert_eq!((ok.name.as_str(), ok.version.as_str()), ("a.png", "2"));
    }

    #[test]
    fn a_body_that_is_not_json_keeps_the_parse_error() {
        let err = parsed("<html>busy</html>").unwrap_err();
        let ApiError::Response(ResponseError::NotJson(cause)) = &err else {
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
            matches!(&err, ApiError::Response(ResponseError::ServiceFailure { message }) if message.is_empty()),
            "{err:?}"
        );
        assert_eq!(err.to_string(), "unexpected response: the service reported a failure");
    }
}
