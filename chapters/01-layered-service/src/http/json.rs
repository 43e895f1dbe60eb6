//! A JSON body extractor whose every refusal is an `ApiError` naming the problem, and which
//! tolerates (and names) the fields of a newer client.
//!
//! axum's own `Json` answers a malformed body with plain text and an unknown field with 422. This
//! one answers in the API's error shape, with 400 for anything wrong with the JSON (and the field
//! when serde can tell which), 413 for a body over the limit, 415 for a body that is not JSON, and
//! 408 for a body that does not arrive within [`Limits::body_read`].

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use super::{ApiError, BODY_LIMIT, Limits};

/// A body of type `T`, and the names of the top-level fields it carried that `T` does not know.
pub struct ValidJson<T> {
    pub body: T,
    /// Fields a newer client sent that this server ignores (see [`Fields`]).
    pub ignored: Vec<String>,
}

// ANCHOR: fields
/// A body's field names. Old and new versions of the apps and of the server run side by side
/// during a rollout, so a server must accept a body from a client newer than itself: a field it
/// does not know is ignored, as protobuf ignores an unknown field, and named back to the client in
/// the `ignored-fields` response header, so that a typo (`"phnoe"`) is still visible to whoever
/// looks. A field the server *requires* must therefore never be added: new fields are optional.
pub trait Fields {
    const FIELDS: &'static [&'static str];
}
// ANCHOR_END: fields

impl<S: Send + Sync, T: DeserializeOwned + Fields> FromRequest<S> for ValidJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok());
        let essence = content_type.and_then(|value| value.split(';').next()).map(str::trim);
        if !essence.is_some_and(|essence| essence.eq_ignore_ascii_case("application/json")) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON, with content-type: application/json",
                None,
            ));
        }
        let limit = request
            .extensions()
            .get::<Limits>()
            .copied()
            .unwrap_or_default()
            .body_read;
        let read = tokio::time::timeout(limit, Bytes::from_request(request, state)).await;
        let Ok(read) = read else {
            let message = format!("the body did not arrive within {limit:?}");
            return Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                message,
                None,
            ));
        };
        let bytes = read.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                let message = format!("the body is larger than {BODY_LIMIT} bytes");
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message, None)
            } else {
                // The body ended before its `Content-Length`, or the connection failed while it
                // was read: the client's side. hyper's own words would say nothing to a client.
                let message = "the body could not be read in full: it ended before its Content-Length";
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_argument", message, None)
            }
        })?;
        // Parsed once, into a JSON value: a syntax error (trailing garbage included) is malformed
        // JSON; the value's top-level keys say which fields `T` does not know; then `T` is read
        // from the value, naming the field that is wrong or missing.
        let json: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|error| ApiError::new(StatusCode::BAD_REQUEST, "invalid_argument", malformed(&error), None))?;
        let ignored = json
            .as_object()
            .map(|object| {
                object
                    .keys()
                    .filter(|key| !T::FIELDS.contains(&key.as_str()))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        let value = serde_path_to_error::deserialize(json).map_err(refusal)?;
        Ok(ValidJson { body: value, ignored })
    }
}

fn malformed(error: &serde_json::Error) -> String {
    format!("malformed JSON: {error}")
}

/// The 400 for a body that is JSON but not a `T`, naming the field when there is one. (Syntax
/// errors were caught when the body was parsed into a value.)
fn refusal(error: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let inner = error.inner();
    let path = error.path().to_string();
    // Not an object at all (`null`, `[]`, `"text"`): serde's message would name the Rust type it
    // expected, which is ours to know and not the client's.
    if path == "." && inner.to_string().contains("expected struct") {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_argument",
            "the body must be a JSON object",
            None,
        );
    }
    let message = inner.to_string();
    // A wrong type names its path (`phone`); an unknown or missing field is reported at the object
    // that holds it, so its name is read from serde's message: unknown field `nickname`.
    let field = if path != "." {
        Some(path)
    } else {
        message
            .split('`')
            .nth(1)
            .filter(|_| message.contains(" field `"))
            .map(str::to_owned)
    };
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_argument", message, field.as_deref())
}
