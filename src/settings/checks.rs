//! The checks a setting's text must pass, wherever it comes from: a flag, the
//! environment, the config file or `config set`.

use url::{Host, Url};

use super::ValueError;

/// A username or client key: something that fits in a header. A Basic-auth
/// user name cannot hold `:`, which separates it from the password.
pub(super) fn check_identity(text: &str, basic: bool) -> Result<(), ValueError> {
    if text.trim().is_empty() {
        return Err(ValueError::Empty);
    }
    if text.chars().any(char::is_control) {
        return Err(ValueError::ControlCharacters);
    }
    if basic && text.contains(':') {
        return Err(ValueError::Colon);
    }
    Ok(())
}

/// A profile name: it names a TOML table and a keyring entry, so it is kept
/// to plain characters.
pub(crate) fn check_profile_name(name: &str) -> Result<(), ValueError> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
        return Err(ValueError::ProfileName { name: name.to_string() });
    }
    Ok(())
}

/// A namespace is one URL path segment of plain characters.
pub(crate) fn check_namespace(namespace: &str) -> Result<(), ValueError> {
    if namespace.is_empty() {
        return Err(ValueError::Empty);
    }
    if !namespace
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        || namespace == "."
        || namespace == ".."
    {
        return Err(ValueError::Namespace {
            namespace: namespace.to_string(),
        });
    }
    Ok(())
}

/// A base URL's origin, `scheme://host[:port]`: host lower-cased, the
/// scheme's default port left out, no user, path or query, so
/// `HTTPS://Eu.Example:443/x` and `https://eu.example` are the same service.
/// Saved secrets, reports and manifests are bound to it.
pub(crate) fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// Parses a base URL: `https://`, or `http://` to a loopback host only, so that
/// credentials never cross a network in clear text. A URL with a user name or
/// password in it is refused before anything else is looked at, and no message
/// ever quotes that part.
pub fn parse_base_url(value: &str) -> Result<Url, ValueError> {
    let shown = redact_userinfo(value.trim());
    if shown != value.trim() {
        return Err(ValueError::UrlUserInfo { shown });
    }
    let url = Url::parse(value.trim()).map_err(|e| match e {
        url::ParseError::RelativeUrlWithoutBase => ValueError::UrlNoScheme { shown: shown.clone() },
        cause => ValueError::NotUrl {
            shown: shown.clone(),
            cause,
        },
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ValueError::UrlUserInfo { shown });
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ValueError::UrlQuery { shown });
    }
    check_no_endpoint_path(&url, &shown)?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(ValueError::UrlPlainHttp { shown }),
        other => Err(ValueError::UrlScheme {
            scheme: other.to_string(),
            shown,
        }),
    }
}

/// The URL text with its user info replaced by `***`, for messages:
/// `https://user:pw@host/` -> `https://***@host/`, and `https:///u:pw@host`
/// too (see `redact::redact_url_userinfo`: the parsed URL decides).
pub(super) fn redact_userinfo(text: &str) -> String {
    crate::redact::redact_url_userinfo(text)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// The path capfile adds to the base URL for an upload; a base URL that
/// already carries it (copied from the vendor's page, or from a curl command)
/// would make every upload a 404.
pub(super) const ENDPOINT_SEGMENT: &str = "api_gateway";

/// Refuses a base URL whose path holds the upload endpoint's path, naming the
/// base URL to use instead (the part before it).
fn check_no_endpoint_path(url: &Url, shown: &str) -> Result<(), ValueError> {
    let segments: Vec<&str> = url.path_segments().map(Iterator::collect).unwrap_or_default();
    let Some(at) = segments.iter().position(|s| s.eq_ignore_ascii_case(ENDPOINT_SEGMENT)) else {
        return Ok(());
    };
    let mut base = url.clone();
    base.set_path(&segments[..at].join("/"));
    let base = base.as_str().trim_end_matches('/').to_string();
    Err(ValueError::UrlEndpointPath {
        shown: shown.to_string(),
        base,
    })
}

#[cfg(test)]
mod endpoint_path_tests {
    use super::parse_base_url;

    #[test]
    fn a_query_or_a_fragment_alone_is_refused() {
        for bad in [
            "https://h.example?x=1",
            "https://h.example/?x",
            "https://h.example?",
            "https://h.example#top",
            "https://h.example/#",
            "http://127.0.0.1:8080?a",
        ] {
            let err = parse_base_url(bad).unwrap_err().to_string();
            assert!(err.contains("must not have a query or fragment"), "{bad}: {err}");
        }
        assert!(parse_base_url("https://h.example/").is_ok());
    }

    #[test]
    fn a_base_url_with_the_endpoint_path_is_refused_naming_the_right_one() {
        for (given, right) in [
            (
                "https://eu.api.capillarytech.com/api_gateway/file-service/rewards",
                "https://eu.api.capillarytech.com",
            ),
            (
                "https://eu.api.capillarytech.com/api_gateway/",
                "https://eu.api.capillarytech.com",
            ),
            (
                "https://eu.api.capillarytech.com/api_gateway",
                "https://eu.api.capillarytech.com",
            ),
            ("https://h.example/API_GATEWAY/file-service", "https://h.example"),
            (
                "https://h.example:8443/prefix/api_gateway/file-service/rewards/a.png",
                "https://h.example:8443/prefix",
            ),
            (
                "http://127.0.0.1:7878/api_gateway/file-service/rewards",
                "http://127.0.0.1:7878",
            ),
        ] {
            let err = parse_base_url(given).unwrap_err().to_string();
            assert!(err.contains(&format!("use \"{right}\"")), "{given}: {err}");
            assert!(err.contains("endpoint"), "{err}");
            // The suggestion itself is accepted.
            assert!(parse_base_url(right).is_ok(), "{right}");
        }
        for fine in [
            "https://h.example",
            "https://h.example/prefix",
            "https://h.example/api_gateways",
        ] {
            assert!(parse_base_url(fine).is_ok(), "{fine}");
        }
    }
}
