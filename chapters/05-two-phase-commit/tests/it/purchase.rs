//! The two-phase purchase on real PostgreSQL (the caller's database and the payments service's)
//! and real HTTP: paid when the service answers, cancelled when it declines, left requested when
//! it cannot answer, and finished by recovery, from a look-up by key when the charge was made.

use std::time::Duration;

use ch03_transaction_manager::{Ctx, SqlManager};
use ch05_two_phase_commit::calls::state::{Operation, State};
use ch05_two_phase_commit::migrations::CALLER;
use ch05_two_phase_commit::payments_client::{CallFailure, Payments, PaymentsClient};
use ch05_two_phase_commit::purchase::{Outcome, PAYMENT, Purchases, RETRY_IN, payment_key};
use ch05_two_phase_commit::remote::idempotency::KeyPolicy;
use ch05_two_phase_commit::remote::payments::ChargeRequest;
use harness::PgDatabase;

use crate::support::PaymentsService;

/// The caller's database, and purchases through `client`.
async fn purchases(client: PaymentsClient) -> anyhow::Result<(PgDatabase, Purchases<PaymentsClient>)> {
    let db = PgDatabase::new(&CALLER).await?;
    let purchases = Purchases::new(SqlManager::new(db.pool().clone()), client);
    Ok((db, purchases))
}

fn client(payments: &PaymentsService) -> PaymentsClient {
    PaymentsClient::new(&payments.server.url(), Duration::from_secs(5))
}

#[tokio::test]
async fn a_purchase_the_service_answers_is_paid_with_its_call_created() -> anyhow::Result<()> {
    let payments = PaymentsService::start(KeyPolicy::default()).await?;
    let (_db, purchases) = purchases(client(&payments)).await?;

    let outcome = purchases.purchase("1", "ada", 2_500).await?;

    assert!(matches!(outcome, Outcome::Paid { .. }), "{outcome:?}");
    assert_eq!(purchases.order_state("1").await?, "paid");
    let call = purchases.calls().get(&Ctx::new(), &payment_key("1"), PAYMENT).await?;
    assert_eq!(call.map(|call| call.state), Some(State::Done(Operation::Create)));
    assert_eq!(payments.charges().await?, 1);
    Ok(())
}

#[tokio::test]
async fn a_purchase_the_service_declines_is_cancelled_with_its_call_failed() -> anyhow::Result<()> {
    let payments = PaymentsService::start(KeyPolicy::default()).await?;
    let (_db, purchases) = purchases(client(&payments).with_fault("status=402")).await?;

    let outcome = purchases.purchase("1", "ada", 2_500).await?;

    assert!(matches!(outcome, Outcome::Cancelled { .. }), "{outcome:?}");
    assert_eq!(purchases.order_state("1").await?, "cancelled");
    let call = purchases.calls().get(&Ctx::new(), &payment_key("1"), PAYMENT).await?;
    assert_eq!(call.map(|call| call.state), Some(State::Failed(Operation::Create)));
    assert_eq!(payments.charges().await?, 0);
    Ok(())
}

// ANCHOR: recovered
#[tokio::test]
async fn a_purchase_left_requested_is_finished_by_recovery_once_the_service_answers() -> anyhow::Result<()> {
    let payments = PaymentsService::start(KeyPolicy::default()).await?;
    let (db, down) = purchases(client(&payments).with_fault("status=503")).await?;

    let outcome = down.purchase("1", "ada", 2_500).await?;
    assert_eq!(
        outcome,
        Outcome::Pending {
            last: CallFailure::Unavailable { status: 503 }
        }
    );
    assert_eq!(down.order_state("1").await?, "placed");
    let call = down
        .calls()
        .get(&Ctx::new(), &payment_key("1"), PAYMENT)
        .await?
        .expect("the call");
    assert_eq!((call.state, call.attempts), (State::Requested(Operation::Create), 1));

    let up = Purchases::new(SqlManager::new(db.pool().clone()), client(&payments));
    assert_eq!(up.recover_payments(10).await?, 0, "not due before its next attempt");
    tokio::time::sleep(RETRY_IN + Duration::from_millis(200)).await;
    assert_eq!(up.recover_payments(10).await?, 1);

    assert_eq!(up.order_state("1").await?, "paid");
    assert_eq!(payments.charges().await?, 1);
    Ok(())
}
// ANCHOR_END: recovered

// ANCHOR: looked_up
#[tokio::test]
async fn a_purchase_whose_charge_was_made_but_not_recorded_is_settled_from_a_look_up() -> anyhow::Result<()> {
    let payments = PaymentsService::start(KeyPolicy::default()).await?;
    let (db, down) = purchases(client(&payments).with_fault("status=503")).await?;
    down.purchase("1", "ada", 2_500).await?;
    // The charge went through after all, and its answer never reached the caller: as when the
    // caller died between the call and its record of the outcome.
    let key = payment_key("1");
    client(&payments)
        .charge(
            &key,
            &ChargeRequest {
                object_key: key.clone(),
                amount_cents: 2_500,
            },
        )
        .await?;

    tokio::time::sleep(RETRY_IN + Duration::from_millis(200)).await;
    // Recovery must not charge again: a client that would fail any charge proves it only looks.
    let recovering = Purchases::new(
        SqlManager::new(db.pool().clone()),
        client(&payments).with_fault("status=500"),
    );
    assert_eq!(recovering.recover_payments(10).await?, 1);

    assert_eq!(recovering.order_state("1").await?, "paid");
    assert_eq!(payments.charges().await?, 1, "found, not made again");
    Ok(())
}
// ANCHOR_END: looked_up
