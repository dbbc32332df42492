//! The file-service client: URL building, authentication, one upload, retries.
//!
//! One `FileService` serves a whole run: one reqwest client (one connection
//! pool), one OAuth token shared by every upload, one retry policy, and one
//! throttle, so that when the service says "slow down" (429/503) every worker
//! slows down, not only the one that was told. Bodies are streamed from disk with
//! a `Content-Length`, and a retried upload re-opens the file and streams it again
//! from the start. Nothing here prints: progress and retries are reported through
//! the `Progress` trait, and errors are returned as `ApiError`.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine;
use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use url::Url;

use crate::cli::BodyFormat;
use crate::credentials::{Credentials, Secret};
use crate::inputs::RemoteName;
use crate::pacing::{Pacer, Rate};

/// The OAuth token header of Capillary's API.
pub const OAUTH_HEADER: &str = "x-cap-api-oauth-token";
/// How long before its stated expiry a token is replaced: 10 s, or a quarter of
/// a lifetime shorter than 40 s (so a 2 s token is still used for 1.5 s).
const TOKEN_MARGIN: Duration = Duration::from_secs(10);
/// The longest `Retry-After` obeyed; a longer one is cut to this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Read size when streaming a file into a request body: one read, and one
/// buffer, per chunk. On a 1 GiB upload, 256 KiB ran faster than 128 or 512 KiB.
const CHUNK: usize = 256 * 1024;
/// Chunks read ahead of the connection, per upload.
const READ_AHEAD: usize = 2;
/// The most of a response body capfile reads. The service's answer is under
/// 2 KB; a server that sends more (or streams without end) is cut off here.
pub const MAX_RESPONSE: usize = 1024 * 1024;
/// The longest token lifetime believed: Capillary's maximum is 30 days.
const MAX_TOKEN_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// Why a request failed.
#[derive(Debug, Clone)]
pub enum ApiError {
    /// The service answered with an error status.
    Status {
        status: StatusCode,
        message: String,
        retry_after: Option<Duration>,
    },
    /// Connecting, sending or receiving failed.
    Network(String),
    /// No progress for the idle time limit.
    Timeout(Duration),
    /// A success status with a body that is not the service's JSON.
    Response(String),
    /// The local file could not be read as checked.
    File(String),
    /// A redirect, which an upload never follows.
    Redirect(String),
}

impl ApiError {
    /// Connection errors, timeouts, 408, 429 and 5xx gateway errors may pass.
    pub fn is_retryable(&self) -> bool {
        match self {
            ApiError::Status { status, .. } => matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504),
            ApiError::Network(_) | ApiError::Timeout(_) => true,
            ApiError::Response(_) | ApiError::File(_) | ApiError::Redirect(_) => false,
        }
    }

    /// 401 or 403: the credentials are wrong or not allowed.
    pub fn is_auth(&self) -> bool {
        matches!(self, ApiError::Status { status, .. } if matches!(status.as_u16(), 401 | 403))
    }

    fn retry_after(&self) -> Option<Duration> {
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

    /// 429 and 503 mean the service as a whole wants fewer requests.
    fn slows_everyone(&self) -> bool {
        matches!(self, ApiError::Status { status, .. } if matches!(status.as_u16(), 429 | 503))
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Status { status, message, .. } => {
                write!(f, "server answered {status}")?;
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
            ApiError::Network(cause) => f.write_str(cause),
            ApiError::Timeout(limit) => write!(f, "no progress for {} s (--timeout)", limit.as_secs()),
            ApiError::Response(cause) => write!(f, "unexpected response: {cause}"),
            ApiError::File(cause) => f.write_str(cause),
            ApiError::Redirect(cause) => f.write_str(cause),
        }
    }
}

/// Receives what an upload does, for progress bars and `-v` logs.
pub trait Progress: Send + Sync {
    /// More bytes of the body were handed to the connection.
    fn sent(&self, _bytes: u64) {}
    /// A new attempt starts; bytes count from zero again.
    fn restart(&self) {}
    /// An attempt failed and will be retried after `delay`.
    fn retrying(&self, _attempt: u32, _delay: Duration, _cause: &ApiError) {}
    /// The service said 429: this upload waits `wait` for the rate limit.
    /// `new_pause` is set for the answer that paused every upload, and clear
    /// for answers to requests sent before that pause.
    fn rate_limited(&self, _wait: Duration, _new_pause: bool, _cause: &ApiError) {}
}

/// A `Progress` that ignores everything.
pub struct NoProgress;
impl Progress for NoProgress {}

/// The default bound on the time one upload waits for rate limits.
pub const DEFAULT_RATE_WAIT: Duration = Duration::from_secs(300);

/// Exponential backoff with jitter, honouring `Retry-After`.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    pub retries: u32,
    pub base: Duration,
    pub cap: Duration,
    /// How long one upload may wait in all for the rate limit (after 429s)
    /// before it fails; 429s do not count against `retries`.
    pub rate_wait: Duration,
}

impl RetryPolicy {
    pub fn new(retries: u32) -> Self {
        RetryPolicy {
            retries,
            base: Duration::from_millis(250),
            cap: Duration::from_secs(20),
            rate_wait: DEFAULT_RATE_WAIT,
        }
    }

    /// The wait before retry number `attempt` (1-based): the server's
    /// `Retry-After` when it gave one, else `base * 2^(attempt-1)` capped, with
    /// "equal jitter" (half fixed, half random) so workers do not retry in step.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(MAX_RETRY_AFTER);
        }
        let exp = self.base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let ceiling = exp.min(self.cap);
        let half = ceiling / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

/// A shared "nobody sends before" instant, set by 429/503 answers.
#[derive(Default)]
struct Throttle {
    until: std::sync::Mutex<Option<Instant>>,
}

impl Throttle {
    fn hold_until(&self, when: Instant) {
        if let Ok(mut until) = self.until.lock() {
            *until = Some(until.map_or(when, |u| u.max(when)));
        }
    }

    async fn wait(&self) {
        let until = self.until.lock().ok().and_then(|u| *u);
        if let Some(until) = until {
            tokio::time::sleep_until(until.into()).await;
        }
    }
}

/// The last moment a request made progress, for the idle timeout.
///
/// Progress is bytes handed to the connection or read from it. Bytes handed
/// over are not yet bytes the server took: the socket's send buffer and the
/// server's receive buffer (several MiB together) take the first MiBs of a
/// body at once, and a server that reads slowly but steadily still has them to
/// drain after the last byte was handed over, with nothing to see meanwhile.
/// So once the whole body is out, the idle window grows by the time the server
/// needs to read what the buffers may still hold (`drain_grace`).
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
    grace_ms: AtomicU64,
    body_size: u64,
    handed: AtomicU64,
}

impl Activity {
    fn new(body_size: u64) -> Arc<Activity> {
        Arc::new(Activity {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
            grace_ms: AtomicU64::new(0),
            body_size,
            handed: AtomicU64::new(0),
        })
    }

    fn touch(&self) {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(now, Ordering::Relaxed);
    }

    /// `bytes` more of the body were handed to the connection.
    fn sent(&self, bytes: u64) {
        self.touch();
        let handed = self.handed.fetch_add(bytes, Ordering::Relaxed).saturating_add(bytes);
        if handed >= self.body_size {
            let grace = drain_grace(self.body_size);
            self.grace_ms
                .store(u64::try_from(grace.as_millis()).unwrap_or(u64::MAX), Ordering::Relaxed);
        }
    }

    /// Resolves once nothing has happened for `limit` (plus the drain grace).
    async fn stalled(&self, limit: Duration) {
        loop {
            let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
            let grace = Duration::from_millis(self.grace_ms.load(Ordering::Relaxed));
            let idle = self.start.elapsed().saturating_sub(last);
            let window = limit.saturating_add(grace);
            if idle >= window {
                return;
            }
            tokio::time::sleep(window - idle).await;
        }
    }
}

/// The most a body's bytes that the buffers between capfile and the server can
/// hold once capfile has handed the last one over: Linux's largest default
/// send (4 MiB) and receive (6 MiB) buffers, with room for a proxy.
const BUFFERED_AT_MOST: u64 = 16 * 1024 * 1024;
/// The slowest a server may read and still count as making progress: one
/// body chunk a second, which is also what keeps the idle timer fed while the
/// body is being handed over.
const SLOWEST_READ: u64 = CHUNK as u64;

/// Extra idle time once a body of `size` bytes is handed over: the time to
/// read what the buffers may still hold at the slowest rate that counts.
fn drain_grace(size: u64) -> Duration {
    Duration::from_secs_f64(size.min(BUFFERED_AT_MOST) as f64 / SLOWEST_READ as f64)
}

/// What to upload.
pub struct UploadJob<'a> {
    pub namespace: &'a str,
    pub name: &'a RemoteName,
    /// The file to stream, its size and MIME type; `None` for a placeholder.
    pub body: Option<(&'a Path, u64, &'a str)>,
    pub format: BodyFormat,
}

/// A successful upload.
#[derive(Clone, Debug)]
pub struct Uploaded {
    /// The response body exactly as received.
    pub raw: Bytes,
    pub name: String,
    pub version: String,
    pub secure_file_path: String,
}

enum Auth {
    Basic(HeaderValue),
    OAuth {
        client_key: String,
        client_secret: Secret,
        token: tokio::sync::Mutex<Option<Token>>,
    },
}

#[derive(Clone)]
struct Token {
    value: HeaderValue,
    expires: Instant,
}

/// The client of one file service, for one run.
pub struct FileService {
    http: reqwest::Client,
    base_url: Url,
    auth: Auth,
    idle_timeout: Duration,
    retry: RetryPolicy,
    throttle: Throttle,
    /// The pace under the service's rate limit, learnt from 429s or set.
    pacer: Pacer,
    token_requests: AtomicU64,
}

/// The one HTTP client configuration capfile uses.
pub fn http_client(idle_timeout: Duration) -> Result<reqwest::Client, String> {
    // reqwest is built without a default TLS crypto provider; ring is installed
    // once per process (a second install is a harmless error).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .user_agent(concat!("capfile/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(idle_timeout)
        .tcp_nodelay(true)
        // No request capfile makes follows a redirect (see read_upload_response).
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot set up the HTTP client: {e}"))
}

impl FileService {
    pub fn new(
        base_url: Url,
        credentials: &Credentials,
        idle_timeout: Duration,
        retries: u32,
    ) -> Result<FileService, String> {
        let auth = match credentials {
            Credentials::Basic { username, password_md5 } => {
                let encoded =
                    base64::engine::general_purpose::STANDARD.encode(format!("{username}:{}", password_md5.expose()));
                let mut value = HeaderValue::from_str(&format!("Basic {encoded}"))
                    .map_err(|_| "the username contains characters that cannot be sent".to_string())?;
                value.set_sensitive(true);
                Auth::Basic(value)
            }
            Credentials::OAuth {
                client_key,
                client_secret,
            } => Auth::OAuth {
                client_key: client_key.clone(),
                client_secret: client_secret.clone(),
                token: tokio::sync::Mutex::new(None),
            },
        };
        Ok(FileService {
            http: http_client(idle_timeout)?,
            base_url,
            auth,
            idle_timeout,
            retry: RetryPolicy::new(retries),
            throttle: Throttle::default(),
            pacer: Pacer::new(None),
            token_requests: AtomicU64::new(0),
        })
    }

    /// Never sends faster than `rate` (when given), and lets one upload wait
    /// up to `rate_wait` in all for the rate limit after 429s.
    pub fn with_pacing(mut self, rate: Option<Rate>, rate_wait: Duration) -> FileService {
        self.pacer = Pacer::new(rate);
        self.retry.rate_wait = rate_wait;
        self
    }

    /// How many 429s this run met, and how long its uploads were paused for them.
    pub fn rate_limit_totals(&self) -> (u64, Duration) {
        self.pacer.totals()
    }

    /// `{base}/api_gateway/file-service/{namespace}/{name}`, the name percent-encoded.
    pub fn upload_url(&self, namespace: &str, name: &RemoteName) -> String {
        let base = self.base_url.as_str().trim_end_matches('/');
        format!("{base}/api_gateway/file-service/{namespace}/{}", name.url_segment())
    }

    /// How many OAuth tokens this run has asked for.
    pub fn token_requests(&self) -> u64 {
        self.token_requests.load(Ordering::Relaxed)
    }

    /// Asks for an OAuth token now, to check a client key and secret before
    /// they are saved (`login`). Basic credentials have nothing to check
    /// against without uploading, so they pass.
    pub async fn check_credentials(&self) -> Result<(), ApiError> {
        self.auth_header().await.map(|_| ())
    }

    /// Uploads with retries. An OAuth 401 renews the token once and tries again
    /// at once; other failures follow the retry policy.
    pub async fn upload(&self, job: &UploadJob<'_>, progress: Arc<dyn Progress>) -> Result<Uploaded, ApiError> {
        let mut attempt = 0;
        let mut renewed_token = false;
        let mut rate_waited = Duration::ZERO;
        loop {
            self.throttle.wait().await;
            let permit = self.pacer.acquire().await;
            progress.restart();
            let (result, sent_with) = self.upload_once(job, progress.clone()).await;
            let err = match result {
                Ok(done) => {
                    self.pacer.success(permit);
                    return Ok(done);
                }
                Err(err) => err,
            };
            if err.is_rate_limit() {
                let limited = self.pacer.limited(permit, err.retry_after());
                let wait = limited.until.saturating_duration_since(Instant::now());
                if rate_waited + wait > self.retry.rate_wait {
                    return Err(gave_up_waiting(err, rate_waited));
                }
                rate_waited += wait;
                progress.rate_limited(wait, limited.new_pause, &err);
                // The pacer holds the next attempt until the pause is over.
                continue;
            }
            drop(permit);
            if err.is_auth() && !renewed_token && matches!(self.auth, Auth::OAuth { .. }) {
                renewed_token = true;
                self.forget_token(sent_with).await;
                continue;
            }
            if !err.is_retryable() || attempt >= self.retry.retries {
                return Err(err);
            }
            attempt += 1;
            let delay = self.retry.delay(attempt, err.retry_after());
            if err.slows_everyone() {
                self.throttle.hold_until(Instant::now() + delay);
            }
            progress.retrying(attempt, delay, &err);
            tokio::time::sleep(delay).await;
        }
    }

    /// One attempt; also returns the token it used, so a 401 can retire it.
    async fn upload_once(
        &self,
        job: &UploadJob<'_>,
        progress: Arc<dyn Progress>,
    ) -> (Result<Uploaded, ApiError>, Option<HeaderValue>) {
        let (auth_name, auth_value) = match self.auth_header().await {
            Ok(header) => header,
            Err(err) => return (Err(err), None),
        };
        let used_token = (auth_name.as_str() == OAUTH_HEADER).then(|| auth_value.clone());
        let activity = Activity::new(job.body.map_or(0, |(_, size, _)| size));
        let request = async {
            let mut request = self
                .http
                .post(self.upload_url(job.namespace, job.name))
                .header(auth_name, auth_value)
                .header(header::ACCEPT, "application/json");
            request = match job.body {
                None => request.header(header::CONTENT_LENGTH, 0).body(Vec::new()),
                Some((path, size, mime)) => {
                    let body = file_body(path, size, progress.clone(), activity.clone()).await?;
                    match job.format {
                        BodyFormat::Raw => request
                            .header(header::CONTENT_TYPE, mime)
                            .header(header::CONTENT_LENGTH, size)
                            .body(body),
                        BodyFormat::Multipart => {
                            let part = reqwest::multipart::Part::stream_with_length(body, size)
                                .file_name(job.name.as_str().to_string())
                                .mime_str(mime)
                                .map_err(|e| ApiError::File(format!("bad MIME type {mime}: {e}")))?;
                            request.multipart(reqwest::multipart::Form::new().part("file", part))
                        }
                    }
                }
            };
            let response = request.send().await.map_err(network_error)?;
            activity.touch();
            read_upload_response(response, &activity).await
        };
        let result = tokio::select! {
            result = request => result,
            () = activity.stalled(self.idle_timeout) => Err(ApiError::Timeout(self.idle_timeout)),
        };
        (result, used_token)
    }

    async fn auth_header(&self) -> Result<(HeaderName, HeaderValue), ApiError> {
        match &self.auth {
            Auth::Basic(value) => Ok((header::AUTHORIZATION, value.clone())),
            Auth::OAuth {
                client_key,
                client_secret,
                token,
            } => {
                // Held across the token request, so a batch asks for one token,
                // not one per worker.
                let mut token = token.lock().await;
                if let Some(current) = token.as_ref()
                    && current.expires > Instant::now()
                {
                    return Ok((HeaderName::from_static(OAUTH_HEADER), current.value.clone()));
                }
                let fresh = self.generate_token(client_key, client_secret).await?;
                let value = fresh.value.clone();
                *token = Some(fresh);
                Ok((HeaderName::from_static(OAUTH_HEADER), value))
            }
        }
    }

    async fn forget_token(&self, used: Option<HeaderValue>) {
        if let Auth::OAuth { token, .. } = &self.auth {
            let mut token = token.lock().await;
            // Another worker may have renewed it already.
            if token.as_ref().map(|t| &t.value) == used.as_ref() {
                *token = None;
            }
        }
    }

    /// `POST /v3/oauth/token/generate` with the key and secret.
    async fn generate_token(&self, key: &str, secret: &Secret) -> Result<Token, ApiError> {
        self.token_requests.fetch_add(1, Ordering::Relaxed);
        let url = format!(
            "{}/v3/oauth/token/generate",
            self.base_url.as_str().trim_end_matches('/')
        );
        let body = serde_json::json!({ "key": key, "secret": secret.expose() }).to_string();
        let response = self
            .http
            .post(url)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
            .timeout(self.idle_timeout)
            .send()
            .await
            .map_err(network_error)?;
        let status = response.status();
        let headers = response.headers().clone();
        let raw = read_body(response, None).await?;
        if !status.is_success() {
            return Err(status_error(status, &headers, &raw));
        }
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            access_token: String,
            ttl_seconds: u64,
        }
        #[derive(serde::Deserialize)]
        struct TokenResponse {
            data: Option<Data>,
        }
        let data = serde_json::from_slice::<TokenResponse>(&raw)
            .ok()
            .and_then(|r| r.data)
            .ok_or_else(|| ApiError::Response("the token endpoint's answer has no data.accessToken".into()))?;
        let mut value = HeaderValue::from_str(&data.access_token)
            .map_err(|_| ApiError::Response("the token has characters a header cannot carry".into()))?;
        value.set_sensitive(true);
        // The lifetime is the server's number: believe at most 30 days of it,
        // so no arithmetic on it can overflow.
        let ttl = Duration::from_secs(data.ttl_seconds).min(MAX_TOKEN_TTL);
        let lifetime = ttl.saturating_sub(TOKEN_MARGIN.min(ttl / 4));
        let now = Instant::now();
        Ok(Token {
            value,
            expires: now.checked_add(lifetime).unwrap_or(now),
        })
    }
}

/// A 429 that came after this upload had waited its fill for the rate limit.
fn gave_up_waiting(err: ApiError, waited: Duration) -> ApiError {
    match err {
        ApiError::Status {
            status,
            message,
            retry_after,
        } => ApiError::Status {
            status,
            message: format!(
                "{message} (still limited after waiting {:.0} s for the rate limit; see --max-rate-wait)",
                waited.as_secs_f64()
            )
            .trim_start()
            .to_string(),
            retry_after,
        },
        other => other,
    }
}

/// The file as a streamed body that reports progress and keeps the idle timer
/// fed. The size checked before the batch must still be the size on disk.
///
/// One blocking task reads the file with plain `std::fs` reads of `CHUNK`
/// bytes, straight into each chunk's own buffer, and hands the chunks over a
/// short channel; the connection sends one while the next is read. (Reading
/// through `tokio::fs::File` costs a thread hand-off and a second copy per read,
/// which made a 1 GiB upload slower than curl's.) When the request is dropped,
/// the channel closes and the reader stops.
async fn file_body(
    path: &Path,
    size: u64,
    progress: Arc<dyn Progress>,
    activity: Arc<Activity>,
) -> Result<reqwest::Body, ApiError> {
    let label = path.display().to_string();
    let owned = path.to_path_buf();
    let opened = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&owned).map_err(|e| format!("cannot open {}: {e}", owned.display()))?;
        let len = file
            .metadata()
            .map_err(|e| format!("cannot read {}: {e}", owned.display()))?
            .len();
        Ok::<_, String>((file, len))
    })
    .await
    .map_err(|e| ApiError::File(format!("cannot open {label}: {e}")))?;
    let (file, now) = opened.map_err(ApiError::File)?;
    if now != size {
        return Err(ApiError::File(format!(
            "{label} changed size since it was checked ({size} -> {now} bytes)"
        )));
    }
    let (chunks, receiver) = tokio::sync::mpsc::channel(READ_AHEAD);
    tokio::task::spawn_blocking(move || read_chunks(file, size, &chunks));
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        let chunk = receiver.recv().await?;
        Some((chunk, receiver))
    })
    .inspect(move |chunk| {
        if let Ok(chunk) = chunk {
            progress.sent(chunk.len() as u64);
            activity.sent(chunk.len() as u64);
        }
    });
    Ok(reqwest::Body::wrap_stream(stream))
}

/// Sends `size` bytes of `file` down `chunks`, `CHUNK` at a time, then stops;
/// a read error, or a file that ends early, is sent as the last item. Returns
/// early once nobody receives.
fn read_chunks(file: std::fs::File, size: u64, chunks: &tokio::sync::mpsc::Sender<std::io::Result<Bytes>>) {
    let mut file = file.take(size);
    let mut remaining = size;
    while remaining > 0 {
        let want = remaining.min(CHUNK as u64) as usize;
        // read_to_end fills the spare capacity without zeroing it first.
        let mut buf = Vec::with_capacity(want);
        let item = match (&mut file).take(want as u64).read_to_end(&mut buf) {
            Ok(got) if got == want => Ok(Bytes::from(buf)),
            Ok(got) => Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("the file ended {} bytes early", remaining - got as u64),
            )),
            Err(err) => Err(err),
        };
        let failed = item.is_err();
        if chunks.blocking_send(item).is_err() || failed {
            return;
        }
        remaining -= want as u64;
    }
}

async fn read_upload_response(response: reqwest::Response, activity: &Activity) -> Result<Uploaded, ApiError> {
    let status = response.status();
    if status.is_redirection() {
        // An upload never follows a redirect: a 301/302/303 would turn the POST
        // into a GET (whose answer is not an upload), and any redirect could
        // carry the credentials to where the service did not mean them to go.
        let target = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| response.url().join(v).ok())
            .and_then(|url| url.host_str().map(str::to_string));
        let target = target.map_or_else(
            || "no usable location".to_string(),
            |host| format!("a location on {host}"),
        );
        return Err(ApiError::Redirect(format!(
            "server answered {status} (a redirect to {}); uploads never follow redirects: check the base URL",
            crate::output::escape_control(&target)
        )));
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
async fn read_body(response: reqwest::Response, activity: Option<&Activity>) -> Result<Bytes, ApiError> {
    let too_large = || ApiError::Response(format!("response too large (over {} KiB)", MAX_RESPONSE / 1024));
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
    let value: serde_json::Value =
        serde_json::from_slice(&raw).map_err(|e| ApiError::Response(format!("the body is not JSON ({e})")))?;
    if let Some(failure) = body_failure(&value) {
        return Err(failure);
    }
    let file = value.get("file");
    let secure_file_path = match value.get("secureFilePath") {
        Some(serde_json::Value::String(url)) => check_secure_url(url)?,
        Some(_) => return Err(ApiError::Response("secureFilePath is not a string".into())),
        None => return Err(ApiError::Response("no secureFilePath in the body".into())),
    };
    let version = match file.and_then(|f| f.get("version")) {
        None => String::new(),
        Some(serde_json::Value::Number(n)) if n.is_u64() => n.to_string(),
        Some(serde_json::Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.clone(),
        Some(_) => return Err(ApiError::Response("file.version is not an integer".into())),
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
            None => ApiError::Response(with_message(
                format!("the service reported error code {code}"),
                &message(),
            )),
        });
    }
    let failed = match value.get("status") {
        Some(serde_json::Value::Bool(ok)) => !ok,
        Some(serde_json::Value::String(s)) => s.trim().eq_ignore_ascii_case("false"),
        _ => false,
    };
    failed.then(|| ApiError::Response(with_message("the service reported a failure".into(), &message())))
}

fn with_message(text: String, message: &str) -> String {
    if message.is_empty() {
        text
    } else {
        format!("{text}: {message}")
    }
}

/// The secure URL as printed: an absolute http(s) URL on one line.
fn check_secure_url(url: &str) -> Result<String, ApiError> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ApiError::Response(
            "secureFilePath holds whitespace or control characters".into(),
        ));
    }
    match Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "https" | "http") && parsed.host().is_some() => Ok(url.to_string()),
        _ => Err(ApiError::Response(
            "secureFilePath is not an absolute http(s) URL".into(),
        )),
    }
}

/// The message of Capillary's error shape `{"errors":[{"message":...}]}`.
fn error_message(value: &serde_json::Value) -> Option<String> {
    let errors = value.get("errors")?.as_array()?;
    let messages: Vec<&str> = errors.iter().filter_map(|e| e.get("message")?.as_str()).collect();
    (!messages.is_empty()).then(|| messages.join("; "))
}

fn status_error(status: StatusCode, headers: &HeaderMap, raw: &[u8]) -> ApiError {
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

/// A reqwest error in words: its innermost cause, which is what tells users
/// what happened ("Connection refused"), plus what was being done.
fn network_error(err: reqwest::Error) -> ApiError {
    let mut cause: &dyn std::error::Error = &err;
    while let Some(source) = cause.source() {
        cause = source;
    }
    let doing = if err.is_connect() {
        "cannot connect"
    } else if err.is_timeout() {
        "timed out"
    } else if err.is_body() || err.is_request() {
        "connection failed while sending"
    } else {
        "request failed"
    };
    let host = err
        .url()
        .and_then(|u| Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?)))
        .unwrap_or_default();
    if host.is_empty() {
        ApiError::Network(format!("{doing}: {cause}"))
    } else {
        ApiError::Network(format!("{doing} to {host}: {cause}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_matches_capillary_docs() {
        let creds = Credentials::Basic {
            username: "store123".into(),
            // The MD5 as Capillary's docs print it for this example.
            password_md5: Secret::new("bdc87b9c894da5168059e00ebffb9077"),
        };
        let service = FileService::new(
            Url::parse("https://x.example").unwrap(),
            &creds,
            Duration::from_secs(5),
            0,
        )
        .unwrap();
        let Auth::Basic(value) = &service.auth else {
            panic!("basic expected")
        };
        assert_eq!(
            value.to_str().unwrap(),
            "Basic c3RvcmUxMjM6YmRjODdiOWM4OTRkYTUxNjgwNTllMDBlYmZmYjkwNzc="
        );
        assert!(value.is_sensitive());
    }

    #[test]
    fn upload_url_encodes_the_name_and_keeps_a_base_path() {
        let creds = Credentials::Basic {
            username: "u".into(),
            password_md5: Secret::new("0".repeat(32)),
        };
        let service = FileService::new(
            Url::parse("https://h.example/prefix/").unwrap(),
            &creds,
            Duration::from_secs(5),
            0,
        )
        .unwrap();
        let name = RemoteName::parse("a b#1.png").unwrap();
        assert_eq!(
            service.upload_url("rewards", &name),
            "https://h.example/prefix/api_gateway/file-service/rewards/a%20b%231.png"
        );
    }

    #[test]
    fn retryable_statuses_follow_the_spec() {
        let status = |code| ApiError::Status {
            status: StatusCode::from_u16(code).unwrap(),
            message: String::new(),
            retry_after: None,
        };
        for code in [408, 429, 500, 502, 503, 504] {
            assert!(status(code).is_retryable(), "{code}");
        }
        for code in [400, 401, 403, 404, 413, 415, 501] {
            assert!(!status(code).is_retryable(), "{code}");
        }
        assert!(status(401).is_auth() && status(403).is_auth() && !status(400).is_auth());
    }

    #[test]
    fn backoff_grows_with_jitter_and_obeys_retry_after() {
        let policy = RetryPolicy::new(5);
        for attempt in 1..=4 {
            let full = Duration::from_millis(250 * (1 << (attempt - 1)));
            let delay = policy.delay(attempt, None);
            assert!(delay >= full / 2 && delay <= full, "{attempt}: {delay:?}");
        }
        assert_eq!(policy.delay(9, None).max(policy.cap), policy.cap);
        assert_eq!(policy.delay(1, Some(Duration::from_secs(7))), Duration::from_secs(7));
        assert_eq!(policy.delay(1, Some(Duration::from_secs(7200))), MAX_RETRY_AFTER);
    }

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

    /// What `read_chunks` sends for a file of `len` bytes told to be `size`.
    fn chunks_of(len: usize, size: u64) -> Vec<std::io::Result<Bytes>> {
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, &(0..len).map(|i| i as u8).collect::<Vec<_>>()).unwrap();
        std::io::Seek::rewind(&mut file).unwrap();
        let (sender, mut receiver) = tokio::sync::mpsc::channel(READ_AHEAD);
        let reader = std::thread::spawn(move || read_chunks(file, size, &sender));
        let mut got = Vec::new();
        while let Some(item) = receiver.blocking_recv() {
            got.push(item);
        }
        reader.join().unwrap();
        got
    }

    #[test]
    fn file_chunks_cover_the_checked_size_in_order() {
        let len = 2 * CHUNK + 1000;
        let chunks: Vec<Bytes> = chunks_of(len, len as u64).into_iter().map(Result::unwrap).collect();
        let sizes: Vec<usize> = chunks.iter().map(Bytes::len).collect();
        assert_eq!(sizes, [CHUNK, CHUNK, 1000]);
        let joined: Vec<u8> = chunks.concat();
        assert!(joined.iter().enumerate().all(|(i, b)| *b == i as u8));
        // Bytes appended after the check are not sent.
        let sizes: Vec<usize> = chunks_of(len, 10).into_iter().map(|c| c.unwrap().len()).collect();
        assert_eq!(sizes, [10]);
    }

    #[test]
    fn a_file_that_shrank_ends_the_body_with_an_error() {
        let chunks = chunks_of(CHUNK + 10, (CHUNK + 500) as u64);
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].as_ref().unwrap().len(), CHUNK);
        let err = chunks[1].as_ref().unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
        assert!(err.to_string().contains("490 bytes early"), "{err}");
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
            assert!(matches!(err, ApiError::Response(_)), "{body}: {err:?}");
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
            assert!(matches!(err, ApiError::Response(_)), "{body}: {err:?}");
        }
        let ok = parsed(r#"{"secureFilePath":"https://s/a?X-Amz-Expires=3600","file":{"version":"12"}}"#).unwrap();
        assert_eq!(ok.version, "12");
    }

    #[test]
    fn the_idle_window_grows_by_the_drain_time_only_once_the_body_is_out() {
        assert_eq!(drain_grace(0), Duration::ZERO);
        assert_eq!(drain_grace(CHUNK as u64 * 8), Duration::from_secs(8));
        assert_eq!(drain_grace(u64::MAX), Duration::from_secs(64));
        let activity = Activity::new(1000);
        activity.sent(999);
        assert_eq!(activity.grace_ms.load(Ordering::Relaxed), 0);
        activity.sent(1);
        assert_eq!(
            activity.grace_ms.load(Ordering::Relaxed),
            drain_grace(1000).as_millis() as u64
        );
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
}
