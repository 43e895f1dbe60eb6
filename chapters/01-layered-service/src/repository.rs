//! The repository layer: where users are kept, as the service sees it.
//!
//! The service asks for "insert this user" and "the user with this email" and never sees SQL.
//! Two adapters implement the trait: PostgreSQL (what production runs) and memory (what the tour
//! and the benchmarks run when no database is around). The service's unit tests use neither: they
//! mock the trait.

mod memory;
mod postgres;

use std::future::Future;

pub use memory::InMemoryUsers;
pub use postgres::PgUsers;

use crate::user::{User, UserId};

// ANCHOR: trait
#[cfg_attr(test, mockall::automock)]
pub trait UserRepository: Send + Sync + 'static {
    /// Stores a new user; `EmailTaken` if another user has its email.
    fn insert(&self, user: &User) -> impl Future<Output = Result<(), RepositoryError>> + Send;

    fn by_id(&self, id: UserId) -> impl Future<Output = Result<Option<User>, RepositoryError>> + Send;

    /// The user with this email, which the caller has already normalised.
    fn by_email(&self, email: &str) -> impl Future<Output = Result<Option<User>, RepositoryError>> + Send;
}
// ANCHOR_END: trait

#[derive(Debug, thiserror::Error)]
pub enum RepositoryError {
    /// The store's uniqueness rule refused a second user with this email.
    #[error("a user with email {0:?} is already stored")]
    EmailTaken(String),
    /// The store could not be reached or refused the statement.
    #[error("the user store failed: {0}")]
    Unavailable(#[from] sqlx::Error),
}
