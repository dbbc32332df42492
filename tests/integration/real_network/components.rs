//! The real components the network tests start: certificates made at test
//! time (rcgen), nginx as a TLS and HTTP/2 gateway, squid as a forward proxy,
//! and Python's multipart parsers. Each runs from a temporary directory on
//! 127.0.0.1, on ports picked at run time, and is killed when dropped.
//!
//! A missing program skips the calling test (it returns `None` after saying
//! so), or fails it under CAPFILE_REQUIRE_TOOLS=1, as `.ci/run` sets after
//! installing them.

use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rcgen::{CertificateParams, CertifiedIssuer, IsCa, KeyPair, date_time_ymd};

/// The host name the proxy resolves to 127.0.0.1 (squid's hosts_file): a
/// name that is not loopback to capfile, so it goes through the proxy.
pub const PROXIED_HOST: &str = "files.test";

/// `program` from PATH or the sbin directories; `None` (after saying so)
/// when it is not installed and CAPFILE_REQUIRE_TOOLS is unset.
pub fn tool(program: &str, package: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin"].map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|p| p.is_file());
    if found.is_none() {
        missing(&format!("{program} (Debian package {package})"));
    }
    found
}

/// Python 3 from the system (the Debian packages' modules live there), when
/// it can import every module in `modules`.
pub fn python_with(modules: &[&str], packages: &str) -> Option<PathBuf> {
    let python = ["/usr/bin/python3"]
        .map(PathBuf::from)
        .into_iter()
        .find(|p| p.is_file())
        .or_else(|| tool("python3", "python3"))?;
    let imports = modules
        .iter()
        .map(|m| format!("import {m}"))
        .collect::<Vec<_>>()
        .join("; ");
    let ok = Command::new(&python)
        .args(["-c", &imports])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        Some(python)
    } else {
        missing(&format!("Python modules {modules:?} (Debian packages {packages})"));
        None
    }
}

fn missing(what: &str) {
    assert!(
        !std::env::var("CAPFILE_REQUIRE_TOOLS").is_ok_and(|v| !v.is_empty() && v != "0"),
        "{what} is required (CAPFILE_REQUIRE_TOOLS is set) but is not installed; .ci/run installs it"
    );
    let _ = writeln!(
        std::io::stderr(),
        "skipped: {what} is not installed here (CI installs it)"
    );
}

/// A port that was free a moment ago, for a program that cannot be told to
/// pick its own and say which.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running program, killed (and its directory removed) when dropped.
pub struct Daemon {
    pub child: Child,
    pub dir: tempfile::TempDir,
    name: &'static str,
}

impl Daemon {
    /// Starts `command` with output to `dir/NAME.out`, and waits until each
    /// port in `ports` accepts connections.
    pub fn start(name: &'static str, mut command: Command, dir: tempfile::TempDir, ports: &[u16]) -> Daemon {
        let out = std::fs::File::create(dir.path().join(format!("{name}.out"))).unwrap();
        let child = command
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let mut daemon = Daemon { child, dir, name };
        for port in ports {
            daemon.wait_for(*port);
        }
        daemon
    }

    fn wait_for(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited ({status}) before listening:\n{}", self.name, self.logs());
            }
            assert!(
                Instant::now() < deadline,
                "{} does not listen on {port}:\n{}",
                self.name,
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Everything the program wrote, and every `*.log` in its directory.
    pub fn logs(&self) -> String {
        let mut text = String::new();
        for entry in std::fs::read_dir(self.dir.path()).unwrap().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "log" || e == "out") {
                text += &format!(
                    "--- {}\n{}\n",
                    path.display(),
                    std::fs::read_to_string(&path).unwrap_or_default()
                );
            }
        }
        text
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory other users can read, for daemons that drop root for an
/// unprivileged user (nginx's workers, squid).
fn shared_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    set_mode(dir.path(), 0o777);
    dir
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    set_mode(path, 0o644);
}

/// The certificates a test needs, as PEM files: a private CA, and server
/// certificates signed by it (valid, expired, for another name) or by
/// themselves.
pub struct Pki {
    pub dir: tempfile::TempDir,
}

/// The server certificates [`Pki`] makes: each is `NAME.pem` and `NAME.key`.
pub const CERTS: [&str; 5] = ["valid", "expired", "wrong_name", "self_signed", "self_signed_leaf"];

impl Pki {
    pub fn new() -> Pki {
        let dir = shared_dir();
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "capfile test CA");
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        write(&dir.path().join("ca.pem"), &ca.pem());
        let names = vec![
            PROXIED_HOST.to_string(),
            "localhost".to_string(),
            "127.0.0.1".to_string(),
        ];
        for which in CERTS {
            let sans = if which == "wrong_name" {
                vec!["other.example".to_string()]
            } else {
                names.clone()
            };
            let mut params = CertificateParams::new(sans).unwrap();
            if which == "expired" {
                params.not_before = date_time_ymd(2019, 1, 1);
                params.not_after = date_time_ymd(2020, 1, 2);
            }
            if which == "self_signed" {
                // As `openssl req -x509` makes them: a CA certificate.
                params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            }
            let key = KeyPair::generate().unwrap();
            let cert = if which.starts_with("self_signed") {
                params.self_signed(&key).unwrap()
            } else {
                params.signed_by(&key, &ca).unwrap()
            };
            write(&dir.path().join(format!("{which}.pem")), &cert.pem());
            write(&dir.path().join(format!("{which}.key")), &key.serialize_pem());
        }
        Pki { dir }
    }

    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    fn cert(&self, which: &str) -> (PathBuf, PathBuf) {
        (
            self.dir.path().join(format!("{which}.pem")),
            self.dir.path().join(format!("{which}.key")),
        )
    }
}

/// One `server` of the nginx gateway: its name, certificate and what it does.
pub struct Site {
    pub name: &'static str,
    pub cert: &'static str,
    /// nginx directives inside the server block (after the TLS ones).
    pub body: String,
    /// Extra TLS directives (protocols, ciphers).
    pub tls: &'static str,
    /// Whether it offers HTTP/2 (else HTTP/1.1 only).
    pub http2: bool,
}

/// A success answer of the file service, as a gateway might alter it.
pub const SERVICE_ANSWER: &str = r#"{"code":200,"status":"true","secureFilePath":"https://files.example/f/a.png","file":{"name":"a.png","version":1}}"#;

/// `data` gzip-compressed, by the system's gzip.
fn gzip(data: &[u8]) -> Vec<u8> {
    let mut child = Command::new("gzip")
        .arg("-c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gzip runs");
    child.stdin.take().unwrap().write_all(data).unwrap();
    child.wait_with_output().unwrap().stdout
}

/// nginx serving each site over TLS (and HTTP/2) on a port of its own.
pub struct Nginx {
    _daemon: Daemon,
    pub ports: Vec<(&'static str, u16)>,
}

impl Nginx {
    pub fn start(pki: &Pki, sites: &[Site]) -> Option<Nginx> {
        let nginx = tool("nginx", "nginx-light")?;
        let dir = shared_dir();
        let d = dir.path().display().to_string();
        // One process (no master and workers), so that killing it leaves
        // nothing behind; as root it would otherwise switch to `nobody`.
        let user = if unsafe { libc::geteuid() } == 0 {
            "user root root;"
        } else {
            ""
        };
        let mut ports = Vec::new();
        let mut servers = String::new();
        for site in sites {
            let port = free_port();
            ports.push((site.name, port));
            let (cert, key) = pki.cert(site.cert);
            let body = site.body.replace("{DIR}", &d);
            servers += &format!(
                "server {{\n listen 127.0.0.1:{port} ssl{};\n ssl_certificate {};\n ssl_certificate_key {};\n {}\n {}\n}}\n",
                if site.http2 { " http2" } else { "" },
                cert.display(),
                key.display(),
                site.tls,
                body
            );
        }
        let config = format!(
            "{user}\nmaster_process off;\ndaemon off;\nerror_log {d}/error.log info;\npid {d}/nginx.pid;\n\
             events {{ worker_connections 128; }}\n\
             http {{\n access_log off;\n client_body_temp_path {d}/body;\n proxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fastcgi;\n uwsgi_temp_path {d}/uwsgi;\n scgi_temp_path {d}/scgi;\n\
             client_max_body_size 0;\n default_type text/html;\n{servers}}}\n"
        );
        write(&dir.path().join("nginx.conf"), &config);
        std::fs::write(dir.path().join("answer.gz"), gzip(SERVICE_ANSWER.as_bytes())).unwrap();
        let mut command = Command::new(nginx);
        command
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(dir.path().join("nginx.conf"));
        command.args(["-e", &format!("{d}/error.log")]);
        let listening: Vec<u16> = ports.iter().map(|(_, p)| *p).collect();
        let daemon = Daemon::start("nginx", command, dir, &listening);
        Some(Nginx { _daemon: daemon, ports })
    }

    pub fn port(&self, site: &str) -> u16 {
        self.ports.iter().find(|(name, _)| *name == site).unwrap().1
    }
}

/// How the squid proxy treats requests.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ProxyRules {
    /// Forwards and tunnels anything.
    Open,
    /// Asks for Basic credentials (user `cap`, password [`PROXY_PASSWORD`]).
    Basic,
    /// Refuses everything (403).
    DenyAll,
}

pub const PROXY_PASSWORD: &str = "proxy-secret-7c1";

/// squid on 127.0.0.1, resolving [`PROXIED_HOST`] to 127.0.0.1.
pub struct Squid {
    pub daemon: Daemon,
    pub port: u16,
}

impl Squid {
    pub fn start(rules: ProxyRules) -> Option<Squid> {
        let squid = tool("squid", "squid")?;
        let dir = shared_dir();
        let d = dir.path().display().to_string();
        let port = free_port();
        write(&dir.path().join("hosts"), &format!("127.0.0.1 {PROXIED_HOST}\n"));
        let access = match rules {
            ProxyRules::Open => "http_access allow all\n".to_string(),
            ProxyRules::DenyAll => "http_access deny all\n".to_string(),
            ProxyRules::Basic => {
                let helper = ["/usr/lib/squid/basic_ncsa_auth", "/usr/lib64/squid/basic_ncsa_auth"]
                    .into_iter()
                    .find(|p| Path::new(p).is_file())
                    .expect("squid's basic_ncsa_auth helper");
                let hash = Command::new("openssl")
                    .args(["passwd", "-apr1", PROXY_PASSWORD])
                    .output()
                    .expect("openssl passwd");
                let hash = String::from_utf8(hash.stdout).unwrap();
                write(&dir.path().join("passwd"), &format!("cap:{}\n", hash.trim()));
                format!(
                    "auth_param basic program {helper} {d}/passwd\nauth_param basic realm capfile-test\n\
                     acl authed proxy_auth REQUIRED\nhttp_access allow authed\nhttp_access deny all\n"
                )
            }
        };
        let config = format!(
            "http_port 127.0.0.1:{port}\npid_filename {d}/squid.pid\ncache_log {d}/cache.log\naccess_log none\n\
             cache_store_log none\ncache deny all\ncache_mem 8 MB\ncoredump_dir {d}\nhosts_file {d}/hosts\n\
             shutdown_lifetime 0 seconds\ndns_v4_first on\n{access}"
        );
        write(&dir.path().join("squid.conf"), &config);
        let mut command = Command::new(squid);
        command.args(["-N", "-f"]).arg(dir.path().join("squid.conf"));
        let daemon = Daemon::start("squid", command, dir, &[port]);
        Some(Squid { daemon, port })
    }

    /// `http://[credentials@]127.0.0.1:PORT`.
    pub fn url(&self, credentials: Option<(&str, &str)>) -> String {
        match credentials {
            Some((user, password)) => format!("http://{user}:{password}@127.0.0.1:{}", self.port),
            None => format!("http://127.0.0.1:{}", self.port),
        }
    }
}

/// The multipart parsers the upload tests send to.
pub const PARSERS: [&str; 2] = ["werkzeug", "python-multipart"];

/// A Python HTTP server that parses each upload with `parser` and answers
/// as the file service would, with the file name and size it parsed; it
/// appends `{"parser","filename","size","sha256"}` to `parsed.jsonl`.
pub struct Parser {
    pub daemon: Daemon,
    pub port: u16,
}

const PARSER_SERVER: &str = include_str!("parser_server.py");

impl Parser {
    pub fn start(parser: &str) -> Option<Parser> {
        let python = python_with(&["werkzeug", "multipart"], "python3-werkzeug python3-multipart")?;
        let dir = shared_dir();
        write(&dir.path().join("server.py"), PARSER_SERVER);
        let port = free_port();
        let mut command = Command::new(python);
        command
            .arg(dir.path().join("server.py"))
            .arg(parser)
            .arg(port.to_string())
            .arg(dir.path().join("parsed.jsonl"));
        let daemon = Daemon::start("parser", command, dir, &[port]);
        Some(Parser { daemon, port })
    }

    /// What the parser saw of each upload, in order.
    pub fn parsed(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.daemon.dir.path().join("parsed.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }
}
