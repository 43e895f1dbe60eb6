//! Exercise: register a user and their message as one (statement:
//! `statements/register_atomically.md`, or `workbook hint register_atomically`).

use ch03_transaction_manager::shop::{Messages, ShopError, ShopSql, Users};
use ch03_transaction_manager::{Ctx, SqlManager};

/// Saves the user with `email` and the "user registered" message: both, or neither.
pub async fn register<DB: ShopSql>(
    tm: &SqlManager<DB>,
    users: &Users<DB>,
    messages: &Messages<DB>,
    ctx: &Ctx,
    email: &str,
) -> Result<i64, ShopError> {
    // The gap: each of these writes commits on its own. `tm` is here to make them one.
    let _ = tm;
    let user = users.add(ctx, email).await?;
    messages
        .add(ctx, "user_registered", &format!(r#"{{"user_id":{user}}}"#))
        .await?;
    Ok(user)
}
