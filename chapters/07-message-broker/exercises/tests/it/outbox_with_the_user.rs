//! Exercise `outbox_with_the_user`: with the broker cut the event is kept; with the session
//! killed at the event, the user is not.

use ch03_transaction_manager::SqlManager;
use ch07_exercises::outbox_with_the_user::Registration;
use ch07_message_broker::migrations::POSTGRES;
use ch07_message_broker::{KafkaPublisher, Outbox, Users};
use harness::{DedicatedKafka, KafkaScope, PgDatabase};

/// The users service on a PostgreSQL database of the test's own.
struct Service {
    db: PgDatabase,
    tm: SqlManager<sqlx::Postgres>,
    users: Users<sqlx::Postgres>,
    outbox: Outbox<sqlx::Postgres>,
}

impl Service {
    async fn new() -> anyhow::Result<Self> {
        let db = PgDatabase::new(&POSTGRES).await?;
        let tm = SqlManager::new(db.pool().clone());
        Ok(Self {
            users: Users::new(tm.clone()),
            outbox: Outbox::new(tm.clone()),
            tm,
            db,
        })
    }

    fn registration<'a>(&'a self, publisher: &'a KafkaPublisher) -> Registration<'a, KafkaPublisher> {
        Registration {
            tm: &self.tm,
            users: &self.users,
            outbox: &self.outbox,
            publisher,
        }
    }

    async fn count(&self, query: &'static str) -> anyhow::Result<i64> {
        Ok(sqlx::query_scalar(query).fetch_one(self.db.pool()).await?)
    }
}

#[tokio::test]
async fn with_the_broker_cut_the_user_and_its_event_are_kept_together() -> anyhow::Result<()> {
    let broker = DedicatedKafka::start().await?;
    let kafka = broker.scope();
    let topic = kafka.create_topic("users", 1).await?;
    let publisher = KafkaPublisher::new(kafka.producer_config(), &topic)?;
    let service = Service::new().await?;

    broker.proxy().cut().await;
    let registered = service.registration(&publisher).register("ada@example.com").await;
    broker.proxy().restore();

    let user = registered.map_err(|error| anyhow::anyhow!("registering failed with the broker away: {error}"))?;
    assert_eq!(service.count("SELECT count(*) FROM users").await?, 1);
    let kept: Vec<String> = sqlx::query_scalar("SELECT aggregate_id FROM outbox WHERE kind = 'user_registered'")
        .fetch_all(service.db.pool())
        .await?;
    assert_eq!(
        kept,
        [user.to_string()],
        "the outbox must hold the user's event for the relay"
    );
    Ok(())
}

#[tokio::test]
async fn a_session_killed_as_the_event_is_written_leaves_no_user() -> anyhow::Result<()> {
    let kafka = KafkaScope::new().await?;
    let topic = kafka.create_topic("users", 1).await?;
    let publisher = KafkaPublisher::new(kafka.producer_config(), &topic)?;
    let service = Service::new().await?;
    harness::killed_session::on_first_write(service.db.pool(), "outbox").await?;

    let registered = service.registration(&publisher).register("ada@example.com").await;

    assert!(
        registered.is_err(),
        "the session died as the event was written: {registered:?}"
    );
    assert_eq!(
        service.count("SELECT count(*) FROM users").await?,
        0,
        "a user was left without their event"
    );
    Ok(())
}
