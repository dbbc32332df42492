//! The client of one file service: one upload, with retries, pacing and the
//! idle timeout.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{self, HeaderName, HeaderValue};
use url::Url;

use super::activity::Activity;
use super::auth::Auth;
use super::body::file_body;
use super::error::{FileError, network_error, receiving_error};
use super::pacing::{self, Pacer, Rate, Throttle};
use super::redirect;
use super::response::read_upload_response;
use super::retry::{RetryPolicy, gave_up_waiting};
use super::route::Route;
use super::setup::ClientError;
use super::token::OAUTH_HEADER;
use super::trace::{Notes, Trace, TraceLevel, Tracer, redact_headers};
use super::{ApiError, Progress, UploadJob, Uploaded};
use crate::credentials::{Credentials, Secret};
use crate::inputs::RemoteName;
use crate::settings::{BodyFormat, HttpVersion};

/// The client of one file service, for one run.
pub(crate) struct FileService {
    http: reqwest::Client,
    base_url: Url,
    auth: Auth,
    idle_timeout: Duration,
    retry: RetryPolicy,
    throttle: Throttle,
    /// The pace under the service's rate limit, learnt from 429s or set.
    pacer: Pacer,
    /// Where each HTTP exchange is told (`-vv`), if anywhere.
    tracer: Tracer,
    /// The proxy in use, if any, to tell its failures from the service's.
    route: Route,
}

/// The one HTTP client configuration capfile uses, going the way `route`
/// says (its proxy or none: reqwest's own reading of the proxy variables is
/// off) and trusting its CA bundle besides the system's CAs.
pub(crate) fn http_client(idle_timeout: Duration, route: &Route) -> Result<reqwest::Client, ClientError> {
    // reqwest is built without a default TLS crypto provider; ring is installed
    // once per process (a second install is a harmless error).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(idle_timeout)
        .tcp_nodelay(true)
        // No request capfile makes follows a redirect (see redirect.rs).
        .redirect(redirect::policy())
        // Gateways add headers of their own: take as many as curl would
        // (hyper stops at 100 by default, "message head is too large").
        .http1_max_headers(MAX_RESPONSE_HEADERS)
        // Windows for what the server sends us (answers are small; larger
        // windows cost nothing and spare a WINDOW_UPDATE round trip).
        .http2_initial_stream_window_size(H2_STREAM_WINDOW)
        .http2_initial_connection_window_size(H2_CONNECTION_WINDOW)
        .no_proxy();
    builder = match route.http {
        HttpVersion::Auto | HttpVersion::Http1 => builder.http1_only(),
        HttpVersion::Http2 => builder.http2_prior_knowledge(),
    };
    if let Some(proxy) = &route.proxy {
        let proxy = reqwest::Proxy::all(proxy.url.as_str()).map_err(|cause| ClientError::Proxy {
            proxy: proxy.to_string(),
            cause,
        })?;
        builder = builder.proxy(proxy);
    }
    if let Some(file) = &route.ca_bundle {
        builder = builder.tls_certs_merge(super::tls::load_ca_bundle(file)?);
    }
    builder.build().map_err(ClientError::Build)
}

/// The headers `request` goes out with: its own, and those the client and
/// the connection add (`user-agent`, `host`), for `-vvv`.
fn wire_headers(request: &reqwest::Request) -> header::HeaderMap {
    let mut headers = request.headers().clone();
    headers
        .entry(header::USER_AGENT)
        .or_insert(HeaderValue::from_static(USER_AGENT));
    if let Some(host) = request.url().host_str()
        && let Ok(value) = HeaderValue::from_str(&match request.url().port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        })
    {
        headers.entry(header::HOST).or_insert(value);
    }
    headers
}

/// Why `--http auto` speaks HTTP/1.1 for uploads, though HTTP/2 multiplexes.
///
/// Over HTTP/2 what a client may send on a stream is bounded by the
/// *server's* receive window: nginx announces SETTINGS_INITIAL_WINDOW_SIZE =
/// 65,536 (its `http2_body_preread_size`, 64 KiB) and a connection window
/// of 2^31-1; other servers commonly announce 64 KiB (the protocol's
/// default is 65,535). A 64 KiB image's multipart body is about 65.7 KB, just
/// over it, so every such upload sends 64 KiB, waits a full round trip for
/// the server's WINDOW_UPDATE, then sends the rest: two round trips per upload
/// where HTTP/1.1 (TCP's window only, already open on a reused connection)
/// takes one. Measured through a 150 ms delay proxy, -j8: 8.1 s over h2
/// against 4.3 s over h1, and curl and h2load pay the same. A client cannot
/// enlarge the server's receive window: its own `http2_initial_*_window_size`
/// settings (set below, larger than hyper's defaults) bound only what the
/// server sends back. SETTINGS_MAX_CONCURRENT_STREAMS (nginx: 128) bounds the
/// streams per connection; hyper/reqwest opens one connection per origin for
/// HTTP/2, so a batch over h2 shares one TCP window as well. More streams in
/// flight (`--jobs auto`) hide the extra round trip only partly, so `auto`
/// offers HTTP/1.1 alone in the TLS handshake and reuses a pool of
/// connections (one per upload in flight); `--http 2` pins HTTP/2 (and speaks
/// it over plain HTTP with prior knowledge) for a service that needs it.
const H2_STREAM_WINDOW: u32 = 1 << 20;
/// See [`H2_STREAM_WINDOW`].
const H2_CONNECTION_WINDOW: u32 = 4 << 20;

/// The most response headers taken over HTTP/1.1 (the whole head is also
/// bounded in size by hyper, at 400 KiB).
const MAX_RESPONSE_HEADERS: usize = 1000;

/// How much of an attempt's body was handed to the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Handed {
    /// None of a body that had bytes.
    Nothing,
    Part,
    /// All of it (an empty body counts as whole once sent).
    Whole,
}

/// Resends of one upload that the server never processed, on top of the
/// retries; a bound so that a server refusing every stream still ends.
const MAX_RESENDS: u32 = 10;

/// What capfile says it is.
const USER_AGENT: &str = concat!("capfile/", env!("CARGO_PKG_VERSION"));

/// The multipart `filename` of a remote name, as browsers write it (WHATWG
/// HTML's form encoding): `"` as `%22`, CR and LF as `%0D` and `%0A`.
/// reqwest would send `\"`, which werkzeug and python-multipart unescape
/// but formidable and Commons FileUpload keep with its backslash; `%22` reaches every parser as the same harmless
/// text, and the name the file is stored under is the URL's in any case.
fn form_file_name(name: &str) -> String {
    name.replace('"', "%22").replace('\r', "%0D").replace('\n', "%0A")
}

impl FileService {
    pub(crate) fn new(
        base_url: Url,
        credentials: &Credentials,
        idle_timeout: Duration,
        retries: u32,
        route: Route,
    ) -> Result<FileService, ClientError> {
        let auth = Auth::new(credentials)?;
        // Every form of these is scrubbed from what servers say (`redact`).
        let mut secrets = vec![match credentials {
            Credentials::Basic { password_md5, .. } => password_md5.clone(),
            Credentials::OAuth { client_secret, .. } => client_secret.clone(),
        }];
        if let Auth::Basic(header) = &auth
            && let Ok(text) = header.to_str()
        {
            secrets.push(Secret::new(text.trim_start_matches("Basic ")));
        }
        for secret in &secrets {
            crate::redact::remember(secret.expose());
        }
        if let Credentials::Basic { username, .. } = credentials {
            crate::redact::public(username);
        }
        Ok(FileService {
            http: http_client(idle_timeout, &route)?,
            base_url,
            auth,
            idle_timeout,
            retry: RetryPolicy::new(retries),
            throttle: Throttle::default(),
            pacer: Pacer::new(None),
            tracer: Tracer::default(),
            route,
        })
    }

    /// Tells `trace` about every HTTP exchange (uploads and token requests).
    pub(crate) fn with_trace(mut self, trace: Arc<dyn Trace>) -> FileService {
        self.tracer = Tracer::new(trace);
        self
    }

    /// Never sends faster than `rate` (when given), and lets one upload wait
    /// up to `rate_wait` in all for the rate limit after 429s.
    pub(crate) fn with_pacing(mut self, rate: Option<Rate>, rate_wait: Duration) -> FileService {
        self.pacer = Pacer::new(rate);
        self.retry.rate_wait = rate_wait;
        self
    }

    /// How many 429s this run met, and how long its uploads were paused for them.
    pub(crate) fn rate_limit_totals(&self) -> (u64, Duration) {
        self.pacer.totals()
    }

    /// `{base}/api_gateway/file-service/{namespace}/{name}`, the name percent-encoded.
    pub(crate) fn upload_url(&self, namespace: &str, name: &RemoteName) -> String {
        let base = self.base_url.as_str().trim_end_matches('/');
        format!("{base}/api_gateway/file-service/{namespace}/{}", name.url_segment())
    }

    /// Asks for an OAuth token now, to check a client key and secret before
    /// they are saved (`login`). Basic credentials have nothing to check
    /// against without uploading, so they pass.
    pub(crate) async fn check_credentials(&self) -> Result<(), ApiError> {
        self.auth_header(1).await.map(|_| ())
    }

    /// Uploads with retries. A token refused with 401 or 498 ("Token
    /// expired") is renewed once and the upload tried again at once; other
    /// failures follow the retry policy.
    pub(crate) async fn upload(&self, job: &UploadJob<'_>, progress: Arc<dyn Progress>) -> Result<Uploaded, ApiError> {
        let mut attempt = 0;
        let mut requests = 0;
        let mut renewed_token = false;
        let mut rate_waited = Duration::ZERO;
        let mut resent = 0;
        let mut maybe_duplicate = false;
        loop {
            self.throttle.wait().await;
            let permit = self.pacer.acquire_telling(&|wait| progress.paced(wait)).await;
            progress.restart();
            requests += 1;
            let (result, sent_with, handed) = self.upload_once(job, progress.clone(), requests).await;
            let err = match result {
                Ok(done) => {
                    self.pacer.success(permit);
                    return Ok(Uploaded {
                        maybe_duplicate,
                        ..done
                    });
                }
                Err(err) => err,
            };
            if err.is_rate_limit() {
                let limited = self.pacer.limited(permit, err.retry_after());
                // A 429 always costs something towards --max-rate-wait, even
                // one that came when a pause had just ended: otherwise a
                // service that says 429 at once, every time, is asked forever.
                let wait = limited
                    .until
                    .saturating_duration_since(Instant::now())
                    .max(pacing::MIN_PAUSE);
                if rate_waited + wait > self.retry.rate_wait {
                    return Err(gave_up_waiting(err, rate_waited));
                }
                rate_waited += wait;
                progress.rate_limited(wait, limited.new_pause, &err);
                // The pacer holds the next attempt until the pause is over.
                continue;
            }
            drop(permit);
            // A request the server never processed (HTTP/2 GOAWAY or
            // REFUSED_STREAM) is sent again at once, without using a retry:
            // a gateway that closes connections every N requests is not
            // failing.
            if err.never_processed(handed == Handed::Nothing) && resent < MAX_RESENDS {
                resent += 1;
                continue;
            }
            // Only a token that was sent can have gone stale: a refused key
            // and secret at the token endpoint are refused again.
            if err.is_token_refused()
                && sent_with.is_some()
                && !renewed_token
                && let Auth::OAuth(cache) = &self.auth
            {
                renewed_token = true;
                cache.forget(sent_with).await;
                continue;
            }
            if !err.is_retryable() || attempt >= self.retry.retries {
                return Err(err);
            }
            attempt += 1;
            if handed == Handed::Whole && err.may_have_stored() {
                maybe_duplicate = true;
            }
            let delay = self.retry.delay(attempt, err.retry_after());
            if err.slows_everyone() {
                self.throttle.hold_until(Instant::now() + delay);
            }
            progress.retrying(attempt, delay, &err);
            tokio::time::sleep(delay).await;
        }
    }

    /// One attempt (the `request`th of this upload); also returns the token
    /// it used, so a 401 or 498 can retire it, and how much of the body was
    /// handed to the connection.
    async fn upload_once(
        &self,
        job: &UploadJob<'_>,
        progress: Arc<dyn Progress>,
        request: u32,
    ) -> (Result<Uploaded, ApiError>, Option<HeaderValue>, Handed) {
        let (auth_name, auth_value) = match self.auth_header(request).await {
            Ok(header) => header,
            Err(err) => return (Err(err), None, Handed::Nothing),
        };
        let used_token = (auth_name.as_str() == OAUTH_HEADER).then(|| auth_value.clone());
        let activity = Activity::new(job.body.map_or(0, |(_, size, _)| size));
        let level = self.tracer.level();
        let url = self.upload_url(job.namespace, job.name);
        let mut notes = Notes::default();
        let started = Instant::now();
        let attempt = async {
            let builder = self
                .http
                .post(&url)
                .header(auth_name, auth_value)
                .header(header::ACCEPT, "application/json");
            let builder = with_body(builder, job, progress.clone(), &activity).await?;
            let built = builder.build().map_err(network_error)?;
            if level >= TraceLevel::Headers {
                notes.request_headers = redact_headers(&wire_headers(&built));
            }
            // Once every byte of the body is out, a failure is in the answer.
            let response = self.http.execute(built).await.map_err(|err| {
                if activity.handed() >= job.body.map_or(0, |(_, size, _)| size) {
                    receiving_error(err)
                } else {
                    network_error(err)
                }
            })?;
            activity.touch();
            notes.answer(
                response.status(),
                &crate::redact::scrub_headers(response.headers()),
                level,
            );
            notes.version(response.version());
            // Every wait ends: each byte of the answer feeds the idle timer,
            // so a server that drips it would never time out. The whole
            // answer (at most MAX_RESPONSE bytes) must come within the same
            // --timeout of its headers.
            let answer = read_upload_response(response, &activity, &mut notes.body);
            match tokio::time::timeout(self.idle_timeout, answer).await {
                Ok(result) => result,
                // An answer that stopped is a stall (said as such), one
                // that kept dripping is too slow.
                Err(_) if activity.idle() >= self.idle_timeout => Err(ApiError::Timeout(self.idle_timeout)),
                Err(_) => Err(ApiError::AnswerTimeout(self.idle_timeout)),
            }
        };
        let result = tokio::select! {
            result = attempt => result,
            () = activity.stalled(self.idle_timeout) => Err(ApiError::Timeout(self.idle_timeout)),
        };
        let result = result.map_err(|err| self.route.explain(err, &self.base_url));
        if level > TraceLevel::Off {
            let failed = result.as_ref().err().map(ToString::to_string);
            let exchange = notes.exchange("POST", &url, request, started.elapsed(), activity.handed(), failed);
            self.tracer.emit(exchange);
        }
        let size = job.body.map_or(0, |(_, size, _)| size);
        let handed = match activity.handed() {
            sent if sent >= size && (size > 0 || result.is_err()) => Handed::Whole,
            0 => Handed::Nothing,
            _ => Handed::Part,
        };
        (result, used_token, handed)
    }

    /// The header that authenticates a request; `request` numbers the
    /// attempt a token request is made for, for the trace.
    async fn auth_header(&self, request: u32) -> Result<(HeaderName, HeaderValue), ApiError> {
        match &self.auth {
            Auth::Basic(value) => Ok((header::AUTHORIZATION, value.clone())),
            Auth::OAuth(cache) => {
                let token = cache
                    .token(&self.http, &self.base_url, self.idle_timeout, &self.tracer, request)
                    .await
                    .map_err(|err| self.route.explain(err, &self.base_url))?;
                Ok((HeaderName::from_static(OAUTH_HEADER), token))
            }
        }
    }
}

/// The upload request with its body: the file as it is read, raw or as the
/// one part of a multipart form, or nothing for a placeholder.
async fn with_body(
    builder: reqwest::RequestBuilder,
    job: &UploadJob<'_>,
    progress: Arc<dyn Progress>,
    activity: &Arc<Activity>,
) -> Result<reqwest::RequestBuilder, ApiError> {
    Ok(match job.body {
        None => builder.header(header::CONTENT_LENGTH, 0).body(Vec::new()),
        Some((path, size, mime)) => {
            let body = file_body(path, size, progress, activity.clone()).await?;
            match job.format {
                BodyFormat::Raw => builder
                    .header(header::CONTENT_TYPE, mime)
                    .header(header::CONTENT_LENGTH, size)
                    .body(body),
                BodyFormat::Multipart => {
                    let part = reqwest::multipart::Part::stream_with_length(body, size)
                        .file_name(form_file_name(job.name.as_str()))
                        .mime_str(mime)
                        .map_err(|e| FileError::Mime {
                            mime: mime.to_string(),
                            source: Arc::new(e),
                        })?;
                    builder.multipart(reqwest::multipart::Form::new().part("file", part))
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_file_names_use_the_browsers_escapes() {
        assert_eq!(form_file_name("d\"q.png"), "d%22q.png");
        assert_eq!(form_file_name("a\r\nb.png"), "a%0D%0Ab.png");
        assert_eq!(form_file_name("caf\u{e9} 1%.png"), "caf\u{e9} 1%.png");
    }

    #[test]
    fn upload_url_encodes_the_name_and_keeps_a_base_path() {
        let creds = Credentials::Basic {
            username: "u".into(),
            password_md5: Secret::new("0".repeat(32)),
        };
        let service = FileService::new(
            Url::parse("https://h.example/prefix/").unwrap(),
            &creds,
            Duration::from_secs(5),
            0,
            Route::direct(),
        )
        .unwrap();
        let name = RemoteName::parse("a b#1.png").unwrap();
        assert_eq!(
            service.upload_url("rewards", &name),
            "https://h.example/prefix/api_gateway/file-service/rewards/a%20b%231.png"
        );
    }
}
