//! Step 2: making the remote call inside the database transaction.
//!
//! It looks like the safe way: the order, its record and the call all in one transaction, so a
//! failed call rolls the order back. But a rollback cannot take back a charge, and the
//! transaction holds a connection from the pool for as long as the remote takes to answer. With a
//! pool of 5 and a remote that answers in 500 ms, fifty purchases at once wait for connections
//! and more than half time out; the two-phase purchase, which commits its record before the call, holds a
//! connection only for its short transactions, and the same load passes
//! (`tests/it/pool.rs`).

use ch03_transaction_manager::{Ctx, Settings, SqlManager};
use sqlx::Postgres;

use crate::calls::record::Calls;
use crate::calls::state::{Event, Operation};
use crate::orders::Orders;
use crate::payments_client::Payments;
use crate::purchase::{PAYMENT, PurchaseError, payment_key};
use crate::remote::payments::ChargeRequest;

// ANCHOR: inside
/// Places order `order` and pays for it, the charge made inside the order's transaction.
pub async fn purchase_in_one_transaction(
    tm: &SqlManager<Postgres>,
    payments: &impl Payments,
    order: &str,
    customer: &str,
    amount_cents: i64,
) -> Result<i64, PurchaseError> {
    let (calls, orders) = (Calls::new(tm.clone()), Orders::new(tm.clone()));
    let key = payment_key(order);
    tm.run(&Ctx::new(), Settings::default(), async |ctx| {
        orders.insert(ctx, order, customer, amount_cents, "paid").await?;
        calls.request(ctx, &key, PAYMENT, Operation::Create).await?;
        // The remote call, with the transaction (and its connection) held for as long as it takes.
        let request = ChargeRequest {
            object_key: key.clone(),
            amount_cents,
        };
        let charge = payments
            .charge(&key, &request)
            .await
            .map_err(|failure| PurchaseError::Remote(failure.to_string()))?;
        calls.settle(ctx, &key, PAYMENT, Event::Succeeded).await?;
        Ok(charge.id)
    })
    .await
}
// ANCHOR_END: inside
