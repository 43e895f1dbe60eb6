//! Exercise `retry_what_can_heal`: a cut database is waited for; a poison event is not retried.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use ch03_transaction_manager::SqlManager;
use ch07_exercises::retry_what_can_heal::RetryWhatCanHeal;
use ch07_message_broker::inbox::migrations::POSTGRES;
use ch07_message_broker::{Backoff, CountByType, Event, HandlerError, Inbox, Process, Processed, Welcome};
use harness::PgDatabase;
use harness::fault::FaultProxy;

const ATTEMPTS: u32 = 4;

/// The real inbox, counting the tries, and restoring the proxy before try `restore_at` (never,
/// with 0).
struct Tries<P> {
    inner: P,
    tries: Arc<AtomicU32>,
    proxy: Arc<FaultProxy>,
    restore_at: u32,
}

impl<P: Process> Process for Tries<P> {
    async fn process(&self, event: &Event) -> Result<Processed, HandlerError> {
        let this = self.tries.fetch_add(1, Ordering::SeqCst) + 1;
        if this == self.restore_at {
            self.proxy.restore();
        }
        self.inner.process(event).await
    }
}

/// A consumer database reached through a fault proxy, cut from the start.
async fn behind_a_cut_proxy() -> anyhow::Result<(PgDatabase, Arc<FaultProxy>, SqlManager<sqlx::Postgres>)> {
    let db = PgDatabase::new(&POSTGRES).await?;
    let (proxy, through_proxy) = FaultProxy::route(db.url()).await?;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(1))
        .connect_lazy(&through_proxy)?;
    proxy.cut().await;
    Ok((db, Arc::new(proxy), SqlManager::new(pool)))
}

/// The learner's retry around `inner`, whose tries are counted in the returned counter.
fn retrying<P: Process>(
    inner: P,
    proxy: Arc<FaultProxy>,
    restore_at: u32,
) -> (RetryWhatCanHeal<Tries<P>>, Arc<AtomicU32>) {
    let tries = Arc::new(AtomicU32::new(0));
    let inner = Tries {
        inner,
        tries: tries.clone(),
        proxy,
        restore_at,
    };
    let consumer = RetryWhatCanHeal {
        inner,
        attempts: ATTEMPTS,
        backoff: Backoff::default(),
    };
    (consumer, tries)
}

fn registered(email: Option<&str>) -> Event {
    let mut payload = serde_json::json!({"user_id": "42"});
    if let Some(email) = email {
        payload["email"] = email.into();
    }
    Event::new("user_registered", "42", payload)
}

#[tokio::test]
async fn a_database_cut_for_the_first_try_is_waited_for() -> anyhow::Result<()> {
    let (db, proxy, tm) = behind_a_cut_proxy().await?;
    let (consumer, tries) = retrying(Inbox::new(tm, "analytics", CountByType), proxy, 2);

    let outcome = consumer.process(&registered(Some("ada@example.com"))).await;

    assert!(
        matches!(outcome, Ok(Processed::Applied)),
        "the database was back for the second try, but the event ended with {outcome:?} after {} tries",
        tries.load(Ordering::SeqCst)
    );
    let seen: i64 = sqlx::query_scalar("SELECT seen FROM event_counts WHERE kind = 'user_registered'")
        .fetch_one(db.pool())
        .await?;
    assert_eq!(seen, 1);
    Ok(())
}

#[tokio::test]
async fn a_database_cut_for_good_is_tried_exactly_the_attempts() -> anyhow::Result<()> {
    let (_db, proxy, tm) = behind_a_cut_proxy().await?;
    let (consumer, tries) = retrying(Inbox::new(tm, "analytics", CountByType), proxy, 0);

    let outcome = consumer.process(&registered(Some("ada@example.com"))).await;

    assert!(matches!(outcome, Err(HandlerError::Unavailable(_))), "{outcome:?}");
    assert_eq!(
        tries.load(Ordering::SeqCst),
        ATTEMPTS,
        "tries for a database away for good"
    );
    Ok(())
}

#[tokio::test]
async fn a_poison_event_is_tried_once() -> anyhow::Result<()> {
    let (_db, proxy, tm) = behind_a_cut_proxy().await?;
    proxy.restore();
    let (consumer, tries) = retrying(Inbox::new(tm, "welcome", Welcome), proxy, 0);

    let outcome = consumer.process(&registered(None)).await;

    assert!(
        matches!(outcome, Err(HandlerError::Rejected(_))),
        "a welcome without an email: {outcome:?}"
    );
    assert_eq!(tries.load(Ordering::SeqCst), 1, "retrying a poison event cannot help");
    Ok(())
}
