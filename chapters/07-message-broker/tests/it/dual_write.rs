//! Why the outbox exists: the two naive orders of "save, then tell the world" each fail in their
//! own way. These tests assert the damage.

use std::time::Duration;

use ch03_transaction_manager::Ctx;
use ch07_message_broker::UsersError;
use harness::{DedicatedKafka, KafkaScope};

use sqlx::Postgres;

use crate::support::{Publishing, messages_on, publisher, read_all};

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

#[tokio::test]
async fn publish_then_commit_with_the_database_refusing_announces_a_phantom_user() -> anyhow::Result<()> {
    let kafka = KafkaScope::new().await?;
    let topic = kafka.create_topic("users", 1).await?;
    let users = Publishing::new(Postgres).await?;
    let publisher = publisher(&kafka, &topic)?;
    users.users.register(&Ctx::new(), "ada@example.com").await?;

    // The second registration's commit fails (the email is taken; a database going away at
    // that moment does the same), after its event is out.
    let result = users.users.publish_then_register("ada@example.com", &publisher).await;

    assert!(matches!(result, Err(UsersError::EmailTaken(_))), "{result:?}");
    let published = read_all(&kafka, &topic, 1, Duration::from_secs(20)).await?;
    let announced = &published[0].aggregate_id;
    let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE id = $1")
        .bind(announced)
        .fetch_one(users.tm.pool())
        .await?;
    assert_eq!(exists, 0, "user {announced} was announced and does not exist");
    Ok(())
}

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
