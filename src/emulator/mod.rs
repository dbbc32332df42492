//! The local file service: an emulator of Capillary's file-service upload
//! endpoint, its OAuth token endpoint and its presigned download URLs, served
//! over plain HTTP on loopback. `capfile serve` runs it on its own, `capfile
//! upload --local` starts it in-process, and the integration tests start it on
//! port 0. It stores versions on disk so they survive restarts, and can inject
//! faults (failures, latency, dropped connections) to exercise clients.
//!
//! This file holds the public API and the connection handling; the routes are
//! in `routes.rs`, storage in `store.rs`, credentials in `auth.rs`, secure URLs
//! in `signing.rs` and fault draws in `faults.rs`.
//!
//! Connections are accepted by hand rather than through `axum::serve`, because
//! dropping a connection in the middle of a request (a fault the emulator must
//! be able to inject) needs the connection task, not the handler: each
//! connection hands its requests a [`faults::ConnectionKill`] to pull.
//!
//! No client can hold the service: request headers must arrive within
//! [`Config::header_read_timeout`], a body must not stall for longer than
//! [`Config::body_idle_timeout`], and [`Emulator::shutdown`] cuts requests
//! still running after [`Config::shutdown_grace`].
//!
//! One emulator writes a data directory at a time: it holds a lock on
//! `DATA/lock` while it runs, and a second one is refused with a clear error.
//! That keeps versions unique (they are counted under an in-process lock) and
//! lets a starting emulator clear every temporary file it finds, since they
//! can only be leftovers of one that was killed.

mod auth;
mod clock;
mod faults;
mod routes;
mod signing;
mod store;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

pub use clock::Clock;
use faults::ConnectionKill;
pub use faults::RateLimit;

/// Where `serve` and `upload --local` listen by default.
pub const DEFAULT_ADDR: &str = "127.0.0.1:7878";
/// The Basic-auth user the emulator accepts by default.
pub const DEFAULT_USERNAME: &str = "capfile";
/// The password the emulator accepts by default; as with Capillary, clients
/// send its MD5 in hex, never the password itself.
pub const DEFAULT_PASSWORD: &str = "capfile";
/// The OAuth client key the emulator accepts by default.
pub const DEFAULT_CLIENT_KEY: &str = "capfile-local";
/// The OAuth client secret the emulator accepts by default.
pub const DEFAULT_CLIENT_SECRET: &str = "capfile-local-secret";

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
    /// How long [`Emulator::shutdown`] lets requests in flight finish before
    /// it closes their connections. Zero cuts them at once (`upload --local`,
    /// whose own requests are done by then, never waits for other clients).
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
pub type RequestLogger = Arc<dyn Fn(&RequestLog) + Send + Sync>;

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
    fn snapshot(&self) -> Stats {
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

/// A running emulator. Dropping it stops accepting connections (without
/// waiting) and releases the data directory; [`Emulator::shutdown`] also
/// waits, for a while, for requests in flight.
pub struct Emulator {
    addr: SocketAddr,
    counters: Arc<Counters>,
    /// Stops the accept loop and asks connections to finish their request.
    shutdown: CancellationToken,
    /// Closes every connection at once, whatever it is doing.
    force: CancellationToken,
    accept_loop: Option<JoinHandle<()>>,
    /// One task per connection.
    connections: TaskTracker,
    /// One token per publish: a publish outlives its request (see
    /// `routes::upload_inner`), and shutdown waits for it.
    publishes: TaskTracker,
    shutdown_grace: Duration,
    /// The lock on `DATA/lock`, held while this emulator may write there.
    data_lock: Option<std::fs::File>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Opens (or creates) the data directory, binds `addr` (port 0 picks a
    /// free port) and serves on the current tokio runtime.
    pub async fn start(addr: SocketAddr, config: Config) -> std::io::Result<Emulator> {
        let data_dir = config.data_dir.clone();
        let (store, master, data_lock) = tokio::task::spawn_blocking(move || {
            create_private_dir_all(&data_dir)?;
            // First the lock: the store clears temporary files, and only
            // the one emulator writing here may.
            let data_lock = lock_data_dir(&data_dir)?;
            let store = store::Store::open(&data_dir)?;
            let master = signing::MasterKey::load_or_create(&data_dir)?;
            Ok::<_, std::io::Error>((store, master, data_lock))
        })
        .await
        .map_err(std::io::Error::other)??;

        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;

        let counters = Arc::new(Counters::default());
        let publishes = TaskTracker::new();
        let public_url = config
            .public_url
            .as_deref()
            .map(|url| url.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| format!("http://{addr}"));
        let state = routes::AppState {
            store: Arc::new(store),
            auth: auth::Authenticator::new(
                &master,
                &config.username,
                &config.password,
                &config.client_key,
                &config.client_secret,
                config.token_ttl,
            ),
            urls: signing::UrlSigner::new(&master),
            counters: Arc::clone(&counters),
            faults: config.faults.clone(),
            url_ttl: config.url_ttl,
            public_url,
            body_idle_timeout: config.body_idle_timeout,
            publishes: publishes.clone(),
            clock: config.clock.clone(),
            upload_latency: faults::UploadLatency(config.upload_latency.clone()),
        };
        let router = routes::router(Arc::new(state));
        let shutdown = CancellationToken::new();
        let force = CancellationToken::new();
        let connections = TaskTracker::new();
        let accept_loop = tokio::spawn(accept_loop(
            listener,
            Connections {
                router,
                shutdown: shutdown.clone(),
                force: force.clone(),
                tracker: connections.clone(),
                latency: config.faults.latency,
                header_read_timeout: config.header_read_timeout,
                error_shape: config.faults.error_shape,
                log: config.log.clone(),
            },
        ));
        Ok(Emulator {
            addr,
            counters,
            shutdown,
            force,
            accept_loop: Some(accept_loop),
            connections,
            publishes,
            shutdown_grace: config.shutdown_grace,
            data_lock: Some(data_lock),
        })
    }

    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://{addr}`, the base URL clients should use.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.counters.snapshot()
    }

    /// Stops accepting connections, closes idle ones, lets requests in
    /// flight finish for up to [`Config::shutdown_grace`] and then closes
    /// their connections (their partial bodies are deleted), waits for
    /// publishes of bodies already received, and releases the data directory.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        if let Some(accept_loop) = self.accept_loop.take() {
            let _ = accept_loop.await;
        }
        self.connections.close();
        if tokio::time::timeout(self.shutdown_grace, self.connections.wait())
            .await
            .is_err()
        {
            self.force.cancel();
            self.connections.wait().await;
        }
        self.publishes.close();
        self.publishes.wait().await;
        self.data_lock.take();
    }
}

impl Emulator {
    /// [`Emulator::shutdown`], then the counters' final values: once it
    /// returns, no request in flight can still store anything.
    pub async fn shutdown_stats(self) -> Stats {
        let counters = Arc::clone(&self.counters);
        self.shutdown().await;
        counters.snapshot()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The header that carries each answer's request id, as Capillary's does.
pub const REQUEST_ID_HEADER: &str = "x-cap-requestid";

/// Logs a request when its handling ends: answered, or dropped with its
/// connection (then `status` is `None`, and a cut connection is the `drop`
/// fault).
struct LogOnDrop {
    log: RequestLogger,
    entry: RequestLog,
    started: std::time::Instant,
    kill: ConnectionKill,
}

impl Drop for LogOnDrop {
    fn drop(&mut self) {
        self.entry.elapsed = self.started.elapsed();
        if self.entry.status.is_none() && self.kill.0.is_cancelled() {
            self.entry.fault = Some("drop");
        }
        (self.log)(&self.entry);
    }
}

/// Creates the data directory (and missing parents) with mode 0700: it holds
/// the key that signs download URLs.
fn create_private_dir_all(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Takes the data directory's writer lock, or explains who holds it. The
/// operating system releases it when the process ends, however it ends.
fn lock_data_dir(dir: &Path) -> std::io::Result<std::fs::File> {
    let path = dir.join("lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(std::io::Error::new(
            std::io::ErrorKind::ResourceBusy,
            format!(
                "another capfile emulator is using {} (one emulator per data directory)",
                dir.display()
            ),
        )),
        Err(std::fs::TryLockError::Error(err)) => Err(std::io::Error::new(
            err.kind(),
            format!("cannot lock {}: {err}", path.display()),
        )),
    }
}

/// What every connection task shares.
#[derive(Clone)]
struct Connections {
    router: Router,
    shutdown: CancellationToken,
    force: CancellationToken,
    tracker: TaskTracker,
    latency: Duration,
    header_read_timeout: Duration,
    error_shape: ErrorShape,
    log: Option<RequestLogger>,
}

async fn accept_loop(listener: TcpListener, connections: Connections) {
    let shutdown = connections.shutdown.clone();
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(_) => {
                    // Typically out of file descriptors: back off instead of
                    // spinning, and try again.
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_millis(50)) => continue,
                        () = shutdown.cancelled() => break,
                    }
                }
            },
            () = shutdown.cancelled() => break,
        };
        let _ = stream.set_nodelay(true);
        connections.tracker.spawn(serve_connection(stream, connections.clone()));
    }
}

async fn serve_connection(stream: TcpStream, connections: Connections) {
    let Connections {
        router,
        shutdown,
        force,
        latency,
        header_read_timeout,
        error_shape,
        log,
        ..
    } = connections;
    let kill = CancellationToken::new();
    let handle = ConnectionKill(kill.clone());
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(handle.clone());
        let router = router.clone();
        // Every answer names its request, as Capillary's do.
        let request_id = uuid::Uuid::new_v4().to_string();
        let mut logged = log.clone().map(|log| LogOnDrop {
            log,
            entry: RequestLog {
                method: request.method().to_string(),
                path: request.uri().path().to_owned(),
                status: None,
                elapsed: Duration::ZERO,
                fault: None,
                request_id: request_id.clone(),
            },
            started: std::time::Instant::now(),
            kill: handle.clone(),
        });
        async move {
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            let response = router.oneshot(request).await;
            response.map(|response| {
                let mut response = routes::reshape_error(response, error_shape);
                if let Ok(value) = axum::http::HeaderValue::from_str(&request_id) {
                    response.headers_mut().insert(REQUEST_ID_HEADER, value);
                }
                if let Some(logged) = logged.as_mut() {
                    logged.entry.status = Some(response.status().as_u16());
                    logged.entry.fault = response.extensions().get::<faults::Injected>().map(|f| f.0);
                }
                response
            })
        }
    });
    // HTTP/1 only: the emulator speaks plain HTTP, which clients use with
    // HTTP/1.1, and the auto-detection of HTTP/2 would wait for bytes with no
    // time limit. The header timeout needs a timer to work.
    let mut builder = auto::Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);
    let mut draining = false;
    loop {
        tokio::select! {
            // Checked first so that a handler that asked for the cut never
            // gets to answer: dropping `connection` closes the socket with
            // the request unanswered.
            biased;
            () = kill.cancelled() => break,
            () = force.cancelled() => break,
            _ = connection.as_mut() => break,
            () = shutdown.cancelled(), if !draining => {
                draining = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}
