//! The error answers of the emulator's routes: [`ServiceError`] answers in
//! the API gateway's `errors` shape, and [`reshape_error`] turns such an
//! answer into another of Capillary's shapes when the emulator is configured
//! for one ([`ErrorShape`]). The OAuth token endpoint has shapes of its own,
//! built in `routes.rs`.

use axum::body::Body;
use axum::http::header::{CONTENT_LENGTH, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::ErrorShape;
use super::faults::Injected;

/// An error answered in Capillary's shape:
/// `{"errors":[{"status":false,"code":N,"message":"..."}],"warnings":[]}`.
#[derive(Debug)]
pub(crate) struct ServiceError {
    status: StatusCode,
    message: String,
    /// Seconds, sent as `Retry-After`.
    pub(crate) retry_after: Option<u64>,
    /// The fault this answer stands for, if it is an injected one.
    pub(crate) fault: Option<&'static str>,
}

/// The status and message of an error answer, kept on its extensions so that
/// [`reshape_error`] can answer it in another of Capillary's shapes.
#[derive(Clone, Debug)]
struct ErrorBody {
    status: StatusCode,
    message: String,
}

/// Answers an error of the upload endpoint in `shape` (the routes build every
/// error in the `errors` shape).
pub(crate) fn reshape_error(mut response: Response, shape: ErrorShape) -> Response {
    if shape == ErrorShape::Errors {
        return response;
    }
    let Some(ErrorBody { status, message }) = response.extensions_mut().remove::<ErrorBody>() else {
        return response;
    };
    let body = match shape {
        ErrorShape::Errors => return response,
        ErrorShape::Response => json!({
            "response": {"status": {"success": false, "code": status.as_u16(), "message": message}},
        }),
        ErrorShape::Flat => json!({"code": status.as_u16(), "status": false, "message": message}),
    };
    let (mut parts, _) = response.into_parts();
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    parts.headers.insert(CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    Response::from_parts(parts, Body::from(bytes))
}

impl ServiceError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> ServiceError {
        ServiceError {
            status,
            message: message.into(),
            retry_after: None,
            fault: None,
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> ServiceError {
        ServiceError::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn unauthorized() -> ServiceError {
        ServiceError::new(StatusCode::UNAUTHORIZED, "Authentication failed")
    }

    pub(crate) fn forbidden(message: &str) -> ServiceError {
        ServiceError::new(StatusCode::FORBIDDEN, message)
    }

    pub(crate) fn not_found() -> ServiceError {
        ServiceError::new(StatusCode::NOT_FOUND, "Not found")
    }

    pub(crate) fn internal(cause: impl std::fmt::Display) -> ServiceError {
        ServiceError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("Internal error: {cause}"))
    }
}

impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        let body = json!({
            "errors": [{
                "status": false,
                "code": self.status.as_u16(),
                "message": self.message,
            }],
            "warnings": [],
        });
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        if let Some(fault) = self.fault {
            response.extensions_mut().insert(Injected(fault));
        }
        response.extensions_mut().insert(ErrorBody {
            status: self.status,
            message: self.message,
        });
        response
    }
}
