//! Users in memory: for the tour and the benchmarks, where no database is wanted.
//!
//! It keeps the one rule that matters to the service, a unique email, under the same lock as the
//! insert, so it races correctly too. A `std::sync::Mutex`, not tokio's, because nothing awaits
//! while it is held.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{RepositoryError, UserRepository};
use crate::user::{User, UserId};

#[derive(Debug, Clone, Default)]
pub struct InMemoryUsers {
    users: Arc<Mutex<HashMap<UserId, User>>>,
}

impl InMemoryUsers {
    pub fn new() -> Self {
        Self::default()
    }
}

impl UserRepository for InMemoryUsers {
    async fn insert(&self, user: &User) -> Result<(), RepositoryError> {
        let mut users = self.users.lock().expect("users lock poisoned");
        if users.values().any(|stored| stored.email == user.email) {
            return Err(RepositoryError::EmailTaken(user.email.clone()));
        }
        users.insert(user.id, user.clone());
        Ok(())
    }

    async fn by_id(&self, id: UserId) -> Result<Option<User>, RepositoryError> {
        Ok(self.users.lock().expect("users lock poisoned").get(&id).cloned())
    }

    async fn by_email(&self, email: &str) -> Result<Option<User>, RepositoryError> {
        let users = self.users.lock().expect("users lock poisoned");
        Ok(users.values().find(|user| user.email == email).cloned())
    }
}
