//! Exercise: let an optional step fail without failing the purchase (statement:
//! `statements/optional_gift_wrap.md`, or `workbook hint optional_gift_wrap`).

use ch03_transaction_manager::shop::{Orders, Products, ShopError, ShopSql};
use ch03_transaction_manager::{Ctx, Settings, SqlManager};

/// The product that wrapping takes off the stock: one sheet per purchase.
pub const WRAPPING_PAPER: i64 = 99;

pub struct GiftShop<'a, DB: ShopSql> {
    pub tm: &'a SqlManager<DB>,
    pub products: &'a Products<DB>,
    pub orders: &'a Orders<DB>,
}

impl<DB: ShopSql> GiftShop<'_, DB> {
    /// Buys `quantity` of `product` and wraps it if there is paper left; returns the order and
    /// whether it was wrapped.
    pub async fn buy_with_gift_wrap(
        &self,
        ctx: &Ctx,
        user: i64,
        product: i64,
        quantity: i32,
    ) -> Result<(i64, bool), ShopError> {
        self.tm
            .run(ctx, Settings::default(), async |ctx| {
                self.products.write_off(ctx, product, quantity).await?;
                let order = self.orders.add(ctx, user, product, quantity).await?;
                // Wrapping is optional: without paper, the purchase goes on unwrapped.
                let wrapped = self.wrap(ctx).await.is_ok();
                Ok((order, wrapped))
            })
            .await
    }

    async fn wrap(&self, ctx: &Ctx) -> Result<(), ShopError> {
        // The gap: with these settings, a failure here dooms the purchase's transaction.
        self.tm
            .run(ctx, Settings::default(), async |ctx| {
                self.products.write_off(ctx, WRAPPING_PAPER, 1).await
            })
            .await
    }
}
