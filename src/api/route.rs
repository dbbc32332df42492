//! How requests reach the service: directly or through a proxy from the
//! environment, and which extra CA certificates are trusted.
//!
//! capfile reads the proxy variables itself rather than leaving them to
//! reqwest, so that it can say which variable a proxy came from, refuse a
//! malformed value (reqwest silently ignores one and goes direct), and keep
//! loopback hosts direct. The rules, as curl and Go's net/http follow them:
//! an `https://` base URL uses `https_proxy`/`HTTPS_PROXY`, an `http://` one
//! `http_proxy`/`HTTP_PROXY`, either falls back to `all_proxy`/`ALL_PROXY`
//! (the lower-case name wins when both are set); a host listed in
//! `no_proxy`/`NO_PROXY` (a name and its subdomains, an IP address, a CIDR
//! block, or `*`) and a loopback host (`localhost`, `*.localhost`,
//! 127.0.0.0/8, `::1`) never use a proxy. A proxy is `http://`, `https://`,
//! `socks5://` or `socks5h://`; a value without a scheme is `http://`.

use crate::settings::HttpVersion;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use url::{Host, Url};

use super::{ApiError, NetworkError, error::NetworkStage};
use crate::settings::Lookup;

/// The proxy variables, in the order they are looked at for each scheme.
const HTTPS_VARS: [&str; 4] = ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"];
const HTTP_VARS: [&str; 4] = ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"];
const NO_PROXY_VARS: [&str; 2] = ["no_proxy", "NO_PROXY"];

/// The proxy requests go through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Proxy {
    /// The proxy's URL, credentials included (given to reqwest only).
    pub url: Url,
    /// The variable it came from.
    pub variable: &'static str,
}

impl Proxy {
    /// Whether the proxy URL carries credentials.
    pub(crate) fn has_credentials(&self) -> bool {
        !self.url.username().is_empty() || self.url.password().is_some()
    }
}

/// `scheme://host:port (from VARIABLE)`, without credentials.
impl fmt::Display for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = self.url.host_str().unwrap_or("?");
        let port = self
            .url
            .port_or_known_default()
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        let creds = if self.has_credentials() { "***@" } else { "" };
        write!(
            f,
            "{}://{creds}{host}{port} (from {})",
            self.url.scheme(),
            self.variable
        )
    }
}

/// How requests to one base URL are made.
#[derive(Clone, Debug, Default)]
pub(crate) struct Route {
    /// The proxy, when one is used.
    pub proxy: Option<Proxy>,
    /// Why no proxy is used, for `-v` ("loopback host", "NO_PROXY").
    pub direct_because: Option<&'static str>,
    /// A PEM file of CA certificates trusted besides the system's.
    pub ca_bundle: Option<PathBuf>,
    /// The HTTP version to speak (`--http`).
    pub http: HttpVersion,
}

/// A proxy variable that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BadProxy {
    pub variable: &'static str,
    /// The value, credentials masked.
    pub value: String,
    pub problem: String,
}

impl fmt::Display for BadProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}={} is not a usable proxy: {}; fix or unset it (http://, https://, socks5:// or socks5h:// \
             URLs are understood)",
            self.variable, self.value, self.problem
        )
    }
}

impl std::error::Error for BadProxy {}

impl Route {
    /// Straight to the host, trusting the system's CAs only (loopback
    /// probes, tests).
    pub(crate) fn direct() -> Route {
        Route::default()
    }

    /// The route to `base`: its proxy from `env` (see the module's rules).
    pub(crate) fn for_base_url(base: &Url, env: &dyn Lookup) -> Result<Route, BadProxy> {
        let vars: &[&'static str] = if base.scheme() == "https" {
            &HTTPS_VARS
        } else {
            &HTTP_VARS
        };
        let Some((variable, value)) = vars.iter().find_map(|v| env.var(v).map(|value| (*v, value))) else {
            return Ok(Route::default());
        };
        let host = base.host();
        let direct_because = if host.as_ref().is_some_and(is_loopback) {
            Some("loopback host")
        } else if let Some(list) = NO_PROXY_VARS.iter().find_map(|v| env.var(v))
            && host.as_ref().is_some_and(|h| no_proxy_matches(&list, h))
        {
            Some("listed in NO_PROXY")
        } else {
            None
        };
        // A malformed value stops even when this host would not use it: it
        // is a mistake the next host would meet.
        let url = parse_proxy(variable, &value)?;
        Ok(match direct_because {
            Some(why) => Route {
                direct_because: Some(why),
                ..Route::default()
            },
            None => Route {
                proxy: Some(Proxy { url, variable }),
                ..Route::default()
            },
        })
    }

    /// The same route, also trusting the CA certificates in `file`.
    pub(crate) fn with_ca_bundle(mut self, file: Option<&Path>) -> Route {
        self.ca_bundle = file.map(Path::to_path_buf);
        self
    }

    /// The same route, speaking `http`.
    pub(crate) fn with_http(mut self, http: HttpVersion) -> Route {
        self.http = http;
        self
    }

    /// One line for `-v`: the proxy in use, or why there is none.
    pub(crate) fn describe(&self) -> String {
        match (&self.proxy, self.direct_because) {
            (Some(proxy), _) => format!("proxy: {proxy}"),
            (None, Some(why)) => format!("proxy: none ({why})"),
            (None, None) => "proxy: none".to_string(),
        }
    }
}

impl Route {
    /// `err` as the proxy's failure when the proxy caused it: a connection
    /// that failed before reaching the service (other than its TLS), a
    /// tunnel the proxy would not open, or a plain-http request it answered
    /// 407, or 403 without the service's request id.
    pub(super) fn explain(&self, err: ApiError, target: &Url) -> ApiError {
        let Some(proxy) = &self.proxy else { return err };
        let host = target.host_str().unwrap_or("?");
        let port = target.port_or_known_default().unwrap_or(0);
        let target = format!("{host}:{port}");
        let problem = match &err {
            ApiError::Network(net) if net.stage == NetworkStage::Connect && net.tls_setup_failure().is_none() => {
                connect_problem(proxy, net, &target)
            }
            ApiError::Status { status, .. } if status.as_u16() == 407 => credentials_problem(proxy, "forwarding"),
            ApiError::Status { status, request_id, .. } if status.as_u16() == 403 && request_id.is_none() => {
                format!(
                    "refused to forward the request to {target} (403 Forbidden, an answer without the file \
                     service's request id): its rules deny this host, or capfile; ask its administrators, or list \
                     the host in NO_PROXY if it is reachable directly"
                )
            }
            _ => return err,
        };
        ApiError::Proxy {
            proxy: proxy.to_string(),
            problem,
        }
    }
}

/// What went wrong connecting through `proxy` to `target`.
fn connect_problem(proxy: &Proxy, net: &NetworkError, target: &str) -> String {
    let chain = net.chain_text();
    if chain.contains("tunnel error: proxy authorization required") {
        credentials_problem(proxy, &format!("a tunnel (CONNECT) to {target}"))
    } else if chain.contains("tunnel error: unsuccessful") {
        format!(
            "refused to open a tunnel (CONNECT) to {target}: its answer was not 200 (its rules deny this host or \
             port, or it cannot reach it); ask its administrators, or list the host in NO_PROXY if it is \
             reachable directly"
        )
    } else if chain.contains("tunnel error: unexpected eof") {
        format!("closed the connection when asked for a tunnel (CONNECT) to {target}")
    } else if chain.contains("tunnel error") && !chain.contains("failed to create underlying connection") {
        format!("failed to open a tunnel to {target}: {}", net.innermost())
    } else {
        format!(
            "cannot be reached: {}; is the proxy running, is {} right?",
            net.innermost(),
            proxy.variable
        )
    }
}

/// The proxy answered 407 to `what`.
fn credentials_problem(proxy: &Proxy, what: &str) -> String {
    if proxy.has_credentials() {
        format!(
            "refused the credentials in {} for {what} (407 Proxy Authentication Required)",
            proxy.variable
        )
    } else {
        format!(
            "asks for credentials for {what} (407 Proxy Authentication Required): put them in {} as \
             http://USER:PASSWORD@HOST:PORT",
            proxy.variable
        )
    }
}

/// The proxy URL in `value`, or why it is not one.
fn parse_proxy(variable: &'static str, value: &str) -> Result<Url, BadProxy> {
    let bad = |problem: String| BadProxy {
        variable,
        value: mask_credentials(value),
        problem,
    };
    let text = if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    };
    let url = Url::parse(&text).map_err(|e| bad(e.to_string()))?;
    match url.scheme() {
        "http" | "https" | "socks5" | "socks5h" => {}
        other => return Err(bad(format!("`{other}` proxies are not supported"))),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host".into()));
    }
    if !matches!(url.path(), "" | "/") || url.query().is_some() {
        return Err(bad("a proxy URL has no path or query".into()));
    }
    Ok(url)
}

/// `value` with whatever stands between `://` and the last `@` masked.
pub(crate) fn mask_credentials(value: &str) -> String {
    let start = value.find("://").map_or(0, |i| i + 3);
    match value[start..].rfind('@') {
        Some(at) => format!("{}***{}", &value[..start], &value[start + at..]),
        None => value.to_string(),
    }
}

/// `localhost`, a name under `.localhost`, or a loopback address.
pub(crate) fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

/// Whether `host` is in a NO_PROXY list: `*`, a name (with or without a
/// leading dot) matching itself and its subdomains, an address, or a CIDR
/// block. A `:port` on an entry is ignored.
fn no_proxy_matches(list: &str, host: &Host<&str>) -> bool {
    let ip: Option<IpAddr> = match host {
        Host::Ipv4(ip) => Some((*ip).into()),
        Host::Ipv6(ip) => Some((*ip).into()),
        Host::Domain(_) => None,
    };
    let name = match host {
        Host::Domain(name) => name.trim_end_matches('.').to_ascii_lowercase(),
        _ => String::new(),
    };
    list.split([',', ' '])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let entry = entry.trim_start_matches('[');
            if let Some(ip) = ip {
                return entry_matches_ip(entry, ip);
            }
            let entry = strip_port(entry).trim_start_matches("*.").trim_start_matches('.');
            let entry = entry.trim_end_matches('.').to_ascii_lowercase();
            !entry.is_empty() && (name == entry || name.ends_with(&format!(".{entry}")))
        })
}

fn strip_port(entry: &str) -> &str {
    match entry.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => entry,
    }
}

fn entry_matches_ip(entry: &str, ip: IpAddr) -> bool {
    let entry = entry.split(']').next().unwrap_or(entry);
    let (addr, bits) = match entry.split_once('/') {
        Some((addr, bits)) => (addr, bits.parse::<u32>().ok()),
        None => (strip_port(entry), None),
    };
    let Ok(net) = addr.parse::<IpAddr>() else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_eq(&net.octets(), &ip.octets(), bits.unwrap_or(32)),
        (IpAddr::V6(net), IpAddr::V6(ip)) => prefix_eq(&net.octets(), &ip.octets(), bits.unwrap_or(128)),
        _ => false,
    }
}

/// Whether the first `bits` bits of `a` and `b` are equal.
fn prefix_eq(a: &[u8], b: &[u8], bits: u32) -> bool {
    let bits = (bits as usize).min(a.len() * 8);
    let whole = bits / 8;
    if a[..whole] != b[..whole] {
        return false;
    }
    let rest = bits % 8;
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        a[whole] & mask == b[whole] & mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(base: &str, vars: &[(&str, &str)]) -> Result<Route, BadProxy> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let lookup = move |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        Route::for_base_url(&Url::parse(base).unwrap(), &lookup)
    }

    #[test]
    fn the_scheme_picks_the_variable_and_lower_case_wins() {
        let vars = [
            ("HTTPS_PROXY", "http://s.example:1"),
            ("http_proxy", "http://p.example:2"),
            ("HTTP_PROXY", "http://P.example:3"),
            ("ALL_PROXY", "socks5://a.example:4"),
        ];
        let https = route("https://eu.example", &vars).unwrap().proxy.unwrap();
        assert_eq!(https.to_string(), "http://s.example:1 (from HTTPS_PROXY)");
        let http = route("http://eu.example", &vars).unwrap().proxy.unwrap();
        assert_eq!(http.variable, "http_proxy");
        let all = route("https://eu.example", &vars[3..]).unwrap().proxy.unwrap();
        assert_eq!(all.to_string(), "socks5://a.example:4 (from ALL_PROXY)");
        assert_eq!(route("https://eu.example", &[]).unwrap().proxy, None);
    }

    #[test]
    fn loopback_hosts_never_use_a_proxy() {
        for base in [
            "http://127.0.0.1:7878",
            "http://127.9.9.9",
            "http://localhost:1",
            "https://api.localhost",
            "http://[::1]:8080",
            "http://LOCALHOST.",
        ] {
            let r = route(base, &[("HTTP_PROXY", "http://p:1"), ("HTTPS_PROXY", "http://p:1")]).unwrap();
            assert_eq!(r.proxy, None, "{base}");
            assert_eq!(r.direct_because, Some("loopback host"), "{base}");
        }
        for base in ["http://127.example", "http://localhost.example", "http://10.0.0.1"] {
            let r = route(base, &[("HTTP_PROXY", "http://p:1")]).unwrap();
            assert!(r.proxy.is_some(), "{base}");
        }
    }

    #[test]
    fn no_proxy_lists_names_addresses_and_blocks() {
        let cases = [
            ("eu.example", "http://eu.example", true),
            (".example", "http://eu.example", true),
            ("*.example", "http://eu.example", true),
            ("example", "http://eu.example", true),
            ("example:443", "http://eu.example", true),
            ("ample", "http://eu.example", false),
            ("us.example", "http://eu.example", false),
            ("*", "http://eu.example", true),
            ("a, b ,10.1.2.3", "http://10.1.2.3", true),
            ("10.0.0.0/8", "http://10.200.0.1", true),
            ("10.0.0.0/8", "http://11.0.0.1", false),
            ("192.168.1.0/23", "http://192.168.0.7", true),
            ("192.168.1.0/24", "http://192.168.0.7", false),
            ("fd00::/8", "http://[fd12::1]", true),
            ("[fd12::1]", "http://[fd12::1]", true),
            ("10.1.2.3", "http://eu.example", false),
        ];
        for (list, base, bypass) in cases {
            let r = route(base, &[("HTTP_PROXY", "http://p:1"), ("NO_PROXY", list)]).unwrap();
            assert_eq!(r.proxy.is_none(), bypass, "{list} / {base}");
        }
    }

    #[test]
    fn a_malformed_proxy_names_its_variable_and_hides_credentials() {
        let cases = [
            ("http://u:secret@[::1", "invalid IPv6"),
            ("ftp://p.example:21", "`ftp` proxies are not supported"),
            ("http://", "empty host"),
            ("http://p.example:3128/path", "no path"),
            ("http://u:secret@p.example:99999", "invalid port"),
        ];
        for (value, problem) in cases {
            // Even for a loopback base URL: the value is wrong all the same.
            for base in ["http://eu.example", "http://127.0.0.1:1"] {
                let err = route(base, &[("HTTP_PROXY", value)]).unwrap_err();
                let text = err.to_string();
                assert!(text.starts_with("HTTP_PROXY="), "{text}");
                assert!(text.contains(problem), "{value}: {text}");
                assert!(!text.contains("secret"), "{text}");
            }
        }
    }

    #[test]
    fn a_proxys_own_407_or_403_is_the_proxys_not_the_services() {
        let status = |code: u16, id: Option<&str>| ApiError::Status {
            status: reqwest::StatusCode::from_u16(code).unwrap(),
            message: String::new(),
            retry_after: None,
            request_id: id.map(str::to_string),
        };
        let target = Url::parse("https://eu.example").unwrap();
        let with = route("https://eu.example", &[("HTTPS_PROXY", "http://u:pw@p.example:3128")]).unwrap();
        let without = route("https://eu.example", &[("HTTPS_PROXY", "http://p.example:3128")]).unwrap();
        let cases = [
            (&with, status(407, None), Some("refused the credentials in HTTPS_PROXY")),
            (&without, status(407, Some("r1")), Some("asks for credentials")),
            (
                &without,
                status(403, None),
                Some("refused to forward the request to eu.example:443"),
            ),
            // The service's own 403 carries its request id.
            (&without, status(403, Some("r1")), None),
            (&without, status(401, None), None),
        ];
        for (route, err, words) in cases {
            let explained = route.explain(err, &target);
            match words {
                Some(words) => {
                    assert!(matches!(explained, ApiError::Proxy { .. }), "{explained:?}");
                    assert!(!explained.is_auth() && !explained.is_retryable());
                    let text = explained.to_string();
                    assert!(text.starts_with("the proxy http://") && text.contains(words), "{text}");
                    assert!(!text.contains("pw"), "{text}");
                }
                None => assert!(matches!(explained, ApiError::Status { .. }), "{explained:?}"),
            }
        }
        // Without a proxy nothing is the proxy's.
        let direct = Route::direct().explain(status(407, None), &target);
        assert!(matches!(direct, ApiError::Status { .. }));
    }

    #[test]
    fn schemes_default_to_http_and_credentials_are_masked() {
        let r = route("http://eu.example", &[("HTTP_PROXY", "u:pw@p.example:3128")]).unwrap();
        let proxy = r.proxy.unwrap();
        assert_eq!(proxy.url.as_str(), "http://u:pw@p.example:3128/");
        assert_eq!(proxy.to_string(), "http://***@p.example:3128 (from HTTP_PROXY)");
        assert_eq!(mask_credentials("http://u:p@x@h:1"), "http://***@h:1");
        assert_eq!(mask_credentials("h:1"), "h:1");
    }
}
