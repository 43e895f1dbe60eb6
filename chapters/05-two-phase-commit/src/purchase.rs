//! The purchase, two-phase: the order and its payment call are recorded before the call is made,
//! and settled after; what stops in between is finished by [`recover_payments`].
//!
//! 1. One transaction: the order, `placed`, and its payment call, `create_requested`, with the
//!    key the caller assigns (`order-<id>:payment`), which the payments service keeps as the
//!    charge's `object_key`.
//! 2. No transaction open: the charge, under that key, retried on no answer with the same key.
//! 3. One transaction: the call `created` and the order `paid`; or, refused, `create_failed` and
//!    `cancelled`. With no answer after the retries, the call stays requested, its next attempt
//!    later, and the purchase says so: recovery will finish it.

use std::time::Duration;

use ch03_transaction_manager::{Ctx, Settings, SqlManager, TxError};
use sqlx::Postgres;

use crate::calls::record::{CallError, Calls};
use crate::calls::state::{Event, Operation};
use crate::orders::{OrderError, Orders};
use crate::payments_client::{CallFailure, Payments, retrying};
use crate::remote::payments::ChargeRequest;

/// The kind of the payment calls in the record.
pub const PAYMENT: &str = "payment";

/// How many times a purchase asks before it leaves the call to recovery, and when recovery tries.
pub const ATTEMPTS: u32 = 3;
pub const RETRY_IN: Duration = Duration::from_secs(1);

/// Where a purchase ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Paid {
        charge: i64,
    },
    /// The payments service refused: the order is cancelled.
    Cancelled {
        reason: String,
    },
    /// No answer: the call is recorded as requested, and recovery will finish it.
    Pending {
        last: CallFailure,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum PurchaseError {
    #[error(transparent)]
    Call(#[from] CallError),
    #[error(transparent)]
    Tx(#[from] TxError),
    #[error(transparent)]
    Order(#[from] OrderError),
    /// The remote call failed inside a transaction (step 2 only), which rolled back.
    #[error("the remote call failed: {0}")]
    Remote(String),
}

/// The key the caller assigns to an order's payment, before anything is called.
pub fn payment_key(order: &str) -> String {
    format!("order-{order}:payment")
}

/// The use case, over the caller's database and a payments service.
pub struct Purchases<P> {
    tm: SqlManager<Postgres>,
    calls: Calls,
    orders: Orders,
    payments: P,
}

impl<P: Payments> Purchases<P> {
    pub fn new(tm: SqlManager<Postgres>, payments: P) -> Self {
        Purchases {
            calls: Calls::new(tm.clone()),
            orders: Orders::new(tm.clone()),
            tm,
            payments,
        }
    }

    pub fn calls(&self) -> &Calls {
        &self.calls
    }

    // ANCHOR: purchase
    /// Places order `order` of `amount_cents` for `customer` and pays for it.
    pub async fn purchase(&self, order: &str, customer: &str, amount_cents: i64) -> Result<Outcome, PurchaseError> {
        let key = payment_key(order);
        self.tm
            .run(&Ctx::new(), Settings::default(), async |ctx| {
                self.orders.insert(ctx, order, customer, amount_cents, "placed").await?;
                self.calls.request(ctx, &key, PAYMENT, Operation::Create).await?;
                Ok::<_, PurchaseError>(())
            })
            .await?;
        self.pay(order, &key, amount_cents).await
    }
    // ANCHOR_END: purchase

    /// Asks for the charge of `key` and settles what the answer says; leaves it requested when
    /// there is none.
    async fn pay(&self, order: &str, key: &str, amount_cents: i64) -> Result<Outcome, PurchaseError> {
        let request = ChargeRequest {
            object_key: key.to_owned(),
            amount_cents,
        };
        match retrying(ATTEMPTS, async || self.payments.charge(key, &request).await).await {
            Ok(charge) => {
                self.settle(order, key, Event::Succeeded, "paid").await?;
                Ok(Outcome::Paid { charge: charge.id })
            }
            Err(CallFailure::Refused { message, .. }) => {
                self.settle(order, key, Event::Failed, "cancelled").await?;
                Ok(Outcome::Cancelled { reason: message })
            }
            Err(last) => {
                self.calls
                    .attempted(&Ctx::new(), key, PAYMENT, &last.to_string(), RETRY_IN)
                    .await?;
                Ok(Outcome::Pending { last })
            }
        }
    }

    /// The call's outcome and the order's state, in one transaction.
    async fn settle(&self, order: &str, key: &str, outcome: Event, state: &str) -> Result<(), PurchaseError> {
        self.tm
            .run(&Ctx::new(), Settings::default(), async |ctx| {
                self.calls.settle(ctx, key, PAYMENT, outcome).await?;
                self.orders.set_state(ctx, order, state).await?;
                Ok::<_, PurchaseError>(())
            })
            .await
    }

    // ANCHOR: recover
    /// Finishes up to `limit` payment calls left requested: one whose charge the service has (the
    /// answer was lost) is settled from it; one it has not is asked for again, with its key.
    /// Returns how many calls it took.
    pub async fn recover_payments(&self, limit: i64) -> Result<usize, PurchaseError> {
        let due = self.calls.claim_due(limit, RETRY_IN * 10).await?;
        for call in due.iter().filter(|call| call.kind == PAYMENT) {
            // A payment call whose key names no order is not this use case's to finish; its
            // claim runs out, and reconciliation reports it.
            let Some(order) = order_of(&call.key) else { continue };
            match self.payments.look_up(&call.key).await {
                Ok(Some(_charge)) => self.settle(order, &call.key, Event::Succeeded, "paid").await?,
                Ok(None) => {
                    let amount = self.amount_of(order).await?;
                    self.pay(order, &call.key, amount).await?;
                }
                // The service cannot say now: the claim runs out and the call comes due again.
                Err(_) => {}
            }
        }
        Ok(due.len())
    }
    // ANCHOR_END: recover

    async fn amount_of(&self, order: &str) -> Result<i64, PurchaseError> {
        Ok(self.orders.get(&Ctx::new(), order).await?.1)
    }

    /// The state of order `order`.
    pub async fn order_state(&self, order: &str) -> Result<String, PurchaseError> {
        Ok(self.orders.get(&Ctx::new(), order).await?.0)
    }
}

/// The order a payment key belongs to: the `<id>` of `order-<id>:payment`, as [`payment_key`]
/// makes it.
fn order_of(key: &str) -> Option<&str> {
    key.strip_prefix("order-")?.strip_suffix(":payment")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payment_key_names_its_order_and_another_key_names_none() {
        assert_eq!(order_of(&payment_key("42")), Some("42"));
        assert_eq!(order_of("order-42:shipment"), None);
        assert_eq!(order_of("42:payment"), None);
    }
}
