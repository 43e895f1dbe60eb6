//! The service's nouns: a registration as the client sent it, and the user it becomes.
//!
//! Two types on purpose. A `Registration` is untrusted text from outside; a `User` exists only
//! once `validation` has checked and normalised every field, so code holding a `User` never has to
//! wonder whether its email was lower-cased or its owner is an adult.

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use uuid::Uuid;

/// A user's id: a UUIDv7 chosen by the service, so a user has its id before it is stored.
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

// ANCHOR: registration
/// What a client sends to register, exactly as it arrived: nothing here has been checked yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registration {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// `YYYY-MM-DD`.
    pub date_of_birth: String,
    pub phone: Option<String>,
}
// ANCHOR_END: registration

/// A registered user. Every field has passed validation and is stored in its normal form.
#[derive(Debug, Clone, PartialEq, Eq)]
// No user is a default one: `Default` is for mutation testing only (the `mutants` feature).
#[cfg_attr(feature = "mutants", derive(Default))]
pub struct User {
    pub id: UserId,
    /// Trimmed and lower-cased.
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub date_of_birth: NaiveDate,
    /// E.164: `+` and 8 to 15 digits.
    pub phone: Option<String>,
    /// At the microsecond precision PostgreSQL stores, so a user read back equals the one saved.
    pub created_at: DateTime<Utc>,
}

/// The current time at the precision the database keeps.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
