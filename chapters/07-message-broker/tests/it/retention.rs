//! The inbox does not grow forever: records past the retention window are pruned, and only those.
//! While a record exists, its event is refused as a duplicate however old it is.

use std::time::Duration;

use ch03_transaction_manager::SqlManager;
use ch07_message_broker::inbox::{self, InboxDb, RETENTION};
use ch07_message_broker::{Inbox, Process, Processed, Welcome};
use chrono::Utc;
use harness::{MySqlDatabase, PgDatabase, SqliteDatabase};
use rstest::rstest;

#[derive(Debug, Clone, Copy)]
enum Backend {
    Postgres,
    MariaDb,
    Sqlite,
}

// ANCHOR: pruning
#[rstest]
#[tokio::test]
async fn pruning_forgets_only_the_events_past_the_window(
    #[values(Backend::Postgres, Backend::MariaDb, Backend::Sqlite)] backend: Backend,
) -> anyhow::Result<()> {
    const AGE: &str = "UPDATE processed_events SET processed_at = $1 WHERE event_id = $2";
    let month_ago = Utc::now() - chrono::Duration::days(30);
    match backend {
        Backend::Postgres => {
            let db = PgDatabase::new(&inbox::migrations::POSTGRES).await?;
            let age = async |id: String| sqlx::query(AGE).bind(month_ago).bind(id).execute(db.pool()).await;
            prune_past_the_window(Inbox::new(SqlManager::new(db.pool().clone()), "welcome", Welcome), age).await
        }
        Backend::MariaDb => {
            let db = MySqlDatabase::new(&inbox::migrations::MYSQL).await?;
            let age = async |id: String| {
                sqlx::query("UPDATE processed_events SET processed_at = ? WHERE event_id = ?")
                    .bind(month_ago)
                    .bind(id)
                    .execute(db.pool())
                    .await
            };
            prune_past_the_window(Inbox::new(SqlManager::new(db.pool().clone()), "welcome", Welcome), age).await
        }
        Backend::Sqlite => {
            let db = SqliteDatabase::new(&inbox::migrations::SQLITE).await?;
            let age = async |id: String| sqlx::query(AGE).bind(month_ago).bind(id).execute(db.pool()).await;
            prune_past_the_window(Inbox::new(SqlManager::new(db.pool().clone()), "welcome", Welcome), age).await
        }
    }
}

/// The steps, on any database: `age` makes an event's record a month old.
async fn prune_past_the_window<DB: InboxDb, R>(
    welcome: Inbox<DB, Welcome>,
    age: impl AsyncFnOnce(String) -> sqlx::Result<R>,
) -> anyhow::Result<()> {
    let old = ch07_message_broker::users::user_registered(uuid::Uuid::now_v7(), "old@example.com");
    let recent = ch07_message_broker::users::user_registered(uuid::Uuid::now_v7(), "recent@example.com");
    welcome.process(&old).await?;
    welcome.process(&recent).await?;
    age(old.id.to_string()).await?;
    assert_eq!(
        welcome.process(&old).await?,
        Processed::Duplicate,
        "a month old, still known"
    );

    assert_eq!(welcome.prune(RETENTION).await?, 1, "only the record past the window");
    assert_eq!(
        welcome.process(&recent).await?,
        Processed::Duplicate,
        "the recent record stays"
    );
    // What the window is for: past it, a redelivery would be applied again.
    assert_eq!(welcome.process(&old).await?, Processed::Applied);
    Ok(())
}
// ANCHOR_END: pruning

#[tokio::test]
async fn a_window_longer_than_the_calendar_prunes_nothing() -> anyhow::Result<()> {
    let db = SqliteDatabase::new(&inbox::migrations::SQLITE).await?;
    let welcome = Inbox::new(SqlManager::new(db.pool().clone()), "welcome", Welcome);
    welcome
        .process(&ch07_message_broker::users::user_registered(
            uuid::Uuid::now_v7(),
            "a@example.com",
        ))
        .await?;
    assert_eq!(welcome.prune(Duration::MAX).await?, 0);
    Ok(())
}
