//! The local file service: an emulator of Capillary's file-service upload
//! endpoint, its OAuth token endpoint and its presigned download URLs, served
//! over plain HTTP on loopback. `capfile serve` runs it on its own, `capfile
//! upload --local` starts it in-process, and the integration tests start it on
//! port 0. It stores versions on disk so they survive restarts, and can inject
//! faults (failures, latency, dropped connections) to exercise clients.
//!
//! This file holds the running [`Emulator`] and the connection handling; its
//! configuration and counters are in `config.rs`, the routes in `routes.rs`,
//! their error answers in `error.rs`, the receiving of upload bodies in
//! `body.rs`, storage in `store.rs`, credentials in `auth.rs`, secure URLs in
//! `signing.rs` and fault draws in `faults.rs`.
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
mod body;
mod clock;
mod config;
pub(crate) mod discovery;
mod error;
mod faults;
mod routes;
mod signing;
mod store;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
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
use config::Counters;
pub(crate) use config::RequestLogger;
pub use config::{Config, ErrorShape, Faults, RequestLog, Stats, default_data_dir};
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

/// A running emulator. Dropping it stops accepting connections (without
/// waiting) and releases the data directory; [`Emulator::shutdown`] also
/// waits, for a while, for requests in flight.
pub struct Emulator {
    /// The data directory it announced itself in, and its instance id.
    announced: Option<(std::path::PathBuf, String)>,
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

/// Creates the data directory (0700), locks it, and opens its store and
/// signing key, off the async threads.
async fn open_data_dir(
    data_dir: std::path::PathBuf,
) -> std::io::Result<(store::Store, signing::MasterKey, std::fs::File)> {
    tokio::task::spawn_blocking(move || {
        create_private_dir_all(&data_dir)?;
        // First the lock: the store clears temporary files, and only
        // the one emulator writing here may.
        let data_lock = lock_data_dir(&data_dir)?;
        let store = store::Store::open(&data_dir)?;
        let master = signing::MasterKey::load_or_create(&data_dir)?;
        Ok::<_, std::io::Error>((store, master, data_lock))
    })
    .await
    .map_err(std::io::Error::other)?
}

impl Emulator {
    /// Opens (or creates) the data directory, binds `addr` (port 0 picks a
    /// free port) and serves on the current tokio runtime.
    pub async fn start(addr: SocketAddr, config: Config) -> std::io::Result<Emulator> {
        let (store, master, data_lock) = open_data_dir(config.data_dir.clone()).await?;

        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        // Who it is, for `upload --local` (see `discovery`).
        let instance = uuid::Uuid::new_v4().to_string();

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
            instance: instance.clone(),
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
        let announced = discovery::Announcement {
            url: format!("http://{addr}"),
            instance,
        };
        // Best effort: without it, `--local` falls back to the default address.
        let _ = discovery::announce(&config.data_dir, &announced);
        Ok(Emulator {
            announced: Some((config.data_dir.clone(), announced.instance)),
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
        if let Some((dir, instance)) = self.announced.take() {
            discovery::withdraw(&dir, &instance);
        }
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
pub(crate) const REQUEST_ID_HEADER: &str = "x-cap-requestid";

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
/// the key that signs download URLs. The store's folders inside it are made
/// the same way, whatever the umask.
pub(crate) fn create_private_dir_all(dir: &Path) -> std::io::Result<()> {
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
                let mut response = error::reshape_error(response, error_shape);
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
