//! Why the outbox exists: the two naive orders of "save, then tell the world" each fail in their
//! own way. These tests assert the damage.

use std::time::Duration;

use ch03_transaction_manager::{Ctx, SqlManager};
use ch07_message_broker::{Event, Publisher, Users, UsersError};
use harness::fault::FaultProxy;
use harness::{DedicatedKafka, KafkaScope, PgDatabase};
use sqlx::postgres::PgPoolOptions;

use sqlx::Postgres;

use crate::support::{POSTGRES, Publishing, messages_on, publisher, read_all};

// ANCHOR: lost_event
#[tokio::test]
async fn commit_then_publish_with_the_broker_cut_loses_the_event() -> anyhow::Result<()> {
    let broker = DedicatedKafka::start().await?;
    let kafka = broker.scope();
    let topic = kafka.create_topic("users", 1).await?;
    let users = Publishing::new(Postgres).await?;
    let publisher = publisher(&kafka, &topic)?;

    broker.proxy().cut().await;
    let result = users.users.register_then_publish("ada@example.com", &publisher).await;
    broker.proxy().restore();

    assert!(matches!(result, Err(UsersError::Publish(_))), "{result:?}");
    assert_eq!(users.users_count().await?, 1, "the user was committed");
    assert_eq!(messages_on(&kafka, &topic, 1)?, 0, "and nobody will ever hear of it");
    Ok(())
}
// ANCHOR_END: lost_event

/// A publisher that cuts the database's connection right after it publishes: the database going
/// away between the publish and the commit, at the worst moment and on purpose.
struct CutDatabaseAfterPublish<P> {
    inner: P,
    database: FaultProxy,
}

impl<P: Publisher> Publisher for CutDatabaseAfterPublish<P> {
    async fn publish(&self, events: &[Event]) -> Result<(), ch07_message_broker::PublishError> {
        self.inner.publish(events).await?;
        self.database.cut().await;
        Ok(())
    }
}

// ANCHOR: phantom_event
#[tokio::test]
async fn publish_then_commit_with_the_database_gone_announces_a_phantom_user() -> anyhow::Result<()> {
    let kafka = KafkaScope::new().await?;
    let topic = kafka.create_topic("users", 1).await?;
    let db = PgDatabase::new(&POSTGRES).await?;
    // The service reaches its database through a fault proxy; the test looks past it.
    let (proxy, through_proxy) = FaultProxy::route(db.url()).await?;
    let pool = PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(2))
        .connect(&through_proxy)
        .await?;
    let users = Users::new(SqlManager::new(pool));
    let publisher = CutDatabaseAfterPublish {
        inner: publisher(&kafka, &topic)?,
        database: proxy,
    };

    let result = users.publish_then_register("ada@example.com", &publisher).await;

    // The write fails on the lost connection: as the pool takes one (its ping is reset) or as
    // the INSERT runs, whichever the cut reaches first.
    assert!(
        matches!(result, Err(UsersError::Tx(_) | UsersError::Database(_))),
        "{result:?}"
    );
    let published = read_all(&kafka, &topic, 1, Duration::from_secs(20)).await?;
    let announced = &published[0].aggregate_id;
    let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE id = $1")
        .bind(announced)
        .fetch_one(db.pool())
        .await?;
    assert_eq!(exists, 0, "user {announced} was announced and does not exist");
    Ok(())
}
// ANCHOR_END: phantom_event

// ANCHOR: outbox_keeps
#[tokio::test]
async fn the_outbox_keeps_the_event_while_the_broker_is_cut_and_delivers_it_after() -> anyhow::Result<()> {
    let broker = DedicatedKafka::start().await?;
    let kafka = broker.scope();
    let topic = kafka.create_topic("users", 1).await?;
    let users = Publishing::new(Postgres).await?;
    let relay = ch07_message_broker::Relay::new(users.outbox(), publisher(&kafka, &topic)?, Default::default());

    broker.proxy().cut().await;
    let user = users.users.register(&Ctx::new(), "ada@example.com").await?;
    assert!(
        relay.drain().await.is_err(),
        "nothing can be published while the broker is cut"
    );
    assert_eq!(
        ch07_message_broker::OutboxStore::lag(relay.store()).await?.backlog,
        1,
        "the event waits"
    );

    broker.proxy().restore();
    // The producer reconnects on its own schedule: the first batch may still time out, and the
    // relay, like its loop in `run_until`, tries again.
    harness::eventually(Duration::from_secs(30), || relay.drain()).await;
    let published = read_all(&kafka, &topic, 1, Duration::from_secs(20)).await?;
    assert_eq!(published[0].aggregate_id, user.to_string());
    Ok(())
}
// ANCHOR_END: outbox_keeps
