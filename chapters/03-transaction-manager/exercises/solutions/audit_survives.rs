//! Exercise: keep the record of an attempt when the purchase fails (statement:
//! `statements/audit_survives.md`, or `workbook hint audit_survives`).

use ch03_transaction_manager::shop::{Messages, Orders, Products, ShopError, ShopSql};
use ch03_transaction_manager::{Ctx, Propagation, Settings, SqlManager};

/// The shop's repositories that a purchase uses.
pub struct Purchase<'a, DB: ShopSql> {
    pub tm: &'a SqlManager<DB>,
    pub products: &'a Products<DB>,
    pub orders: &'a Orders<DB>,
    pub messages: &'a Messages<DB>,
}

impl<DB: ShopSql> Purchase<'_, DB> {
    /// Records the attempt, then writes off the stock and creates the order, in one transaction.
    pub async fn buy_with_audit(&self, ctx: &Ctx, user: i64, product: i64, quantity: i32) -> Result<i64, ShopError> {
        self.tm
            .run(ctx, Settings::default(), async |ctx| {
                self.record_attempt(ctx, user, product, quantity).await?;
                self.products.write_off(ctx, product, quantity).await?;
                self.orders.add(ctx, user, product, quantity).await
            })
            .await
    }

    /// The record of an attempt, which must outlive a purchase that fails.
    async fn record_attempt(&self, ctx: &Ctx, user: i64, product: i64, quantity: i32) -> Result<(), ShopError> {
        let payload = format!(r#"{{"user_id":{user},"product_id":{product},"quantity":{quantity}}}"#);
        // A transaction of its own: it commits before the purchase goes on, whatever the purchase does.
        self.tm
            .run(ctx, Settings::new(Propagation::RequiresNew), async |ctx| {
                self.messages.add(ctx, "purchase_attempted", &payload).await
            })
            .await
    }
}
