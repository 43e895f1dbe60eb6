//! The service layer: every business rule of the users service, and nothing about protocols or SQL.
//!
//! It validates and normalises what clients send (`validation`), decides what registering means
//! (a new id, one account per email, a welcome through every provider), and turns what the
//! repository reports into errors a caller can act on. It depends only on the `UserRepository`
//! trait and on `Notifications`, so its tests run on mocks, and both handlers (HTTP and gRPC) share
//! it: a rule changed here changes for every client at once.

use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use uuid::Uuid;

use crate::error::ServiceError;
use crate::notify::{Notification, Notifications};
use crate::repository::{RepositoryError, UserRepository};
use crate::user::{Registration, User, UserId, now};
use crate::validation;

/// Today's date, as the service sees it. A function so that tests can pin it.
pub type Today = Arc<dyn Fn() -> NaiveDate + Send + Sync>;

pub struct UserService<R> {
    users: R,
    notifications: Notifications,
    today: Today,
}

impl<R: UserRepository> UserService<R> {
    pub fn new(users: R, notifications: Notifications) -> Self {
        Self::with_today(users, notifications, Arc::new(|| Utc::now().date_naive()))
    }

    // Not mutated (`.cargo/mutants.toml`): its only mutant, `Default::default()`, would need a
    // default repository, and a constructor that only moves its arguments into place has no
    // decision for a test to catch.
    pub fn with_today(users: R, notifications: Notifications, today: Today) -> Self {
        Self {
            users,
            notifications,
            today,
        }
    }

    /// The notification fan-out, for a graceful shutdown (or a test) to wait on.
    pub fn notifications(&self) -> &Notifications {
        &self.notifications
    }

    // ANCHOR: register
    /// Registers a user and starts the welcome notifications (without waiting for them).
    #[tracing::instrument(name = "service.register", skip_all, err(level = "info"))]
    pub async fn register(&self, registration: Registration) -> Result<User, ServiceError> {
        let valid = validation::validate(&registration, (self.today)())?;
        let user = User {
            id: UserId::new(),
            email: valid.email,
            first_name: valid.first_name,
            last_name: valid.last_name,
            date_of_birth: valid.date_of_birth,
            phone: valid.phone,
            created_at: now(),
        };
        self.users.insert(&user).await.map_err(|error| match error {
            RepositoryError::EmailTaken(_) => ServiceError::AlreadyExists { field: "email" },
            other => ServiceError::Internal(other),
        })?;
        tracing::info!(user_id = %user.id, "registered");
        self.notifications.dispatch(Notification::welcome(&user));
        Ok(user)
    }
    // ANCHOR_END: register

    /// The user with this id; the id arrives as text from the client and is checked here.
    #[tracing::instrument(name = "service.get", skip_all, err(level = "info"))]
    pub async fn get(&self, id: &str) -> Result<User, ServiceError> {
        let id = Uuid::parse_str(id.trim()).map_err(|_| ServiceError::invalid("id", "must be a UUID"))?;
        match self.users.by_id(UserId(id)).await {
            Ok(Some(user)) => Ok(user),
            Ok(None) => Err(ServiceError::NotFound { field: "id" }),
            Err(error) => Err(ServiceError::Internal(error)),
        }
    }

    /// The user with this email, normalised by the same rule registration applies.
    #[tracing::instrument(name = "service.find_by_email", skip_all, err(level = "info"))]
    pub async fn find_by_email(&self, email: &str) -> Result<User, ServiceError> {
        let email = validation::email(email)?;
        match self.users.by_email(&email).await {
            Ok(Some(user)) => Ok(user),
            Ok(None) => Err(ServiceError::NotFound { field: "email" }),
            Err(error) => Err(ServiceError::Internal(error)),
        }
    }
}

#[cfg(test)]
mod tests;
