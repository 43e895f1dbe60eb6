//! Step 1: retrying a call whose answer was lost.
//!
//! Most callers let the remote hand back the id of what it made. When the answer is lost, the
//! caller cannot tell a charge that was made from one that was not, and retries: each attempt a
//! new request, so a lost answer is a second charge (`tests/it/lost_answer.rs`). A key the caller
//! assigns before the first attempt, sent with every attempt, makes the retry the same request:
//! the service answers it as it answered the first, and charges once. The two below differ only
//! in where the key is made.

use uuid::Uuid;

use crate::payments_client::{CallFailure, Payments, retrying};
use crate::remote::payments::{Charge, ChargeRequest};

/// How many times either way asks before it gives up.
pub const ATTEMPTS: u32 = 3;

// ANCHOR: without_a_key
/// Charges `amount_cents`, retrying on no answer, each attempt a new request (a new key every
/// time: the caller has no key of its own for the charge).
pub async fn charge_without_a_key(payments: &impl Payments, amount_cents: i64) -> Result<Charge, CallFailure> {
    retrying(ATTEMPTS, async || {
        let fresh = Uuid::now_v7().to_string();
        payments.charge(&fresh, &request(&fresh, amount_cents)).await
    })
    .await
}
// ANCHOR_END: without_a_key

// ANCHOR: with_a_key
/// Charges `amount_cents` for `key`, a key the caller chose before the first attempt, retrying on
/// no answer with the same key.
pub async fn charge_with_a_key(payments: &impl Payments, key: &str, amount_cents: i64) -> Result<Charge, CallFailure> {
    retrying(ATTEMPTS, async || {
        payments.charge(key, &request(key, amount_cents)).await
    })
    .await
}
// ANCHOR_END: with_a_key

fn request(key: &str, amount_cents: i64) -> ChargeRequest {
    ChargeRequest {
        object_key: key.to_owned(),
        amount_cents,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::payments_client::MockPayments;

    /// A service that gives no answer twice and then charges, recording the key of every attempt.
    fn answering_the_third(keys: Arc<Mutex<Vec<String>>>) -> MockPayments {
        let mut payments = MockPayments::new();
        payments.expect_charge().times(3).returning(move |key, request| {
            let mut keys = keys.lock().unwrap();
            keys.push(key.to_owned());
            let answer = if keys.len() < 3 {
                Err(CallFailure::NoAnswer("timed out".into()))
            } else {
                Ok(Charge {
                    id: 1,
                    object_key: request.object_key.clone(),
                    amount_cents: request.amount_cents,
                    state: "charged".into(),
                })
            };
            Box::pin(async move { answer })
        });
        payments
    }

    #[tokio::test]
    async fn with_a_key_every_attempt_sends_the_same_one() {
        let keys = Arc::new(Mutex::new(Vec::new()));
        let payments = answering_the_third(Arc::clone(&keys));

        let charge = charge_with_a_key(&payments, "order-1:payment", 2_500).await.unwrap();

        assert_eq!(charge.object_key, "order-1:payment");
        assert_eq!(*keys.lock().unwrap(), vec!["order-1:payment"; 3]);
    }

    #[tokio::test]
    async fn without_one_every_attempt_is_a_new_request() {
        let keys = Arc::new(Mutex::new(Vec::new()));
        let payments = answering_the_third(Arc::clone(&keys));

        charge_without_a_key(&payments, 2_500).await.unwrap();

        let keys = keys.lock().unwrap();
        assert_eq!(keys.len(), 3);
        assert!(
            keys[0] != keys[1] && keys[1] != keys[2] && keys[0] != keys[2],
            "{keys:?}"
        );
    }

    #[tokio::test]
    async fn a_refusal_is_not_retried_and_the_last_failure_is_returned_after_the_attempts() {
        let mut refusing = MockPayments::new();
        refusing.expect_charge().times(1).returning(|_, _| {
            Box::pin(async {
                Err(CallFailure::Refused {
                    status: 402,
                    message: "declined".into(),
                })
            })
        });
        let mut down = MockPayments::new();
        down.expect_charge()
            .times(ATTEMPTS as usize)
            .returning(|_, _| Box::pin(async { Err(CallFailure::Unavailable { status: 503 }) }));

        let refused = charge_with_a_key(&refusing, "order-1:payment", 2_500).await;
        let unavailable = charge_with_a_key(&down, "order-2:payment", 2_500).await;

        assert!(matches!(refused, Err(CallFailure::Refused { status: 402, .. })));
        assert_eq!(unavailable, Err(CallFailure::Unavailable { status: 503 }));
    }
}
