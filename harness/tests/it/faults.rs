//! Each fault of the proxy, observed on PostgreSQL, Redis and Kafka with their real clients.
//!
//! One test body per fault, run against each service through [`Target`], which knows how to make
//! one round trip with that service's client.

use std::time::{Duration, Instant};

use harness::fault::FaultProxy;
use harness::{DedicatedKafka, PgDatabase, RedisNamespace, eventually};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rstest::rstest;
use sqlx::postgres::PgPoolOptions;

use crate::support::POSTGRES;

#[derive(Debug, Clone, Copy)]
enum Service {
    Postgres,
    Redis,
    Kafka,
}

/// A service behind a fault proxy, and a client of it that connects through the proxy.
struct Target {
    client: Client,
    proxy_owner: ProxyOwner,
}

enum Client {
    Postgres(sqlx::PgPool),
    Redis(redis::aio::ConnectionManager),
    Kafka { producer: FutureProducer, topic: String },
}

/// What keeps the proxy (and the service behind it) alive for the test.
enum ProxyOwner {
    /// A proxy in front of a shared server, and the test's database or namespace on it.
    Plain {
        proxy: FaultProxy,
        _service: Box<dyn std::any::Any>,
    },
    /// A broker of the test's own, whose proxy it keeps, and the test's topic names on it.
    Kafka {
        broker: Box<DedicatedKafka>,
        _scope: harness::KafkaScope,
    },
}

impl Target {
    async fn new(service: Service) -> anyhow::Result<Self> {
        Ok(match service {
            Service::Postgres => {
                let db = PgDatabase::new(&POSTGRES).await?;
                let (proxy, url) = FaultProxy::route(db.url()).await?;
                let pool = PgPoolOptions::new()
                    .max_connections(2)
                    .acquire_timeout(Duration::from_secs(2))
                    .connect(&url)
                    .await?;
                Target {
                    client: Client::Postgres(pool),
                    proxy_owner: ProxyOwner::Plain {
                        proxy,
                        _service: Box::new(db),
                    },
                }
            }
            Service::Redis => {
                let namespace = RedisNamespace::new().await?;
                let (proxy, url) = FaultProxy::route(&namespace.endpoint().url).await?;
                let config = redis::aio::ConnectionManagerConfig::new()
                    .set_response_timeout(Some(Duration::from_secs(1)))
                    .set_connection_timeout(Some(Duration::from_secs(1)))
                    .set_number_of_retries(1);
                let manager = redis::Client::open(url)?
                    .get_connection_manager_with_config(config)
                    .await?;
                Target {
                    client: Client::Redis(manager),
                    proxy_owner: ProxyOwner::Plain {
                        proxy,
                        _service: Box::new(namespace),
                    },
                }
            }
            Service::Kafka => {
                let broker = DedicatedKafka::start().await?;
                let scope = broker.scope();
                let topic = scope.create_topic("faults", 1).await?;
                let producer: FutureProducer = scope
                    .producer_config()
                    .set("message.timeout.ms", "2000")
                    .set("socket.connection.setup.timeout.ms", "1000")
                    .create()?;
                Target {
                    client: Client::Kafka { producer, topic },
                    proxy_owner: ProxyOwner::Kafka {
                        broker: Box::new(broker),
                        _scope: scope,
                    },
                }
            }
        })
    }

    fn proxy(&self) -> &FaultProxy {
        match &self.proxy_owner {
            ProxyOwner::Plain { proxy, .. } => proxy,
            ProxyOwner::Kafka { broker, .. } => broker.proxy(),
        }
    }

    /// One request and its answer, within `limit`; returns how long it took.
    async fn round_trip(&self, limit: Duration) -> Result<Duration, String> {
        let started = Instant::now();
        let outcome = tokio::time::timeout(limit, async {
            match &self.client {
                Client::Postgres(pool) => sqlx::query_scalar::<_, i32>("SELECT 1")
                    .fetch_one(pool)
                    .await
                    .map(drop)
                    .map_err(|e| e.to_string()),
                Client::Redis(manager) => {
                    let mut manager = manager.clone();
                    redis::cmd("PING")
                        .query_async::<String>(&mut manager)
                        .await
                        .map(drop)
                        .map_err(|e| e.to_string())
                }
                Client::Kafka { producer, topic } => producer
                    .send(FutureRecord::to(topic).key("k").payload("v"), Duration::ZERO)
                    .await
                    .map(drop)
                    .map_err(|(e, _)| e.to_string()),
            }
        })
        .await;
        match outcome {
            Ok(Ok(())) => Ok(started.elapsed()),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(format!("no answer within {limit:?}")),
        }
    }

    /// Waits until a round trip succeeds again (clients reconnect on their own time).
    async fn recovers(&self) {
        eventually(Duration::from_secs(20), || self.round_trip(Duration::from_secs(3))).await;
    }
}

// ANCHOR: cut_and_restore
#[rstest]
#[tokio::test]
async fn cut_fails_requests_and_restore_lets_them_through_again(
    #[values(Service::Postgres, Service::Redis, Service::Kafka)] service: Service,
) -> anyhow::Result<()> {
    let target = Target::new(service).await?;
    target
        .round_trip(Duration::from_secs(10))
        .await
        .map_err(anyhow::Error::msg)?;
    assert!(target.proxy().open_connections() > 0);

    target.proxy().cut().await;
    assert_eq!(target.proxy().open_connections(), 0, "cut leaves no connection open");
    let while_cut = target.round_trip(Duration::from_secs(8)).await;
    assert!(while_cut.is_err(), "{service:?} answered through a cut proxy");

    target.proxy().restore();
    target.recovers().await;
    Ok(())
}
// ANCHOR_END: cut_and_restore

#[rstest]
#[tokio::test]
async fn latency_delays_every_answer(
    #[values(Service::Postgres, Service::Redis, Service::Kafka)] service: Service,
) -> anyhow::Result<()> {
    let target = Target::new(service).await?;
    target
        .round_trip(Duration::from_secs(10))
        .await
        .map_err(anyhow::Error::msg)?;

    let delay = Duration::from_millis(300);
    target.proxy().latency(delay);
    // A request and its answer each cross the proxy once, so a round trip takes at least 2 × delay.
    let slow = target
        .round_trip(Duration::from_secs(10))
        .await
        .map_err(anyhow::Error::msg)?;
    assert!(
        slow >= delay * 2,
        "{service:?} answered in {slow:?} despite {delay:?} each way"
    );

    target.proxy().restore();
    target.recovers().await;
    Ok(())
}

#[rstest]
#[tokio::test]
async fn blackhole_leaves_requests_unanswered_until_restore(
    #[values(Service::Postgres, Service::Redis, Service::Kafka)] service: Service,
) -> anyhow::Result<()> {
    let target = Target::new(service).await?;
    target
        .round_trip(Duration::from_secs(10))
        .await
        .map_err(anyhow::Error::msg)?;

    target.proxy().blackhole();
    let unanswered = target.round_trip(Duration::from_millis(1500)).await;
    assert!(unanswered.is_err(), "{service:?} answered through a blackhole");
    assert!(target.proxy().open_connections() > 0, "a blackhole closes nothing");

    target.proxy().restore();
    target.recovers().await;
    Ok(())
}

/// The proxy is given a service's URL, which may leave out the port: the scheme's default port is
/// forwarded to. A URL that names no host, or no port its scheme implies, is refused, saying so.
#[tokio::test]
async fn a_proxy_routes_to_the_default_port_of_each_scheme_and_refuses_a_url_without_one() -> anyhow::Result<()> {
    for (url, upstream) in [
        ("postgres://postgres@db.test/items", "db.test:5432"),
        ("postgresql://postgres@db.test/items", "db.test:5432"),
        ("mysql://root@db.test/items", "db.test:3306"),
        ("mariadb://root@db.test/items", "db.test:3306"),
        ("redis://cache.test/0", "cache.test:6379"),
        ("redis://cache.test:6390/0", "cache.test:6390"),
    ] {
        let (proxy, through) = FaultProxy::route(url).await?;
        assert_eq!(proxy.upstream(), upstream, "{url}");
        assert!(through.contains(&format!(":{}", proxy.address().port())), "{through}");
    }
    for url in ["kafka://broker.test/events", "unix:/run/postgresql", "not a url"] {
        match FaultProxy::route(url).await {
            Err(error) => assert!(
                error.to_string().contains("names no host and port") || error.to_string().contains("is not a URL"),
                "{url}: {error}"
            ),
            Ok((proxy, _)) => panic!("{url} was routed to {}", proxy.upstream()),
        }
    }
    Ok(())
}

/// The fault the server makes itself (`harness::killed_session`): the session that first writes to
/// the table is ended inside its write, which is lost with its transaction; the pool's next
/// session writes as usual. A table name that is not an identifier is refused before any SQL.
#[tokio::test]
async fn the_first_write_to_a_table_kills_its_session_and_the_next_goes_through() -> anyhow::Result<()> {
    let db = PgDatabase::new(&POSTGRES).await?;
    harness::killed_session::on_first_write(db.pool(), "items").await?;

    let first = sqlx::query("INSERT INTO items (name, owner) VALUES ('apple', 'first')")
        .execute(db.pool())
        .await;
    let error = first.expect_err("the first write's session is killed");
    assert!(
        matches!(
            error,
            sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::Database(_)
        ),
        "a killed session fails like a lost connection: {error:?}"
    );
    sqlx::query("INSERT INTO items (name, owner) VALUES ('apple', 'second')")
        .execute(db.pool())
        .await?;
    let owners: Vec<String> = sqlx::query_scalar("SELECT owner FROM items")
        .fetch_all(db.pool())
        .await?;
    assert_eq!(owners, ["second"], "the killed write is lost, the next one kept");

    let refused = harness::killed_session::on_first_write(db.pool(), "items; DROP TABLE items").await;
    assert!(refused.is_err_and(|error| error.to_string().contains("refusing")));
    Ok(())
}
