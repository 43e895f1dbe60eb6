//! Step 1: retrying a call whose answer was lost.
//!
//! Most callers let the remote hand back the id of what it made. When the answer is lost, the
//! caller cannot tell a charge that was made from one that was not, and retries: each attempt a
//! new request, so a lost answer is a second charge (`tests/it/lost_answer.rs`). A key the caller
//! assigns before the first attempt, sent with every attempt, makes the retry the same request:
//! the service answers it as it answered the first, and charges once. The two below differ only
//! in where the key is made.

use uuid::Uuid;

use crate::payments_client::{CallFailure, Payments};
use crate::remote::payments::{Charge, ChargeRequest};

/// How many times either way asks before it gives up.
pub const ATTEMPTS: u32 = 3;

// ANCHOR: without_a_key
/// Charges `amount_cents`, retrying on no answer, each attempt a new request (a new key every
/// time: the caller has no key of its own for the charge).
pub async fn charge_without_a_key(payments: &impl Payments, amount_cents: i64) -> Result<Charge, CallFailure> {
    retrying(async || {
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
    retrying(async || payments.charge(key, &request(key, amount_cents)).await).await
}
// ANCHOR_END: with_a_key

fn request(key: &str, amount_cents: i64) -> ChargeRequest {
    ChargeRequest {
        object_key: key.to_owned(),
        amount_cents,
    }
}

/// `attempt`, up to [`ATTEMPTS`] times while it gets no answer or a "not now".
async fn retrying(mut attempt: impl AsyncFnMut() -> Result<Charge, CallFailure>) -> Result<Charge, CallFailure> {
    let mut last = None;
    for _ in 0..ATTEMPTS {
        match attempt().await {
            Ok(charge) => return Ok(charge),
            Err(failure @ (CallFailure::NoAnswer(_) | CallFailure::Unavailable { .. })) => last = Some(failure),
            Err(refused) => return Err(refused),
        }
    }
    Err(last.expect("at least one attempt"))
}
