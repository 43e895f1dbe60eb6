//! Exercise: the HTTP answer for each of the service's errors (statement:
//! `statements/error_answers.md`, or `workbook hint error_answers`).

use axum::http::StatusCode;
use ch01_layered_service::ServiceError;
use ch01_layered_service::http::ApiError;

/// What a client is told when the service refuses a request or fails: a status, a `code` for
/// programs, a `message` for people and the `field` it is about.
pub fn answer(error: ServiceError) -> ApiError {
    let field = error.field();
    match error {
        // The client can fix these: the status says so, and the body names the field.
        ServiceError::InvalidArgument { .. } => {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_argument", error.to_string(), field)
        }
        ServiceError::AlreadyExists { .. } => {
            ApiError::new(StatusCode::CONFLICT, "already_exists", error.to_string(), field)
        }
        ServiceError::NotFound { .. } => ApiError::new(StatusCode::NOT_FOUND, "not_found", error.to_string(), field),
        // Ours to fix: the cause goes to the log, never to the client.
        ServiceError::Internal(cause) => {
            tracing::error!(error = %cause, "internal error");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error", None)
        }
    }
}
