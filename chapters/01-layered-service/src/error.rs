//! The service's errors: the few outcomes a caller can act on, whatever the protocol.
//!
//! Each handler maps these to its own status codes (HTTP 400/409/404/500, gRPC INVALID_ARGUMENT,
//! ALREADY_EXISTS, NOT_FOUND, INTERNAL) in one function, so the two protocols cannot drift apart.

use crate::repository::RepositoryError;

// ANCHOR: error
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input broke a rule; `field` names the offending field as the client spelled it.
    #[error("{field}: {message}")]
    InvalidArgument { field: &'static str, message: String },
    /// Registering would create a second account for this email.
    #[error("a user with this {field} already exists")]
    AlreadyExists { field: &'static str },
    #[error("no user has this {field}")]
    NotFound { field: &'static str },
    /// Something on our side failed. The source is for the logs, never for the client.
    #[error("internal error")]
    Internal(#[source] RepositoryError),
}
// ANCHOR_END: error

impl ServiceError {
    // Not mutated (`.cargo/mutants.toml`): its only mutant, `Default::default()`, would need a
    // default error, which none is; the field and message it builds are checked by the
    // validation table's tests, which compare every refusal's text.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field,
            message: message.into(),
        }
    }

    /// The field the error is about, if any.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::InvalidArgument { field, .. } | Self::AlreadyExists { field } | Self::NotFound { field } => {
                Some(field)
            }
            Self::Internal(_) => None,
        }
    }
}
