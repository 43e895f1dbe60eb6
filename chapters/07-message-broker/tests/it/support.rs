//! What the chapter's tests share: a publishing service on each database, a consuming service's
//! own database, Kafka topics of the test's own, and ways to read what reached the broker.

use std::time::Duration;

use ch03_transaction_manager::{Dialect, SqlManager};
use ch07_message_broker::consumer::committed_offsets;
use ch07_message_broker::inbox::{self, Effect};
use ch07_message_broker::{Backoff, Event, EventConsumer, Inbox, KafkaPublisher, Outbox, Retry, Users};
use harness::{KafkaScope, MySqlDatabase, PgDatabase, SqliteDatabase};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::{ClientConfig, Message};
use sqlx::{MySql, Postgres, Sqlite};

pub use ch07_message_broker::migrations::{MYSQL, POSTGRES, SQLITE};

/// The users service on one database: its manager, its use cases, its outbox.
pub struct Publishing<DB: Dialect> {
    pub tm: SqlManager<DB>,
    pub users: Users<DB>,
    /// The database's URL, for a child process (PostgreSQL only).
    pub url: Option<String>,
    _database: Box<dyn std::any::Any + Send + Sync>,
}

impl<DB: Dialect> Publishing<DB>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    fn with(pool: sqlx::Pool<DB>, database: impl std::any::Any + Send + Sync) -> Self {
        let tm = SqlManager::new(pool);
        Self {
            users: Users::new(tm.clone()),
            tm,
            url: None,
            _database: Box::new(database),
        }
    }
}

impl<DB: Dialect> Publishing<DB> {
    pub fn outbox(&self) -> Outbox<DB> {
        Outbox::new(self.tm.clone())
    }
}

impl Publishing<Postgres> {
    pub async fn postgres() -> anyhow::Result<Self> {
        let db = PgDatabase::new(&POSTGRES).await?;
        let url = db.url().to_owned();
        Ok(Self {
            url: Some(url),
            ..Self::with(db.pool().clone(), db)
        })
    }
}

impl Publishing<MySql> {
    pub async fn mysql() -> anyhow::Result<Self> {
        let db = MySqlDatabase::new(&MYSQL).await?;
        Ok(Self::with(db.pool().clone(), db))
    }
}

impl Publishing<Sqlite> {
    pub async fn sqlite() -> anyhow::Result<Self> {
        let db = SqliteDatabase::file(&SQLITE, 4, Duration::from_secs(10)).await?;
        Ok(Self::with(db.pool().clone(), db))
    }
}

/// Rows in a table, on any of the three databases.
#[macro_export]
macro_rules! count {
    ($pool:expr, $table:literal) => {{
        let n: i64 = sqlx::query_scalar(concat!("SELECT COUNT(*) FROM ", $table))
            .fetch_one($pool)
            .await?;
        n
    }};
}

/// One test body on the publishing service over PostgreSQL, MariaDB and SQLite:
/// `each_backend!(async fn name(publishing) { ... })` makes `name::postgres`, `name::mysql` and
/// `name::sqlite`.
#[macro_export]
macro_rules! each_backend {
    ($(#[doc = $doc:literal])* async fn $name:ident($publishing:ident) $body:block) => {
        $(#[doc = $doc])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn postgres() -> anyhow::Result<()> {
                let $publishing = $crate::support::Publishing::postgres().await?;
                $body
            }

            #[tokio::test]
            async fn mysql() -> anyhow::Result<()> {
                let $publishing = $crate::support::Publishing::mysql().await?;
                $body
            }

            #[tokio::test]
            async fn sqlite() -> anyhow::Result<()> {
                let $publishing = $crate::support::Publishing::sqlite().await?;
                $body
            }
        }
    };
}

/// A consuming service's own database (PostgreSQL), with its manager.
pub struct Consuming {
    pub db: PgDatabase,
    pub tm: SqlManager<Postgres>,
}

impl Consuming {
    pub async fn postgres() -> anyhow::Result<Self> {
        let db = PgDatabase::new(&inbox::migrations::POSTGRES).await?;
        let tm = SqlManager::new(db.pool().clone());
        Ok(Self { db, tm })
    }

    /// (welcomes, distinct users welcomed)
    pub async fn welcomes(&self) -> anyhow::Result<(i64, i64)> {
        Ok(sqlx::query_as("SELECT COUNT(*), COUNT(DISTINCT user_id) FROM welcomes")
            .fetch_one(self.db.pool())
            .await?)
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
pub fn consumer<E: Effect<Postgres>>(
    scope: &KafkaScope,
    topic: &str,
    group: &str,
    tm: &SqlManager<Postgres>,
    effect: E,
) -> anyhow::Result<EventConsumer<Retry<Inbox<Postgres, E>>>> {
    let inbox = Inbox::new(tm.clone(), group, effect);
    Ok(EventConsumer::new(
        scope.consumer_config(group),
        topic,
        format!("{topic}.dead-letter"),
        quick_retry(inbox, 3),
    )?)
}

pub fn publisher(scope: &KafkaScope, topic: &str) -> anyhow::Result<KafkaPublisher> {
    Ok(KafkaPublisher::new(scope.producer_config(), topic)?)
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
