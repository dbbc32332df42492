//! The OAuth token cache: one token for every upload of a run, asked for once
//! (not once per worker), and replaced before it expires or when the service
//! refuses it.

use std::time::{Duration, Instant};

use reqwest::header::{self, HeaderValue};
use url::Url;

use super::ApiError;
use super::error::{ResponseError, network_error};
use super::request_id::request_id;
use super::response::{read_body, status_error};
use super::trace::{Notes, TraceLevel, Tracer, redact_headers};

/// Capillary's error code for a client key and secret it does not accept.
const INVALID_KEY_OR_SECRET: u64 = 320_001;
use crate::credentials::Secret;

/// The OAuth token header of Capillary's API.
pub(super) const OAUTH_HEADER: &str = "x-cap-api-oauth-token";
/// How long before its stated expiry a token is replaced: 10 s, or a quarter of
/// a lifetime shorter than 40 s (so a 2 s token is still used for 1.5 s).
const TOKEN_MARGIN: Duration = Duration::from_secs(10);
/// The longest token lifetime believed: Capillary's maximum is 30 days.
const MAX_TOKEN_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// The token endpoint's `{"data":null,"errors":[{"code":320001,"message":
/// "Invalid client key and secret"}]}`, whatever the HTTP status it came with.
fn key_refused(raw: &[u8]) -> Option<ApiError> {
    let value: serde_json::Value = serde_json::from_slice(raw).ok()?;
    let refusal = value.get("errors")?.as_array()?.iter().find(|e| {
        e.get("code").is_some_and(|code| {
            code.as_u64() == Some(INVALID_KEY_OR_SECRET) || code.as_str().is_some_and(|s| s.trim() == "320001")
        })
    })?;
    let message = refusal.get("message").and_then(|m| m.as_str()).unwrap_or_default();
    Some(ApiError::KeyRefused {
        message: message.chars().take(200).collect(),
        request_id: None,
    })
}

/// What the trace is told about a token request.
#[derive(Default)]
pub(super) struct TokenNotes {
    notes: Notes,
    /// The request body's length.
    sent: u64,
}

#[derive(Clone)]
struct Token {
    value: HeaderValue,
    expires: Instant,
}

/// A client key and secret, and the token they were last exchanged for.
pub(super) struct TokenCache {
    client_key: String,
    client_secret: Secret,
    token: tokio::sync::Mutex<Option<Token>>,
}

impl TokenCache {
    pub(super) fn new(client_key: String, client_secret: Secret) -> TokenCache {
        TokenCache {
            client_key,
            client_secret,
            token: tokio::sync::Mutex::new(None),
        }
    }

    /// The current token, asking the service for a new one when there is none
    /// or it is about to expire.
    pub(super) async fn token(
        &self,
        http: &reqwest::Client,
        base_url: &Url,
        timeout: Duration,
        tracer: &Tracer,
        request: u32,
    ) -> Result<HeaderValue, ApiError> {
        // Held across the token request, so a batch asks for one token,
        // not one per worker.
        let mut token = self.token.lock().await;
        if let Some(current) = token.as_ref()
            && current.expires > Instant::now()
        {
            return Ok(current.value.clone());
        }
        let started = Instant::now();
        let mut notes = TokenNotes::default();
        let url = format!("{}/v3/oauth/token/generate", base_url.as_str().trim_end_matches('/'));
        let generated = self.generate(http, &url, timeout, tracer.level(), &mut notes).await;
        if tracer.level() > TraceLevel::Off {
            let failed = generated.as_ref().err().map(ToString::to_string);
            let sent = notes.sent;
            let exchange = notes
                .notes
                .exchange("POST", &url, request, started.elapsed(), sent, failed);
            tracer.emit(exchange);
        }
        let fresh = generated?;
        let value = fresh.value.clone();
        *token = Some(fresh);
        Ok(value)
    }

    /// Drops the token `used` after the service refused it.
    pub(super) async fn forget(&self, used: Option<HeaderValue>) {
        let mut token = self.token.lock().await;
        // Another worker may have renewed it already.
        if token.as_ref().map(|t| &t.value) == used.as_ref() {
            *token = None;
        }
    }

    /// `POST /v3/oauth/token/generate` with the key and secret.
    async fn generate(
        &self,
        http: &reqwest::Client,
        url: &str,
        timeout: Duration,
        level: TraceLevel,
        notes: &mut TokenNotes,
    ) -> Result<Token, ApiError> {
        let body = serde_json::json!({ "key": self.client_key, "secret": self.client_secret.expose() }).to_string();
        notes.sent = body.len() as u64;
        let request = http
            .post(url)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
            .timeout(timeout)
            .build()
            .map_err(network_error)?;
        if level >= TraceLevel::Headers {
            notes.notes.request_headers = redact_headers(request.headers());
        }
        let response = http.execute(request).await.map_err(network_error)?;
        let status = response.status();
        let headers = crate::redact::scrub_headers(response.headers());
        notes.notes.answer(status, &headers, level);
        notes.notes.version(response.version());
        let request_id = request_id(&headers);
        let raw = read_body(response, None).await?;
        notes.notes.body = Some(raw.clone());
        if let Some(refused) = key_refused(&raw) {
            return Err(refused.with_request_id(request_id));
        }
        if !status.is_success() {
            return Err(status_error(status, &headers, &raw));
        }
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            access_token: String,
            ttl_seconds: u64,
        }
        #[derive(serde::Deserialize)]
        struct TokenResponse {
            data: Option<Data>,
        }
        let data = serde_json::from_slice::<TokenResponse>(&raw)
            .ok()
            .and_then(|r| r.data)
            .ok_or_else(|| ApiError::from(ResponseError::NoToken).with_request_id(request_id.clone()))?;
        // From now on no server text may carry it.
        crate::redact::remember(&data.access_token);
        let mut value =
            HeaderValue::from_str(&data.access_token).map_err(|_| ApiError::from(ResponseError::TokenNotHeader))?;
        value.set_sensitive(true);
        // The lifetime is the server's number: believe at most 30 days of it,
        // so no arithmetic on it can overflow.
        let ttl = Duration::from_secs(data.ttl_seconds).min(MAX_TOKEN_TTL);
        let lifetime = ttl.saturating_sub(TOKEN_MARGIN.min(ttl / 4));
        let now = Instant::now();
        Ok(Token {
            value,
            expires: now.checked_add(lifetime).unwrap_or(now),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_320001_is_a_refused_key_whatever_else_the_body_holds() {
        let raw = br#"{"data":null,"errors":[{"code":320001,"message":"Invalid client key and secret"}]}"#;
        let err = key_refused(raw).unwrap().with_request_id(Some("r1".into()));
        assert!(err.is_auth() && !err.is_retryable() && !err.is_token_refused());
        assert_eq!(
            err.to_string(),
            "the client key or secret was refused: Invalid client key and secret (request id r1)"
        );
        assert!(key_refused(br#"{"data":null,"errors":[{"code":"320001"}]}"#).is_some());
        assert!(key_refused(br#"{"data":null,"errors":[{"code":500,"message":"x"}]}"#).is_none());
        assert!(key_refused(b"not json").is_none());
    }
}
