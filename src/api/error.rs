//! Why a request failed: `ApiError`, and what each kind means for retries,
//! the auth exit and the rate limit.
//!
//! Every kind that has a cause below it keeps it: a network failure keeps
//! reqwest's error (and says which of its kinds it was), a file that cannot be
//! read keeps the `io::Error`. `Display` gives the one line users see, with
//! the innermost cause already in it ("Connection refused"); `source()` gives
//! the cause itself, for code that needs to look at it.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;

/// Why a request failed.
#[derive(Debug, Clone)]
pub enum ApiError {
    /// The service answered with an error status.
    Status {
        status: StatusCode,
        message: String,
        retry_after: Option<Duration>,
        /// The server's request id (`X-Cap-Requestid`), when it sent one.
        request_id: Option<String>,
    },
    /// Connecting, sending or receiving failed.
    Network(NetworkError),
    /// No progress for the idle time limit.
    Timeout(Duration),
    /// The answer's body was still not in full this long after its headers
    /// came (a server that drips it keeps the idle timer fed).
    AnswerTimeout(Duration),
    /// A body that is not the service's JSON, or that reports a failure.
    Response {
        cause: ResponseError,
        /// The server's request id, when it sent one.
        request_id: Option<String>,
    },
    /// The token endpoint refused the client key and secret (Capillary's
    /// error 320001, whatever the HTTP status).
    KeyRefused {
        message: String,
        request_id: Option<String>,
    },
    /// The local file could not be read as checked.
    File(FileError),
    /// The proxy from the environment could not be reached, or refused the
    /// request (see `route.rs`): a network problem, not the service's answer.
    Proxy {
        /// The proxy as `-v` names it (credentials masked, with its variable).
        proxy: String,
        /// What it did, e.g. "cannot be reached: Connection refused".
        problem: String,
    },
    /// A redirect, which an upload never follows (see `redirect.rs`).
    Redirect {
        status: StatusCode,
        /// The host the `Location` points to, when it names a usable one.
        target: Option<String>,
        request_id: Option<String>,
    },
}

/// What the client was doing when the connection failed, from reqwest's
/// error kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkStage {
    /// Opening the connection (DNS, TCP, TLS).
    Connect,
    /// A request's own time limit ran out.
    Timeout,
    /// Sending the request or its body.
    Send,
    /// Receiving the answer: its head, once the whole request was sent, or
    /// its body.
    Receive,
    /// Anything else, such as reading the answer.
    Other,
}

/// A failed connection, with reqwest's error as its source.
#[derive(Debug, Clone)]
pub struct NetworkError {
    pub stage: NetworkStage,
    /// `host:port` of the request, when reqwest knew its URL.
    pub host: Option<String>,
    source: Arc<reqwest::Error>,
}

impl NetworkError {
    /// Classifies a reqwest error.
    pub fn new(err: reqwest::Error) -> NetworkError {
        let stage = if err.is_connect() {
            NetworkStage::Connect
        } else if err.is_timeout() {
            NetworkStage::Timeout
        } else if err.is_body() || err.is_request() {
            NetworkStage::Send
        } else {
            NetworkStage::Other
        };
        let host = err
            .url()
            .and_then(|u| Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?)));
        NetworkError {
            stage,
            host,
            source: Arc::new(err),
        }
    }

    /// The TLS failure below this one, when it is one that another attempt
    /// would meet again (a refused certificate, no common protocol).
    pub fn tls_setup_failure(&self) -> Option<&rustls::Error> {
        super::tls::rustls_error(&*self.source).filter(|e| super::tls::is_setup_failure(e))
    }

    /// Whether the server said it never processed the request, so sending it
    /// again cannot make a second copy: an HTTP/2 stream it refused
    /// (REFUSED_STREAM), or one past the last it took before closing the
    /// connection (GOAWAY), or a request hyper never wrote because the
    /// connection closed first.
    pub fn never_processed(&self) -> bool {
        let mut current: Option<&(dyn std::error::Error + 'static)> = Some(&*self.source);
        let mut depth = 0;
        while let Some(e) = current {
            depth += 1;
            if depth > 32 {
                return false;
            }
            if let Some(h2) = e.downcast_ref::<h2::Error>()
                && ((h2.is_go_away() && h2.is_remote()) || h2.reason() == Some(h2::Reason::REFUSED_STREAM))
            {
                return true;
            }
            if let Some(hyper) = e.downcast_ref::<hyper::Error>()
                && hyper.is_canceled()
            {
                return true;
            }
            current = e.source();
        }
        false
    }

    /// Whether the connection ended with the request still waiting for its
    /// answer (hyper's "dispatch task is gone"): the request may or may not
    /// have been sent, so only a request whose body was not handed over at
    /// all can be taken as never processed.
    pub fn connection_gone(&self) -> bool {
        let mut current: Option<&(dyn std::error::Error + 'static)> = Some(&*self.source);
        while let Some(e) = current {
            if let Some(hyper) = e.downcast_ref::<hyper::Error>() {
                return hyper.is_user() && hyper.to_string().contains("dispatch task is gone");
            }
            current = e.source();
        }
        false
    }

    /// The innermost cause, as the one line users see.
    pub fn innermost(&self) -> String {
        let mut cause: &dyn std::error::Error = &*self.source;
        while let Some(source) = cause.source() {
            cause = source;
        }
        cause.to_string()
    }

    /// The whole cause chain as text, for recognising errors whose types are
    /// private to the HTTP stack (hyper-util's tunnel errors).
    pub(super) fn chain_text(&self) -> String {
        let mut text = String::new();
        let mut cause: Option<&dyn std::error::Error> = Some(&*self.source);
        while let Some(e) = cause {
            text.push_str(&e.to_string());
            text.push('\n');
            cause = e.source();
        }
        text
    }
}

/// reqwest's message is generic ("error sending request"); the innermost
/// cause is what tells users what happened ("Connection refused").
impl fmt::Display for NetworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (doing, to) = match self.stage {
            NetworkStage::Connect => ("cannot connect", "to"),
            NetworkStage::Timeout => ("timed out", "to"),
            NetworkStage::Send => ("connection failed while sending", "to"),
            NetworkStage::Receive => ("connection failed while receiving the answer", "from"),
            NetworkStage::Other => ("request failed", "to"),
        };
        let cause = match self.tls_setup_failure() {
            Some(tls) => {
                let host = self
                    .host
                    .as_deref()
                    .map_or("the server", |h| h.rsplit_once(':').map_or(h, |(host, _)| host));
                super::tls::describe(tls, host)
            }
            None => self.innermost(),
        };
        match &self.host {
            Some(host) => write!(f, "{doing} {to} {host}: {cause}"),
            None => write!(f, "{doing}: {cause}"),
        }
    }
}

impl std::error::Error for NetworkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

/// What is wrong with an answer's body.
#[derive(Debug, Clone)]
pub enum ResponseError {
    /// Over `MAX_RESPONSE` bytes.
    TooLarge { limit: usize },
    /// Not JSON at all.
    NotJson(Arc<serde_json::Error>),
    /// Not the service's answer: an HTML page, a body compressed unasked
    /// (see `gateway.rs`); `what` says what came.
    NotService { what: String },
    /// A `code` that is not an HTTP status: one of Capillary's own (8015, ...).
    ServiceCode { code: u64, message: String },
    /// `status: false`.
    ServiceFailure { message: String },
    /// A field that is there but cannot be shown as it is.
    Field { field: &'static str, problem: &'static str },
    /// No `secureFilePath`.
    NoSecureUrl,
    /// The token endpoint's answer has no `data.accessToken`.
    NoToken,
    /// The token cannot be sent as a header value.
    TokenNotHeader,
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let with_message = |f: &mut fmt::Formatter<'_>, message: &str| {
            if message.is_empty() {
                Ok(())
            } else {
                write!(f, ": {message}")
            }
        };
        match self {
            ResponseError::TooLarge { limit } => write!(f, "response too large (over {} KiB)", limit / 1024),
            ResponseError::NotJson(err) => write!(f, "the body is not JSON ({err})"),
            ResponseError::NotService { what } => f.write_str(what),
            ResponseError::ServiceCode { code, message } => {
                write!(f, "the service reported error code {code}")?;
                with_message(f, message)
            }
            ResponseError::ServiceFailure { message } => {
                f.write_str("the service reported a failure")?;
                with_message(f, message)
            }
            ResponseError::Field { field, problem } => write!(f, "{field} {problem}"),
            ResponseError::NoSecureUrl => f.write_str("no secureFilePath in the body"),
            ResponseError::NoToken => f.write_str("the token endpoint's answer has no data.accessToken"),
            ResponseError::TokenNotHeader => f.write_str("the token has characters a header cannot carry"),
        }
    }
}

impl std::error::Error for ResponseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ResponseError::NotJson(err) => Some(&**err),
            _ => None,
        }
    }
}

impl From<ResponseError> for ApiError {
    fn from(cause: ResponseError) -> ApiError {
        ApiError::Response {
            cause,
            request_id: None,
        }
    }
}

/// A local file that could not be sent as it was checked.
#[derive(Debug, Clone)]
pub enum FileError {
    /// The file could not be opened.
    Open { path: PathBuf, source: Arc<io::Error> },
    /// Its size could not be read.
    Stat { path: PathBuf, source: Arc<io::Error> },
    /// The task that opens it did not finish (the runtime is shutting down).
    Task {
        path: PathBuf,
        source: Arc<tokio::task::JoinError>,
    },
    /// Its size is not the size checked before the batch (when it was
    /// opened, or once it was read: it grew or shrank while it was sent).
    Changed { path: PathBuf, checked: u64, now: u64 },
    /// Its MIME type cannot be put in a multipart header.
    Mime { mime: String, source: Arc<reqwest::Error> },
    /// It could not be made to fit (`--fit`, `--max-bytes`, ...); nothing was sent.
    Transform { path: PathBuf, cause: String },
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::Open { path, source } => write!(f, "cannot open {}: {source}", path.display()),
            FileError::Stat { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            FileError::Task { path, source } => write!(f, "cannot open {}: {source}", path.display()),
            FileError::Changed { path, checked, now } => write!(
                f,
                "{} changed size since it was checked ({checked} -> {now} bytes)",
                path.display()
            ),
            FileError::Mime { mime, source } => write!(f, "bad MIME type {mime}: {source}"),
            FileError::Transform { path, cause } => write!(f, "{}: {cause}; nothing sent", path.display()),
        }
    }
}

impl std::error::Error for FileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FileError::Open { source, .. } | FileError::Stat { source, .. } => Some(&**source),
            FileError::Task { source, .. } => Some(&**source),
            FileError::Mime { source, .. } => Some(&**source),
            FileError::Changed { .. } | FileError::Transform { .. } => None,
        }
    }
}

impl ApiError {
    /// Connection errors, timeouts, 408, 429 and 5xx gateway errors may pass.
    pub fn is_retryable(&self) -> bool {
        match self {
            ApiError::Status { status, .. } => matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504),
            // A refused certificate or handshake is the same next time.
            ApiError::Network(net) => net.tls_setup_failure().is_none(),
            ApiError::Timeout(_) | ApiError::AnswerTimeout(_) => true,
            ApiError::Response { .. }
            | ApiError::KeyRefused { .. }
            | ApiError::File(_)
            | ApiError::Redirect { .. }
            | ApiError::Proxy { .. } => false,
        }
    }

    /// 401, 403 or 498, or a refused client key: the credentials are wrong,
    /// expired or not allowed.
    pub fn is_auth(&self) -> bool {
        match self {
            ApiError::Status { status, .. } => matches!(status.as_u16(), 401 | 403 | 498),
            ApiError::KeyRefused { .. } => true,
            _ => false,
        }
    }

    /// 401 or 498 ("Token expired"): the token sent may be stale, and a new
    /// one is worth one more try.
    pub(super) fn is_token_refused(&self) -> bool {
        matches!(self, ApiError::Status { status, .. } if matches!(status.as_u16(), 401 | 498))
    }

    /// The server's request id (`X-Cap-Requestid`), which Capillary support
    /// asks for; `None` when no answer came or it carried none.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            ApiError::Status { request_id, .. }
            | ApiError::Response { request_id, .. }
            | ApiError::KeyRefused { request_id, .. }
            | ApiError::Redirect { request_id, .. } => request_id.as_deref(),
            ApiError::Network(_)
            | ApiError::Timeout(_)
            | ApiError::AnswerTimeout(_)
            | ApiError::File(_)
            | ApiError::Proxy { .. } => None,
        }
    }

    /// The same error, naming the request id of the answer it came from.
    pub(super) fn with_request_id(mut self, id: Option<String>) -> ApiError {
        if let ApiError::Status { request_id, .. }
        | ApiError::Response { request_id, .. }
        | ApiError::KeyRefused { request_id, .. }
        | ApiError::Redirect { request_id, .. } = &mut self
            && request_id.is_none()
        {
            *request_id = id;
        }
        self
    }

    pub(super) fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// 429: over the service's rate limit. Waiting for its window is not a
    /// failure: it is paced (see `pacing`) and does not use up the retries.
    pub fn is_rate_limit(&self) -> bool {
        matches!(self, ApiError::Status { status, .. } if *status == StatusCode::TOO_MANY_REQUESTS)
    }

    /// Whether this failure, coming after the whole body was sent, leaves
    /// open that the service stored the upload: not when the request was
    /// turned away (429, 503) or never reached it (connecting, never
    /// processed), nor when the answer said no (4xx).
    pub(super) fn may_have_stored(&self) -> bool {
        match self {
            ApiError::Status { status, .. } => matches!(status.as_u16(), 500 | 502 | 504),
            ApiError::Timeout(_) => true,
            ApiError::Network(net) => net.stage != NetworkStage::Connect && !net.never_processed(),
            _ => false,
        }
    }

    /// A request the server never processed (see
    /// [`NetworkError::never_processed`]): safe to send again.
    /// `body_unsent`: a body was due and not one byte of it was handed to
    /// the connection, so no server can have stored the upload.
    pub(super) fn never_processed(&self, body_unsent: bool) -> bool {
        matches!(self, ApiError::Network(net) if net.never_processed() || (body_unsent && net.connection_gone()))
    }

    /// 429 and 503 mean the service as a whole wants fewer requests.
    pub(super) fn slows_everyone(&self) -> bool {
        matches!(self, ApiError::Status { status, .. } if matches!(status.as_u16(), 429 | 503))
    }
}

impl ApiError {
    /// What went wrong, without the request id: the same for every input that
    /// failed the same way, so records and summaries can group by it.
    pub fn cause(&self) -> String {
        struct Cause<'a>(&'a ApiError);
        impl fmt::Display for Cause<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt_cause(f)
            }
        }
        Cause(self).to_string()
    }

    fn fmt_cause(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Status { status, message, .. } => {
                write!(f, "server answered {}", status_text(*status))?;
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
            }
            ApiError::Network(err) => fmt::Display::fmt(err, f)?,
            ApiError::Timeout(limit) => write!(f, "no progress for {} s (--timeout)", limit.as_secs())?,
            ApiError::AnswerTimeout(limit) => write!(
                f,
                "the answer was still incomplete {} s after it began (--timeout)",
                limit.as_secs()
            )?,
            ApiError::Response { cause, .. } => write!(f, "unexpected response: {cause}")?,
            ApiError::KeyRefused { message, .. } => {
                // The server's words after a colon, so the request id that
                // follows is the only parenthesis.
                f.write_str("the client key or secret was refused")?;
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
            }
            ApiError::File(err) => fmt::Display::fmt(err, f)?,
            ApiError::Proxy { proxy, problem } => write!(f, "the proxy {proxy} {problem}")?,
            ApiError::Redirect { status, target, .. } => {
                let target = target.as_deref().map_or_else(
                    || "no usable location".to_string(),
                    |host| format!("a location on {}", crate::output::escape_control(host)),
                );
                write!(
                    f,
                    "server answered {status} (a redirect to {target}); uploads never follow redirects: check the base URL"
                )?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_cause(f)?;
        if let Some(id) = self.request_id() {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

/// `498 Token expired` for the status http does not name; else as http
/// prints it (`401 Unauthorized`).
fn status_text(status: StatusCode) -> String {
    match (status.as_u16(), status.canonical_reason()) {
        (_, Some(_)) => status.to_string(),
        (498, None) => "498 Token expired".to_string(),
        (code, None) => code.to_string(),
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ApiError::Network(err) => Some(err),
            ApiError::File(err) => Some(err),
            ApiError::Response { cause, .. } => Some(cause),
            ApiError::Status { .. }
            | ApiError::KeyRefused { .. }
            | ApiError::Timeout(_)
            | ApiError::Proxy { .. }
            | ApiError::AnswerTimeout(_)
            | ApiError::Redirect { .. } => None,
        }
    }
}

impl From<FileError> for ApiError {
    fn from(err: FileError) -> ApiError {
        ApiError::File(err)
    }
}

/// A reqwest error as an `ApiError`.
pub(super) fn network_error(err: reqwest::Error) -> ApiError {
    ApiError::Network(NetworkError::new(err))
}

/// A reqwest error met once the request was out (reading the answer's head
/// after the whole body was sent, or its body): said as "while receiving",
/// not "while sending" as reqwest's kinds would have it.
pub(super) fn receiving_error(err: reqwest::Error) -> ApiError {
    let mut err = NetworkError::new(err);
    if matches!(err.stage, NetworkStage::Send | NetworkStage::Other) {
        err.stage = NetworkStage::Receive;
    }
    ApiError::Network(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cause_leaves_out_the_request_id_so_failures_group() {
        let err = |id: &str| ApiError::Status {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: "busy".into(),
            retry_after: None,
            request_id: Some(id.into()),
        };
        assert_eq!(err("a1").cause(), err("b2").cause());
        assert_eq!(err("a1").cause(), "server answered 503 Service Unavailable: busy");
        assert_eq!(
            err("a1").to_string(),
            "server answered 503 Service Unavailable: busy (request id a1)"
        );
    }

    #[test]
    fn retryable_statuses_follow_the_spec() {
        let status = |code| ApiError::Status {
            status: StatusCode::from_u16(code).unwrap(),
            message: String::new(),
            retry_after: None,
            request_id: None,
        };
        for code in [408, 429, 500, 502, 503, 504] {
            assert!(status(code).is_retryable(), "{code}");
        }
        for code in [400, 401, 403, 404, 413, 415, 501] {
            assert!(!status(code).is_retryable(), "{code}");
        }
        assert!(status(401).is_auth() && status(403).is_auth() && !status(400).is_auth());
    }

    #[tokio::test]
    async fn a_refused_connection_keeps_reqwest_error_as_its_source() {
        // A port that was just free: nothing listens there now.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let sent = super::super::http_client(Duration::from_secs(5), &super::super::Route::direct())
            .unwrap()
            .get(format!("http://127.0.0.1:{port}/"))
            .send()
            .await
            .unwrap_err();
        let err = network_error(sent);
        let ApiError::Network(network) = &err else {
            panic!("network expected: {err:?}")
        };
        assert_eq!(network.stage, NetworkStage::Connect);
        assert_eq!(network.host.as_deref(), Some(format!("127.0.0.1:{port}").as_str()));
        let source = std::error::Error::source(&err).and_then(std::error::Error::source);
        assert!(source.is_some_and(|s| s.is::<reqwest::Error>()), "{source:?}");
        assert!(
            err.to_string()
                .starts_with(&format!("cannot connect to 127.0.0.1:{port}: ")),
            "{err}"
        );
        assert!(err.is_retryable());
    }

    #[test]
    fn a_redirect_names_only_the_host_it_pointed_to() {
        let err = ApiError::Redirect {
            status: StatusCode::FOUND,
            target: Some("evil\u{1b}.example".into()),
            request_id: None,
        };
        assert_eq!(
            err.to_string(),
            "server answered 302 Found (a redirect to a location on evil\\x1b.example); \
             uploads never follow redirects: check the base URL"
        );
        let err = ApiError::Redirect {
            status: StatusCode::TEMPORARY_REDIRECT,
            target: None,
            request_id: None,
        };
        assert!(err.to_string().contains("(a redirect to no usable location)"), "{err}");
        assert!(!err.is_retryable() && !err.is_auth());
    }
}
