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
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::types::RDKafkaErrorCode;
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

/// An idempotent producer that is replaced when it fails *fatally*: when the broker fences it
/// (its producer id and epoch were superseded, as tansu does after messages time out during an
/// outage) or it can no longer guarantee order. Every later send of a fatally failed producer
/// fails at once, so the only way on is a new one.
pub(crate) struct ReplaceableProducer {
    config: ClientConfig,
    /// A std mutex: held only to clone or swap the handle, never across an `await`.
    current: Mutex<FutureProducer>,
}

impl ReplaceableProducer {
    /// A producer with `config` (at least `bootstrap.servers`), made idempotent.
    pub(crate) fn new(mut config: ClientConfig) -> Result<Self, rdkafka::error::KafkaError> {
        config.set("enable.idempotence", "true").set("acks", "all");
        Ok(Self {
            current: Mutex::new(config.create()?),
            config,
        })
    }

    /// The producer to send with now.
    pub(crate) fn current(&self) -> FutureProducer {
        self.current.lock().expect("not poisoned").clone()
    }

    /// After `error` on a send with `failed`: if the producer failed fatally, or the broker no
    /// longer accepts its producer id (fenced, epoch or sequence rejected; librdkafka does not
    /// always raise those as fatal for an idempotent producer), the next send uses a new producer.
    pub(crate) fn replace_if_fatal(&self, failed: &FutureProducer, error: &KafkaError) {
        let rejected_id = matches!(
            error.rdkafka_error_code(),
            Some(
                RDKafkaErrorCode::ProducerFenced
                    | RDKafkaErrorCode::InvalidProducerEpoch
                    | RDKafkaErrorCode::UnknownProducerId
                    | RDKafkaErrorCode::OutOfOrderSequenceNumber
            )
        );
        let fatal = failed.client().fatal_error();
        if fatal.is_none() && !rejected_id {
            return;
        }
        tracing::warn!(%error, ?fatal, "the producer can send no more; starting a new one");
        match self.config.create::<FutureProducer>() {
            Ok(fresh) => *self.current.lock().expect("not poisoned") = fresh,
            Err(error) => tracing::error!(%error, "could not start a new producer"),
        }
    }
}

/// A [`Publisher`] that writes to one Kafka topic. A batch that meets a fatal producer error is
/// not lost: it is still in the outbox, and the next batch goes out on a new producer.
pub struct KafkaPublisher {
    producer: ReplaceableProducer,
    topic: String,
}

impl KafkaPublisher {
    /// A publisher to `topic`, with `config` (at least `bootstrap.servers`) made idempotent.
    pub fn new(config: ClientConfig, topic: impl Into<String>) -> Result<Self, PublishError> {
        Ok(Self {
            producer: ReplaceableProducer::new(config).map_err(PublishError::Client)?,
            topic: topic.into(),
        })
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Waits for messages still in flight, for at most `limit`.
    pub fn flush(&self, limit: Duration) {
        let _ = self.producer.current().flush(Timeout::After(limit));
    }
}

impl Publisher for KafkaPublisher {
    /// Sends all of them at once (the producer batches and pipelines them), then waits for every
    /// acknowledgement. The first failure is the result; the idempotent producer keeps one
    /// partition's messages in order, so a failed message is never followed by a delivered one.
    async fn publish(&self, events: &[Event]) -> Result<(), PublishError> {
        let producer = self.producer.current();
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
        if let Err(PublishError::NotDelivered { error, .. }) = &delivered {
            self.producer.replace_if_fatal(&producer, error);
        }
        delivered.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use rdkafka::mocking::MockCluster;

    use super::*;

    #[tokio::test]
    #[allow(unsafe_code)]
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
        let fenced = publisher.producer.current();
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
        assert!(publisher.producer.current().client().fatal_error().is_none());
    }

    #[tokio::test]
    async fn a_producer_the_broker_fences_is_replaced_even_when_librdkafka_does_not_call_it_fatal() {
        let cluster = MockCluster::new(1).expect("librdkafka's mock cluster");
        cluster.create_topic("users", 1, 1).expect("a topic");
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", cluster.bootstrap_servers())
            .set("message.timeout.ms", "3000");
        let publisher = KafkaPublisher::new(config, "users").expect("a publisher");
        let event = || Event::new("user_registered", "u-1", serde_json::Value::Null);
        publisher.publish(&[event()]).await.expect("delivered");
        let first = publisher.producer.current();

        // The broker answers the next produce requests with PRODUCER_FENCED, as tansu did.
        let fenced = [rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_PRODUCER_FENCED; 8];
        cluster.request_errors(rdkafka::types::RDKafkaApiKey::Produce, &fenced);
        let failed = publisher.publish(&[event()]).await;
        cluster.clear_request_errors(rdkafka::types::RDKafkaApiKey::Produce);

        assert!(failed.is_err(), "{failed:?}");
        let replaced = !std::ptr::eq(
            first.client().native_ptr(),
            publisher.producer.current().client().native_ptr(),
        );
        assert!(replaced, "a fenced producer is not used again");
        publisher.publish(&[event()]).await.expect("the new producer delivers");
    }
}
