//! Why a request failed: `ApiError`, and what each kind means for retries,
//! the auth exit and the rate limit.

use std::time::Duration;

use reqwest::StatusCode;

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

    pub(super) fn retry_after(&self) -> Option<Duration> {
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
    pub(super) fn slows_everyone(&self) -> bool {
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

/// A reqwest error in words: its innermost cause, which is what tells users
/// what happened ("Connection refused"), plus what was being done.
pub(super) fn network_error(err: reqwest::Error) -> ApiError {
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
}
