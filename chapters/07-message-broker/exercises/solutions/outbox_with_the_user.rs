//! Exercise: write the event with the user (statement: `statements/outbox_with_the_user.md`, or
//! `workbook hint outbox_with_the_user`).

use ch03_transaction_manager::{Ctx, Settings, SqlManager};
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
        // The user and the event commit together; the relay publishes the event afterwards, so
        // the publisher has nothing to do here.
        self.tm
            .run(&Ctx::new(), Settings::default(), async |ctx| {
                let user = self.users.insert(ctx, email).await?;
                self.outbox.add(ctx, &user_registered(user, email)).await?;
                Ok(user)
            })
            .await
    }
}
