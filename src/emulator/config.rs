//! How an emulator is configured and what it reports: [`Config`] (where it
//! keeps files, which credentials it accepts, how long tokens and URLs live),
//! the [`Faults`] it injects and the [`ErrorShape`] of its error answers, the
//! [`RequestLog`] a caller hears about each request, and the [`Stats`] counted
//! since it started. The emulator itself, which reads all this, is in `mod.rs`.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::{Clock, DEFAULT_CLIENT_KEY, DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_USERNAME, RateLimit};

/// Default OAuth token lifetime (Capillary's common minimum).
const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(300);
/// Default `secureFilePath` lifetime (`X-Amz-Expires=3600` in the vendor sample).
const DEFAULT_URL_TTL: Duration = Duration::from_secs(3600);
/// Default time allowed for a request's headers (and for an idle keep-alive
/// connection's next request).
const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time a request body may go without a byte arriving.
const DEFAULT_BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time a shutdown waits for requests in flight before cutting them.
const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The emulator's default data directory: `emulator/` in capfile's data
/// directory (on Linux `$XDG_DATA_HOME/capfile/emulator`), or
/// `./capfile-emulator` where the platform has no such directory.
pub fn default_data_dir() -> PathBuf {
    directories::ProjectDirs::from("", "", "capfile")
        .map(|dirs| dirs.data_dir().join("emulator"))
        .unwrap_or_else(|| PathBuf::from("capfile-emulator"))
}

/// How an emulator behaves: where it keeps files, which credentials it
/// accepts, how long tokens and URLs live, and which faults it injects.
#[derive(Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub username: String,
    /// The plain password; Basic clients send its MD5 in hex.
    pub password: String,
    pub client_key: String,
    pub client_secret: String,
    /// OAuth token lifetime, announced as `ttlSeconds`.
    pub token_ttl: Duration,
    /// Lifetime of each `secureFilePath`.
    pub url_ttl: Duration,
    /// Base of `secureFilePath` (e.g. when behind a proxy); `None` means
    /// `http://{bound address}`.
    pub public_url: Option<String>,
    pub faults: Faults,
    /// A connection whose request headers are not complete this long after
    /// it opened (or after its previous response) is closed.
    pub header_read_timeout: Duration,
    /// A request whose body goes this long without a byte is answered 408
    /// and its connection closed; nothing is stored.
    pub body_idle_timeout: Duration,
    /// How long [`Emulator::shutdown`](super::Emulator::shutdown) lets
    /// requests in flight finish before it closes their connections. Zero
    /// cuts them at once (`upload --local`, whose own requests are done by
    /// then, never waits for other clients).
    pub shutdown_grace: Duration,
    /// The clock tokens and secure URLs expire by: the system's, unless a
    /// test moves it.
    pub clock: Clock,
    /// Latency added to the upload of a file of this name (after its checks,
    /// before its body is read), on top of [`Faults::latency`]: lets tests
    /// make some uploads finish after others. Empty by default.
    pub upload_latency: Vec<(String, Duration)>,
    /// Called once per request, after it is answered; none by default.
    pub log: Option<RequestLogger>,
}

impl Config {
    /// The defaults: the `DEFAULT_*` credentials, 300 s tokens, 3600 s URLs,
    /// no faults, 30 s for headers and between body bytes, 5 s of grace at
    /// shutdown.
    pub fn new(data_dir: PathBuf) -> Self {
        Config {
            data_dir,
            username: DEFAULT_USERNAME.to_owned(),
            password: DEFAULT_PASSWORD.to_owned(),
            client_key: DEFAULT_CLIENT_KEY.to_owned(),
            client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
            token_ttl: DEFAULT_TOKEN_TTL,
            url_ttl: DEFAULT_URL_TTL,
            public_url: None,
            faults: Faults::default(),
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_idle_timeout: DEFAULT_BODY_IDLE_TIMEOUT,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            clock: Clock::default(),
            upload_latency: Vec::new(),
            log: None,
        }
    }
}

/// Written by hand so that secrets never reach a log through `{:?}`.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("client_key", &self.client_key)
            .field("client_secret", &"<redacted>")
            .field("token_ttl", &self.token_ttl)
            .field("url_ttl", &self.url_ttl)
            .field("public_url", &self.public_url)
            .field("faults", &self.faults)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("body_idle_timeout", &self.body_idle_timeout)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("clock", &self.clock)
            .field("upload_latency", &self.upload_latency)
            .field("log", &self.log.is_some())
            .finish()
    }
}

/// Faults to inject. `Faults::default()` injects none (and has a
/// `fail_status` of 503).
#[derive(Clone, Debug)]
pub struct Faults {
    /// Share (0..=1) of upload requests answered with `fail_status`, without
    /// storing anything.
    pub fail_rate: f64,
    /// Status of injected failures; 503 by default.
    pub fail_status: u16,
    /// Seconds, sent as `Retry-After` on injected failures.
    pub retry_after: Option<u64>,
    /// Added before answering each request (every route).
    pub latency: Duration,
    /// Share (0..=1) of uploads whose TCP connection is cut after part of the
    /// body has been read; nothing is stored for them.
    pub drop_rate: f64,
    /// Uploads beyond this limit are answered 429.
    pub rate_limit: Option<RateLimit>,
    /// The body shape of the upload endpoint's error answers.
    pub error_shape: ErrorShape,
    /// Answer an expired OAuth token with 498 "Token expired at ...", as
    /// Capillary documents, instead of 401.
    pub expired_token_498: bool,
    /// Refuse an upload whose file is larger than this many bytes with 413,
    /// in the error shape chosen, storing nothing: a server-side size limit.
    pub max_upload_bytes: Option<u64>,
}

/// The shapes in which Capillary's services answer errors; the emulator
/// answers the upload endpoint's errors in the one chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ErrorShape {
    /// {"errors": [{"status", "code", "message"}], "warnings": []}, the API
    /// gateway's
    #[default]
    Errors,
    /// {"response": {"status": {"success", "code", "message"}}}, as OAuth
    /// token errors
    Response,
    /// {"code", "status", "message"}
    Flat,
}

/// What `Config::log` hears about each request once it is answered (or its
/// connection is gone).
#[derive(Clone, Debug)]
pub struct RequestLog {
    pub method: String,
    /// The path only: a download's signature is in its query, not here.
    pub path: String,
    /// `None` when no answer was sent (the connection was cut or closed).
    pub status: Option<u16>,
    pub elapsed: Duration,
    /// The fault injected into this request, if any: `fail`, `drop`,
    /// `rate-limit` or `expired-498`.
    pub fault: Option<&'static str>,
    pub request_id: String,
}

/// A callback for [`RequestLog`]s (`serve -v`).
pub(crate) type RequestLogger = Arc<dyn Fn(&RequestLog) + Send + Sync>;

/// Counters since the emulator started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Every request that reached the upload route.
    pub upload_requests: u64,
    /// Versions actually published.
    pub uploads_stored: u64,
    /// `POST /v3/oauth/token/generate` calls.
    pub token_requests: u64,
    /// Requests answered 401.
    pub auth_failures: u64,
    /// Injected failures plus dropped connections.
    pub faults_injected: u64,
    /// Uploads answered 429 by the rate limit.
    pub rate_limited: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) upload_requests: AtomicU64,
    pub(crate) uploads_stored: AtomicU64,
    pub(crate) token_requests: AtomicU64,
    pub(crate) auth_failures: AtomicU64,
    pub(crate) faults_injected: AtomicU64,
    pub(crate) rate_limited: AtomicU64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> Stats {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            upload_requests: read(&self.upload_requests),
            uploads_stored: read(&self.uploads_stored),
            token_requests: read(&self.token_requests),
            auth_failures: read(&self.auth_failures),
            faults_injected: read(&self.faults_injected),
            rate_limited: read(&self.rate_limited),
        }
    }
}

/// Adds one to a counter.
pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}
