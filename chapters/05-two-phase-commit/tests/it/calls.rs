//! The caller's record of its calls, on a PostgreSQL database of the test's own: the moves of the
//! source's table, refused moves that change nothing, a record that goes with the transaction of
//! the use case it was written in, and recovery workers that never claim one call twice.

use std::collections::HashSet;
use std::time::Duration;

use ch03_transaction_manager::{Ctx, Settings, SqlManager};
use ch05_two_phase_commit::calls::record::{CallError, Calls};
use ch05_two_phase_commit::calls::state::{Event, Operation, State, StateError};
use ch05_two_phase_commit::migrations::CALLER;
use harness::PgDatabase;

async fn calls() -> anyhow::Result<(PgDatabase, Calls)> {
    let db = PgDatabase::new(&CALLER).await?;
    let calls = Calls::new(SqlManager::new(db.pool().clone()));
    Ok((db, calls))
}

#[tokio::test]
async fn a_call_is_requested_settled_and_requested_again_as_the_table_says() -> anyhow::Result<()> {
    let (_db, calls) = calls().await?;
    let ctx = Ctx::new();

    let requested = calls.request(&ctx, "order-1", "payment", Operation::Create).await?;
    assert_eq!(
        (requested.state, requested.attempts),
        (State::Requested(Operation::Create), 0)
    );
    calls
        .attempted(&ctx, "order-1", "payment", "timed out", Duration::ZERO)
        .await?;
    let retried = calls.request(&ctx, "order-1", "payment", Operation::Create).await?;
    assert_eq!(retried.attempts, 1, "a retry of the call in flight keeps its count");
    let created = calls.settle(&ctx, "order-1", "payment", Event::Succeeded).await?;
    assert_eq!(created.state, State::Done(Operation::Create));

    let deleting = calls.request(&ctx, "order-1", "payment", Operation::Delete).await?;
    assert_eq!(
        (deleting.state, deleting.attempts),
        (State::Requested(Operation::Delete), 0)
    );
    Ok(())
}

#[tokio::test]
async fn a_move_the_table_does_not_have_is_refused_and_changes_nothing() -> anyhow::Result<()> {
    let (_db, calls) = calls().await?;
    let ctx = Ctx::new();
    calls.request(&ctx, "order-1", "payment", Operation::Create).await?;
    calls.settle(&ctx, "order-1", "payment", Event::Failed).await?;

    let refused = calls.request(&ctx, "order-1", "payment", Operation::Update).await;
    let unknown = calls.settle(&ctx, "order-2", "payment", Event::Succeeded).await;
    let first_update = calls.request(&ctx, "order-3", "payment", Operation::Update).await;

    assert!(
        matches!(
            refused,
            Err(CallError::State(StateError::Refused {
                from: "create_failed",
                ..
            }))
        ),
        "{refused:?}"
    );
    assert!(matches!(unknown, Err(CallError::NotFound { .. })), "{unknown:?}");
    assert!(matches!(first_update, Err(CallError::State(_))), "{first_update:?}");
    let stored = calls.get(&ctx, "order-1", "payment").await?.expect("the call");
    assert_eq!(stored.state, State::Failed(Operation::Create));
    assert_eq!(calls.get(&ctx, "order-3", "payment").await?, None);
    Ok(())
}

#[tokio::test]
async fn a_call_requested_in_a_transaction_that_rolls_back_was_never_recorded() -> anyhow::Result<()> {
    let db = PgDatabase::new(&CALLER).await?;
    let tm = SqlManager::new(db.pool().clone());
    // The use case's manager: a transaction is seen by the manager that opened it.
    let calls = Calls::new(tm.clone());

    let outcome = tm
        .run(&Ctx::new(), Settings::default(), async |ctx| {
            calls.request(ctx, "order-1", "payment", Operation::Create).await?;
            Err::<(), _>(CallError::NotFound {
                key: "the order's own write".into(),
                kind: "failed".into(),
            })
        })
        .await;

    assert!(outcome.is_err());
    assert_eq!(calls.get(&Ctx::new(), "order-1", "payment").await?, None);
    Ok(())
}

// ANCHOR: claims
#[tokio::test]
async fn two_workers_claiming_at_once_never_take_the_same_call_and_a_lease_keeps_it_from_others() -> anyhow::Result<()>
{
    let (_db, calls) = calls().await?;
    let ctx = Ctx::new();
    for n in 0..10 {
        calls
            .request(&ctx, &format!("order-{n}"), "payment", Operation::Create)
            .await?;
    }
    calls
        .request(&ctx, "order-settled", "payment", Operation::Create)
        .await?;
    calls.settle(&ctx, "order-settled", "payment", Event::Succeeded).await?;

    let lease = Duration::from_secs(60);
    let (first, second) = tokio::join!(calls.claim_due(5, lease), calls.claim_due(5, lease));
    let (first, second) = (first?, second?);
    let again = calls.claim_due(10, lease).await?;

    let keys: HashSet<String> = first.iter().chain(&second).map(|call| call.key.clone()).collect();
    assert_eq!(
        (first.len(), second.len(), keys.len()),
        (5, 5, 10),
        "ten different calls between them"
    );
    assert!(!keys.contains("order-settled"), "a settled call is not due");
    assert!(again.is_empty(), "leased calls are not due: {again:?}");
    Ok(())
}
// ANCHOR_END: claims

#[tokio::test]
async fn a_claim_that_ran_out_and_an_attempt_that_failed_come_due_again_later() -> anyhow::Result<()> {
    let (_db, calls) = calls().await?;
    let ctx = Ctx::new();
    calls.request(&ctx, "order-1", "payment", Operation::Create).await?;
    calls.request(&ctx, "order-2", "payment", Operation::Create).await?;
    calls
        .attempted(&ctx, "order-2", "payment", "503", Duration::from_millis(300))
        .await?;

    let claimed = calls.claim_due(10, Duration::from_millis(300)).await?;
    assert_eq!(claimed.len(), 1, "order-2 waits for its next attempt: {claimed:?}");
    assert!(calls.claim_due(10, Duration::from_secs(60)).await?.is_empty());
    tokio::time::sleep(Duration::from_millis(400)).await;
    let later = calls.claim_due(10, Duration::from_secs(60)).await?;

    let keys: HashSet<&str> = later.iter().map(|call| call.key.as_str()).collect();
    assert_eq!(keys, HashSet::from(["order-1", "order-2"]));
    let order_2 = later.iter().find(|call| call.key == "order-2").expect("order-2");
    assert_eq!((order_2.attempts, order_2.last_error.as_deref()), (1, Some("503")));
    Ok(())
}
