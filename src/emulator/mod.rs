//! Temporary interface of the local file service; the real one lands from the
//! emulator branch.
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub const DEFAULT_ADDR: &str = "127.0.0.1:7878";
pub const DEFAULT_USERNAME: &str = "capfile";
pub const DEFAULT_PASSWORD: &str = "capfile";
pub const DEFAULT_CLIENT_KEY: &str = "capfile-local";
pub const DEFAULT_CLIENT_SECRET: &str = "capfile-local-secret";
pub fn default_data_dir() -> PathBuf {
    PathBuf::from("capfile-emulator")
}
#[derive(Clone, Debug)]
pub struct Config {
    pub data_dir: PathBuf,
    pub username: String,
    pub password: String,
    pub client_key: String,
    pub client_secret: String,
    pub token_ttl: Duration,
    pub url_ttl: Duration,
    pub public_url: Option<String>,
    pub faults: Faults,
}
impl Config {
    pub fn new(data_dir: PathBuf) -> Self {
        Config {
            data_dir,
            username: DEFAULT_USERNAME.into(),
            password: DEFAULT_PASSWORD.into(),
            client_key: DEFAULT_CLIENT_KEY.into(),
            client_secret: DEFAULT_CLIENT_SECRET.into(),
            token_ttl: Duration::from_secs(300),
            url_ttl: Duration::from_secs(3600),
            public_url: None,
            faults: Faults::default(),
        }
    }
}
#[derive(Clone, Debug, Default)]
pub struct Faults {
    pub fail_rate: f64,
    pub fail_status: u16,
    pub retry_after: Option<u64>,
    pub latency: Duration,
    pub drop_rate: f64,
}
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub upload_requests: u64,
    pub uploads_stored: u64,
    pub token_requests: u64,
    pub auth_failures: u64,
    pub faults_injected: u64,
}
pub struct Emulator {
    addr: SocketAddr,
}
impl Emulator {
    pub async fn start(addr: SocketAddr, _config: Config) -> std::io::Result<Emulator> {
        Err(std::io::Error::other(format!("not built yet ({addr})")))
    }
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn stats(&self) -> Stats {
        Stats::default()
    }
    pub async fn shutdown(self) {}
}
