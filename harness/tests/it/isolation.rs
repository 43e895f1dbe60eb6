//! Tests that use the same names at the same time never see each other's data.
//!
//! Each test here makes two handles at once and writes the same table, key or topic through both:
//! what one writes, the other must not see. (The test runner also runs the tests themselves in
//! parallel processes, which is the everyday case this guards.)

use std::time::Duration;

use harness::{KafkaScope, RedisNamespace};
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use redis::AsyncCommands;
use rstest::rstest;

use crate::support::{Backend, Db};

// ANCHOR: isolation
#[rstest]
#[tokio::test]
async fn two_tests_writing_the_same_table_each_see_only_their_own_rows(
    #[values(Backend::Postgres, Backend::MySql, Backend::Sqlite)] backend: Backend,
) -> anyhow::Result<()> {
    let (first, second) = tokio::try_join!(Db::new(backend), Db::new(backend))?;
    if backend != Backend::Sqlite {
        assert_ne!(first.name(), second.name(), "two tests got the same database");
    }

    tokio::try_join!(first.insert("same-name", "first"), second.insert("same-name", "second"))?;

    assert_eq!(first.owners_of("same-name").await?, ["first"]);
    assert_eq!(second.owners_of("same-name").await?, ["second"]);
    Ok(())
}
// ANCHOR_END: isolation

#[tokio::test]
async fn two_tests_writing_the_same_redis_key_each_see_only_their_own_value() -> anyhow::Result<()> {
    let (first, second) = tokio::try_join!(RedisNamespace::new(), RedisNamespace::new())?;
    let (mut a, mut b) = (first.connection(), second.connection());

    let _: () = a.set(first.key("counter"), 1).await?;
    let _: () = b.set(second.key("counter"), 2).await?;
    let _: i64 = a.incr(first.key("counter"), 10).await?;

    let seen_by_first: i64 = a.get(first.key("counter")).await?;
    let seen_by_second: i64 = b.get(second.key("counter")).await?;
    assert_eq!((seen_by_first, seen_by_second), (11, 2));
    assert_eq!(first.keys().await?, [first.key("counter")]);
    Ok(())
}

#[tokio::test]
async fn two_tests_using_the_same_topic_name_each_read_only_their_own_events() -> anyhow::Result<()> {
    let (first, second) = tokio::try_join!(KafkaScope::new(), KafkaScope::new())?;
    let first_topic = first.create_topic("events", 1).await?;
    let second_topic = second.create_topic("events", 1).await?;
    assert_ne!(first_topic, second_topic);
    // One broker for both: only the names differ, the consumer groups' too.
    assert_eq!(first.brokers(), second.brokers());
    assert_eq!(first.brokers(), first.endpoint().url);
    assert_ne!(first.group("reader"), second.group("reader"));
    assert_eq!(
        first.create_topic("events", 1).await?,
        first_topic,
        "asking for a topic the scope already has is no error"
    );

    for (scope, topic, payload) in [
        (&first, &first_topic, "from first"),
        (&second, &second_topic, "from second"),
    ] {
        let producer: FutureProducer = scope.producer_config().create()?;
        producer
            .send(
                FutureRecord::to(topic).key("k").payload(payload),
                Duration::from_secs(5),
            )
            .await
            .map_err(|(error, _)| error)?;
    }

    assert_eq!(read_all(&first, &first_topic).await?, ["from first"]);
    assert_eq!(read_all(&second, &second_topic).await?, ["from second"]);
    Ok(())
}

/// Every payload on `topic`, read by the scope's group until the topic has been quiet for 2 s.
async fn read_all(scope: &KafkaScope, topic: &str) -> anyhow::Result<Vec<String>> {
    let consumer: StreamConsumer = scope.consumer_config("reader").create()?;
    consumer.subscribe(&[topic])?;
    let mut payloads = Vec::new();
    // The first message may take a while (group join); after it, silence means the end.
    let mut wait = Duration::from_secs(20);
    while let Ok(message) = tokio::time::timeout(wait, consumer.recv()).await {
        let message = message?;
        payloads.push(String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned());
        wait = Duration::from_secs(2);
    }
    Ok(payloads)
}
