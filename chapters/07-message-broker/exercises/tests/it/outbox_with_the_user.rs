//! Exercise `outbox_with_the_user`: with the broker cut the event is kept; with the session
//! killed at the event, the user is not.

use ch03_transaction_manager::SqlManager;
use ch07_exercises::outbox_with_the_user::Registration;
use ch07_message_broker::migrations::POSTGRES;
use ch07_message_broker::{KafkaPublisher, Outbox, Users};
use harness::{DedicatedKafka, KafkaScope, PgDatabase};

async fn count(db: &PgDatabase, query: &'static str) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(query).fetch_one(db.pool()).await?)
}

#[tokio::test]
async fn with_the_broker_cut_the_user_and_its_event_are_kept_together() -> anyhow::Result<()> {
    let broker = DedicatedKafka::start().await?;
    let kafka = broker.scope();
    let topic = kafka.create_topic("users", 1).await?;
    let publisher = KafkaPublisher::new(kafka.producer_config(), &topic)?;
    let db = PgDatabase::new(&POSTGRES).await?;
    let tm = SqlManager::new(db.pool().clone());
    let (users, outbox) = (Users::new(tm.clone()), Outbox::new(tm.clone()));
    let registration = Registration {
        tm: &tm,
        users: &users,
        outbox: &outbox,
        publisher: &publisher,
    };

    broker.proxy().cut().await;
    let registered = registration.register("ada@example.com").await;
    broker.proxy().restore();

    let user = registered.map_err(|error| anyhow::anyhow!("registering failed with the broker away: {error}"))?;
    assert_eq!(count(&db, "SELECT count(*) FROM users").await?, 1);
    let kept: Vec<String> = sqlx::query_scalar("SELECT aggregate_id FROM outbox WHERE kind = 'user_registered'")
        .fetch_all(db.pool())
        .await?;
    assert_eq!(
        kept,
        [user.to_string()],
        "the outbox must hold the user's event for the relay"
    );
    Ok(())
}

/// Makes the server kill the session that writes an event to the outbox.
const KILL_THE_SESSION_AT_THE_EVENT: &str = r#"
CREATE FUNCTION die() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_terminate_backend(pg_backend_pid());
    RETURN NEW;
END $$;
CREATE TRIGGER die BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION die();
"#;

#[tokio::test]
async fn a_session_killed_as_the_event_is_written_leaves_no_user() -> anyhow::Result<()> {
    let kafka = KafkaScope::new().await?;
    let topic = kafka.create_topic("users", 1).await?;
    let publisher = KafkaPublisher::new(kafka.producer_config(), &topic)?;
    let db = PgDatabase::new(&POSTGRES).await?;
    sqlx::raw_sql(KILL_THE_SESSION_AT_THE_EVENT).execute(db.pool()).await?;
    let tm = SqlManager::new(db.pool().clone());
    let (users, outbox) = (Users::new(tm.clone()), Outbox::new(tm.clone()));
    let registration = Registration {
        tm: &tm,
        users: &users,
        outbox: &outbox,
        publisher: &publisher,
    };

    let registered = registration.register("ada@example.com").await;

    assert!(
        registered.is_err(),
        "the session died as the event was written: {registered:?}"
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM users").await?,
        0,
        "a user was left without their event"
    );
    Ok(())
}
