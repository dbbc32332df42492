//! `upload --local`: which local file service to send to, decided before
//! anything is sent.
//!
//! First the running emulator of the default data directory, found by the
//! announcement it writes there and proven by asking it who it is (see
//! `emulator::discovery`): `capfile serve --addr 127.0.0.1:0` in another
//! terminal is found on whatever port it took. Else the default address:
//! nothing listening there, an emulator is started in this process; a
//! listener that is not capfile's emulator of this data directory is refused
//! before the file or the default credentials are sent to it.

use std::net::SocketAddr;
use std::time::Duration;

use crate::emulator::{self, discovery};
use crate::error::Error;
use crate::output::Printer;
use crate::settings::Env;

/// The most of an identity answer read (it is a name and an id).
const IDENTITY_LIMIT: usize = 4096;

/// How long a local probe may take: the service is on this machine.
const PROBE: Duration = Duration::from_secs(2);

/// Where `--local` sends.
pub(super) enum Local {
    /// A running emulator of the default data directory, at this base URL.
    Running(url::Url),
    /// Nothing listens at this address: an emulator is started there.
    Start(SocketAddr),
}

impl Local {
    pub(super) fn url(&self) -> url::Url {
        let text = match self {
            Local::Running(url) => return url.clone(),
            Local::Start(addr) => format!("http://{addr}"),
        };
        // A socket address always makes a valid URL.
        url::Url::parse(&text).expect("a socket address is a valid URL")
    }
}

/// The default address, or CAPFILE_LOCAL_ADDR (undocumented, for tests: so
/// that they need not have 127.0.0.1:7878 to themselves).
fn default_addr(env: &Env) -> SocketAddr {
    env.get("CAPFILE_LOCAL_ADDR")
        .and_then(|addr| addr.parse().ok())
        .or_else(|| emulator::DEFAULT_ADDR.parse().ok())
        .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 7878)))
}

/// Finds the local file service to use (see the module docs).
pub(super) async fn find(env: &Env, printer: &Printer) -> Result<Local, Error> {
    let dir = emulator::default_data_dir();
    if let Some(announced) = discovery::announced(&dir)
        && let Ok(url) = url::Url::parse(&announced.url)
        && identity(&url).await.is_some_and(|id| id.instance == announced.instance)
    {
        printer.detail(
            1,
            &format!("using the local file service of {} at {url}", dir.display()),
        );
        return Ok(Local::Running(url));
    }
    let addr = default_addr(env);
    let listening = tokio::time::timeout(PROBE, tokio::net::TcpStream::connect(addr)).await;
    if !matches!(listening, Ok(Ok(_))) {
        return Ok(Local::Start(addr));
    }
    let url = Local::Start(addr).url();
    let what = match identity(&url).await {
        Some(id) if id.service == discovery::SERVICE_NAME => {
            "capfile's file service for another data directory (`capfile serve --data DIR`)"
        }
        _ => "a program that is not capfile's local file service",
    };
    Err(Error::LocalService {
        addr,
        source: std::io::Error::other(format!(
            "the address is taken by {what}; nothing was sent to it. Stop it, or run `capfile serve` \
             (any --addr: --local finds it)"
        )),
    })
}

/// What the listener at `url` says it is, if it answers as an emulator.
async fn identity(url: &url::Url) -> Option<discovery::Identity> {
    let client = crate::api::http_client(PROBE, &crate::api::Route::direct()).ok()?;
    let answer = client
        .get(url.join(discovery::IDENTITY_PATH).ok()?)
        .timeout(PROBE)
        .send()
        .await
        .ok()?;
    if !answer.status().is_success() {
        return None;
    }
    // A stranger's answer may not end: read at most what an identity holds.
    let mut answer = answer;
    let mut body = Vec::new();
    while let Some(chunk) = answer.chunk().await.ok()? {
        body.extend_from_slice(&chunk);
        if body.len() > IDENTITY_LIMIT {
            return None;
        }
    }
    serde_json::from_slice(&body).ok()
}

/// Starts the emulator in this process at `addr`, on the default data
/// directory.
pub(super) async fn start(addr: SocketAddr, printer: &Printer) -> Result<emulator::Emulator, Error> {
    let data_dir = emulator::default_data_dir();
    let mut config = emulator::Config::new(data_dir.clone());
    // By the time it shuts down, this command's own uploads are over:
    // requests still in flight are another client's, and are not waited for.
    config.shutdown_grace = Duration::ZERO;
    let service = emulator::Emulator::start(addr, config)
        .await
        .map_err(|source| Error::LocalService { addr, source })?;
    printer.detail(
        1,
        &format!(
            "started the local file service at {addr} (data in {})",
            data_dir.display()
        ),
    );
    Ok(service)
}
