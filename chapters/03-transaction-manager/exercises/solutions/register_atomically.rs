//! Exercise: register a user and their message as one (statement:
//! `statements/register_atomically.md`, or `workbook hint register_atomically`).

use ch03_transaction_manager::shop::{Messages, ShopError, ShopSql, Users};
use ch03_transaction_manager::{Ctx, Settings, SqlManager};

/// Saves the user with `email` and the "user registered" message: both, or neither.
pub async fn register<DB: ShopSql>(
    tm: &SqlManager<DB>,
    users: &Users<DB>,
    messages: &Messages<DB>,
    ctx: &Ctx,
    email: &str,
) -> Result<i64, ShopError> {
    tm.run(ctx, Settings::default(), async |ctx| {
        let user = users.add(ctx, email).await?;
        messages
            .add(ctx, "user_registered", &format!(r#"{{"user_id":{user}}}"#))
            .await?;
        Ok(user)
    })
    .await
}
