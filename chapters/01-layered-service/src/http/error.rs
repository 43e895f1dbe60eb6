//! Every HTTP error, in one shape: `{"code": "...", "message": "...", "field": "..."}`.
//!
//! `code` is for programs (the same words as the gRPC codes, lower-cased), `message` for people,
//! `field` names the offending input when there is one (else `null`). The status code says the same
//! thing in HTTP's terms, so proxies, dashboards and retry logic understand it too. An internal
//! error says nothing about its cause: that goes to the log, under the request id the response
//! carries in its `x-request-id` header.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::error::ServiceError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    pub field: Option<String>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>, field: Option<&str>) -> Self {
        let body = ErrorBody {
            code: code.to_owned(),
            message: message.into(),
            field: field.map(str::to_owned),
        };
        Self { status, body }
    }
}

// ANCHOR: mapping
impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        let field = error.field();
        match error {
            ServiceError::InvalidArgument { .. } => {
                Self::new(StatusCode::BAD_REQUEST, "invalid_argument", error.to_string(), field)
            }
            ServiceError::AlreadyExists { .. } => {
                Self::new(StatusCode::CONFLICT, "already_exists", error.to_string(), field)
            }
            ServiceError::NotFound { .. } => Self::new(StatusCode::NOT_FOUND, "not_found", error.to_string(), field),
            ServiceError::Internal(source) => {
                tracing::error!(error = %source, "internal error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error; quote the x-request-id header when reporting it",
                    None,
                )
            }
        }
    }
}
// ANCHOR_END: mapping

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

pub async fn no_such_route() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route", None)
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
        None,
    )
}
