//! The in-app provider: a row in the user's inbox table, which the app shows under its bell icon.

use futures::FutureExt;
use futures::future::BoxFuture;
use sqlx::PgPool;
use uuid::Uuid;

use super::{Delivery, Notification, Notifier, NotifyError};
use crate::user::now;

#[derive(Debug, Clone)]
pub struct InApp {
    pool: PgPool,
}

impl InApp {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

impl Notifier for InApp {
    fn name(&self) -> &'static str {
        "in_app"
    }

    fn send(&self, notification: Notification) -> BoxFuture<'static, Result<Delivery, NotifyError>> {
        let pool = self.pool.clone();
        async move {
            sqlx::query(
                "INSERT INTO in_app_notifications (id, user_id, title, body, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(Uuid::now_v7())
            .bind(notification.user_id.0)
            .bind(&notification.title)
            .bind(&notification.body)
            .bind(now())
            .execute(&pool)
            .await
            .map_err(|error| NotifyError::Unreachable(error.into()))?;
            Ok(Delivery::Sent)
        }
        .boxed()
    }
}
