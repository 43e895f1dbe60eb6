//! Exercise: give a purchase a deadline (statement: `statements/purchase_deadline.md`, or
//! `workbook hint purchase_deadline`).

use std::time::Duration;

use ch03_transaction_manager::shop::{Orders, Products, ShopError, ShopSql};
use ch03_transaction_manager::{Ctx, Settings, SqlManager};

/// How long a purchase may take, waiting included.
pub const DEADLINE: Duration = Duration::from_millis(300);

/// Writes off the stock and creates the order, in one transaction, within [`DEADLINE`].
pub async fn buy_within_deadline<DB: ShopSql>(
    tm: &SqlManager<DB>,
    products: &Products<DB>,
    orders: &Orders<DB>,
    ctx: &Ctx,
    (user, product, quantity): (i64, i64, i32),
) -> Result<i64, ShopError> {
    // The gap: nothing here bounds how long the transaction may wait.
    let settings = Settings::default();
    tm.run(ctx, settings, async |ctx| {
        products.write_off(ctx, product, quantity).await?;
        orders.add(ctx, user, product, quantity).await
    })
    .await
}
