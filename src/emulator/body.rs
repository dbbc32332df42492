//! Receiving an upload's body: [`receive_body`] streams a multipart or raw
//! body into a [`Spool`], a temporary file of the store, giving up on a body
//! that stalls; the spool is also where an upload drawn for the `drop` fault
//! has its connection cut, once part of its body is in. Nothing here is kept
//! in memory beyond one chunk.

use std::time::Duration;

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use super::config::{Counters, bump};
use super::error::ServiceError;
use super::faults::ConnectionKill;
use super::store::{PLACEHOLDER_TYPE, Store, Upload};

pub(crate) fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .get(..19)
                .is_some_and(|prefix| prefix.eq_ignore_ascii_case("multipart/form-data"))
        })
}

/// A content type as sent, if it can be sent back as a header; else the
/// placeholder type.
fn usable_content_type(value: Option<&str>) -> String {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty() && HeaderValue::from_str(v).is_ok())
        .unwrap_or(PLACEHOLDER_TYPE)
        .to_owned()
}

/// Streams the request body (multipart or raw) into `spool`; returns the
/// content type to store. A body that stalls for `idle` fails with 408.
pub(crate) async fn receive_body(
    request: Request,
    spool: &mut Spool<'_>,
    idle: Duration,
) -> Result<String, ServiceError> {
    let content_type = if is_multipart(request.headers()) {
        let mut multipart = Multipart::from_request(request, &())
            .await
            .map_err(|rejection| ServiceError::bad_request(rejection.body_text()))?;
        let mut file_type = None;
        // Every part is read to the end, even after the file: a body cut short
        // anywhere must fail the upload, not store a truncated file.
        while let Some(mut field) = within(idle, multipart.next_field()).await?.map_err(body_error)? {
            let is_file = file_type.is_none() && field.name() == Some("file");
            if is_file {
                file_type = Some(usable_content_type(field.content_type()));
            }
            while let Some(chunk) = within(idle, field.chunk()).await?.map_err(body_error)? {
                if is_file {
                    spool.push(&chunk).await?;
                }
            }
        }
        file_type
    } else {
        let header = usable_content_type(request.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()));
        let mut body = request.into_body().into_data_stream();
        while let Some(chunk) = within(idle, body.next()).await? {
            spool.push(&chunk.map_err(body_error)?).await?;
        }
        Some(header)
    };
    Ok(match content_type {
        Some(content_type) if spool.size > 0 => content_type,
        // No bytes: a placeholder, whatever type was announced.
        _ => PLACEHOLDER_TYPE.to_owned(),
    })
}

/// Waits for the next piece of a request body for at most `idle`.
async fn within<T>(idle: Duration, next: impl Future<Output = T>) -> Result<T, ServiceError> {
    tokio::time::timeout(idle, next).await.map_err(|_| {
        ServiceError::new(
            StatusCode::REQUEST_TIMEOUT,
            format!("Request body timed out: no data for {} s", idle.as_secs_f64()),
        )
    })
}

fn body_error(err: impl std::fmt::Display) -> ServiceError {
    ServiceError::bad_request(format!("Could not read the request body: {err}"))
}

/// A body being received into a temporary file.
pub(crate) struct Spool<'a> {
    file: tokio::fs::File,
    path: tempfile::TempPath,
    size: u64,
    /// Set when this upload was drawn to have its connection cut.
    cut: Option<ConnectionKill>,
    counters: &'a Counters,
}

impl<'a> Spool<'a> {
    pub(crate) fn create(
        store: &Store,
        cut: Option<ConnectionKill>,
        counters: &'a Counters,
    ) -> Result<Spool<'a>, ServiceError> {
        let (file, path) = store.spool_file().map_err(ServiceError::internal)?;
        Ok(Spool {
            file: tokio::fs::File::from_std(file),
            path,
            size: 0,
            cut,
            counters,
        })
    }

    async fn push(&mut self, chunk: &[u8]) -> Result<(), ServiceError> {
        if chunk.is_empty() {
            return Ok(());
        }
        self.file.write_all(chunk).await.map_err(ServiceError::internal)?;
        self.size += chunk.len() as u64;
        // Part of the body is in: the moment to drop the connection.
        self.cut_if_due().await
    }

    /// Cuts the connection if this upload was drawn for it. Normally the
    /// handler is dropped with the connection and this never returns.
    pub(crate) async fn cut_if_due(&mut self) -> Result<(), ServiceError> {
        if let Some(kill) = self.cut.take() {
            bump(&self.counters.faults_injected);
            kill.cut().await;
            return Err(ServiceError::internal("the connection was to be dropped"));
        }
        Ok(())
    }

    pub(crate) async fn finish(
        mut self,
        namespace: String,
        name: String,
        content_type: String,
    ) -> Result<Upload, ServiceError> {
        self.file.flush().await.map_err(ServiceError::internal)?;
        self.file.sync_all().await.map_err(ServiceError::internal)?;
        Ok(Upload {
            namespace,
            name,
            content_type,
            size: self.size,
            body: self.path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_is_recognised_case_insensitively() {
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("Multipart/Form-Data; boundary=x"),
        );
        assert!(is_multipart(&headers));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("image/png"));
        assert!(!is_multipart(&headers));
    }
}
