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

mod auth;
mod faults;
mod routes;
mod signing;
mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

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
}

impl Config {
    /// The defaults: the `DEFAULT_*` credentials, 300 s tokens, 3600 s URLs,
    /// no faults.
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
}

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
/// waiting); [`Emulator::shutdown`] also waits for requests in flight.
pub struct Emulator {
    addr: SocketAddr,
    counters: Arc<Counters>,
    shutdown: CancellationToken,
    accept_loop: Option<JoinHandle<()>>,
    /// Every connection task and every publish holds a receiver; `closed()`
    /// resolves once the last one is gone.
    in_flight: watch::Sender<()>,
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
        let (store, master) = tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&data_dir)?;
            let store = store::Store::open(&data_dir)?;
            let master = signing::MasterKey::load_or_create(&data_dir)?;
            Ok::<_, std::io::Error>((store, master))
        })
        .await
        .map_err(std::io::Error::other)??;

        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;

        let counters = Arc::new(Counters::default());
        let (in_flight, in_flight_rx) = watch::channel(());
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
            in_flight: in_flight_rx,
        };
        let router = routes::router(Arc::new(state));
        let shutdown = CancellationToken::new();
        let accept_loop = tokio::spawn(accept_loop(listener, router, shutdown.clone(), config.faults.latency));
        Ok(Emulator {
            addr,
            counters,
            shutdown,
            accept_loop: Some(accept_loop),
            in_flight,
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

    /// Stops accepting connections, lets requests in flight (and publishes of
    /// bodies already received) finish, closes idle connections, and returns.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        if let Some(accept_loop) = self.accept_loop.take() {
            let _ = accept_loop.await;
        }
        self.in_flight.closed().await;
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn accept_loop(listener: TcpListener, router: Router, shutdown: CancellationToken, latency: Duration) {
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
        tokio::spawn(serve_connection(stream, router.clone(), shutdown.clone(), latency));
    }
}

async fn serve_connection(stream: TcpStream, router: Router, shutdown: CancellationToken, latency: Duration) {
    let kill = CancellationToken::new();
    let handle = ConnectionKill(kill.clone());
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(handle.clone());
        let router = router.clone();
        async move {
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            router.oneshot(request).await
        }
    });
    let builder = auto::Builder::new(TokioExecutor::new());
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
            _ = connection.as_mut() => break,
            () = shutdown.cancelled(), if !draining => {
                draining = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}
