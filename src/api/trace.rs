//! Request tracing for `-vv` and `-vvv`: what each HTTP exchange was (method,
//! URL, status, time, bytes sent, the server's request id, which attempt), and
//! at the higher level its headers and the start of an error body.
//!
//! Nothing here prints: the client hands each [`Exchange`] to a [`Trace`],
//! which the output layer implements. Everything in an `Exchange` is already
//! safe to show: query values that look like signatures, tokens or
//! credentials are redacted from the URL, credential headers are redacted, and
//! the run's own secrets are scrubbed (by `redact`, the one scrubber) from
//! header values and from the whole body before the excerpt is cut (a server
//! may echo what it was sent).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use url::Url;

/// How much a [`Trace`] wants to hear.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum TraceLevel {
    Off,
    /// One line per exchange (`-vv`).
    Exchanges,
    /// Also headers and the start of an error body (`-vvv`).
    Headers,
}

/// Receives every HTTP exchange of a run.
pub(crate) trait Trace: Send + Sync {
    fn level(&self) -> TraceLevel;
    fn exchange(&self, exchange: &Exchange);
}

/// One request and what came of it.
#[derive(Clone, Debug)]
pub(crate) struct Exchange {
    pub method: &'static str,
    /// The URL, with sensitive query values redacted.
    pub url: String,
    /// 1 for the first request of an upload, counting every one sent since.
    pub attempt: u32,
    /// The status, or why no answer came.
    pub answer: Result<StatusCode, String>,
    pub elapsed: Duration,
    /// Body bytes handed to the connection (the file's, for an upload).
    pub sent: u64,
    pub request_id: Option<String>,
    /// Filled at [`TraceLevel::Headers`] only, redacted.
    pub request_headers: Vec<(String, String)>,
    pub response_headers: Vec<(String, String)>,
    /// The first [`BODY_EXCERPT`] bytes of an answer that was an error, at
    /// [`TraceLevel::Headers`] only.
    pub error_body: Option<String>,
    /// The HTTP version of the answer (`HTTP/1.1`, `HTTP/2`), when one came.
    pub http_version: Option<&'static str>,
}

/// How much of an error body `-vvv` shows.
pub(super) const BODY_EXCERPT: usize = 2048;

/// What stands in for a redacted value.
pub(super) const REDACTED: &str = crate::redact::REDACTED;

/// Headers whose values are credentials.
const SECRET_HEADERS: [&str; 5] = [
    "authorization",
    "proxy-authorization",
    super::token::OAUTH_HEADER,
    "cookie",
    "set-cookie",
];

/// Query keys whose values are redacted: any key containing one of these
/// (ignoring case), which covers `signature`, `X-Amz-Signature`,
/// `X-Amz-Credential`, `X-Amz-Security-Token`, `access_token`, `api_key`...
const SECRET_QUERY_KEYS: [&str; 8] = [
    "sig",
    "token",
    "credential",
    "secret",
    "password",
    "key",
    "auth",
    "session",
];

/// The tracer of a run (or none).
#[derive(Clone, Default)]
pub(super) struct Tracer {
    trace: Option<Arc<dyn Trace>>,
}

impl Tracer {
    pub(super) fn new(trace: Arc<dyn Trace>) -> Tracer {
        Tracer { trace: Some(trace) }
    }

    pub(super) fn level(&self) -> TraceLevel {
        self.trace.as_ref().map_or(TraceLevel::Off, |t| t.level())
    }

    /// Hands `exchange` over, once its headers and body excerpt are scrubbed
    /// of this run's secrets (`redact`; the body was scrubbed whole as it
    /// was read, before it was cut to the excerpt).
    pub(super) fn emit(&self, mut exchange: Exchange) {
        let Some(trace) = &self.trace else { return };
        let scrub = |text: &mut String| {
            if let std::borrow::Cow::Owned(clean) = crate::redact::scrub(text) {
                *text = clean;
            }
        };
        for (_, value) in exchange
            .request_headers
            .iter_mut()
            .chain(&mut exchange.response_headers)
        {
            scrub(value);
        }
        if let Some(body) = &mut exchange.error_body {
            scrub(body);
        }
        if let Err(why) = &mut exchange.answer {
            scrub(why);
        }
        trace.exchange(&exchange);
    }
}

/// What one attempt learnt about its exchange, filled in as it goes.
#[derive(Default)]
pub(super) struct Notes {
    pub(super) request_headers: Vec<(String, String)>,
    pub(super) status: Option<StatusCode>,
    pub(super) response_headers: Vec<(String, String)>,
    pub(super) request_id: Option<String>,
    pub(super) body: Option<Bytes>,
    pub(super) http_version: Option<&'static str>,
}

impl Notes {
    /// Records an answer's status, request id and (when `level` asks for
    /// them) headers.
    pub(super) fn answer(&mut self, status: StatusCode, headers: &HeaderMap, level: TraceLevel) {
        self.status = Some(status);
        self.request_id = super::request_id::request_id(headers);
        if level >= TraceLevel::Headers {
            self.response_headers = redact_headers(headers);
        }
    }

    /// Records the HTTP version the answer came in.
    pub(super) fn version(&mut self, version: reqwest::Version) {
        self.http_version = Some(match version {
            reqwest::Version::HTTP_09 => "HTTP/0.9",
            reqwest::Version::HTTP_10 => "HTTP/1.0",
            reqwest::Version::HTTP_11 => "HTTP/1.1",
            reqwest::Version::HTTP_2 => "HTTP/2",
            reqwest::Version::HTTP_3 => "HTTP/3",
            _ => "HTTP/?",
        });
    }

    /// The finished exchange; `failed` is why the attempt failed, if it did.
    pub(super) fn exchange(
        self,
        method: &'static str,
        url: &str,
        attempt: u32,
        elapsed: Duration,
        sent: u64,
        failed: Option<String>,
    ) -> Exchange {
        let answer = match (self.status, &failed) {
            (Some(status), _) => Ok(status),
            (None, Some(why)) => Err(why.clone()),
            (None, None) => Err("no answer".to_string()),
        };
        let error_body = match (&self.body, failed) {
            (Some(body), Some(_)) if !body.is_empty() => {
                Some(String::from_utf8_lossy(&body[..body.len().min(BODY_EXCERPT)]).into_owned())
            }
            _ => None,
        };
        Exchange {
            method,
            url: redact_url(url),
            attempt,
            answer,
            elapsed,
            sent,
            request_id: self.request_id,
            request_headers: self.request_headers,
            response_headers: self.response_headers,
            error_body,
            http_version: self.http_version,
        }
    }
}

/// `url` with its password and sensitive query values replaced by
/// [`REDACTED`]; text that is not a URL is redacted whole.
pub(super) fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = Url::parse(url) else {
        return REDACTED.to_string();
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some(REDACTED));
    }
    if parsed.query().is_some() {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(key, value)| {
                let lower = key.to_ascii_lowercase();
                let secret = SECRET_QUERY_KEYS.iter().any(|s| lower.contains(s));
                let value = if secret {
                    REDACTED.to_string()
                } else {
                    value.into_owned()
                };
                (key.into_owned(), value)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

/// Headers as text, credentials (and any value reqwest marks sensitive)
/// replaced by [`REDACTED`].
pub(super) fn redact_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let text = if value.is_sensitive() || SECRET_HEADERS.contains(&name.as_str()) {
                REDACTED.to_string()
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            (name.as_str().to_string(), text)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn urls_lose_signatures_tokens_credentials_and_passwords() {
        assert_eq!(
            redact_url("https://u:pw@h.example/p/a.png?X-Amz-Signature=abc&X-Amz-Credential=k&expires=9&signature=s"),
            "https://u:REDACTED@h.example/p/a.png?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED&expires=9&signature=REDACTED"
        );
        assert_eq!(
            redact_url("http://127.0.0.1:1/v3/oauth/token/generate"),
            "http://127.0.0.1:1/v3/oauth/token/generate"
        );
        assert_eq!(
            redact_url("https://h/x?access_token=t&api_key=k&q=1"),
            "https://h/x?access_token=REDACTED&api_key=REDACTED&q=1"
        );
        assert_eq!(redact_url("not a url secret"), REDACTED);
    }

    #[test]
    fn credential_headers_are_redacted() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", HeaderValue::from_static("Basic dTpw"));
        headers.insert("x-cap-api-oauth-token", HeaderValue::from_static("eyJ.x.y"));
        headers.insert("cookie", HeaderValue::from_static("s=1"));
        let mut sensitive = HeaderValue::from_static("hidden");
        sensitive.set_sensitive(true);
        headers.insert("x-other", sensitive);
        headers.insert("content-type", HeaderValue::from_static("image/png"));
        let shown = redact_headers(&headers);
        for (name, value) in &shown {
            if name == "content-type" {
                assert_eq!(value, "image/png");
            } else {
                assert_eq!(value, REDACTED, "{name}");
            }
        }
        assert_eq!(shown.len(), 5);
    }

    struct Keep(std::sync::Mutex<Vec<Exchange>>);
    impl Trace for Keep {
        fn level(&self) -> TraceLevel {
            TraceLevel::Headers
        }
        fn exchange(&self, exchange: &Exchange) {
            self.0.lock().unwrap().push(exchange.clone());
        }
    }

    #[test]
    fn the_runs_secrets_are_scrubbed_from_what_a_server_echoes() {
        let keep = Arc::new(Keep(std::sync::Mutex::new(Vec::new())));
        crate::redact::remember("s3cret");
        crate::redact::remember("tok-1");
        let tracer = Tracer::new(keep.clone());
        let notes = Notes {
            status: Some(StatusCode::BAD_REQUEST),
            response_headers: vec![("x-echo".into(), "tok-1".into())],
            body: Some(Bytes::from_static(b"{\"secret\":\"s3cret\"}")),
            ..Notes::default()
        };
        let exchange = notes.exchange("POST", "http://h/x", 1, Duration::ZERO, 3, Some("bad".into()));
        tracer.emit(exchange);
        let kept = keep.0.lock().unwrap();
        assert_eq!(kept[0].error_body.as_deref(), Some("{\"secret\":\"REDACTED\"}"));
        assert_eq!(kept[0].response_headers[0].1, REDACTED);
        assert_eq!(kept[0].answer, Ok(StatusCode::BAD_REQUEST));
    }
}
