//! `workbook kafka`: a look at the broker the tests and tours use, for a reader without a Kafka
//! client that can talk to it.
//!
//! The tools of the trade do not all work with tansu 0.6, the broker `scripts/local-services`
//! starts: Debian's `kcat` (librdkafka 2.0.2) fails its first request (`ApiVersionRequest failed:
//! Local: Read underflow`), while a current librdkafka, the one this binary links, works. So the
//! workbook brings the two looks a reader needs: which topics there are, and what one holds.

use std::time::Duration;

use anyhow::Context;
use harness::ServiceKind;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Headers;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

/// How long one request to the broker may take.
const BROKER_TIMEOUT: Duration = Duration::from_secs(10);

/// A consumer of the provisioned broker that joins no group and commits nothing.
async fn client() -> anyhow::Result<(String, BaseConsumer)> {
    let endpoint = harness::endpoint(ServiceKind::Kafka).await?;
    let consumer = ClientConfig::new()
        .set("bootstrap.servers", &endpoint.url)
        .set("group.id", "workbook-kafka-look")
        .set("enable.auto.commit", "false")
        .create()
        .context("creating a Kafka client")?;
    Ok((endpoint.url, consumer))
}

/// Prints each topic with its partitions and how many messages each holds.
pub async fn topics() -> anyhow::Result<()> {
    let (brokers, consumer) = client().await?;
    tokio::task::spawn_blocking(move || {
        let metadata = consumer
            .fetch_metadata(None, BROKER_TIMEOUT)
            .context("asking the broker for its topics")?;
        let mut topics: Vec<_> = metadata.topics().iter().collect();
        topics.sort_by_key(|topic| topic.name());
        println!("{} topic(s) on {brokers}", topics.len());
        for topic in topics {
            let mut held = Vec::new();
            for partition in topic.partitions() {
                let (low, high) = consumer
                    .fetch_watermarks(topic.name(), partition.id(), BROKER_TIMEOUT)
                    .with_context(|| format!("reading the offsets of {}/{}", topic.name(), partition.id()))?;
                held.push(high - low);
            }
            let total: i64 = held.iter().sum();
            println!(
                "{}  partitions {}  messages {total}  (per partition: {held:?})",
                topic.name(),
                held.len()
            );
        }
        Ok(())
    })
    .await?
}

/// Prints the messages of `topic` from the start, up to `limit` of them: partition, offset,
/// key, headers and body, as text where they are text.
pub async fn show(topic: String, limit: usize) -> anyhow::Result<()> {
    let (_, consumer) = client().await?;
    tokio::task::spawn_blocking(move || {
        let metadata = consumer
            .fetch_metadata(Some(&topic), BROKER_TIMEOUT)
            .with_context(|| format!("asking the broker about {topic}"))?;
        let partitions: Vec<i32> = metadata
            .topics()
            .iter()
            .filter(|found| found.name() == topic && found.error().is_none())
            .flat_map(|found| found.partitions().iter().map(rdkafka::metadata::MetadataPartition::id))
            .collect();
        anyhow::ensure!(
            !partitions.is_empty(),
            "no topic called {topic:?}: `workbook kafka topics` lists them"
        );

        // What each partition holds now: read up to there, then stop.
        let mut remaining = 0;
        let mut assignment = TopicPartitionList::new();
        for &partition in &partitions {
            let (low, high) = consumer.fetch_watermarks(&topic, partition, BROKER_TIMEOUT)?;
            remaining += (high - low) as usize;
            assignment.add_partition_offset(&topic, partition, Offset::Beginning)?;
        }
        consumer.assign(&assignment)?;
        let wanted = remaining.min(limit);
        println!("{topic}: {remaining} message(s); showing {wanted}");
        let mut shown = 0;
        while shown < wanted {
            let Some(message) = consumer.poll(BROKER_TIMEOUT) else {
                anyhow::bail!("the broker sent nothing for {BROKER_TIMEOUT:?}, after {shown} of {wanted} messages");
            };
            let message = message.with_context(|| format!("reading {topic}"))?;
            println!("--- partition {} offset {}", message.partition(), message.offset());
            println!("key:     {}", as_text(message.key()));
            for header in message.headers().iter().flat_map(|headers| headers.iter()) {
                println!("header:  {} = {}", header.key, as_text(header.value));
            }
            println!("body:    {}", as_text(message.payload()));
            shown += 1;
        }
        Ok(())
    })
    .await?
}

/// Bytes as text where they are UTF-8, else as their length.
fn as_text(bytes: Option<&[u8]>) -> String {
    match bytes {
        None => "(none)".to_owned(),
        Some(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => text.to_owned(),
            Err(_) => format!("({} bytes, not UTF-8)", bytes.len()),
        },
    }
}
