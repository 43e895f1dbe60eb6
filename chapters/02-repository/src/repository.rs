//! The repository: a collection of users, as the rest of the code sees it.
//!
//! It speaks only in domain terms (a `User`, a `UserId`), serves one aggregate and holds no
//! business rules. A repository that also served orders and products would become a "super
//! repository": every change to any model would touch it, and every test would need all of it.

use std::future::Future;

use crate::error::RepositoryError;
use crate::model::{User, UserId};

// ANCHOR: trait
/// Where users are kept. Implemented for PostgreSQL, MySQL/MariaDB, SQLite and in memory.
///
/// The methods return `Send` futures so that callers may run them on any tokio task.
#[cfg_attr(test, mockall::automock)]
pub trait UserRepository: Send + Sync {
    /// The user with this id, or `NotFound`.
    fn get(&self, id: UserId) -> impl Future<Output = Result<User, RepositoryError>> + Send;

    /// The user with this email, compared without regard to case.
    fn find_by_email(&self, email: &str) -> impl Future<Output = Result<Option<User>, RepositoryError>> + Send;

    /// Stores the user and its profile, inserting or updating both, atomically.
    fn save(&self, user: &User) -> impl Future<Output = Result<(), RepositoryError>> + Send;

    /// Removes the user and its profile, or `NotFound`.
    fn delete(&self, id: UserId) -> impl Future<Output = Result<(), RepositoryError>> + Send;

    /// Up to `limit` users in id order, starting after `after` (keyset pagination: the cost of a
    /// page does not grow with how far into the list it is, unlike `OFFSET`).
    fn list(
        &self,
        after: Option<UserId>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<User>, RepositoryError>> + Send;
}
// ANCHOR_END: trait
