//! An in-memory repository: the same contract as the database adapters, in a `BTreeMap`.
//!
//! Useful where a real database would only slow a test down without proving anything more, and as
//! a reference: the contract tests hold it to exactly the behaviour of the SQL adapters. It stores
//! the mapper's rows, not the aggregate, so it keeps the same limits and the same unique email.

use std::collections::BTreeMap;
use std::sync::Mutex;

use uuid::Uuid;

use crate::error::RepositoryError;
use crate::mapper::{self, ProfileRow, UserRow};
use crate::model::{User, UserId};
use crate::repository::UserRepository;

/// A check on a profile row before it is stored: the in-memory twin of a `CHECK` constraint.
pub type ProfileCheck = Box<dyn Fn(&ProfileRow) -> Result<(), String> + Send + Sync>;

#[derive(Default)]
pub struct InMemoryUserRepository {
    // A std Mutex, not tokio's: no `.await` happens while it is held.
    tables: Mutex<Tables>,
    profile_checks: Vec<ProfileCheck>,
}

#[derive(Default)]
struct Tables {
    users: BTreeMap<Uuid, UserRow>,
    profiles: BTreeMap<Uuid, ProfileRow>,
}

impl InMemoryUserRepository {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a check that every stored profile must pass, as a database constraint would.
    pub fn with_profile_check(mut self, check: ProfileCheck) -> Self {
        self.profile_checks.push(check);
        self
    }

    /// How many rows each table holds, `(users, profiles)`, counted on its own: what a test reads
    /// past the repository to see a half-written user or an orphan, which `list` (joining the
    /// two) would hide.
    pub fn row_counts(&self) -> (usize, usize) {
        let tables = self.tables();
        (tables.users.len(), tables.profiles.len())
    }

    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables
            .lock()
            .expect("a panic while holding this lock leaves nothing half-done")
    }
}

impl Tables {
    fn user(&self, id: &Uuid) -> Option<User> {
        Some(mapper::from_rows(
            self.users.get(id)?.clone(),
            self.profiles.get(id)?.clone(),
        ))
    }
}

impl UserRepository for InMemoryUserRepository {
    async fn get(&self, id: UserId) -> Result<User, RepositoryError> {
        self.tables().user(&id.0).ok_or(RepositoryError::NotFound(id))
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<User>, RepositoryError> {
        let wanted = mapper::normalize_email(email);
        let tables = self.tables();
        let id = tables
            .users
            .values()
            .find(|row| row.email_normalized == wanted)
            .map(|row| row.id);
        Ok(id.and_then(|id| tables.user(&id)))
    }

    async fn save(&self, user: &User) -> Result<(), RepositoryError> {
        let (user_row, profile_row) = mapper::to_rows(user)?;
        // Every check runs before anything is written: all or nothing, like a transaction.
        for check in &self.profile_checks {
            check(&profile_row).map_err(|reason| RepositoryError::Invalid {
                field: "profile",
                reason,
            })?;
        }
        let mut tables = self.tables();
        let taken = tables
            .users
            .values()
            .any(|row| row.email_normalized == user_row.email_normalized && row.id != user_row.id);
        if taken {
            return Err(RepositoryError::Conflict { field: "email" });
        }
        tables.users.insert(user_row.id, user_row);
        tables.profiles.insert(profile_row.user_id, profile_row);
        Ok(())
    }

    async fn delete(&self, id: UserId) -> Result<(), RepositoryError> {
        let mut tables = self.tables();
        tables.profiles.remove(&id.0);
        tables
            .users
            .remove(&id.0)
            .map(drop)
            .ok_or(RepositoryError::NotFound(id))
    }

    async fn list(&self, after: Option<UserId>, limit: u32) -> Result<Vec<User>, RepositoryError> {
        let tables = self.tables();
        let start = after.map_or(std::ops::Bound::Unbounded, |id| std::ops::Bound::Excluded(id.0));
        Ok(tables
            .users
            .range((start, std::ops::Bound::Unbounded))
            .take(limit as usize)
            .filter_map(|(id, _)| tables.user(id))
            .collect())
    }
}
