//! The consumer loop: read an event, process it, then mark it read; at least once, by design.
//!
//! The offset of a message is stored only after the message is processed, and the consumer
//! commits stored offsets to the broker in the background. A consumer that dies in between
//! reads the message again when it restarts (its group resumes from the last committed offset),
//! and the [`Inbox`](crate::inbox::Inbox) makes the second processing a no-op.
//!
//! Failures:
//! - a message that is not an event, or an event the handler rejects after every attempt
//!   ([`Retry`]), is a *poison* message: it goes to the dead-letter topic with the error in a
//!   header, and the consumer moves on instead of blocking its partition forever;
//! - a failure of the consumer's own database is not the event's fault: the consumer keeps
//!   retrying the same event, backing off, and stores no offset past it until it succeeds.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Header, Headers, OwnedHeaders};
use rdkafka::producer::FutureRecord;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::util::Timeout;
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::backoff::Backoff;
use crate::event::Event;
use crate::inbox::{HandlerError, Process, Processed};
use crate::publisher::ReplaceableProducer;

/// Headers a dead letter carries besides the original ones.
pub const ERROR_HEADER: &str = "dead-letter-error";
pub const ATTEMPTS_HEADER: &str = "dead-letter-attempts";

/// How long one attempt to send a dead letter may take.
const DEAD_LETTER_SEND: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    #[error("Kafka client error while {doing}: {error}")]
    Kafka {
        doing: &'static str,
        error: rdkafka::error::KafkaError,
    },
}

fn kafka(doing: &'static str) -> impl FnOnce(rdkafka::error::KafkaError) -> ConsumerError {
    move |error| ConsumerError::Kafka { doing, error }
}

// ANCHOR: retry
/// Retries a failed processing up to `attempts` times in all, backing off between attempts.
pub struct Retry<P> {
    pub inner: P,
    pub attempts: u32,
    pub backoff: Backoff,
}

impl<P: Process> Process for Retry<P> {
    async fn process(&self, event: &Event) -> Result<Processed, HandlerError> {
        let mut attempt = 1;
        loop {
            match self.inner.process(event).await {
                Err(error) if attempt < self.attempts => {
                    tracing::debug!(%error, attempt, event = %event.id, "retrying");
                    tokio::time::sleep(self.backoff.delay(attempt)).await;
                    attempt += 1;
                }
                outcome => return outcome,
            }
        }
    }
}
// ANCHOR_END: retry

/// What a consumer has done since it started.
#[derive(Debug, Default)]
pub struct ConsumerCounters {
    pub applied: AtomicU64,
    pub duplicates: AtomicU64,
    pub dead_lettered: AtomicU64,
    /// Attempts that failed because a dependency was down (the event was then tried again).
    pub unavailable: AtomicU64,
    /// Messages processed after their partition was taken away (see [`EventConsumer::store_offset`]).
    pub revoked: AtomicU64,
}

/// One consumer of one topic in one consumer group.
pub struct EventConsumer<P> {
    consumer: StreamConsumer,
    processor: P,
    dead_letters: ReplaceableProducer,
    dead_letter_topic: String,
    /// The attempts a rejected event had, for its dead-letter header.
    attempts: u32,
    backoff: Backoff,
    counters: ConsumerCounters,
}

impl<P: Process> EventConsumer<Retry<P>> {
    /// Subscribes to `topic` with `config` (bootstrap servers and `group.id` at least).
    /// Events that `retry` still finds rejected after its attempts go to `dead_letter_topic`.
    pub fn new(
        mut config: ClientConfig,
        topic: &str,
        dead_letter_topic: impl Into<String>,
        retry: Retry<P>,
    ) -> Result<Self, ConsumerError> {
        // A dead letter's delivery is bounded, so that a send to a broker that is away fails and
        // is tried again (see `dead_letter`) instead of waiting librdkafka's five minutes.
        let mut dead_letter_config = config.clone();
        dead_letter_config.set("message.timeout.ms", DEAD_LETTER_SEND.as_millis().to_string());
        let dead_letters =
            ReplaceableProducer::new(dead_letter_config).map_err(kafka("creating the dead-letter producer"))?;
        // At least once: store an offset only once its message is processed; commit stored
        // offsets in the background, and when the consumer closes.
        config
            .set("enable.auto.offset.store", "false")
            .set("enable.auto.commit", "true")
            .set("auto.commit.interval.ms", "200");
        let consumer: StreamConsumer = config.create().map_err(kafka("creating the consumer"))?;
        consumer.subscribe(&[topic]).map_err(kafka("subscribing"))?;
        Ok(EventConsumer {
            consumer,
            attempts: retry.attempts,
            backoff: retry.backoff,
            processor: retry,
            dead_letters,
            dead_letter_topic: dead_letter_topic.into(),
            counters: ConsumerCounters::default(),
        })
    }
}

impl<P: Process> EventConsumer<P> {
    pub fn counters(&self) -> &ConsumerCounters {
        &self.counters
    }

    // ANCHOR: consume
    /// Consumes until `stop` completes, then commits what it has processed.
    pub async fn run_until(&self, stop: impl Future<Output = ()>) -> Result<(), ConsumerError> {
        let mut stop = std::pin::pin!(stop);
        loop {
            let message = tokio::select! {
                _ = &mut stop => break,
                message = self.consumer.recv() => message,
            };
            let message = match message {
                Ok(message) => message,
                // The client could not reach the broker, or a fetch failed: librdkafka keeps
                // reconnecting on its own, so the consumer reports it and waits for the next
                // message. Only a fatal error ends it.
                Err(error @ KafkaError::MessageConsumptionFatal(_)) => return Err(kafka("receiving")(error)),
                Err(error) => {
                    tracing::warn!(%error, cause = receive_error_cause(&error), "consumer: receiving failed; retrying");
                    continue;
                }
            };
            let done = tokio::select! {
                _ = &mut stop => false,
                done = self.handle(&message) => done?,
            };
            if !done {
                break;
            }
            self.store_offset(message.topic(), message.partition(), message.offset())?;
        }
        self.commit().await
    }
    // ANCHOR_END: consume

    // ANCHOR: store_offset
    /// Marks the message at `offset` processed, so that the background commit moves past it.
    ///
    /// librdkafka refuses to store an offset of a partition this consumer no longer has. That is
    /// an ordinary ending, not a failure: the message's effect is committed in the consumer's
    /// database, the partition's new owner reads the message again from the group's last
    /// committed offset, and its inbox finds the event recorded. (This loop serves rebalances
    /// inside `recv`, between messages, so a revocation reaches it after the offset is stored;
    /// a consumer taken out of its group while it processes, for polling too late, still stores
    /// it, and the commit that follows is refused. `tests/it/rebalance.rs` shows both survived.)
    pub fn store_offset(&self, topic: &str, partition: i32, offset: i64) -> Result<(), ConsumerError> {
        let stored = self.consumer.store_offset(topic, partition, offset);
        if partition_revoked(&stored) {
            self.counters.revoked.fetch_add(1, Ordering::Relaxed);
            tracing::info!(
                topic,
                partition,
                offset,
                "consumer: the partition was revoked while its message was processed; its new owner reads it again"
            );
            return Ok(());
        }
        stored.map_err(kafka("storing an offset"))
    }
    // ANCHOR_END: store_offset

    /// Consumes while `work` runs, and returns what `work` returns once the consumer has stopped
    /// and committed: for a tour or a test that drives a scenario beside a running consumer.
    pub async fn run_during<T>(&self, work: impl Future<Output = T>) -> Result<T, ConsumerError> {
        let (consumed, output) = crate::alongside::alongside(|stop| self.run_until(stop), work).await;
        consumed.map(|()| output)
    }

    /// Processes one message; `Ok(true)` when its offset may be stored.
    async fn handle(&self, message: &BorrowedMessage<'_>) -> Result<bool, ConsumerError> {
        let event = match Event::from_message(message) {
            Ok(event) => event,
            Err(malformed) => {
                self.dead_letter(message, &malformed.to_string(), 1).await?;
                return Ok(true);
            }
        };
        let mut outages = 0;
        loop {
            match self.processor.process(&event).await {
                Ok(Processed::Applied) => {
                    self.counters.applied.fetch_add(1, Ordering::Relaxed);
                    return Ok(true);
                }
                Ok(Processed::Duplicate) => {
                    self.counters.duplicates.fetch_add(1, Ordering::Relaxed);
                    return Ok(true);
                }
                Err(HandlerError::Rejected(reason)) => {
                    self.dead_letter(message, &reason, self.attempts).await?;
                    return Ok(true);
                }
                Err(HandlerError::Unavailable(reason)) => {
                    outages += 1;
                    self.counters.unavailable.fetch_add(1, Ordering::Relaxed);
                    let pause = self.backoff.delay(outages);
                    tracing::warn!(%reason, event = %event.id, ?pause, "consumer: dependency down, will retry the event");
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }

    /// Parks `message` in the dead-letter topic: same key, body and headers, plus the error.
    async fn dead_letter(
        &self,
        message: &BorrowedMessage<'_>,
        error: &str,
        attempts: u32,
    ) -> Result<(), ConsumerError> {
        tracing::warn!(
            error,
            topic = message.topic(),
            offset = message.offset(),
            "consumer: dead-lettering a message"
        );
        let attempts = attempts.to_string();
        let mut headers = OwnedHeaders::new();
        for header in message.headers().into_iter().flat_map(|headers| headers.iter()) {
            headers = headers.insert(header);
        }
        let headers = headers
            .insert(Header {
                key: ERROR_HEADER,
                value: Some(error),
            })
            .insert(Header {
                key: ATTEMPTS_HEADER,
                value: Some(&attempts),
            });
        // ANCHOR: dead_letter_send
        // The message's offset is stored only after this returns, so the dead letter is never
        // lost: each send is bounded, and while the broker is away it is tried again, backing off,
        // for as long as it takes. A stop meanwhile leaves the offset where it was, and the
        // message comes again.
        let mut failures = 0;
        loop {
            let mut record = FutureRecord::<[u8], [u8]>::to(&self.dead_letter_topic).headers(headers.clone());
            if let Some(key) = message.key() {
                record = record.key(key);
            }
            if let Some(body) = message.payload() {
                record = record.payload(body);
            }
            let producer = self.dead_letters.current();
            match producer.send(record, Timeout::After(DEAD_LETTER_SEND)).await {
                Ok(_) => break,
                Err((error, _)) => {
                    self.dead_letters.replace_if_fatal(&producer, &error);
                    failures += 1;
                    let pause = self.backoff.delay(failures);
                    tracing::warn!(%error, ?pause, "consumer: the dead-letter topic did not take the message; retrying");
                    tokio::time::sleep(pause).await;
                }
            }
        }
        // ANCHOR_END: dead_letter_send
        self.counters.dead_lettered.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Commits the stored offsets now. Right after the broker comes back, the group's coordinator
    /// may not be found yet (`WaitingForCoordinator`): that is waited for, backing off, up to
    /// [`COMMIT_PATIENCE`]. After that the error stands, and nothing is lost: the group resumes
    /// from its last commit, and the inbox absorbs what comes again.
    async fn commit(&self) -> Result<(), ConsumerError> {
        let started = std::time::Instant::now();
        let mut failures = 0;
        loop {
            match self.consumer.commit_consumer_state(CommitMode::Sync) {
                // Nothing stored since the last commit.
                Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => return Ok(()),
                Err(KafkaError::ConsumerCommit(code))
                    if coordinator_not_ready(code) && started.elapsed() < COMMIT_PATIENCE =>
                {
                    failures += 1;
                    let pause = self.backoff.delay(failures);
                    tracing::warn!(
                        ?code,
                        ?pause,
                        "consumer: the group's coordinator is not ready; committing again"
                    );
                    tokio::time::sleep(pause).await;
                }
                other => return other.map_err(kafka("committing offsets")),
            }
        }
    }
}

/// How long a commit waits for the group's coordinator to be found again.
const COMMIT_PATIENCE: Duration = Duration::from_secs(15);

/// The commit errors that mean "the coordinator is moving or not found yet", which a later try
/// gets past, as opposed to a commit the broker refuses.
fn coordinator_not_ready(code: RDKafkaErrorCode) -> bool {
    matches!(
        code,
        RDKafkaErrorCode::WaitingForCoordinator
            | RDKafkaErrorCode::CoordinatorLoadInProgress
            | RDKafkaErrorCode::CoordinatorNotAvailable
            | RDKafkaErrorCode::NotCoordinator
    )
}

/// The offsets group `group` has committed on `topic`, per partition (`None`: nothing committed).
pub fn committed_offsets(
    mut config: ClientConfig,
    group: &str,
    topic: &str,
    partitions: i32,
) -> Result<Vec<Option<i64>>, ConsumerError> {
    let consumer: rdkafka::consumer::BaseConsumer = config
        .set("group.id", group)
        .create()
        .map_err(kafka("creating a consumer to read offsets"))?;
    let mut wanted = TopicPartitionList::new();
    for partition in 0..partitions {
        wanted.add_partition(topic, partition);
    }
    let committed = consumer
        .committed_offsets(wanted, Timeout::After(Duration::from_secs(10)))
        .map_err(kafka("reading committed offsets"))?;
    Ok(committed
        .elements()
        .iter()
        .map(|element| match element.offset() {
            Offset::Offset(offset) => Some(offset),
            _ => None,
        })
        .collect())
}

/// Whether storing an offset failed because the partition is no longer this consumer's:
/// librdkafka's "erroneous state" for a partition that is not in the current assignment.
fn partition_revoked(stored: &rdkafka::error::KafkaResult<()>) -> bool {
    matches!(stored, Err(KafkaError::StoreOffset(RDKafkaErrorCode::State)))
}

/// What a receive error means, in words: librdkafka's error code says which of several quite
/// different things happened, and a log that calls them all "unreachable" sends an operator to
/// the wrong place.
fn receive_error_cause(error: &KafkaError) -> &'static str {
    use rdkafka::types::RDKafkaErrorCode::*;
    match error.rdkafka_error_code() {
        Some(PollExceeded) => {
            "more than max.poll.interval.ms passed between two polls (processing was slow or blocked, \
             its database down, say): the consumer left its group and rejoins"
        }
        Some(BrokerTransportFailure | AllBrokersDown | NetworkException | RequestTimedOut) => {
            "the broker is unreachable"
        }
        Some(UnknownTopicOrPartition | UnknownTopic | UnknownPartition) => "the topic or partition does not exist",
        Some(TopicAuthorizationFailed | GroupAuthorizationFailed) => "the broker refuses this consumer access",
        _ => "librdkafka reported an error (see `error`)",
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    use rstest::rstest;

    use super::*;
    use crate::inbox::MockProcess;

    #[rstest]
    #[case::waiting(RDKafkaErrorCode::WaitingForCoordinator, true)]
    #[case::loading(RDKafkaErrorCode::CoordinatorLoadInProgress, true)]
    #[case::unavailable(RDKafkaErrorCode::CoordinatorNotAvailable, true)]
    #[case::moved(RDKafkaErrorCode::NotCoordinator, true)]
    #[case::refused(RDKafkaErrorCode::GroupAuthorizationFailed, false)]
    #[case::rebalanced(RDKafkaErrorCode::RebalanceInProgress, false)]
    fn a_commit_waits_only_for_a_coordinator_that_is_not_ready_yet(
        #[case] code: RDKafkaErrorCode,
        #[case] waits: bool,
    ) {
        assert_eq!(coordinator_not_ready(code), waits, "{code:?}");
    }

    /// A poll interval overrun (the consumer's database was down longer than the interval) is
    /// named as such in the log, not called an unreachable broker.
    #[rstest]
    #[case::poll_interval(rdkafka::types::RDKafkaErrorCode::PollExceeded, "max.poll.interval.ms")]
    #[case::broker_down(rdkafka::types::RDKafkaErrorCode::AllBrokersDown, "the broker is unreachable")]
    #[case::no_topic(rdkafka::types::RDKafkaErrorCode::UnknownTopicOrPartition, "does not exist")]
    #[case::refused(
        rdkafka::types::RDKafkaErrorCode::GroupAuthorizationFailed,
        "refuses this consumer access"
    )]
    #[case::other(rdkafka::types::RDKafkaErrorCode::MessageSizeTooLarge, "see `error`")]
    fn a_receive_error_is_named_by_its_librdkafka_code(
        #[case] code: rdkafka::types::RDKafkaErrorCode,
        #[case] said: &str,
    ) {
        let cause = receive_error_cause(&KafkaError::MessageConsumption(code));
        assert!(cause.contains(said), "{code:?}: {cause}");
    }

    /// Only librdkafka's "not in the assignment" is a revoked partition; any other refusal to
    /// store an offset is an error of the consumer's.
    #[rstest]
    #[case::revoked(Err(KafkaError::StoreOffset(RDKafkaErrorCode::State)), true)]
    #[case::unknown_partition(Err(KafkaError::StoreOffset(RDKafkaErrorCode::UnknownPartition)), false)]
    #[case::stored(Ok(()), false)]
    fn only_a_partition_outside_the_assignment_counts_as_revoked(
        #[case] stored: rdkafka::error::KafkaResult<()>,
        #[case] revoked: bool,
    ) {
        assert_eq!(partition_revoked(&stored), revoked);
    }

    #[rstest]
    #[case::first_time_lucky(0, 1, Ok(Processed::Applied))]
    #[case::after_two_failures(2, 3, Ok(Processed::Applied))]
    #[case::gives_up_after_three(5, 3, Err("rejected: bad"))]
    #[tokio::test(start_paused = true)]
    async fn retry_tries_again_until_success_or_its_attempts_are_spent(
        #[case] failures: usize,
        #[case] calls: usize,
        #[case] expected: Result<Processed, &str>,
    ) {
        let event = Event::new("user_registered", "u-1", serde_json::Value::Null);
        let seen = Arc::new(AtomicUsize::new(0));
        let mut inner = MockProcess::new();
        let (counter, id) = (seen.clone(), event.id);
        inner
            .expect_process()
            .withf(move |given| given.id == id)
            .times(calls)
            .returning(move |_| {
                let call = counter.fetch_add(1, Ordering::SeqCst);
                Box::pin(async move {
                    if call < failures {
                        Err(HandlerError::Rejected("bad".into()))
                    } else {
                        Ok(Processed::Applied)
                    }
                })
            });
        let retry = Retry {
            inner,
            attempts: 3,
            backoff: Backoff::default(),
        };
        let outcome = retry.process(&event).await.map_err(|error| error.to_string());
        assert_eq!(outcome, expected.map_err(str::to_owned));
        assert_eq!(seen.load(Ordering::SeqCst), calls);
    }
}
