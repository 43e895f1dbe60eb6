//! Exercise: write the event with the user (statement: `statements/outbox_with_the_user.md`, or
//! `workbook hint outbox_with_the_user`).

use ch03_transaction_manager::{Ctx, SqlManager};
use ch07_message_broker::users::user_registered;
use ch07_message_broker::{Outbox, Publisher, Users, UsersError};
use sqlx::Postgres;
use uuid::Uuid;

/// What registering uses: the users service's database, its outbox, and a publisher.
pub struct Registration<'a, P> {
    pub tm: &'a SqlManager<Postgres>,
    pub users: &'a Users<Postgres>,
    pub outbox: &'a Outbox<Postgres>,
    pub publisher: &'a P,
}

impl<P: Publisher> Registration<'_, P> {
    /// Registers a user, and makes sure the world hears of them once they exist.
    pub async fn register(&self, email: &str) -> Result<Uuid, UsersError> {
        // The gap: commit, then publish. While the broker is away, the event is lost.
        let user = self.users.insert(&Ctx::new(), email).await?;
        self.publisher.publish(&[user_registered(user, email)]).await?;
        Ok(user)
    }
}
