//! Consumers: each group gets every event, each works at its own pace, a redelivery changes
//! nothing, and a poison event is parked instead of blocking everything behind it.

use std::sync::atomic::Ordering;
use std::time::Duration;

use ch03_transaction_manager::Ctx;
use ch07_message_broker::consumer::{ATTEMPTS_HEADER, ERROR_HEADER};
use ch07_message_broker::event::{ID_HEADER, header_of};
use ch07_message_broker::{CountByType, Event, EventConsumer, Publisher, Relay, Welcome};
use harness::{KafkaScope, eventually};
use rdkafka::Message;

use sqlx::Postgres;

use ch07_message_broker::inbox::InboxDb;
use harness::server::Server;

use crate::support::{Consuming, Publishing, TestDb, consumer, publisher, read_raw};

/// The analytics service's count of `user_registered`.
async fn registrations_counted(consuming: &Consuming) -> anyhow::Result<i64> {
    let seen: Option<i64> = sqlx::query_scalar("SELECT seen FROM event_counts WHERE kind = 'user_registered'")
        .fetch_optional(consuming.db.pool())
        .await?;
    Ok(seen.unwrap_or(0))
}

// ANCHOR: decoupling
#[tokio::test]
async fn two_groups_each_get_every_event_and_a_stopped_one_catches_up_where_it_left() -> anyhow::Result<()> {
    let kafka = KafkaScope::new().await?;
    let topic = kafka.create_topic("users", 2).await?;
    let users = Publishing::new(Postgres).await?;
    let relay = Relay::new(users.outbox(), publisher(&kafka, &topic)?, Default::default());
    let register = async |from: usize, to: usize| {
        for n in from..to {
            users
                .users
                .register(&Ctx::new(), &format!("user{n}@example.com"))
                .await?;
        }
        relay.drain().await?;
        anyhow::Ok(())
    };
    let (welcome_db, analytics_db) = (Consuming::postgres().await?, Consuming::postgres().await?);
    let welcome = consumer(&kafka, &topic, "welcome", &welcome_db.tm, Welcome)?;

    welcome
        .run_during(async {
            // Analytics runs for the first five registrations, then stops.
            let analytics = consumer(&kafka, &topic, "analytics", &analytics_db.tm, CountByType)?;
            analytics
                .run_during(async {
                    register(0, 5).await?;
                    counted(&analytics_db, 5).await;
                    anyhow::Ok(())
                })
                .await??;
            drop(analytics);

            // With analytics down, the publisher and the welcome service carry on.
            register(5, 10).await?;
            welcomed(&welcome_db, 10).await;
            assert_eq!(registrations_counted(&analytics_db).await?, 5, "analytics is down");

            // Restarted, analytics resumes from its committed offsets: it reads the five it
            // missed, not all ten again.
            let analytics = consumer(&kafka, &topic, "analytics", &analytics_db.tm, CountByType)?;
            analytics.run_during(counted(&analytics_db, 10)).await?;
            assert_eq!(analytics.counters().applied.load(Ordering::Relaxed), 5);
            assert_eq!(
                analytics.counters().duplicates.load(Ordering::Relaxed),
                0,
                "nothing read twice"
            );
            anyhow::Ok(())
        })
        .await??;
    assert_eq!(welcome_db.welcomes().await?, (10, 10));
    Ok(())
}
// ANCHOR_END: decoupling

/// Waits until the analytics service has counted `wanted` registrations.
async fn counted(consuming: &Consuming, wanted: i64) {
    eventually(Duration::from_secs(30), || async {
        let seen = registrations_counted(consuming).await.map_err(|e| e.to_string())?;
        if seen == wanted {
            Ok(())
        } else {
            Err(format!("analytics counted {seen} of {wanted}"))
        }
    })
    .await;
}

/// Waits until the welcome service has sent `wanted` welcomes.
pub async fn welcomed(consuming: &Consuming, wanted: i64) {
    eventually(Duration::from_secs(30), || async {
        let (welcomes, _) = consuming.welcomes().await.map_err(|e| e.to_string())?;
        if welcomes == wanted {
            Ok(())
        } else {
            Err(format!("{welcomes} of {wanted} welcomed"))
        }
    })
    .await;
}

/// Waits until `consumer` has processed `wanted` messages, whatever it made of them.
pub async fn processed<P: ch07_message_broker::Process>(consumer: &EventConsumer<P>, wanted: u64) {
    eventually(Duration::from_secs(30), || async {
        let counters = consumer.counters();
        let done = counters.applied.load(Ordering::Relaxed)
            + counters.duplicates.load(Ordering::Relaxed)
            + counters.dead_lettered.load(Ordering::Relaxed);
        if done == wanted {
            Ok(())
        } else {
            Err(format!("{done} of {wanted} messages processed"))
        }
    })
    .await;
}

#[tokio::test]
async fn a_consumer_added_later_reads_every_event_without_any_change_to_the_publisher() -> anyhow::Result<()> {
    let kafka = KafkaScope::new().await?;
    let topic = kafka.create_topic("users", 2).await?;
    let users = Publishing::new(Postgres).await?;
    let relay = Relay::new(users.outbox(), publisher(&kafka, &topic)?, Default::default());
    for n in 0..4 {
        users
            .users
            .register(&Ctx::new(), &format!("user{n}@example.com"))
            .await?;
    }
    relay.drain().await?;

    // A new service subscribes, with a group of its own, after the fact.
    let late = Consuming::postgres().await?;
    let newcomer = consumer(&kafka, &topic, "newcomer", &late.tm, Welcome)?;
    newcomer.run_during(welcomed(&late, 4)).await?;
    Ok(())
}

// ANCHOR: redelivery
#[tokio::test]
async fn a_redelivered_event_changes_nothing() -> anyhow::Result<()> {
    let kafka = KafkaScope::new().await?;
    let topic = kafka.create_topic("users", 1).await?;
    let publisher = publisher(&kafka, &topic)?;
    let event = ch07_message_broker::users::user_registered(uuid::Uuid::now_v7(), "ada@example.com");
    // The same event twice, as a relay that died before deleting it would send it.
    publisher.publish(std::slice::from_ref(&event)).await?;
    publisher.publish(std::slice::from_ref(&event)).await?;

    let consuming = Consuming::postgres().await?;
    let welcome = consumer(&kafka, &topic, "welcome", &consuming.tm, Welcome)?;
    welcome.run_during(processed(&welcome, 2)).await?;

    assert_eq!(consuming.welcomes().await?, (1, 1), "one welcome");
    assert_eq!(
        welcome.counters().duplicates.load(Ordering::Relaxed),
        1,
        "one delivery recognised"
    );
    Ok(())
}
// ANCHOR_END: redelivery

// ANCHOR: poison
#[tokio::test]
async fn a_poison_event_is_parked_in_the_dead_letter_topic_and_the_consumer_moves_on() -> anyhow::Result<()> {
    let kafka = KafkaScope::new().await?;
    let topic = kafka.create_topic("users", 1).await?;
    let dead_letters = kafka.create_topic("users.dead-letter", 1).await?;
    let publisher = publisher(&kafka, &topic)?;
    let poison = Event::new("user_registered", "user-1", serde_json::json!({ "user_id": "user-1" }));
    let good = ch07_message_broker::users::user_registered(uuid::Uuid::now_v7(), "bob@example.com");
    publisher.publish(&[poison.clone(), good]).await?;

    let consuming = Consuming::postgres().await?;
    let welcome = consumer(&kafka, &topic, "welcome", &consuming.tm, Welcome)?;
    welcome.run_during(processed(&welcome, 2)).await?;
    assert_eq!(
        consuming.welcomes().await?,
        (1, 1),
        "the good event behind it was processed"
    );

    let parked = read_raw(&kafka, &dead_letters, 1, Duration::from_secs(20)).await?;
    let letter = &parked[0];
    assert_eq!(
        header_of(letter, ID_HEADER).as_deref(),
        Some(poison.id.to_string().as_str())
    );
    assert_eq!(header_of(letter, ATTEMPTS_HEADER).as_deref(), Some("3"));
    let error = header_of(letter, ERROR_HEADER).unwrap_or_default();
    assert!(error.contains("has no email"), "{error}");
    assert_eq!(letter.payload(), Some(poison.body().as_slice()), "parked as it came");
    Ok(())
}
// ANCHOR_END: poison

// ANCHOR: refused_content
/// An event whose content the consumer's database refuses for good is the event's fault: after
/// its attempts it is parked with the database's own message, and the event behind it on the
/// partition is applied. Before, every database error counted as "unavailable" and was retried
/// forever, blocking the partition.
async fn content_the_database_refuses_is_parked<DB>(
    consuming: Consuming<DB>,
    poison_email: &str,
    database_says: &str,
) -> anyhow::Result<()>
where
    DB: InboxDb + Server + TestDb,
{
    let kafka = KafkaScope::new().await?;
    let topic = kafka.create_topic("users", 1).await?;
    let dead_letters = kafka.create_topic("users.dead-letter", 1).await?;
    let publisher = publisher(&kafka, &topic)?;
    let poison = ch07_message_broker::users::user_registered(uuid::Uuid::now_v7(), poison_email);
    let good = ch07_message_broker::users::user_registered(uuid::Uuid::now_v7(), "bob@example.com");
    publisher.publish(std::slice::from_ref(&poison)).await?;
    publisher.publish(&[good]).await?;

    let welcome = consumer(&kafka, &topic, "welcome", &consuming.tm, Welcome)?;
    welcome.run_during(processed(&welcome, 2)).await?;
    assert_eq!(consuming.welcomes().await?, (1, 1), "the event behind it was applied");

    let parked = read_raw(&kafka, &dead_letters, 1, Duration::from_secs(20)).await?;
    assert_eq!(
        header_of(&parked[0], ID_HEADER).as_deref(),
        Some(poison.id.to_string().as_str())
    );
    let error = header_of(&parked[0], ERROR_HEADER).unwrap_or_default();
    assert!(error.contains(database_says), "the database's message: {error}");
    assert_eq!(welcome.counters().dead_lettered.load(Ordering::Relaxed), 1);
    Ok(())
}

/// PostgreSQL cannot store a NUL byte in text.
#[tokio::test]
async fn postgres_refuses_a_nul_byte_and_the_event_is_parked() -> anyhow::Result<()> {
    content_the_database_refuses_is_parked(
        Consuming::postgres().await?,
        "nul\0@example.com",
        "invalid byte sequence",
    )
    .await
}

/// MariaDB stores a NUL byte, but refuses an email longer than its column (strict mode, the
/// default since 10.2.4).
#[tokio::test]
async fn mariadb_refuses_an_overlong_email_and_the_event_is_parked() -> anyhow::Result<()> {
    let overlong = format!("{}@example.com", "a".repeat(250));
    content_the_database_refuses_is_parked(Consuming::mysql().await?, &overlong, "Data too long").await
}
// ANCHOR_END: refused_content

#[tokio::test]
async fn a_message_that_is_not_an_event_is_parked_at_once() -> anyhow::Result<()> {
    let kafka = KafkaScope::new().await?;
    let topic = kafka.create_topic("users", 1).await?;
    let dead_letters = kafka.create_topic("users.dead-letter", 1).await?;
    let producer: rdkafka::producer::FutureProducer = kafka.producer_config().create()?;
    producer
        .send(
            rdkafka::producer::FutureRecord::to(&topic)
                .key("k")
                .payload("{not json"),
            Duration::from_secs(5),
        )
        .await
        .map_err(|(error, _)| error)?;

    let consuming = Consuming::postgres().await?;
    let welcome = consumer(&kafka, &topic, "welcome", &consuming.tm, Welcome)?;
    let parked = welcome
        .run_during(read_raw(&kafka, &dead_letters, 1, Duration::from_secs(20)))
        .await??;
    let error = header_of(&parked[0], ERROR_HEADER).unwrap_or_default();
    assert!(error.contains("not an event"), "{error}");
    assert_eq!(header_of(&parked[0], ATTEMPTS_HEADER).as_deref(), Some("1"));
    assert_eq!(consuming.welcomes().await?, (0, 0));
    Ok(())
}
