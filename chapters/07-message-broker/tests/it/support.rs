//! What the chapter's tests share: a publishing service on each database, a consuming service's
//! own database, Kafka topics of the test's own, and ways to read what reached the broker.

use std::time::Duration;

use ch03_transaction_manager::SqlManager;
use ch07_message_broker::consumer::committed_offsets;
use ch07_message_broker::inbox::{self, Effect, InboxDb};
use ch07_message_broker::sql::EventDb;
use ch07_message_broker::{Backoff, Event, EventConsumer, Inbox, KafkaPublisher, Outbox, Retry, Users};
use harness::server::Server;
use harness::{KafkaScope, MySqlDatabase, PgDatabase, SqliteDatabase, TestDatabase};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::{ClientConfig, Message};
use sqlx::{MySql, Pool, Postgres, Sqlite};

pub use ch07_message_broker::migrations::{MYSQL, POSTGRES, SQLITE};

/// A fresh test database: its pool, the handle that drops it, and its URL for a child process
/// (PostgreSQL only).
pub type Opened<DB> = (Pool<DB>, Box<dyn std::any::Any + Send + Sync>, Option<String>);

/// What differs per database in these tests: how the publishing service's test database is made.
pub trait Backend: EventDb {
    /// A test database of its own, the handle that drops it, and its URL for a child process
    /// (PostgreSQL only).
    fn open() -> impl Future<Output = anyhow::Result<Opened<Self>>> + Send;
}

impl Backend for Postgres {
    async fn open() -> anyhow::Result<Opened<Self>> {
        let db = PgDatabase::new(&POSTGRES).await?;
        let url = db.url().to_owned();
        Ok((db.pool().clone(), Box::new(db), Some(url)))
    }
}

impl Backend for MySql {
    async fn open() -> anyhow::Result<Opened<Self>> {
        let db = MySqlDatabase::new(&MYSQL).await?;
        Ok((db.pool().clone(), Box::new(db), None))
    }
}

impl Backend for Sqlite {
    async fn open() -> anyhow::Result<Opened<Self>> {
        let db = SqliteDatabase::file(&SQLITE, 4, Duration::from_secs(10)).await?;
        Ok((db.pool().clone(), Box::new(db), None))
    }
}

/// A backend the tests can read back from. Implemented for every [`Backend`] sqlx can count
/// and read on, so a test says only `DB: TestDb`.
pub trait TestDb: Backend {
    /// The one number a `SELECT COUNT(*) ...` answers.
    fn count(conn: &mut Self::Connection, sql: &'static str) -> impl Future<Output = sqlx::Result<i64>> + Send;
    /// (aggregate id, kind) of the one event in the outbox.
    fn only_event(conn: &mut Self::Connection) -> impl Future<Output = sqlx::Result<(String, String)>> + Send;
}

impl<DB> TestDb for DB
where
    DB: Backend,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'q> i64: sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    async fn count(conn: &mut DB::Connection, sql: &'static str) -> sqlx::Result<i64> {
        sqlx::query_scalar(sql).fetch_one(conn).await
    }

    async fn only_event(conn: &mut DB::Connection) -> sqlx::Result<(String, String)> {
        sqlx::query_as("SELECT aggregate_id, kind FROM outbox")
            .fetch_one(conn)
            .await
    }
}

/// The users service on one database: its manager, its use cases, its outbox.
pub struct Publishing<DB: EventDb> {
    pub tm: SqlManager<DB>,
    pub users: Users<DB>,
    /// The database's URL, for a child process (PostgreSQL only).
    pub url: Option<String>,
    _database: Box<dyn std::any::Any + Send + Sync>,
}

impl<DB: TestDb> Publishing<DB> {
    /// The service on a fresh database of `DB`'s (the value only says which backend).
    pub async fn new(_backend: DB) -> anyhow::Result<Self> {
        let (pool, database, url) = DB::open().await?;
        let tm = SqlManager::new(pool);
        Ok(Self {
            users: Users::new(tm.clone()),
            tm,
            url,
            _database: database,
        })
    }

    pub fn outbox(&self) -> Outbox<DB> {
        Outbox::new(self.tm.clone())
    }

    /// Rows committed in the users table.
    pub async fn users_count(&self) -> anyhow::Result<i64> {
        let mut conn = self.tm.pool().acquire().await?;
        Ok(DB::count(&mut conn, "SELECT COUNT(*) FROM users").await?)
    }
}

/// A consuming service's own database, with its manager. The chapter's consumers run on
/// PostgreSQL; MariaDB's are here for what differs there (which content it refuses).
pub struct Consuming<DB: InboxDb + Server = Postgres> {
    pub db: TestDatabase<DB>,
    pub tm: SqlManager<DB>,
}

impl Consuming<Postgres> {
    pub async fn postgres() -> anyhow::Result<Self> {
        Ok(Self::on(PgDatabase::new(&inbox::migrations::POSTGRES).await?))
    }
}

impl Consuming<MySql> {
    pub async fn mysql() -> anyhow::Result<Self> {
        Ok(Self::on(MySqlDatabase::new(&inbox::migrations::MYSQL).await?))
    }
}

impl<DB: InboxDb + Server + TestDb> Consuming<DB> {
    fn on(db: TestDatabase<DB>) -> Self {
        let tm = SqlManager::new(db.pool().clone());
        Self { db, tm }
    }

    /// (welcomes, distinct users welcomed)
    pub async fn welcomes(&self) -> anyhow::Result<(i64, i64)> {
        let mut conn = self.tm.pool().acquire().await?;
        let welcomes = DB::count(&mut conn, "SELECT COUNT(*) FROM welcomes").await?;
        let users = DB::count(&mut conn, "SELECT COUNT(DISTINCT user_id) FROM welcomes").await?;
        Ok((welcomes, users))
    }
}

/// Retries quick enough for tests.
pub fn quick_retry<P>(inner: P, attempts: u32) -> Retry<P> {
    Retry {
        inner,
        attempts,
        backoff: Backoff {
            base: Duration::from_millis(5),
            max: Duration::from_millis(100),
        },
    }
}

/// A consumer in group `group` of `scope` applying `effect` to `topic`, with its record of
/// processed events in `tm`'s database, parking rejected events in `topic.dead-letter`.
pub fn consumer<DB: InboxDb, E: Effect<DB>>(
    scope: &KafkaScope,
    topic: &str,
    group: &str,
    tm: &SqlManager<DB>,
    effect: E,
) -> anyhow::Result<EventConsumer<Retry<Inbox<DB, E>>>> {
    consumer_with(scope.consumer_config(group), topic, group, tm, effect)
}

/// The same, with a client configuration of the test's own (`config` must name `scope.group(group)`).
pub fn consumer_with<DB: InboxDb, E: Effect<DB>>(
    config: ClientConfig,
    topic: &str,
    group: &str,
    tm: &SqlManager<DB>,
    effect: E,
) -> anyhow::Result<EventConsumer<Retry<Inbox<DB, E>>>> {
    let inbox = Inbox::new(tm.clone(), group, effect);
    Ok(EventConsumer::new(
        config,
        topic,
        format!("{topic}.dead-letter"),
        quick_retry(inbox, 3),
    )?)
}

pub fn publisher(scope: &KafkaScope, topic: &str) -> anyhow::Result<KafkaPublisher> {
    Ok(KafkaPublisher::new(scope.producer_config(), topic)?)
}

/// The kind of the events [`nudge`] sends, which tests leave out of what they count.
pub const NUDGE: &str = "test_nudge";

/// One event of kind [`NUDGE`] to each partition of `topic`, each in a produce request of its own.
/// tansu, the harness's broker without Docker, makes the last record of a multi-record request
/// visible only once the next request arrives (pinned by the harness's `broker.rs`); a test that
/// reads everything a relay published sends these after the relay is done.
pub async fn nudge(scope: &KafkaScope, topic: &str, partitions: i32) -> anyhow::Result<()> {
    let producer: rdkafka::producer::FutureProducer = scope.producer_config().create()?;
    for partition in 0..partitions {
        let event = Event::new(NUDGE, "nudge", serde_json::Value::Null);
        let body = event.body();
        producer
            .send(
                rdkafka::producer::FutureRecord::to(topic)
                    .partition(partition)
                    .key("nudge")
                    .payload(&body),
                Duration::from_secs(5),
            )
            .await
            .map_err(|(error, _)| error)?;
    }
    Ok(())
}

/// The events on `topic` so far: reads from the start until `expected` have come, or fails
/// after `limit` saying how many did.
pub async fn read_all(scope: &KafkaScope, topic: &str, expected: usize, limit: Duration) -> anyhow::Result<Vec<Event>> {
    read_raw(scope, topic, expected, limit)
        .await?
        .iter()
        .map(|message| Ok(serde_json::from_slice(message.payload().unwrap_or_default())?))
        .collect()
}

/// The raw messages on `topic` (key, body, headers), for dead letters.
pub async fn read_raw(
    scope: &KafkaScope,
    topic: &str,
    expected: usize,
    limit: Duration,
) -> anyhow::Result<Vec<rdkafka::message::OwnedMessage>> {
    let consumer = reader(scope, topic)?;
    let mut messages = Vec::with_capacity(expected);
    let deadline = tokio::time::Instant::now() + limit;
    while messages.len() < expected {
        let message = tokio::time::timeout_at(deadline, consumer.recv())
            .await
            .map_err(|_| anyhow::anyhow!("{} of {expected} messages on {topic} after {limit:?}", messages.len()))??;
        messages.push(message.detach());
    }
    Ok(messages)
}

fn reader(scope: &KafkaScope, topic: &str) -> anyhow::Result<StreamConsumer> {
    let reader = format!("reader-{}", uuid::Uuid::now_v7());
    let consumer: StreamConsumer = scope.consumer_config(&reader).create()?;
    consumer.subscribe(&[topic])?;
    Ok(consumer)
}

/// How many messages `topic` holds: the sum of its partitions' high watermarks. Deterministic,
/// unlike waiting for messages that should not come.
pub fn messages_on(scope: &KafkaScope, topic: &str, partitions: i32) -> anyhow::Result<i64> {
    let consumer: rdkafka::consumer::BaseConsumer = scope.client_config().create()?;
    let mut total = 0;
    for partition in 0..partitions {
        let (low, high) = consumer.fetch_watermarks(topic, partition, Duration::from_secs(10))?;
        total += high - low;
    }
    Ok(total)
}

/// The offsets group `group` (a scope-relative name) has committed on `topic`.
pub fn committed(scope: &KafkaScope, group: &str, topic: &str, partitions: i32) -> anyhow::Result<Vec<Option<i64>>> {
    Ok(committed_offsets(
        ClientConfig::clone(&scope.client_config()),
        &scope.group(group),
        topic,
        partitions,
    )?)
}
