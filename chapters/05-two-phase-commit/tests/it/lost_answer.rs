//! A charge whose answer is lost: the service charges, and the connection is cut before its
//! answer gets back (the harness's fault proxy, while the service holds the answer). Retried
//! without a key of the caller's, that is two charges; retried with one, one.

use std::time::Duration;

use ch05_two_phase_commit::payments_client::{CallFailure, Payments, PaymentsClient};
use ch05_two_phase_commit::remote::idempotency::KeyPolicy;
use ch05_two_phase_commit::steps::step1_retry_without_a_key::{charge_with_a_key, charge_without_a_key};
use harness::fault::FaultProxy;

use crate::support::{PaymentsService, request};

/// The service, a client of it through a fault proxy, and that client asking the service to
/// hold each answer a second once its charge is made.
async fn losing_answers() -> anyhow::Result<(PaymentsService, FaultProxy, PaymentsClient)> {
    let payments = PaymentsService::start(KeyPolicy::default()).await?;
    let (proxy, through) = FaultProxy::route(&payments.server.url()).await?;
    let client = PaymentsClient::new(&through, Duration::from_secs(5)).with_fault("answer-delay-ms=1000");
    Ok((payments, proxy, client))
}

/// Once the first charge is made, cuts every connection through `proxy` while its answer is
/// held, then forwards again.
async fn lose_the_first_answer(payments: &PaymentsService, proxy: &FaultProxy) {
    harness::eventually(Duration::from_secs(5), || async {
        match payments.charges().await {
            Ok(0) => Err("no charge yet".to_owned()),
            Ok(_) => Ok(()),
            Err(error) => Err(error.to_string()),
        }
    })
    .await;
    proxy.cut().await;
    proxy.restore();
}

// ANCHOR: twice
#[tokio::test]
async fn retried_without_a_key_a_lost_answer_is_a_second_charge() -> anyhow::Result<()> {
    let (payments, proxy, client) = losing_answers().await?;

    let (charged, ()) = tokio::join!(
        charge_without_a_key(&client, 2_500),
        lose_the_first_answer(&payments, &proxy)
    );

    charged?;
    assert_eq!(payments.charges().await?, 2, "the customer paid twice");
    Ok(())
}
// ANCHOR_END: twice

// ANCHOR: once
#[tokio::test]
async fn retried_with_the_callers_key_a_lost_answer_is_answered_again_and_charged_once() -> anyhow::Result<()> {
    let (payments, proxy, client) = losing_answers().await?;
    let (key, charge) = ("order-1:charge", request("order-1:charge", 2_500));

    let (first, ()) = tokio::join!(client.charge(key, &charge), lose_the_first_answer(&payments, &proxy));
    assert!(matches!(first, Err(CallFailure::NoAnswer(_))), "{first:?}");
    assert_eq!(payments.charges().await?, 1, "charged, and the caller does not know it");
    let charge = charge_with_a_key(&client, key, 2_500).await?;

    assert_eq!(
        payments.charges().await?,
        1,
        "the retry was answered as the first, charged once"
    );
    let looked_up = client.look_up(key).await?;
    assert_eq!(looked_up, Some(charge), "and the caller's key finds it");
    Ok(())
}
// ANCHOR_END: once

#[tokio::test]
async fn a_client_tells_a_refusal_from_a_not_now_from_no_answer() -> anyhow::Result<()> {
    let payments = PaymentsService::start(KeyPolicy::default()).await?;
    let client = PaymentsClient::new(&payments.server.url(), Duration::from_millis(300));

    let refused = charge_with_a_key(&client, "order-1:charge", -1).await;
    let not_now = charge_with_a_key(&client.with_fault("status=503"), "order-2:charge", 100).await;
    let slow = client.with_fault("delay-ms=1000");
    let no_answer = slow.charge("order-3:charge", &request("order-3:charge", 100)).await;
    // Asked again while the first is still being worked on: not now.
    let in_flight = slow.charge("order-3:charge", &request("order-3:charge", 100)).await;
    let nothing = client.look_up("order-4:charge").await?;

    assert!(
        matches!(refused, Err(CallFailure::Refused { status: 422, .. })),
        "{refused:?}"
    );
    assert_eq!(not_now, Err(CallFailure::Unavailable { status: 503 }));
    assert!(matches!(no_answer, Err(CallFailure::NoAnswer(_))), "{no_answer:?}");
    assert_eq!(in_flight, Err(CallFailure::Unavailable { status: 409 }));
    assert_eq!(nothing, None);
    Ok(())
}
