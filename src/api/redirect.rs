//! The redirect policy: capfile follows no redirect, and an upload answered
//! with one fails with a message that names where it pointed.
//!
//! What reqwest does with redirects when left to its default policy (up to 10
//! hops), and why that is not good enough here:
//!
//! - 301, 302 and 303 turn a POST into a GET and drop the body and its
//!   content headers. The answer to that GET is not an upload, yet it may be a
//!   200 with JSON that looks like one.
//! - 307 and 308 keep the method and must send the body again. reqwest can
//!   only do that for a body it holds in memory; a streamed body
//!   (`Body::wrap_stream`, which is how capfile sends files, see `body.rs`)
//!   cannot be replayed, so reqwest stops and hands back the 307/308 response
//!   itself. Following it would mean opening the file again: a new attempt,
//!   not a redirect.
//! - On a redirect to another host reqwest removes `Authorization`, `Cookie`,
//!   `Proxy-Authorization` and `WWW-Authenticate`, but it does not know that
//!   `x-cap-api-oauth-token` is a credential: it would carry the OAuth token
//!   to whatever host the `Location` names. (xh, which follows redirects
//!   itself for the same reasons, strips the same standard set.)
//!
//! So the one HTTP client is built with `Policy::none()`: reqwest returns every
//! 3xx as it came, and [`refuse`] turns it into `ApiError::Redirect`. The
//! token request goes through the same client, so a redirected token request
//! comes back as a 3xx status and fails as such.

use reqwest::header;

use super::ApiError;

/// The redirect policy of the one HTTP client: follow none.
pub(super) fn policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::none()
}

/// An upload answered with a redirect fails; `None` for any other answer.
pub(super) fn refuse(response: &reqwest::Response) -> Option<ApiError> {
    let status = response.status();
    if !status.is_redirection() {
        return None;
    }
    let target = response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| response.url().join(v).ok())
        .and_then(|url| url.host_str().map(|host| crate::redact::scrub(host).into_owned()));
    Some(ApiError::Redirect {
        status,
        target,
        request_id: super::request_id::request_id(&crate::redact::scrub_headers(response.headers())),
    })
}
