//! The harness's own tour: what every chapter's tests stand on, shown step by step.
//!
//! Two tests get databases of their own and write the same names without seeing each other; then a
//! connection is broken on purpose and brought back. Embedded, the databases are SQLite in memory
//! and the broken connection is librdkafka's in-process mock broker going down; with `--real`, they
//! are PostgreSQL databases cloned from a template, and the connection goes through a fault proxy.
//!
//! [`Services`] is the choice every chapter's tour takes: stand-ins or the real services.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{FutureProducer, FutureRecord};
use sqlx::postgres::PgPoolOptions;

use crate::fault::FaultProxy;
use crate::narrator::Narrator;
use crate::sample::{Backend, ItemsDb};
use crate::{HarnessError, PgDatabase};

/// Which services a tour runs on: the embedded stand-ins or the real ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Services {
    /// SQLite in memory, in-memory adapters, librdkafka's in-process mock cluster: runs anywhere.
    Embedded,
    /// The services the harness provisions (environment variables or Docker), as the tests use.
    Real,
}

/// The harness's own tour: isolation, clean-up and faults, shown on the chosen services.
pub async fn run(services: Services, narrator: &mut Narrator) -> Result<(), HarnessError> {
    narrator.title(
        "harness: real services, one test's data at a time, broken on purpose",
        "Every chapter's tests run against real services. The harness gives each test what it needs \
         and nobody else's data, and it can break the network between a test and a service.",
    );

    narrator.step("Two tests ask for a database at the same time");
    let backend = if services == Services::Real {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    let (first, second) = tokio::try_join!(ItemsDb::new(backend), ItemsDb::new(backend))?;
    narrator.say(&format!("first test:  {}", first.describe()));
    narrator.say(&format!("second test: {}", second.describe()));
    if services == Services::Real {
        narrator.say("Each is a copy of a template database that holds the migrated schema: a file copy, not a replay of every migration.");
    }

    narrator.step("Both write an item with the same name");
    tokio::try_join!(
        first.insert("apple", "first test"),
        second.insert("apple", "second test")
    )?;
    let (seen_by_first, seen_by_second) = tokio::try_join!(first.owners_of("apple"), second.owners_of("apple"))?;
    if seen_by_first != ["first test"] || seen_by_second != ["second test"] {
        return Err(HarnessError::Other(format!(
            "the tests saw each other's rows: {seen_by_first:?} and {seen_by_second:?}"
        )));
    }
    narrator.held(&format!(
        "the first test sees {seen_by_first:?}; the second sees {seen_by_second:?}"
    ));

    narrator.step("A connection breaks, and comes back");
    match services {
        Services::Embedded => broker_down_and_up(narrator).await?,
        Services::Real => cut_and_restore_postgres(narrator).await?,
    }

    narrator.step("The tests end");
    let names: Vec<String> = [&first, &second]
        .iter()
        .filter_map(|db| db.name().map(str::to_owned))
        .collect();
    drop((first, second));
    if names.is_empty() {
        narrator.held("the in-memory databases went away with their connections");
    } else {
        let left = databases_left(&names).await?;
        if !left.is_empty() {
            return Err(HarnessError::Other(format!(
                "still on the server after the tests: {left:?}"
            )));
        }
        narrator.held(&format!(
            "dropped {}: nothing is left for the next run",
            names.join(" and ")
        ));
    }
    Ok(())
}

/// Which of `names` the PostgreSQL server still has, asked of the server itself.
async fn databases_left(names: &[String]) -> Result<Vec<String>, HarnessError> {
    let endpoint = crate::endpoint(crate::ServiceKind::Postgres).await?;
    let mut admin = crate::database::connect::<sqlx::Postgres>(&endpoint.url).await?;
    sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname = ANY($1)")
        .bind(names)
        .fetch_all(&mut admin)
        .await
        .map_err(|e| HarnessError::Other(format!("listing the server's databases: {e}")))
}

async fn cut_and_restore_postgres(narrator: &mut Narrator) -> Result<(), HarnessError> {
    let db = PgDatabase::new(&crate::sample::POSTGRES).await?;
    let (proxy, url) = FaultProxy::route(db.url()).await?;
    narrator.say(&format!(
        "The application connects to {} through a fault proxy at {}.",
        proxy.upstream(),
        proxy.address()
    ));
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(2))
        .connect(&url)
        .await
        .map_err(|e| HarnessError::Other(format!("connecting through the proxy: {e}")))?;
    let select_one = || async { sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&pool).await };

    select_one().await.map_err(|e| HarnessError::Other(e.to_string()))?;
    narrator.held("SELECT 1 answered");

    proxy.cut().await;
    match select_one().await {
        Err(error) => narrator.broke(&format!("proxy cut: the query fails: {error}")),
        Ok(_) => return Err(HarnessError::Other("a query went through a cut proxy".into())),
    }

    proxy.restore();
    let answered = crate::eventually::try_eventually(Duration::from_secs(10), select_one).await;
    match answered {
        Ok(_) => narrator.held("proxy restored: the pool reconnects and SELECT 1 answers again"),
        Err(gave) => {
            return Err(HarnessError::Other(format!(
                "no answer after the restore: {}",
                gave.last
            )));
        }
    }
    Ok(())
}

async fn broker_down_and_up(narrator: &mut Narrator) -> Result<(), HarnessError> {
    let kafka_error = |what: &str, e: rdkafka::error::KafkaError| HarnessError::Other(format!("{what}: {e}"));
    let cluster = MockCluster::new(1).map_err(|e| kafka_error("starting the mock cluster", e))?;
    cluster
        .create_topic("events", 1, 1)
        .map_err(|e| kafka_error("creating a topic", e))?;
    narrator.say(&format!(
        "An in-process Kafka (librdkafka's mock cluster, real protocol over loopback) listens at {}.",
        cluster.bootstrap_servers()
    ));
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .set("message.timeout.ms", "1500")
        // Reconnect soon after the broker returns, instead of backing off up to librdkafka's 10 s.
        .set("reconnect.backoff.max.ms", "250")
        .create()
        .map_err(|e| kafka_error("creating a producer", e))?;
    let send = |payload: &'static str| {
        let producer = producer.clone();
        async move {
            producer
                .send(FutureRecord::to("events").key("k").payload(payload), Duration::ZERO)
                .await
        }
    };

    let delivered = send("before").await.map_err(|(e, _)| kafka_error("sending", e))?;
    narrator.held(&format!(
        "an event is delivered (partition {}, offset {})",
        delivered.partition, delivered.offset
    ));

    cluster
        .broker_down(1)
        .map_err(|e| kafka_error("taking the broker down", e))?;
    match send("while down").await {
        Err((error, _)) => narrator.broke(&format!("broker down: the send gives up after 1.5 s: {error}")),
        Ok(_) => return Err(HarnessError::Other("a send succeeded with the broker down".into())),
    }

    cluster
        .broker_up(1)
        .map_err(|e| kafka_error("bringing the broker up", e))?;
    // The producer notices the broker is back on its next reconnect attempt; until then a send may
    // still time out, so the tour retries for a while, as an application's retry policy would.
    let delivered = crate::eventually::try_eventually(Duration::from_secs(15), || async {
        send("after").await.map_err(|(e, _)| e)
    })
    .await
    .map_err(|gave| kafka_error("sending after the restore", gave.last))?;
    narrator.held(&format!(
        "broker up: the next event is delivered (offset {})",
        delivered.offset
    ));
    narrator.say("With --real, the same step puts a fault proxy between the application and PostgreSQL.");
    Ok(())
}
