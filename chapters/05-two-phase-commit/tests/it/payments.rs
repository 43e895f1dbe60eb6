//! The payments service's idempotency keys, over real HTTP: a repeat answered as the first was, a
//! different request with the same key refused (422), a repeat while the first is in flight
//! refused (409), and a retry after the stored response expired finding the charge by its object
//! key instead of charging again.

use std::time::Duration;

use ch05_two_phase_commit::payments_client::{CallFailure, Payments, PaymentsClient};
use ch05_two_phase_commit::remote::idempotency::{self, KeyPolicy};
use ch05_two_phase_commit::remote::payments::Charge;
use reqwest::StatusCode;

use crate::support::{PaymentsService, request};

// ANCHOR: repeat
#[tokio::test]
async fn a_repeated_request_is_answered_as_the_first_and_charges_once() -> anyhow::Result<()> {
    let payments = PaymentsService::start(KeyPolicy::default()).await?;
    let charge = request("order-1:charge", 2_500);

    let first = payments.charge("order-1:charge", &charge, "").await?;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Charge = first.json().await?;
    let again = payments.charge("order-1:charge", &charge, "").await?;

    assert_eq!(again.status(), StatusCode::CREATED, "the stored status, too");
    assert_eq!(again.json::<Charge>().await?, first, "the stored answer");
    assert_eq!(payments.charges().await?, 1, "charged once");
    Ok(())
}
// ANCHOR_END: repeat

#[tokio::test]
async fn the_same_key_with_a_different_request_is_refused_and_changes_nothing() -> anyhow::Result<()> {
    let payments = PaymentsService::start(KeyPolicy::default()).await?;
    payments
        .charge("order-1:charge", &request("order-1:charge", 2_500), "")
        .await?
        .error_for_status()?;

    let other = payments
        .charge("order-1:charge", &request("order-1:charge", 9_900), "")
        .await?;

    assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let looked_up: Charge = payments
        .client
        .get(format!("{}/charges/order-1:charge", payments.server.url()))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    assert_eq!((looked_up.amount_cents, payments.charges().await?), (2_500, 1));
    Ok(())
}

#[tokio::test]
async fn a_repeat_while_the_first_is_in_flight_is_refused_with_409() -> anyhow::Result<()> {
    let payments = PaymentsService::start(KeyPolicy::default()).await?;
    let charge = request("order-1:charge", 2_500);

    // The first request holds its key for 500 ms before it charges.
    let (first, second) = tokio::join!(payments.charge("order-1:charge", &charge, "delay-ms=500"), async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        payments.charge("order-1:charge", &charge, "").await
    });

    assert_eq!(first?.status(), StatusCode::CREATED);
    assert_eq!(second?.status(), StatusCode::CONFLICT);
    assert_eq!(payments.charges().await?, 1);
    Ok(())
}

// ANCHOR: expired
#[tokio::test]
async fn after_its_stored_response_is_swept_a_retry_finds_the_charge_and_does_not_charge_again() -> anyhow::Result<()> {
    let keep_nothing = KeyPolicy {
        keep: Duration::ZERO,
        ..KeyPolicy::default()
    };
    let payments = PaymentsService::start(keep_nothing).await?;
    let charge = request("order-1:charge", 2_500);
    let first: Charge = payments
        .charge("order-1:charge", &charge, "")
        .await?
        .error_for_status()?
        .json()
        .await?;

    let swept = idempotency::sweep_expired(payments.db.pool()).await?;
    assert_eq!(swept, 1, "the stored response is gone");
    let retried = payments.charge("order-1:charge", &charge, "").await?;

    assert_eq!(retried.status(), StatusCode::CREATED);
    assert_eq!(
        retried.json::<Charge>().await?.id,
        first.id,
        "the charge found by its object key"
    );
    assert_eq!(payments.charges().await?, 1, "and not made twice");
    Ok(())
}
// ANCHOR_END: expired

#[tokio::test]
async fn a_failure_the_request_asked_for_does_nothing_and_the_retry_charges() -> anyhow::Result<()> {
    let payments = PaymentsService::start(KeyPolicy::default()).await?;
    let charge = request("order-1:charge", 2_500);

    let failed = payments.charge("order-1:charge", &charge, "status=503").await?;
    assert_eq!(failed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(payments.charges().await?, 0);

    let retried = payments.charge("order-1:charge", &charge, "").await?;
    assert_eq!(retried.status(), StatusCode::CREATED);
    assert_eq!(payments.charges().await?, 1);
    Ok(())
}

#[tokio::test]
async fn a_request_that_died_holding_its_key_is_resumed_once_its_lock_runs_out() -> anyhow::Result<()> {
    let short_lock = KeyPolicy {
        lock: Duration::from_millis(300),
        ..KeyPolicy::default()
    };
    let payments = PaymentsService::start(short_lock).await?;
    let charge = request("order-1:charge", 2_500);
    // A request that took its key and died before charging: what `begin` leaves.
    let body = serde_json::to_value(&charge)?;
    let fingerprint = idempotency::fingerprint("POST", "/charges", &body);
    idempotency::begin(payments.db.pool(), "order-1:charge", &fingerprint, short_lock).await?;

    let too_soon = payments.charge("order-1:charge", &charge, "").await?;
    assert_eq!(too_soon.status(), StatusCode::CONFLICT, "still locked");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let resumed = payments.charge("order-1:charge", &charge, "").await?;

    assert_eq!(resumed.status(), StatusCode::CREATED);
    assert_eq!(payments.charges().await?, 1);
    Ok(())
}

#[tokio::test]
async fn a_charge_without_a_key_or_with_a_bad_amount_is_refused() -> anyhow::Result<()> {
    let payments = PaymentsService::start(KeyPolicy::default()).await?;

    let keyless = payments
        .client
        .post(format!("{}/charges", payments.server.url()))
        .json(&request("order-1:charge", 2_500))
        .send()
        .await?;
    let negative = payments
        .charge("order-2:charge", &request("order-2:charge", -5), "")
        .await?;
    let unknown = payments
        .client
        .get(format!("{}/charges/order-3:charge", payments.server.url()))
        .send()
        .await?;

    assert_eq!(keyless.status(), StatusCode::BAD_REQUEST);
    assert_eq!(negative.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(payments.charges().await?, 0);
    Ok(())
}

#[tokio::test]
async fn an_object_key_charged_already_is_not_charged_again_under_a_new_idempotency_key() -> anyhow::Result<()> {
    let payments = PaymentsService::start(KeyPolicy::default()).await?;
    let first: Charge = payments
        .charge("attempt-1", &request("order-1:charge", 2_500), "")
        .await?
        .error_for_status()?
        .json()
        .await?;

    let other_amount = payments
        .charge("attempt-2", &request("order-1:charge", 9_900), "")
        .await?;
    let same_amount = payments
        .charge("attempt-2", &request("order-1:charge", 2_500), "")
        .await?;

    assert_eq!(
        other_amount.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "one object key, one charge: not a second of another amount"
    );
    assert_eq!(
        same_amount.status(),
        StatusCode::CREATED,
        "the refused attempt left its key free"
    );
    assert_eq!(same_amount.json::<Charge>().await?.id, first.id);
    assert_eq!(payments.charges().await?, 1);
    Ok(())
}

// ANCHOR: refund
#[tokio::test]
async fn a_charge_is_refunded_once_and_a_repeated_refund_is_answered_the_same() -> anyhow::Result<()> {
    let payments = PaymentsService::start(KeyPolicy::default()).await?;
    let client = PaymentsClient::new(&payments.server.url(), Duration::from_secs(5));
    let charge = client
        .charge("order-1:charge", &request("order-1:charge", 2_500))
        .await?;

    let refunded = client.refund("order-1:refund", "order-1:charge").await?;
    let again = client.refund("order-1:refund", "order-1:charge").await?;
    let unknown = client.refund("order-2:refund", "order-2:charge").await;

    assert_eq!((refunded.id, refunded.state.as_str()), (charge.id, "refunded"));
    assert_eq!(again, refunded, "the stored answer");
    assert!(
        matches!(unknown, Err(CallFailure::Refused { status: 404, .. })),
        "{unknown:?}"
    );
    let looked_up = client.look_up("order-1:charge").await?.expect("the charge");
    assert_eq!((looked_up.state.as_str(), payments.charges().await?), ("refunded", 1));
    Ok(())
}
// ANCHOR_END: refund
