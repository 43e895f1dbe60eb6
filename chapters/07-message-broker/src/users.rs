//! The publishing side: a users service that tells the world when someone registers.
//!
//! Three ways to do it, side by side so the tests can compare them:
//! - [`Users::register`]: the transactional outbox, the user and the event in one transaction;
//! - [`Users::register_then_publish`]: commit, then publish: loses the event if the broker is
//!   down, though the user exists;
//! - [`Users::publish_then_register`]: publish, then commit: announces a user who never comes to
//!   exist if the database then refuses.
//!
//! The service knows nothing of who consumes `user_registered`: adding a consumer changes nothing
//! here.

use ch03_transaction_manager::{Ctx, Settings, SqlManager, TxError};
use uuid::Uuid;

use crate::event::Event;
use crate::outbox::{Outbox, RelayError};
use crate::publisher::{PublishError, Publisher};
use crate::sql::EventDb;

pub const USER_REGISTERED: &str = "user_registered";

#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    #[error("{0} is already registered")]
    EmailTaken(String),
    #[error(transparent)]
    Tx(#[from] TxError),
    #[error("users database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Outbox(#[from] RelayError),
    #[error(transparent)]
    Publish(#[from] PublishError),
}

/// The event that says `email` registered as `user`.
pub fn user_registered(user: Uuid, email: &str) -> Event {
    Event::new(
        USER_REGISTERED,
        user.to_string(),
        serde_json::json!({ "user_id": user, "email": email }),
    )
}

pub struct Users<DB: EventDb> {
    tm: SqlManager<DB>,
    outbox: Outbox<DB>,
}

impl<DB: EventDb> Users<DB> {
    pub fn new(tm: SqlManager<DB>) -> Self {
        Self {
            outbox: Outbox::new(tm.clone()),
            tm,
        }
    }

    // ANCHOR: register
    /// Registers a user and records `user_registered` in the outbox, in one transaction.
    pub async fn register(&self, ctx: &Ctx, email: &str) -> Result<Uuid, UsersError> {
        self.tm
            .run(ctx, Settings::default(), async |ctx| {
                let user = self.insert(ctx, email).await?;
                self.outbox.add(ctx, &user_registered(user, email)).await?;
                Ok(user)
            })
            .await
    }
    // ANCHOR_END: register

    // ANCHOR: dual_writes
    /// The naive dual write: commit, then publish. If the publish fails, the user exists and
    /// nobody hears of it.
    pub async fn register_then_publish(&self, email: &str, publisher: &impl Publisher) -> Result<Uuid, UsersError> {
        let user = self.insert(&Ctx::new(), email).await?;
        publisher.publish(&[user_registered(user, email)]).await?;
        Ok(user)
    }

    /// The other order: publish, then commit. If the commit fails, the world has heard of a user
    /// who does not exist.
    pub async fn publish_then_register(&self, email: &str, publisher: &impl Publisher) -> Result<Uuid, UsersError> {
        let user = Uuid::now_v7();
        publisher.publish(&[user_registered(user, email)]).await?;
        self.insert_as(&Ctx::new(), user, email).await?;
        Ok(user)
    }
    // ANCHOR_END: dual_writes

    /// The business write alone: a user, and no event. (What the benchmark compares the outbox
    /// with.)
    pub async fn insert(&self, ctx: &Ctx, email: &str) -> Result<Uuid, UsersError> {
        let user = Uuid::now_v7();
        self.insert_as(ctx, user, email).await?;
        Ok(user)
    }

    async fn insert_as(&self, ctx: &Ctx, user: Uuid, email: &str) -> Result<(), UsersError> {
        let mut conn = self.tm.connection(ctx).await?;
        DB::insert_user(&mut conn, &user.to_string(), email)
            .await
            .map_err(|error| match &error {
                sqlx::Error::Database(db) if db.is_unique_violation() => UsersError::EmailTaken(email.into()),
                _ => UsersError::Database(error),
            })
    }
}
