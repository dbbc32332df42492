//! The emulator's HTTP surface: the upload endpoint, the OAuth token endpoint
//! and the signed download URLs, with the response and error bodies shaped
//! like Capillary's. Storage, credentials, signing and fault draws live in the
//! sibling modules, error answers in `error.rs` and the receiving of upload
//! bodies in `body.rs`; this one turns requests into calls on them.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, Request, State};
use axum::http::header::{ALLOW, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio_util::io::ReaderStream;
use tokio_util::task::TaskTracker;

use super::auth::{Access, Authenticator};
use super::body::{Spool, receive_body};
use super::config::{Counters, bump};
use super::error::ServiceError;
use super::faults::{ConnectionKill, UploadLatency};
use super::signing::{UrlRefusal, UrlSigner};
use super::store::{ObjectMeta, PLACEHOLDER_TYPE, Store};
use super::{Clock, Faults};

/// Largest body accepted by the token endpoint; it only ever needs a key and
/// a secret, and the global body limit is off for the sake of uploads.
const TOKEN_BODY_LIMIT: usize = 64 * 1024;

/// What percent-encoding leaves alone in a path segment of `secureFilePath`.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Shared by every request of one emulator.
pub(crate) struct AppState {
    pub(crate) store: Arc<Store>,
    pub(crate) auth: Authenticator,
    pub(crate) urls: UrlSigner,
    pub(crate) counters: Arc<Counters>,
    pub(crate) faults: Faults,
    pub(crate) url_ttl: Duration,
    /// Base of `secureFilePath`, without a trailing slash.
    pub(crate) public_url: String,
    /// A request body that goes this long without a byte is refused (408).
    pub(crate) body_idle_timeout: Duration,
    /// Every publish holds a token of it, so that shutdown can wait for
    /// publishes that outlive their request (see `Emulator::shutdown`).
    pub(crate) publishes: TaskTracker,
    pub(crate) clock: Clock,
    pub(crate) upload_latency: UploadLatency,
    /// Answered on `discovery::IDENTITY_PATH`.
    pub(crate) instance: String,
}

pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route(
            "/api_gateway/file-service/{namespace}/{name}",
            post(upload).fallback(method_not_allowed),
        )
        // Without this, an empty name would fall through to "not found";
        // it is a bad request.
        .route(
            "/api_gateway/file-service/{namespace}/",
            post(empty_name).fallback(method_not_allowed),
        )
        .route(
            "/v3/oauth/token/generate",
            post(generate_token).fallback(method_not_allowed),
        )
        .route("/files/{*s3_token}", get(download).fallback(method_not_allowed))
        .route(super::discovery::IDENTITY_PATH, get(identity))
        .fallback(not_found)
        // Uploads may be a gigabyte; they are streamed to disk, never buffered.
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

/// Who this emulator is (`discovery`): no credentials, nothing stored.
async fn identity(State(state): State<Arc<AppState>>) -> Response {
    axum::Json(super::discovery::Identity {
        service: super::discovery::SERVICE_NAME.to_string(),
        instance: state.instance.clone(),
    })
    .into_response()
}

async fn not_found() -> ServiceError {
    ServiceError::not_found()
}

async fn method_not_allowed(request: Request) -> Response {
    let allow = if request.uri().path().starts_with("/files/") {
        "GET, HEAD"
    } else {
        "POST"
    };
    let mut response = ServiceError::new(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed").into_response();
    response.headers_mut().insert(ALLOW, HeaderValue::from_static(allow));
    response
}

// ---------------------------------------------------------------------------
// Upload

/// The 200 body, field for field and in the order of the vendor's sample.
#[derive(Serialize)]
struct UploadResponse {
    code: u16,
    status: &'static str,
    message: &'static str,
    file: FileInfo,
    #[serde(rename = "secureFilePath")]
    secure_file_path: String,
}

#[derive(Serialize)]
struct FileInfo {
    name: String,
    namespace: String,
    version: u64,
    acl: &'static str,
    #[serde(rename = "fileSize")]
    file_size: String,
    file_handle: String,
    content_type: String,
    s3_token: String,
    latest_version: u64,
    last_modified: String,
    s3_url: String,
}

async fn empty_name(State(state): State<Arc<AppState>>, request: Request) -> Response {
    bump(&state.counters.upload_requests);
    if !state.auth.authorize(request.headers(), state.clock.unix_now()) {
        bump(&state.counters.auth_failures);
        return ServiceError::unauthorized().into_response();
    }
    ServiceError::bad_request("Invalid file name: empty").into_response()
}

async fn upload(
    State(state): State<Arc<AppState>>,
    path: Result<Path<(String, String)>, PathRejection>,
    request: Request,
) -> Response {
    match upload_inner(&state, path, request).await {
        Ok(response) => response,
        Err(err) => {
            // Most errors answer before the body was read; the connection is
            // then closed, and saying so keeps a client from reusing it for
            // its next request while the close is still on its way.
            let mut response = err.into_response();
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
            response
        }
    }
}

async fn upload_inner(
    state: &Arc<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    request: Request,
) -> Result<Response, ServiceError> {
    let counters = &state.counters;
    bump(&counters.upload_requests);

    admit(state, request.headers())?;

    let Path((namespace, name)) =
        path.map_err(|rejection| ServiceError::bad_request(format!("Invalid path: {}", rejection.body_text())))?;
    // The client's own rule, so the emulator takes no namespace that
    // capfile would refuse to send.
    crate::settings::check_namespace(&namespace)
        .map_err(|problem| ServiceError::bad_request(format!("Invalid namespace: {problem}")))?;
    check_remote_name("file name", &name)?;
    state.upload_latency.wait(&name).await;

    let cut = if state.faults.draw_drop() {
        request.extensions().get::<ConnectionKill>().cloned()
    } else {
        None
    };
    let mut spool = Spool::create(&state.store, cut, counters)?;
    let content_type = receive_body(request, &mut spool, state.body_idle_timeout).await?;
    // A body too short to be cut in the middle (a placeholder) is cut at its end.
    spool.cut_if_due().await?;
    let upload = spool.finish(namespace, name, content_type).await?;
    if let Some(max) = state.faults.max_upload_bytes.filter(|max| upload.size > *max) {
        // Dropping the upload deletes its spooled body: nothing is stored.
        bump(&counters.faults_injected);
        let mut err = ServiceError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("File size {} bytes exceeds the maximum of {max} bytes", upload.size),
        );
        err.fault = Some("max-size");
        return Err(err);
    }

    let meta = publish(state, upload).await?;
    Ok(axum::Json(success_body(state, meta)).into_response())
}

/// The gateway's checks before any body is read: an injected failure, the
/// credentials, the rate limit.
fn admit(state: &AppState, headers: &axum::http::HeaderMap) -> Result<(), ServiceError> {
    let counters = &state.counters;
    // An injected failure stands for an overloaded gateway: it answers before
    // looking at credentials or the body.
    if state.faults.draw_failure() {
        bump(&counters.faults_injected);
        let mut err = ServiceError::new(
            state.faults.failure_status(),
            "Service unavailable (fault injected by the capfile emulator)",
        );
        err.retry_after = state.faults.retry_after;
        err.fault = Some("fail");
        return Err(err);
    }

    match state.auth.check(headers, state.clock.unix_now()) {
        Access::Granted => {}
        Access::Expired { at } if state.faults.expired_token_498 => {
            bump(&counters.auth_failures);
            let mut err = ServiceError::new(TOKEN_EXPIRED, format!("Token expired at {}", unix_time_text(at)));
            err.fault = Some("expired-498");
            return Err(err);
        }
        Access::Expired { .. } | Access::Denied => {
            bump(&counters.auth_failures);
            return Err(ServiceError::unauthorized());
        }
    }
    if let Some(Err(retry_after)) = state.faults.rate_limit.as_ref().map(|l| l.admit(headers)) {
        bump(&counters.rate_limited);
        let mut err = ServiceError::new(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded for this API key");
        err.retry_after = retry_after;
        err.fault = Some("rate-limit");
        return Err(err);
    }
    Ok(())
}

/// Stores a received upload as the name's next version, in a task of its own.
async fn publish(state: &AppState, upload: super::store::Upload) -> Result<ObjectMeta, ServiceError> {
    let counters = &state.counters;
    // The publish runs in a task of its own: once the whole body is here,
    // the version is stored even if the client goes away meanwhile, and the
    // handler being dropped cannot interrupt it half-way.
    let store = Arc::clone(&state.store);
    let publish_counters = Arc::clone(counters);
    let in_flight = state.publishes.token();
    let last_modified = last_modified_now();
    tokio::task::spawn_blocking(move || {
        let _in_flight = in_flight;
        let meta = store.publish(upload, last_modified)?;
        bump(&publish_counters.uploads_stored);
        Ok::<_, std::io::Error>(meta)
    })
    .await
    .map_err(ServiceError::internal)?
    .map_err(ServiceError::internal)
}

/// Refuses what cannot be one file name: the same rules the CLI applies.
fn check_remote_name(what: &str, name: &str) -> Result<(), ServiceError> {
    let problem = if name.is_empty() {
        Some("empty")
    } else if name == "." || name == ".." {
        Some("'.' and '..' are not file names")
    } else if name.contains(['/', '\\']) {
        Some("contains a slash or backslash")
    } else if name.chars().any(char::is_control) {
        Some("contains a control character")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(ServiceError::bad_request(format!("Invalid {what}: {problem}"))),
        None => Ok(()),
    }
}

const TIME_FORMAT: &[time::format_description::BorrowedFormatItem<'_>] =
    time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");

/// Capillary's status for an expired OAuth token ("Token expired").
const TOKEN_EXPIRED: StatusCode = match StatusCode::from_u16(498) {
    Ok(status) => status,
    Err(_) => StatusCode::UNAUTHORIZED,
};

fn last_modified_now() -> String {
    time::OffsetDateTime::now_utc().format(TIME_FORMAT).unwrap_or_default()
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS` (UTC).
fn unix_time_text(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|secs| time::OffsetDateTime::from_unix_timestamp(secs).ok())
        .and_then(|at| at.format(TIME_FORMAT).ok())
        .unwrap_or_else(|| secs.to_string())
}

fn success_body(state: &AppState, meta: ObjectMeta) -> UploadResponse {
    let path: Vec<String> = meta
        .s3_token
        .split('/')
        .map(|segment| utf8_percent_encode(segment, PATH_SEGMENT).to_string())
        .collect();
    let query = state.urls.sign(&meta.s3_token, state.clock.unix_now(), state.url_ttl);
    let secure_file_path = format!("{}/files/{}?{query}", state.public_url, path.join("/"));
    UploadResponse {
        code: 200,
        status: "true",
        message: "Successfully uploaded file",
        file: FileInfo {
            s3_url: format!("s3:/capfile-local/{}", meta.s3_token),
            name: meta.name,
            namespace: meta.namespace,
            version: meta.version,
            acl: "PRIVATE",
            file_size: meta.size.to_string(),
            file_handle: meta.file_handle,
            content_type: meta.content_type,
            s3_token: meta.s3_token,
            latest_version: meta.version,
            last_modified: meta.last_modified,
        },
        secure_file_path,
    }
}

// ---------------------------------------------------------------------------
// OAuth token

#[derive(Deserialize)]
struct TokenRequest {
    key: String,
    secret: String,
}

/// Errors of the token endpoint, in its own shape: `data` then `errors`.
fn token_error(status: StatusCode, message: &str) -> Response {
    let body = json!({
        "data": null,
        "errors": [{"status": false, "code": status.as_u16(), "message": message}],
    });
    (status, axum::Json(body)).into_response()
}

/// Capillary's documented answer to a client key and secret it does not
/// accept: error 320001 (sent with 401 here; the HTTP status is not documented).
fn key_refused() -> Response {
    let body = json!({
        "data": null,
        "errors": [{"code": 320001, "message": "Invalid client key and secret"}],
    });
    (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response()
}

async fn generate_token(State(state): State<Arc<AppState>>, request: Request) -> Response {
    bump(&state.counters.token_requests);
    // A token request is tiny: the whole body gets the time a body may idle.
    let body = axum::body::to_bytes(request.into_body(), TOKEN_BODY_LIMIT);
    let Ok(Ok(body)) = tokio::time::timeout(state.body_idle_timeout, body).await else {
        return token_error(StatusCode::BAD_REQUEST, "Invalid request body");
    };
    let Ok(TokenRequest { key, secret }) = serde_json::from_slice(&body) else {
        return token_error(
            StatusCode::BAD_REQUEST,
            r#"Invalid request body: expected {"key":"...","secret":"..."}"#,
        );
    };
    match state.auth.issue_token(&key, &secret, state.clock.unix_now()) {
        Some(token) => axum::Json(json!({
            "data": {"accessToken": token, "ttlSeconds": state.auth.token_ttl_secs()},
            "errors": null,
        }))
        .into_response(),
        None => {
            bump(&state.counters.auth_failures);
            key_refused()
        }
    }
}

// ---------------------------------------------------------------------------
// Signed downloads

async fn download(
    State(state): State<Arc<AppState>>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Response {
    match download_inner(&state, path, query).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}

async fn download_inner(
    state: &AppState,
    path: Result<Path<String>, PathRejection>,
    query: Option<String>,
) -> Result<Response, ServiceError> {
    let Path(s3_token) = path.map_err(|_| ServiceError::not_found())?;
    let (mut expires, mut signature) = (None, None);
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match &*key {
            "expires" => expires = Some(value.into_owned()),
            "signature" => signature = Some(value.into_owned()),
            _ => {}
        }
    }
    let now = state.clock.unix_now();
    state
        .urls
        .verify(&s3_token, expires.as_deref(), signature.as_deref(), now)
        .map_err(|refusal| {
            ServiceError::forbidden(match refusal {
                UrlRefusal::Missing => "Missing signature",
                UrlRefusal::BadSignature => "Signature does not match",
                UrlRefusal::Expired => "Request has expired",
            })
        })?;

    let (meta, blob) = state
        .store
        .lookup(&s3_token)
        .await
        .map_err(ServiceError::internal)?
        .ok_or_else(ServiceError::not_found)?;
    let file = match tokio::fs::File::open(&blob).await {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(ServiceError::not_found());
        }
        Err(err) => return Err(ServiceError::internal(err)),
    };
    let len = file.metadata().await.map_err(ServiceError::internal)?.len();
    let mut response = Response::builder()
        .header(CONTENT_LENGTH, len)
        .header("x-content-type-options", "nosniff");
    response = match served_image_type(&meta.content_type) {
        Some(image) => response.header(CONTENT_TYPE, image),
        None => response
            .header(CONTENT_TYPE, PLACEHOLDER_TYPE)
            .header(CONTENT_DISPOSITION, "attachment"),
    };
    response
        .body(Body::from_stream(ReaderStream::new(file)))
        .map_err(ServiceError::internal)
}

/// The type a stored object is served with, when it is an image type a
/// browser shows without running anything: `image/...` but not SVG (which
/// can hold script). Anything else (an uploaded `text/html`) is served as a
/// download, never as what it claims to be.
fn served_image_type(stored: &str) -> Option<HeaderValue> {
    let subtype = stored.strip_prefix("image/")?;
    let plain = !subtype.is_empty()
        && subtype
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.+".contains(&b));
    (plain && !subtype.to_ascii_lowercase().contains("svg")).then(|| HeaderValue::from_str(stored).ok())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_image_types_are_served_as_such() {
        for ok in ["image/png", "image/jpeg", "image/x-icon", "image/vnd.microsoft.icon"] {
            assert!(served_image_type(ok).is_some(), "{ok}");
        }
        for no in [
            "text/html",
            "image/svg+xml",
            "image/SVG+xml",
            "image/",
            "image/png; x=1",
            "application/octet-stream",
            "image/png\r\nx: y",
        ] {
            assert!(served_image_type(no).is_none(), "{no}");
        }
    }

    #[test]
    fn remote_names_are_checked() {
        for bad in ["", ".", "..", "a/b", "a\\b", "a\nb", "a\u{7f}"] {
            assert!(check_remote_name("file name", bad).is_err(), "{bad:?}");
        }
        for good in ["a b#%?.png", "ünï.png", "...", ".hidden"] {
            assert!(check_remote_name("file name", good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn last_modified_has_the_documented_shape() {
        let text = last_modified_now();
        assert_eq!(text.len(), 19, "{text}");
        assert_eq!(&text[4..5], "-");
        assert_eq!(&text[10..11], " ");
        assert_eq!(&text[13..14], ":");
    }
}
