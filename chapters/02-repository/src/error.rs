//! What can go wrong when storing users, as variants a caller can act on.

use thiserror::Error;

use crate::model::UserId;

#[derive(Debug, Error)]
pub enum RepositoryError {
    #[error("no user with id {0}")]
    NotFound(UserId),

    /// Another user already holds this value of a unique field (the email).
    #[error("another user already has this {field}")]
    Conflict { field: &'static str },

    /// The value cannot be stored as it is; nothing was written.
    #[error("{field} cannot be stored: {reason}")]
    Invalid { field: &'static str, reason: String },

    /// The database failed in a way the caller cannot fix by changing the input.
    #[error("storage failed while {doing}: {source}")]
    Storage {
        doing: &'static str,
        #[source]
        source: sqlx::Error,
    },
}

impl RepositoryError {
    /// Maps a database error: a unique violation on the email is a conflict, anything else is a
    /// storage failure.
    pub(crate) fn from_sqlx(doing: &'static str, error: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &error
            && db.is_unique_violation()
        {
            // PostgreSQL names the constraint; MySQL and SQLite name it in the message.
            let names_email = db.constraint() == Some("users_email_unique") || db.message().contains("email");
            if names_email {
                return RepositoryError::Conflict { field: "email" };
            }
        }
        RepositoryError::Storage { doing, source: error }
    }
}

/// Adds what was being done to a database error.
pub(crate) trait StorageContext<T> {
    fn doing(self, doing: &'static str) -> Result<T, RepositoryError>;
}

impl<T> StorageContext<T> for Result<T, sqlx::Error> {
    fn doing(self, doing: &'static str) -> Result<T, RepositoryError> {
        self.map_err(|error| RepositoryError::from_sqlx(doing, error))
    }
}
