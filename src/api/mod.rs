//! The file-service client: URL building, authentication, one upload, retries.
//!
//! One `FileService` serves a whole run: one reqwest client (one connection
//! pool), one OAuth token shared by every upload, one retry policy, and one
//! throttle, so that when the service says "slow down" (429/503) every worker
//! slows down, not only the one that was told. Bodies are streamed from disk with
//! a `Content-Length`, and a retried upload re-opens the file and streams it again
//! from the start. Nothing here prints: progress and retries are reported through
//! the `Progress` trait, and errors are returned as `ApiError`.
//!
//! Where each concern lives:
//! - `client.rs`: [`FileService`], the upload loop (retries, token renewal,
//!   pacing) and one attempt with its idle timeout;
//! - `error.rs`: [`ApiError`], and what each kind means for retries;
//! - `retry.rs`: [`RetryPolicy`], backoff with jitter and `Retry-After`;
//! - `pacing/`: the rate limit ([`Rate`], token bucket, AIMD) and the retry
//!   throttle shared by every worker;
//! - `activity.rs`: the idle timer;
//! - `auth.rs`, `token.rs`: the Basic header and the OAuth token cache;
//! - `body.rs`: files streamed as request bodies;
//! - `response.rs`: reading and checking the service's answers;
//! - `gateway.rs`: answers from gateways and portals (HTML pages, unasked
//!   compression, a byte order mark) said for what they are;
//! - `redirect.rs`: why no redirect is followed;
//! - `route.rs`: the proxy from the environment (or none), and its failures;
//! - `tls.rs`: TLS failures in words, and `--cacert`'s CA bundle;
//! - `trace.rs`: what each HTTP exchange was, redacted, for `-vv`/`-vvv`.

mod activity;
mod auth;
mod body;
mod classify;
mod client;
mod error;
mod gateway;
pub(crate) mod pacing;
mod redirect;
mod request_id;
mod response;
mod retry;
pub(crate) mod route;
mod setup;
mod tls;
mod token;
mod trace;

use std::time::Duration;

use bytes::Bytes;

use crate::inputs::RemoteName;
use crate::settings::BodyFormat;

pub(crate) use classify::classify;
pub(crate) use client::{FileService, http_client};
pub(crate) use error::{ApiError, FileError, NetworkError};
pub use response::parse_uploaded;
pub(crate) use response::{is_version, secure_url_problem};
#[cfg(test)]
pub(crate) use retry::DEFAULT_RATE_WAIT;
pub(crate) use route::{BadProxy, Route};
pub(crate) use setup::ClientError;
pub(crate) use trace::{Exchange, Trace, TraceLevel};

/// Receives what an upload does, for progress bars and `-v` logs.
pub(crate) trait Progress: Send + Sync {
    /// More bytes of the body were handed to the connection.
    fn sent(&self, _bytes: u64) {}
    /// The content of the next chunk of the file, as read (to hash it while
    /// it is sent: the manifest); chunks of a new attempt follow a `restart`.
    fn chunk(&self, _bytes: &[u8]) {}
    /// A new attempt starts; bytes count from zero again.
    fn restart(&self) {}
    /// An attempt failed and will be retried after `delay`.
    fn retrying(&self, _attempt: u32, _delay: Duration, _cause: &ApiError) {}
    /// The service said 429: this upload waits `wait` for the rate limit.
    /// `new_pause` is set for the answer that paused every upload, and clear
    /// for answers to requests sent before that pause.
    fn rate_limited(&self, _wait: Duration, _new_pause: bool, _cause: &ApiError) {}
    /// The rate limit holds this upload back before it is sent: for `wait`,
    /// or (`None`) until a request in flight ends.
    fn paced(&self, _wait: Option<Duration>) {}
}

#[cfg(test)]
/// A `Progress` that ignores everything.
pub(crate) struct NoProgress;
#[cfg(test)]
impl Progress for NoProgress {}

/// What to upload.
pub(crate) struct UploadJob<'a> {
    pub namespace: &'a str,
    pub name: &'a RemoteName,
    /// The file to stream, its size and MIME type; `None` for a placeholder.
    pub body: Option<(&'a std::path::Path, u64, &'a str)>,
    pub format: BodyFormat,
}

/// A successful upload.
#[derive(Clone, Debug)]
pub struct Uploaded {
    /// The response body exactly as received.
    pub raw: Bytes,
    pub name: String,
    pub version: String,
    pub secure_file_path: String,
    /// `file.file_handle` (or `fileHandle`), when the answer has one.
    pub file_handle: Option<String>,
    /// The S3 URL (`s3_url`, `s3Url` or `s3Path`, in `file` or at the top),
    /// when the answer has one: kept by the manifest, since a record may leave
    /// a large answer out.
    pub s3_url: Option<String>,
    /// The server's request id (`X-Cap-Requestid`), when it sent one.
    pub request_id: Option<String>,
    /// An earlier attempt failed after its whole body was sent (a 5xx other
    /// than 503, a timeout, a connection lost while waiting for the answer):
    /// the service may have stored that one too, as an extra version.
    pub maybe_duplicate: bool,
}
