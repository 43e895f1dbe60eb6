//! A partition taken away while one of its messages is being processed: the consumer was slower
//! than `max.poll.interval.ms` (its database stalled, say), so librdkafka took it out of its group
//! and another member got the partition. The slow consumer's work is not an error when it ends:
//! its transaction commits, and the new owner's redelivery is absorbed by the inbox. Nothing is
//! lost, nothing is applied twice, and neither consumer stops.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ch03_transaction_manager::{Ctx, SqlManager};
use ch07_message_broker::inbox::Effect;
use ch07_message_broker::{Event, HandlerError, Publisher, Welcome};
use harness::{KafkaScope, eventually};
use sqlx::Postgres;
use tokio::sync::Notify;

use crate::consumers::welcomed;
use crate::support::{Consuming, consumer, consumer_with, publisher};

/// How long a consumer may go without polling before librdkafka takes it out of its group. The
/// smallest librdkafka accepts beside the harness's `session.timeout.ms` of 6 s.
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(6);

/// Welcomes, but the first event's effect stalls for longer than [`MAX_POLL_INTERVAL`], inside
/// its transaction, and says when it has started.
struct StallsOnce {
    stalled: AtomicBool,
    started: std::sync::Arc<Notify>,
}

impl Effect<Postgres> for StallsOnce {
    async fn apply(&self, tm: &SqlManager<Postgres>, ctx: &Ctx, event: &Event) -> Result<(), HandlerError> {
        if !self.stalled.swap(true, Ordering::SeqCst) {
            self.started.notify_one();
            tokio::time::sleep(MAX_POLL_INTERVAL + Duration::from_secs(4)).await;
        }
        Welcome.apply(tm, ctx, event).await
    }
}

#[tokio::test]
async fn a_partition_revoked_mid_processing_loses_nothing_applies_once_and_stops_no_one() -> anyhow::Result<()> {
    let kafka = KafkaScope::new().await?;
    let topic = kafka.create_topic("users", 1).await?;
    let publisher = publisher(&kafka, &topic)?;
    let first = ch07_message_broker::users::user_registered(uuid::Uuid::now_v7(), "first@example.com");
    publisher.publish(&[first]).await?;

    let consuming = Consuming::postgres().await?;
    let started = std::sync::Arc::new(Notify::new());
    let slow = StallsOnce {
        stalled: AtomicBool::new(false),
        started: started.clone(),
    };
    let mut slow_config = kafka.consumer_config("welcome");
    slow_config.set("max.poll.interval.ms", MAX_POLL_INTERVAL.as_millis().to_string());
    let slow = consumer_with(slow_config, &topic, "welcome", &consuming.tm, slow)?;

    let slow_outcome = slow
        .run_during(async {
            started.notified().await;
            // A second member of the group, while the first is stuck in its effect.
            let other = consumer(&kafka, &topic, "welcome", &consuming.tm, Welcome)?;
            other
                .run_during(async {
                    // The first event: applied by the slow consumer once its stall ends; the
                    // other one, which got the partition meanwhile, finds it recorded.
                    welcomed(&consuming, 1).await;
                    eventually(Duration::from_secs(30), || async {
                        match other.counters().duplicates.load(Ordering::Relaxed) {
                            1 => Ok(()),
                            n => Err(format!("the new owner saw {n} duplicates")),
                        }
                    })
                    .await;
                    // Both still consume: a second event is applied, by whichever owns the
                    // partition now.
                    let second =
                        ch07_message_broker::users::user_registered(uuid::Uuid::now_v7(), "second@example.com");
                    publisher.publish(&[second]).await?;
                    welcomed(&consuming, 2).await;
                    anyhow::Ok(())
                })
                .await?
        })
        .await;
    let scenario = slow_outcome.map_err(|error| anyhow::anyhow!("the slow consumer stopped with an error: {error}"))?;
    scenario?;
    assert_eq!(consuming.welcomes().await?, (2, 2), "each user welcomed once");
    assert_eq!(
        slow.counters().applied.load(Ordering::Relaxed),
        1,
        "the stalled event's effect, once"
    );
    Ok(())
}

/// An offset that cannot be stored for another reason is still an error: here, of a partition the
/// topic does not have.
#[tokio::test]
async fn an_offset_refused_for_another_reason_is_an_error() -> anyhow::Result<()> {
    let kafka = KafkaScope::new().await?;
    let topic = kafka.create_topic("users", 1).await?;
    let consuming = Consuming::postgres().await?;
    let fresh = consumer(&kafka, &topic, "welcome", &consuming.tm, Welcome)?;
    let error = fresh
        .store_offset(&topic, 99, 0)
        .expect_err("the topic has one partition");
    assert!(error.to_string().contains("Unknown partition"), "{error}");
    assert_eq!(fresh.counters().revoked.load(Ordering::Relaxed), 0);
    Ok(())
}
