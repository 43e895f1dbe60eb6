//! Two ways to keep concurrent buyers of one product from losing each other's update.
//!
//! **Optimistic**: load without locking, change, commit; the commit's versioned update finds the
//! row moved on if someone else committed in between, and the buyer starts again. Nothing waits,
//! and a row is never held; under contention the retries pile up.
//!
//! **Pessimistic**: load with `SELECT ... FOR UPDATE` inside a transaction that the unit of work's
//! commit then joins; the next buyer waits at its load until the first commits. Nobody retries,
//! but each holds the row (and a connection) from its load to its commit. (PostgreSQL and
//! MariaDB; SQLite has no row locks.)
//!
//! The unit of work does not lock: the use case chooses how, as Fowler's pattern leaves it.
//! `benches/locking.rs` measures both under high and low contention.

use ch03_transaction_manager::{Ctx, Settings, SqlManager, TxError};
use uuid::Uuid;

use crate::commit::{CommitError, commit};
use crate::place_order::{OrderError, reserve};
use crate::sql::ShopDatabase;
use crate::unit::{UnitError, UnitOfWork};

/// Why a purchase did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BuyError {
    #[error(transparent)]
    Order(#[from] OrderError),
    #[error("still conflicting after {0} attempts")]
    GaveUp(u32),
    #[error(transparent)]
    Commit(#[from] CommitError),
    #[error(transparent)]
    Unit(#[from] UnitError),
    #[error(transparent)]
    Tx(#[from] TxError),
    #[error("reading the product failed: {0}")]
    Storage(#[from] sqlx::Error),
}

// ANCHOR: optimistic
/// Takes `quantity` of `product` optimistically, starting again on each conflict, up to
/// `attempts` times. Returns how many attempts it took.
pub async fn buy_optimistically<DB: ShopDatabase>(
    tm: &SqlManager<DB>,
    product: Uuid,
    quantity: i64,
    attempts: u32,
) -> Result<u32, BuyError> {
    for attempt in 1..=attempts {
        let mut unit = UnitOfWork::new();
        let loaded = unit
            .load(product, async |id| Ok::<_, BuyError>(DB::product(tm.pool(), id).await?))
            .await?
            .ok_or(OrderError::NoSuchProduct(product))?;
        reserve(&mut loaded.lock(), quantity)?;
        match commit(&mut unit, tm, &Ctx::new()).await {
            Ok(_) => return Ok(attempt),
            Err(CommitError::Conflict { .. }) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(BuyError::GaveUp(attempts))
}
// ANCHOR_END: optimistic

// ANCHOR: pessimistic
/// Takes `quantity` of `product` pessimistically: its row locked at load, in a transaction the
/// commit joins, so that a concurrent buyer waits instead of conflicting.
pub async fn buy_pessimistically<DB: ShopDatabase>(
    tm: &SqlManager<DB>,
    product: Uuid,
    quantity: i64,
) -> Result<(), BuyError> {
    tm.run(&Ctx::new(), Settings::default(), async |ctx| {
        let mut unit = UnitOfWork::new();
        let fetch = async |id| {
            let mut conn = tm.connection(ctx).await?;
            Ok::<_, BuyError>(DB::product_for_update(&mut conn, id).await?)
        };
        let loaded = unit
            .load(product, fetch)
            .await?
            .ok_or(OrderError::NoSuchProduct(product))?;
        reserve(&mut loaded.lock(), quantity)?;
        commit(&mut unit, tm, ctx).await?;
        Ok(())
    })
    .await
}
// ANCHOR_END: pessimistic
