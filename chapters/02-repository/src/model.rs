//! The domain's view of a user: one `User` holding a `Profile`, with no trace of tables.
//!
//! Code that works with users (a profile service, a registration use case) sees only this. How it
//! is stored, in how many tables and with which extra columns, is the mapper's business.

use chrono::{DateTime, SubsecRound, Utc};
use uuid::Uuid;

/// A user's id, made by the application (UUIDv7, time-ordered), so a user has it before it is
/// stored, and ids sort in creation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserId(pub Uuid);

impl UserId {
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }
}

impl Default for UserId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The aggregate: a user and the profile that belongs to it, saved and loaded as one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub profile: Profile,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub first_name: String,
    pub last_name: String,
    pub avatar_url: Option<String>,
    pub bio: Option<String>,
}

impl User {
    /// A new user, not yet stored.
    pub fn new(email: impl Into<String>, password_hash: impl Into<String>, profile: Profile) -> Self {
        let now = now();
        Self {
            id: UserId::new(),
            email: email.into(),
            password_hash: password_hash.into(),
            created_at: now,
            updated_at: now,
            profile,
        }
    }

    /// Records that the user changed now.
    pub fn touch(&mut self) {
        self.updated_at = now();
    }
}

impl Profile {
    pub fn new(first_name: impl Into<String>, last_name: impl Into<String>) -> Self {
        Self {
            first_name: first_name.into(),
            last_name: last_name.into(),
            avatar_url: None,
            bio: None,
        }
    }
}

/// The current time at the precision every database here stores (microseconds), so that a user
/// read back compares equal to the user that was saved.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
