//! Sending events to Kafka and waiting until the broker has them.
//!
//! The producer is *idempotent* (`enable.idempotence`): it numbers its messages, so that when it
//! resends one after a lost acknowledgement the broker drops the copy, and a retry can neither
//! duplicate nor reorder messages within a partition. That removes the producer's own
//! duplicates; it cannot remove the relay's (a relay that dies after sending and before marking
//! sends again on restart, as a new producer), which is why consumers are idempotent too.

use std::time::Duration;

use futures::future::try_join_all;
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;

use crate::event::Event;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("could not create the Kafka producer: {0}")]
    Client(rdkafka::error::KafkaError),
    #[error("the broker did not take event {event} on {topic}: {error}")]
    NotDelivered {
        event: uuid::Uuid,
        topic: String,
        error: rdkafka::error::KafkaError,
    },
}

// ANCHOR: publisher
/// Publishes a batch of events, returning when the broker has acknowledged every one.
#[cfg_attr(test, mockall::automock)]
pub trait Publisher: Send + Sync + 'static {
    fn publish(&self, events: &[Event]) -> impl Future<Output = Result<(), PublishError>> + Send;
}
// ANCHOR_END: publisher

/// A [`Publisher`] that writes to one Kafka topic.
pub struct KafkaPublisher {
    producer: FutureProducer,
    topic: String,
}

impl KafkaPublisher {
    /// A publisher to `topic`, with `config` (at least `bootstrap.servers`) made idempotent.
    pub fn new(mut config: ClientConfig, topic: impl Into<String>) -> Result<Self, PublishError> {
        config.set("enable.idempotence", "true").set("acks", "all");
        Ok(Self {
            producer: config.create().map_err(PublishError::Client)?,
            topic: topic.into(),
        })
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Waits for messages still in flight, for at most `limit`.
    pub fn flush(&self, limit: Duration) {
        let _ = self.producer.flush(Timeout::After(limit));
    }
}

impl Publisher for KafkaPublisher {
    /// Sends all of them at once (the producer batches and pipelines them), then waits for every
    /// acknowledgement. The first failure is the result; the idempotent producer keeps one
    /// partition's messages in order, so a failed message is never followed by a delivered one.
    async fn publish(&self, events: &[Event]) -> Result<(), PublishError> {
        let deliveries = events.iter().map(|event| async move {
            let body = event.body();
            let record = FutureRecord::to(&self.topic)
                .key(&event.aggregate_id)
                .payload(&body)
                .headers(event.headers());
            self.producer
                .send(record, Timeout::Never)
                .await
                .map_err(|(error, _)| PublishError::NotDelivered {
                    event: event.id,
                    topic: self.topic.clone(),
                    error,
                })
        });
        try_join_all(deliveries).await?;
        Ok(())
    }
}
