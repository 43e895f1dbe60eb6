//! Exercise `one_user_one_partition`: each user's events land in one partition, in order.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ch07_exercises::one_user_one_partition::partition_key;
use ch07_message_broker::Event;
use harness::KafkaScope;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};

const PARTITIONS: i32 = 4;
const USERS: [&str; 3] = ["ada", "grace", "edsger"];
const STEPS: usize = 5;

#[tokio::test]
async fn each_users_events_are_read_from_one_partition_in_the_order_they_were_published() -> anyhow::Result<()> {
    let kafka = KafkaScope::new().await?;
    let topic = kafka.create_topic("user-events", PARTITIONS).await?;
    let producer: FutureProducer = kafka.producer_config().create()?;

    // One by one, each send awaited: one record per produce request, in a known order.
    for step in 1..=STEPS {
        for user in USERS {
            let event = Event::new(&format!("step_{step}"), user, serde_json::json!({}));
            let body = format!("{user} {}", event.kind);
            producer
                .send(
                    FutureRecord::to(&topic).key(&partition_key(&event)).payload(&body),
                    Duration::from_secs(10),
                )
                .await
                .map_err(|(error, _)| error)?;
        }
    }

    // user -> the (partition, step) of each of their events, in the order they were read.
    let mut read: BTreeMap<String, Vec<(i32, String)>> = BTreeMap::new();
    for (partition, body) in everything_on(&kafka, &topic, USERS.len() * STEPS)? {
        let (user, step) = body.split_once(' ').expect("a user and a step");
        read.entry(user.to_owned())
            .or_default()
            .push((partition, step.to_owned()));
    }
    let in_order: Vec<String> = (1..=STEPS).map(|step| format!("step_{step}")).collect();
    for (user, events) in &read {
        let partitions: Vec<i32> = events.iter().map(|(partition, _)| *partition).collect();
        assert!(
            partitions.windows(2).all(|pair| pair[0] == pair[1]),
            "{user}'s events are spread over partitions {partitions:?}: their order is lost"
        );
        let steps: Vec<&String> = events.iter().map(|(_, step)| step).collect();
        assert_eq!(
            steps,
            in_order.iter().collect::<Vec<_>>(),
            "{user}'s events out of order"
        );
    }
    assert_eq!(read.len(), USERS.len());
    Ok(())
}

/// Every message of `topic`, partition by partition, each partition in its order.
fn everything_on(kafka: &KafkaScope, topic: &str, expected: usize) -> anyhow::Result<Vec<(i32, String)>> {
    let consumer: BaseConsumer = kafka.consumer_config(&kafka.group("reader")).create()?;
    let mut assignment = TopicPartitionList::new();
    for partition in 0..PARTITIONS {
        assignment.add_partition_offset(topic, partition, Offset::Beginning)?;
    }
    consumer.assign(&assignment)?;
    let mut by_partition: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    let started = Instant::now();
    while by_partition.values().map(Vec::len).sum::<usize>() < expected {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "read only {by_partition:?}"
        );
        if let Some(message) = consumer.poll(Duration::from_millis(200)) {
            let message = message?;
            let body = String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned();
            by_partition.entry(message.partition()).or_default().push(body);
        }
    }
    Ok(by_partition
        .into_iter()
        .flat_map(|(partition, bodies)| bodies.into_iter().map(move |body| (partition, body)))
        .collect())
}
