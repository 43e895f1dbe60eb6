//! The outbox and the idempotent consumer under faults: the broker cut while thousands of events
//! are written, the relay killed between publishing and deleting, the consumer's database cut.

use std::sync::atomic::Ordering;
use std::time::Duration;

use ch03_transaction_manager::{Ctx, SqlManager};
use ch07_message_broker::{Backoff, OutboxStore, Publisher, Relay, RelayConfig, Welcome};
use harness::crash::ChildTest;
use harness::fault::FaultProxy;
use harness::{DedicatedKafka, KafkaScope, eventually};

use sqlx::Postgres;

use crate::consumers::{processed, welcomed};
use crate::support::{Consuming, Publishing, committed, consumer, messages_on, publisher};

const EVENTS: usize = 10_000;

// ANCHOR: survives_broker_outage
#[tokio::test]
async fn survives_broker_outage_every_event_delivered_and_applied_once() -> anyhow::Result<()> {
    let broker = DedicatedKafka::start().await?;
    let kafka = broker.scope();
    let topic = kafka.create_topic("users", 4).await?;
    let users = Publishing::new(Postgres).await?;
    let relay = Relay::new(
        users.outbox(),
        publisher(&kafka, &topic)?,
        RelayConfig {
            backoff: Backoff {
                base: Duration::from_millis(50),
                max: Duration::from_secs(1),
            },
            ..RelayConfig::default()
        },
    );
    let consuming = Consuming::postgres().await?;
    let welcome = consumer(&kafka, &topic, "welcome", &consuming.tm, Welcome)?;
    broker.proxy().cut().await;
    let scenario = async {
        // 10,000 registrations, eight at a time, while the broker is unreachable.
        let writers = (0..8).map(|writer| {
            let users = &users.users;
            async move {
                for n in (writer..EVENTS).step_by(8) {
                    users.register(&Ctx::new(), &format!("user{n}@example.com")).await?;
                }
                anyhow::Ok(())
            }
        });
        futures::future::try_join_all(writers).await?;
        eventually(Duration::from_secs(30), || async {
            match relay.counters().failures.load(Ordering::Relaxed) {
                0 => Err("the relay has not failed yet"),
                _ => Ok(()),
            }
        })
        .await;
        assert_eq!(
            relay.store().lag().await?.backlog,
            EVENTS as i64,
            "every event waits in the outbox"
        );

        broker.proxy().restore();
        eventually(Duration::from_secs(150), || async {
            let (welcomes, _) = consuming.welcomes().await.map_err(|e| e.to_string())?;
            if welcomes >= EVENTS as i64 {
                Ok(())
            } else {
                Err(format!(
                    "{welcomes} of {EVENTS} welcomed; the relay has published {}, failed {} times (last: {:?}); the consumer met {} outages",
                    relay.counters().published.load(Ordering::Relaxed),
                    relay.counters().failures.load(Ordering::Relaxed),
                    relay.counters().last_failure.lock().unwrap(),
                    welcome.counters().unavailable.load(Ordering::Relaxed),
                ))
            }
        })
        .await;
        anyhow::Ok(())
    };
    welcome.run_during(relay.run_during(scenario)).await??;

    assert_eq!(
        consuming.welcomes().await?,
        (EVENTS as i64, EVENTS as i64),
        "each user welcomed exactly once"
    );
    assert_eq!(relay.store().lag().await?.backlog, 0);
    Ok(())
}
// ANCHOR_END: survives_broker_outage

/// Where the relay of the crash test works; unset, the test runs on its own.
const OUTBOX_URL: &str = "CH07_OUTBOX_URL";
const TOPIC: &str = "CH07_TOPIC";

/// A relay draining an outbox. On its own it writes an event and checks the outbox ends empty;
/// run by the test below as a child, it relays the parent's outbox and dies at the armed point.
#[tokio::test]
async fn relay_child_publishes_and_deletes() -> anyhow::Result<()> {
    harness::crash::arm_from_env();
    let (outbox, kafka, topic, _own) = match (std::env::var(OUTBOX_URL), std::env::var(TOPIC)) {
        (Ok(url), Ok(topic)) => {
            let pool = sqlx::PgPool::connect(&url).await?;
            let outbox = ch07_message_broker::Outbox::new(SqlManager::new(pool));
            (outbox, KafkaScope::new().await?, topic, None)
        }
        _ => {
            let own = Publishing::new(Postgres).await?;
            own.users.register(&Ctx::new(), "ada@example.com").await?;
            let kafka = KafkaScope::new().await?;
            let topic = kafka.create_topic("users", 1).await?;
            (own.outbox(), kafka, topic, Some(own))
        }
    };
    let relay = Relay::new(outbox, publisher(&kafka, &topic)?, RelayConfig::default());
    assert_eq!(relay.drain().await?, 1);
    assert_eq!(relay.store().lag().await?.backlog, 0);
    Ok(())
}

// ANCHOR: relay_crash
#[tokio::test]
async fn a_relay_killed_between_publish_and_delete_publishes_again_and_the_consumer_absorbs_it() -> anyhow::Result<()> {
    let users = Publishing::new(Postgres).await?;
    users.users.register(&Ctx::new(), "ada@example.com").await?;
    let kafka = KafkaScope::new().await?;
    let topic = kafka.create_topic("users", 1).await?;
    let database_url = users.url.clone().expect("a PostgreSQL URL");

    let child = ChildTest::new("faults::relay_child_publishes_and_deletes")
        .crash_at("relay::after_publish")
        .env(OUTBOX_URL, database_url)
        .env(TOPIC, &topic)
        .run()
        .await?;
    assert!(child.crashed_at("relay::after_publish"), "{}", child.output());
    assert_eq!(messages_on(&kafka, &topic, 1)?, 1, "the event was published");
    assert_eq!(users.outbox().lag().await?.backlog, 1, "and is still in the outbox");

    // The next relay publishes it again.
    let relay = Relay::new(users.outbox(), publisher(&kafka, &topic)?, RelayConfig::default());
    assert_eq!(relay.drain().await?, 1);
    assert_eq!(messages_on(&kafka, &topic, 1)?, 2, "a duplicate on the topic");

    let consuming = Consuming::postgres().await?;
    let welcome = consumer(&kafka, &topic, "welcome", &consuming.tm, Welcome)?;
    welcome.run_during(processed(&welcome, 2)).await?;
    assert_eq!(consuming.welcomes().await?, (1, 1), "welcomed once");
    assert_eq!(welcome.counters().duplicates.load(Ordering::Relaxed), 1);
    Ok(())
}
// ANCHOR_END: relay_crash

// ANCHOR: consumer_database_cut
#[tokio::test]
async fn with_the_consumers_database_cut_no_offset_moves_and_every_effect_happens_once_after() -> anyhow::Result<()> {
    let kafka = KafkaScope::new().await?;
    let topic = kafka.create_topic("users", 1).await?;
    let publisher = publisher(&kafka, &topic)?;
    let event =
        |n: usize| ch07_message_broker::users::user_registered(uuid::Uuid::now_v7(), &format!("user{n}@example.com"));
    let consuming = Consuming::postgres().await?;
    let (proxy, through_proxy) = FaultProxy::route(consuming.db.url()).await?;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(2))
        .connect(&through_proxy)
        .await?;
    let tm = SqlManager::new(pool);

    publisher.publish(&(0..10).map(event).collect::<Vec<_>>()).await?;
    let first = consumer(&kafka, &topic, "welcome", &tm, Welcome)?;
    let scenario = async {
        eventually(Duration::from_secs(30), || async {
            let offsets = committed(&kafka, "welcome", &topic, 1).map_err(|e| e.to_string())?;
            if offsets == [Some(10)] {
                Ok(())
            } else {
                Err(format!("committed {offsets:?}"))
            }
        })
        .await;

        proxy.cut().await;
        publisher.publish(&(10..20).map(event).collect::<Vec<_>>()).await?;
        eventually(Duration::from_secs(30), || async {
            match first.counters().unavailable.load(Ordering::Relaxed) {
                0 => Err("the consumer has not met the outage yet"),
                _ => Ok(()),
            }
        })
        .await;
        anyhow::Ok(())
    };
    first.run_during(scenario).await??;
    drop(first);
    assert_eq!(
        committed(&kafka, "welcome", &topic, 1)?,
        [Some(10)],
        "nothing past the last processed event"
    );
    assert_eq!(consuming.welcomes().await?, (10, 10));

    proxy.restore();
    let second = consumer(&kafka, &topic, "welcome", &tm, Welcome)?;
    second.run_during(welcomed(&consuming, 20)).await?;
    assert_eq!(consuming.welcomes().await?, (20, 20), "each once");
    Ok(())
}
// ANCHOR_END: consumer_database_cut

/// A handler that refuses one event and applies the others, and says when it first saw the one.
struct RefusesOne {
    poison: uuid::Uuid,
    seen: std::sync::Arc<tokio::sync::Notify>,
}

impl ch07_message_broker::Process for RefusesOne {
    async fn process(
        &self,
        event: &ch07_message_broker::Event,
    ) -> Result<ch07_message_broker::Processed, ch07_message_broker::HandlerError> {
        if event.id == self.poison {
            self.seen.notify_one();
            return Err(ch07_message_broker::HandlerError::Rejected(
                "refused by the test".into(),
            ));
        }
        Ok(ch07_message_broker::Processed::Applied)
    }
}

// ANCHOR: dead_letter_outage
/// The broker goes away while a poison event is being parked. The dead-letter send fails (the
/// producer is set to give up after 1 s), and is tried again until the broker is back: the dead
/// letter arrives once, and the event behind the poison is applied. Before, the failed send ended
/// the consumer.
#[tokio::test]
async fn a_dead_letter_sent_while_the_broker_is_away_arrives_once_and_the_consumer_goes_on() -> anyhow::Result<()> {
    let broker = DedicatedKafka::start().await?;
    let kafka = broker.scope();
    let topic = kafka.create_topic("users", 1).await?;
    let dead_letters = kafka.create_topic("users.dead-letter", 1).await?;
    let poison = ch07_message_broker::users::user_registered(uuid::Uuid::now_v7(), "poison@example.com");
    let good = ch07_message_broker::users::user_registered(uuid::Uuid::now_v7(), "good@example.com");
    let publisher = publisher(&kafka, &topic)?;
    publisher.publish(std::slice::from_ref(&poison)).await?;
    publisher.publish(std::slice::from_ref(&good)).await?;

    let seen = std::sync::Arc::new(tokio::sync::Notify::new());
    let mut config = kafka.consumer_config("welcome");
    config.set("message.timeout.ms", "1000");
    let retry = ch07_message_broker::Retry {
        inner: RefusesOne {
            poison: poison.id,
            seen: seen.clone(),
        },
        attempts: 3,
        backoff: Backoff {
            base: Duration::from_millis(300),
            max: Duration::from_millis(300),
        },
    };
    let consumer = ch07_message_broker::EventConsumer::new(config, &topic, dead_letters.clone(), retry)?;
    let scenario = async {
        seen.notified().await;
        broker.proxy().cut().await;
        tokio::time::sleep(Duration::from_secs(4)).await;
        broker.proxy().restore();
        processed(&consumer, 2).await;
    };
    consumer.run_during(scenario).await?;

    assert_eq!(
        consumer.counters().applied.load(Ordering::Relaxed),
        1,
        "the good event was applied"
    );
    assert_eq!(consumer.counters().dead_lettered.load(Ordering::Relaxed), 1);
    let parked = crate::support::read_raw(&kafka, &dead_letters, 1, Duration::from_secs(20)).await?;
    assert_eq!(
        ch07_message_broker::event::header_of(&parked[0], ch07_message_broker::event::ID_HEADER).as_deref(),
        Some(poison.id.to_string().as_str())
    );
    assert_eq!(
        messages_on(&kafka, &dead_letters, 1)?,
        1,
        "parked once, not once per attempt"
    );
    Ok(())
}
// ANCHOR_END: dead_letter_outage
