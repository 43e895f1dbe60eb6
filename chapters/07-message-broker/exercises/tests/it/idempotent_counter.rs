//! Exercise `idempotent_counter`: redeliveries change nothing, and a crash mid-effect loses nothing.

use ch03_transaction_manager::SqlManager;
use ch07_exercises::idempotent_counter::Counter;
use ch07_message_broker::inbox::migrations::POSTGRES;
use ch07_message_broker::{Event, Process, Processed};
use harness::PgDatabase;

async fn counter() -> anyhow::Result<(PgDatabase, Counter)> {
    let db = PgDatabase::new(&POSTGRES).await?;
    let counter = Counter {
        tm: SqlManager::new(db.pool().clone()),
        consumer: "analytics".to_owned(),
    };
    Ok((db, counter))
}

fn registered() -> Event {
    Event::new(
        "user_registered",
        "42",
        serde_json::json!({"user_id": "42", "email": "ada@example.com"}),
    )
}

async fn seen(db: &PgDatabase) -> anyhow::Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COALESCE(SUM(seen), 0)::BIGINT FROM event_counts WHERE kind = 'user_registered'")
            .fetch_one(db.pool())
            .await?,
    )
}

#[tokio::test]
async fn an_event_delivered_twice_is_counted_once() -> anyhow::Result<()> {
    let (db, counter) = counter().await?;
    let event = registered();

    let first = counter.process(&event).await?;
    let again = counter.process(&event).await?;

    assert_eq!(first, Processed::Applied);
    assert_eq!(again, Processed::Duplicate, "the redelivery must be recognised");
    assert_eq!(seen(&db).await?, 1, "the redelivery was counted again");
    Ok(())
}

#[tokio::test]
async fn an_event_delivered_twice_at_once_is_counted_once() -> anyhow::Result<()> {
    let (db, counter) = counter().await?;
    let event = registered();

    let (first, second) = tokio::join!(counter.process(&event), counter.process(&event));

    let mut outcomes = [first?, second?];
    outcomes.sort_by_key(|outcome| *outcome == Processed::Duplicate);
    assert_eq!(outcomes, [Processed::Applied, Processed::Duplicate]);
    assert_eq!(seen(&db).await?, 1, "two deliveries at once were both counted");
    Ok(())
}

#[tokio::test]
async fn a_session_killed_mid_count_leaves_the_event_to_its_redelivery() -> anyhow::Result<()> {
    let (db, counter) = counter().await?;
    // The server kills the session as it first counts; the redelivery's count goes through.
    harness::killed_session::on_first_write(db.pool(), "event_counts").await?;
    let event = registered();

    let crashed = counter.process(&event).await;
    assert!(crashed.is_err(), "the session died while counting: {crashed:?}");
    let redelivered = counter.process(&event).await?;

    assert_eq!(
        redelivered,
        Processed::Applied,
        "the event was recorded as processed without its count: record and count are not one transaction"
    );
    assert_eq!(seen(&db).await?, 1);
    Ok(())
}
