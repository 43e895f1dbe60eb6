//! The caller's orders, written through chapter 03's manager so that an order and the record of
//! its calls go in one transaction.

use ch03_transaction_manager::{Ctx, SqlManager, TxError};
use sqlx::Postgres;

#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("there is no order {0}")]
    NotFound(String),
    #[error(transparent)]
    Tx(#[from] TxError),
    #[error("the caller's database: {0}")]
    Storage(#[from] sqlx::Error),
}

/// The orders table.
#[derive(Clone)]
pub struct Orders {
    tm: SqlManager<Postgres>,
}

impl Orders {
    pub fn new(tm: SqlManager<Postgres>) -> Self {
        Orders { tm }
    }

    /// A new order, in `state`, in the transaction of `ctx` or in one of its own.
    pub async fn insert(
        &self,
        ctx: &Ctx,
        order: &str,
        customer: &str,
        amount_cents: i64,
        state: &str,
    ) -> Result<(), OrderError> {
        let mut conn = self.tm.connection(ctx).await?;
        sqlx::query("INSERT INTO orders (id, customer, amount_cents, state) VALUES ($1, $2, $3, $4)")
            .bind(order)
            .bind(customer)
            .bind(amount_cents)
            .bind(state)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    pub async fn set_state(&self, ctx: &Ctx, order: &str, state: &str) -> Result<(), OrderError> {
        let mut conn = self.tm.connection(ctx).await?;
        let updated = sqlx::query("UPDATE orders SET state = $2, updated_at = now() WHERE id = $1")
            .bind(order)
            .bind(state)
            .execute(&mut *conn)
            .await?;
        if updated.rows_affected() == 0 {
            return Err(OrderError::NotFound(order.to_owned()));
        }
        Ok(())
    }

    /// The order's (state, amount).
    pub async fn get(&self, ctx: &Ctx, order: &str) -> Result<(String, i64), OrderError> {
        let mut conn = self.tm.connection(ctx).await?;
        let found: Option<(String, i64)> = sqlx::query_as("SELECT state, amount_cents FROM orders WHERE id = $1")
            .bind(order)
            .fetch_optional(&mut *conn)
            .await?;
        found.ok_or_else(|| OrderError::NotFound(order.to_owned()))
    }
}
