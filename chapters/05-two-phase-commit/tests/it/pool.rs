//! A transaction must not hold a connection across a remote call: fifty purchases at once, a pool
//! of five connections that gives up waiting after two seconds, and a payments service that takes
//! 500 ms to charge. Made inside the order's transaction, the calls hold the five connections and most
//! purchases time out waiting for one; made after the record is committed, every purchase passes.

use std::time::Duration;

use ch03_transaction_manager::SqlManager;
use ch05_two_phase_commit::migrations::CALLER;
use ch05_two_phase_commit::payments_client::PaymentsClient;
use ch05_two_phase_commit::purchase::{Outcome, PurchaseError, Purchases};
use ch05_two_phase_commit::remote::idempotency::KeyPolicy;
use ch05_two_phase_commit::steps::step2_call_inside_the_transaction::purchase_in_one_transaction;
use futures::future::join_all;
use harness::PgDatabase;
use sqlx::postgres::PgPoolOptions;

use crate::support::PaymentsService;

const PURCHASES: usize = 50;

/// The caller's database, reached through a pool of five that gives up waiting after two
/// seconds, and a payments client whose charges take 500 ms.
async fn small_pool_slow_remote()
-> anyhow::Result<(PaymentsService, PgDatabase, SqlManager<sqlx::Postgres>, PaymentsClient)> {
    let payments = PaymentsService::start(KeyPolicy::default()).await?;
    let db = PgDatabase::new(&CALLER).await?;
    let pool = PgPoolOptions::new()
        .max_connections(5)
        .acquire_timeout(Duration::from_secs(2))
        .connect(db.url())
        .await?;
    let client = PaymentsClient::new(&payments.server.url(), Duration::from_secs(10)).with_fault("delay-ms=500");
    Ok((payments, db, SqlManager::new(pool), client))
}

// ANCHOR: pool
#[tokio::test]
async fn fifty_purchases_calling_inside_their_transactions_run_the_pool_dry() -> anyhow::Result<()> {
    let (payments, _db, tm, client) = small_pool_slow_remote().await?;

    let orders: Vec<String> = (0..PURCHASES).map(|n| n.to_string()).collect();
    let outcomes = join_all(
        orders
            .iter()
            .map(|order| purchase_in_one_transaction(&tm, &client, order, "ada", 2_500)),
    )
    .await;

    // Five connections, each held 500 ms and more by a purchase: about 20 get one within the two
    // seconds the pool waits, and the rest give up.
    let timed_out = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, Err(PurchaseError::Tx(_))))
        .count();
    eprintln!("{timed_out} of {PURCHASES} timed out waiting for a connection");
    if let Some(Err(error)) = outcomes.iter().find(|outcome| outcome.is_err()) {
        assert!(
            error.to_string().contains("timed out"),
            "another failure than the pool's: {error}"
        );
    }
    assert!(
        timed_out >= PURCHASES / 5,
        "only {timed_out} of {PURCHASES} waited too long for a connection: {outcomes:?}"
    );
    assert_eq!(
        payments.charges().await? as usize,
        PURCHASES - timed_out,
        "each purchase that got a connection charged"
    );
    Ok(())
}

#[tokio::test]
async fn fifty_two_phase_purchases_hold_connections_only_to_record_and_all_pass() -> anyhow::Result<()> {
    let (payments, _db, tm, client) = small_pool_slow_remote().await?;
    let purchases = Purchases::new(tm, client);

    let orders: Vec<String> = (0..PURCHASES).map(|n| n.to_string()).collect();
    let outcomes = join_all(orders.iter().map(|order| purchases.purchase(order, "ada", 2_500))).await;

    let paid = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, Ok(Outcome::Paid { .. })))
        .count();
    assert_eq!(paid, PURCHASES, "{outcomes:?}");
    assert_eq!(payments.charges().await? as usize, PURCHASES);
    Ok(())
}
// ANCHOR_END: pool
