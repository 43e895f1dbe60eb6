//! Sending events to Kafka and waiting until the broker has them.
//!
//! The producer is *idempotent* (`enable.idempotence`): it numbers its messages, so that when it
//! resends one after a lost acknowledgement the broker drops the copy, and a retry can neither
//! duplicate nor reorder messages within a partition. That removes the producer's own
//! duplicates; it cannot remove the relay's (a relay that dies after sending and before marking
//! sends again on restart, as a new producer), which is why consumers are idempotent too.

use std::sync::Mutex;
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
    config: ClientConfig,
    /// Replaced when it fails fatally (see [`KafkaPublisher::replace_if_fatal`]). A std mutex:
    /// it is held only to clone or swap the handle, never across an `await`.
    producer: Mutex<FutureProducer>,
    topic: String,
}

impl KafkaPublisher {
    /// A publisher to `topic`, with `config` (at least `bootstrap.servers`) made idempotent.
    pub fn new(mut config: ClientConfig, topic: impl Into<String>) -> Result<Self, PublishError> {
        config.set("enable.idempotence", "true").set("acks", "all");
        Ok(Self {
            producer: Mutex::new(config.create().map_err(PublishError::Client)?),
            config,
            topic: topic.into(),
        })
    }

    fn producer(&self) -> FutureProducer {
        self.producer.lock().expect("not poisoned").clone()
    }

    /// An idempotent producer can fail *fatally*: when the broker fences it (its producer id and
    /// epoch were superseded, as tansu does after messages time out during an outage) or it can
    /// no longer guarantee order. Every later send then fails at once, so the only way on is a
    /// new producer. The batch that met the error is not lost: it is still in the outbox.
    fn replace_if_fatal(&self, failed: &FutureProducer) {
        let Some((code, reason)) = failed.client().fatal_error() else {
            return;
        };
        tracing::warn!(?code, %reason, "publisher: the producer failed fatally; starting a new one");
        match self.config.create::<FutureProducer>() {
            Ok(fresh) => *self.producer.lock().expect("not poisoned") = fresh,
            Err(error) => tracing::error!(%error, "publisher: could not start a new producer"),
        }
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Waits for messages still in flight, for at most `limit`.
    pub fn flush(&self, limit: Duration) {
        let _ = self.producer().flush(Timeout::After(limit));
    }
}

impl Publisher for KafkaPublisher {
    /// Sends all of them at once (the producer batches and pipelines them), then waits for every
    /// acknowledgement. The first failure is the result; the idempotent producer keeps one
    /// partition's messages in order, so a failed message is never followed by a delivered one.
    async fn publish(&self, events: &[Event]) -> Result<(), PublishError> {
        let producer = self.producer();
        let deliveries = events.iter().map(|event| async {
            let body = event.body();
            let record = FutureRecord::to(&self.topic)
                .key(&event.aggregate_id)
                .payload(&body)
                .headers(event.headers());
            producer
                .send(record, Timeout::Never)
                .await
                .map_err(|(error, _)| PublishError::NotDelivered {
                    event: event.id,
                    topic: self.topic.clone(),
                    error,
                })
        });
        let delivered = try_join_all(deliveries).await;
        if delivered.is_err() {
            self.replace_if_fatal(&producer);
        }
        delivered.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use rdkafka::mocking::MockCluster;

    use super::*;

    #[tokio::test]
    async fn a_producer_that_failed_fatally_is_replaced_and_the_next_batch_goes_out() {
        let cluster = MockCluster::new(1).expect("librdkafka's mock cluster");
        cluster.create_topic("users", 1, 1).expect("a topic");
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", cluster.bootstrap_servers())
            .set("message.timeout.ms", "5000");
        let publisher = KafkaPublisher::new(config, "users").expect("a publisher");
        let event = || Event::new("user_registered", "u-1", serde_json::Value::Null);
        publisher.publish(&[event()]).await.expect("delivered");

        // What a fencing broker does to the producer, raised by librdkafka's own test hook.
        let fenced = publisher.producer();
        let reason = c"fenced by the test";
        // SAFETY: the pointer is the live client of `fenced`, which outlives the call, and the
        // reason is a NUL-terminated string.
        unsafe {
            rdkafka::bindings::rd_kafka_test_fatal_error(
                fenced.client().native_ptr(),
                rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_PRODUCER_FENCED,
                reason.as_ptr(),
            );
        }
        assert!(
            publisher.publish(&[event()]).await.is_err(),
            "a fatal producer sends nothing"
        );
        publisher.publish(&[event()]).await.expect("the new producer delivers");
        assert!(publisher.producer().client().fatal_error().is_none());
    }
}
