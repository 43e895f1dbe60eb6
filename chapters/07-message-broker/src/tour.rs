//! The chapter's tour: the naive dual write losing an event while the broker is down; the outbox
//! keeping it and delivering it when the broker returns; a duplicate delivery absorbed by the
//! consumer; a poison event parked in the dead-letter topic.
//!
//! Embedded, it runs on SQLite in memory and librdkafka's in-process mock cluster, whose broker
//! can be taken down and up; with `--real`, on PostgreSQL and a Kafka broker of its own (tansu, or
//! a container) behind a fault proxy.

use std::sync::atomic::Ordering;
use std::time::Duration;

use ch03_transaction_manager::{Ctx, SqlManager};
use harness::narrator::Narrator;
use harness::tour::Services;
use harness::{CountRows, DedicatedKafka, PgDatabase, SqliteDatabase};
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use sqlx::Pool;

use crate::backoff::Backoff;
use crate::consumer::{ERROR_HEADER, EventConsumer, Retry};
use crate::event::Event;
use crate::inbox::{Inbox, InboxDb, Welcome};
use crate::publisher::{KafkaPublisher, Publisher};
use crate::relay::{Relay, RelayConfig};
use crate::sql::EventDb;
use crate::users::Users;

/// A broker the tour can take away and bring back.
enum Broker {
    Mock(MockCluster<'static, DefaultProducerContext>),
    Dedicated(DedicatedKafka),
}

impl Broker {
    async fn start(services: Services) -> anyhow::Result<Self> {
        Ok(match services {
            Services::Embedded => {
                let cluster = MockCluster::new(1)?;
                cluster.create_topic("users", 1, 1)?;
                cluster.create_topic("users.dead-letter", 1, 1)?;
                Broker::Mock(cluster)
            }
            Services::Real => {
                let broker = DedicatedKafka::start().await?;
                // Topics named plainly: this broker is the tour's alone.
                let admin: AdminClient<_> = broker.scope().client_config().create()?;
                let topics =
                    ["users", "users.dead-letter"].map(|name| NewTopic::new(name, 1, TopicReplication::Fixed(1)));
                for created in admin.create_topics(&topics, &AdminOptions::new()).await? {
                    created.map_err(|(topic, code)| anyhow::anyhow!("creating topic {topic}: {code}"))?;
                }
                Broker::Dedicated(broker)
            }
        })
    }

    fn servers(&self) -> String {
        match self {
            Broker::Mock(cluster) => cluster.bootstrap_servers(),
            Broker::Dedicated(broker) => broker.endpoint().url.clone(),
        }
    }

    async fn down(&self) -> anyhow::Result<()> {
        match self {
            Broker::Mock(cluster) => cluster.broker_down(1)?,
            Broker::Dedicated(broker) => broker.proxy().cut().await,
        }
        Ok(())
    }

    fn up(&self) -> anyhow::Result<()> {
        match self {
            Broker::Mock(cluster) => cluster.broker_up(1)?,
            Broker::Dedicated(broker) => broker.proxy().restore(),
        }
        Ok(())
    }

    fn config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", self.servers())
            .set("message.timeout.ms", "1500")
            .set("reconnect.backoff.max.ms", "250");
        config
    }

    /// How many messages `topic` (one partition) holds.
    fn messages_on(&self, topic: &str) -> anyhow::Result<i64> {
        let consumer: BaseConsumer = self.config().create()?;
        let (low, high) = consumer.fetch_watermarks(topic, 0, Duration::from_secs(5))?;
        Ok(high - low)
    }
}

/// The scenes, written once for every database: `users_pool` is the users service's database,
/// `consumer_pool` the welcome service's.
async fn scenes<DB: EventDb + InboxDb + CountRows>(
    narrator: &mut Narrator,
    broker: &Broker,
    users_pool: &Pool<DB>,
    consumer_pool: &Pool<DB>,
) -> anyhow::Result<()> {
    let tm = SqlManager::new(users_pool.clone());
    let users = Users::new(tm.clone());
    let publisher = KafkaPublisher::new(broker.config(), "users")?;
    narrator.step("Commit, then publish, with the broker down");
    broker.down().await?;
    match users.register_then_publish("ada@example.com", &publisher).await {
        Err(error) => narrator.broke(&format!("the publish failed: {error}")),
        Ok(_) => anyhow::bail!("a publish succeeded with the broker down"),
    }
    broker.up()?;
    let (registered, on_topic) = (DB::count_rows(users_pool, "users").await?, broker.messages_on("users")?);
    anyhow::ensure!(
        (registered, on_topic) == (1, 0),
        "expected Ada registered and no event on the topic, found {registered} user(s) and {on_topic} event(s)"
    );
    narrator.broke(&format!(
        "Ada is registered ({registered} user), and with the broker back, the topic holds {on_topic} events: \
         hers is lost, and no retry knows it should be sent"
    ));

    narrator.step("The outbox, with the broker down");
    broker.down().await?;
    let bob = users.register(&Ctx::new(), "bob@example.com").await?;
    let relay = Relay::new(
        crate::outbox::Outbox::new(tm.clone()),
        publisher,
        RelayConfig::default(),
    );
    if let Err(error) = relay.drain().await {
        narrator.say(&format!("the relay cannot publish: {error}"));
    }
    let waiting = crate::outbox::OutboxStore::lag(relay.store()).await?.backlog;
    anyhow::ensure!(
        waiting == 1,
        "expected Bob's event waiting in the outbox, found a backlog of {waiting}"
    );
    narrator.held(&format!(
        "Bob is registered and his event waits in the outbox (backlog {waiting})"
    ));
    broker.up()?;
    let published = harness::eventually::try_eventually(Duration::from_secs(20), || relay.drain())
        .await
        .map_err(|gave| anyhow::anyhow!("the relay could not publish after the broker returned: {}", gave.last))?;
    let (on_topic, backlog) = (
        broker.messages_on("users")?,
        crate::outbox::OutboxStore::lag(relay.store()).await?.backlog,
    );
    anyhow::ensure!(
        (published, on_topic, backlog) == (1, 1, 0),
        "expected 1 event published, on the topic and none waiting; found {published}, {on_topic}, {backlog}"
    );
    narrator.held(&format!(
        "broker back: the relay published {published} event; the topic holds {on_topic}; backlog {backlog}"
    ));

    narrator.step("A duplicate delivery");
    let relayed = first_event(broker)?;
    anyhow::ensure!(
        relayed.aggregate_id == bob.to_string(),
        "the first event on the topic is not Bob's"
    );
    KafkaPublisher::new(broker.config(), "users")?
        .publish(&[relayed])
        .await?;
    narrator.say("Bob's event is published a second time, as by a relay that died before deleting it.");
    let welcome = EventConsumer::new(
        consumer_config(broker, "welcome"),
        "users",
        "users.dead-letter",
        Retry {
            inner: Inbox::new(SqlManager::new(consumer_pool.clone()), "welcome", Welcome),
            attempts: 3,
            backoff: Backoff {
                base: Duration::from_millis(10),
                max: Duration::from_millis(100),
            },
        },
    )?;
    let consumed = |wanted: u64| {
        let welcome = &welcome;
        async move {
            let counters = welcome.counters();
            let done = counters.applied.load(Ordering::Relaxed)
                + counters.duplicates.load(Ordering::Relaxed)
                + counters.dead_lettered.load(Ordering::Relaxed);
            if done >= wanted {
                Ok(())
            } else {
                Err(format!("{done} of {wanted} messages processed"))
            }
        }
    };
    consume_until(&welcome, || consumed(2)).await?;
    let welcomes = DB::count_rows(consumer_pool, "welcomes").await?;
    let (applied, duplicates) = (
        welcome.counters().applied.load(Ordering::Relaxed),
        welcome.counters().duplicates.load(Ordering::Relaxed),
    );
    anyhow::ensure!(
        (applied, duplicates, welcomes) == (1, 1, 1),
        "expected 1 applied, 1 duplicate and 1 welcome; found {applied}, {duplicates}, {welcomes}"
    );
    narrator.held(&format!(
        "the welcome service processed 2 deliveries: {applied} applied, {duplicates} recognised as seen; \
         Bob has {welcomes} welcome"
    ));

    narrator.step("A poison event");
    let poison = Event::new("user_registered", "user-x", serde_json::json!({ "user_id": "user-x" }));
    KafkaPublisher::new(broker.config(), "users")?
        .publish(&[poison])
        .await?;
    narrator.broke("an event without an email arrives; the welcome service cannot handle it, however often it tries");
    consume_until(&welcome, || consumed(3)).await?;
    let letter = dead_letter_error(broker)?;
    let parked = welcome.counters().dead_lettered.load(Ordering::Relaxed);
    anyhow::ensure!(
        parked == 1 && letter.contains("has no email"),
        "expected the poison event parked once with its reason; {parked} parked, error header {letter:?}"
    );
    narrator.held(&format!(
        "after 3 attempts it is parked in users.dead-letter ({ERROR_HEADER}: {letter}); the consumer moved on"
    ));
    Ok(())
}

/// The first event on `users`: the one the relay published.
fn first_event(broker: &Broker) -> anyhow::Result<Event> {
    let message = read_first(broker, "users")?;
    Ok(serde_json::from_slice(
        rdkafka::Message::payload(&message).unwrap_or_default(),
    )?)
}

/// The error header of the first dead letter.
fn dead_letter_error(broker: &Broker) -> anyhow::Result<String> {
    let message = read_first(broker, "users.dead-letter")?;
    Ok(crate::event::header_of(&message, ERROR_HEADER).unwrap_or_default())
}

fn read_first(broker: &Broker, topic: &str) -> anyhow::Result<rdkafka::message::OwnedMessage> {
    let consumer: BaseConsumer = consumer_config(broker, &format!("tour-reader-{}", uuid::Uuid::now_v7())).create()?;
    consumer.subscribe(&[topic])?;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        if let Some(message) = consumer.poll(Duration::from_millis(200)) {
            return Ok(message?.detach());
        }
    }
    anyhow::bail!("nothing on {topic} after 20 s")
}

fn consumer_config(broker: &Broker, group: &str) -> ClientConfig {
    let mut config = broker.config();
    config
        .set("group.id", group)
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "6000");
    config
}

/// Runs `consumer` until `done` says so (or 30 s pass).
async fn consume_until<P, F, Fut>(consumer: &EventConsumer<P>, done: F) -> anyhow::Result<()>
where
    P: crate::inbox::Process,
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    consumer
        .run_during(harness::eventually::try_eventually(Duration::from_secs(30), done))
        .await?
        .map_err(|gave| anyhow::anyhow!("the consumer did not get there: {}", gave.last))
}

pub async fn run(services: Services, narrator: &mut Narrator) -> anyhow::Result<()> {
    narrator.title(
        "07 the message broker: the outbox and idempotent consumers",
        "A registration is announced on Kafka. Saved and then published, the announcement is lost \
         when the broker is down; written to an outbox in the registration's transaction, it waits \
         and goes out when the broker is back. Consumers absorb the duplicates this allows.",
    );
    let broker = Broker::start(services).await?;
    match services {
        Services::Embedded => {
            narrator.say(&format!(
                "Storage: SQLite in memory; Kafka: librdkafka's mock cluster at {} (run with --real for \
                 PostgreSQL and a real broker).",
                broker.servers()
            ));
            let users = SqliteDatabase::new(&crate::migrations::SQLITE).await?;
            let consumer = SqliteDatabase::new(&crate::inbox::migrations::SQLITE).await?;
            scenes(narrator, &broker, users.pool(), consumer.pool()).await
        }
        Services::Real => {
            narrator.say(&format!(
                "Storage: PostgreSQL; Kafka: a broker of the tour's own at {}, behind a fault proxy.",
                broker.servers()
            ));
            let users = PgDatabase::new(&crate::migrations::POSTGRES).await?;
            let consumer = PgDatabase::new(&crate::inbox::migrations::POSTGRES).await?;
            scenes(narrator, &broker, users.pool(), consumer.pool()).await
        }
    }
}
