//! Exercise: the HTTP answer for each of the service's errors (statement:
//! `statements/error_answers.md`, or `workbook hint error_answers`).

use axum::http::StatusCode;
use ch01_layered_service::ServiceError;
use ch01_layered_service::http::ApiError;

/// What a client is told when the service refuses a request or fails: a status, a `code` for
/// programs, a `message` for people and the `field` it is about.
pub fn answer(error: ServiceError) -> ApiError {
    // The gap: every refusal is answered as if the server had broken, so a client cannot tell
    // "fix your input" from "try again later", and the field is never named.
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", error.to_string(), None)
}
