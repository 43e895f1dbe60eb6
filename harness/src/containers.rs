//! Services as Docker containers, for a machine with a Docker engine and no `WORKBOOK_*` variables.
//!
//! Each kind gets one container with a fixed name (`workbook-postgres`, ...) started with
//! testcontainers' reuse feature: the first test process starts it, later processes and later runs
//! find it and use it. That avoids a known trap: testcontainers stops a container when its handle is
//! dropped, but a handle kept in a `static` is never dropped, so containers started per process
//! would pile up. Reused containers are removed by `just services-down`.
//!
//! Without an engine, testcontainers fails within a millisecond with a client error, so asking
//! Docker costs nothing on a machine that has none.

use std::any::Any;
use std::sync::Mutex;

use testcontainers::core::{ContainerPort, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, Image, ImageExt, ReuseDirective, TestcontainersError};
use testcontainers_modules::{kafka::apache, mariadb::Mariadb, postgres::Postgres, redis::Redis};

use crate::{Endpoint, HarnessError, Origin, ServiceKind, probe};

/// A container that is up, with the URL to reach it.
pub(crate) struct Started {
    pub url: String,
    pub image: String,
    pub name: String,
}

pub(crate) enum StartError {
    /// No engine answered: the normal case on a machine without Docker.
    NoDocker(String),
    /// An engine answered but the container did not start (image pull failed, port clash, ...).
    Failed(String),
}

impl From<TestcontainersError> for StartError {
    fn from(error: TestcontainersError) -> Self {
        match error {
            TestcontainersError::Client(client) => StartError::NoDocker(client.to_string()),
            other => StartError::Failed(other.to_string()),
        }
    }
}

/// Handles of the containers this process started, kept so that they are never dropped (and so
/// never stopped) while tests still run. Reuse keeps them after the process, too.
static KEEP_ALIVE: Mutex<Vec<Box<dyn Any + Send>>> = Mutex::new(Vec::new());

/// The fixed container name of a kind, shared with `just services-down`.
pub fn container_name(kind: ServiceKind) -> String {
    let slug = match kind {
        ServiceKind::Postgres => "postgres",
        ServiceKind::MySql => "mysql",
        ServiceKind::Redis => "redis",
        ServiceKind::Kafka => "kafka",
    };
    format!("workbook-{slug}")
}

pub(crate) async fn start(kind: ServiceKind) -> Result<Started, StartError> {
    // Containers belong to the whole process, not to the test that happened to ask first, so they
    // are started from the background runtime that outlives every test.
    crate::background::run(async move {
        let name = container_name(kind);
        match kind {
            ServiceKind::Postgres => {
                let (host, port) = run_reused(Postgres::default().with_host_auth(), &name, 5432).await?;
                Ok(Started {
                    url: format!("postgres://postgres@{host}:{port}/postgres"),
                    image: "postgres".into(),
                    name,
                })
            }
            ServiceKind::MySql => {
                let (host, port) = run_reused(Mariadb::default(), &name, 3306).await?;
                Ok(Started {
                    url: format!("mysql://root@{host}:{port}/mysql"),
                    image: "mariadb".into(),
                    name,
                })
            }
            ServiceKind::Redis => {
                let (host, port) = run_reused(Redis::default(), &name, 6379).await?;
                Ok(Started {
                    url: format!("redis://{host}:{port}"),
                    image: "redis".into(),
                    name,
                })
            }
            ServiceKind::Kafka => {
                let (host, port) = run_reused(apache::Kafka::default(), &name, apache::KAFKA_PORT.as_u16()).await?;
                Ok(Started {
                    url: format!("{host}:{port}"),
                    image: "apache/kafka-native".into(),
                    name,
                })
            }
        }
    })
    .await
}

/// Starts (or finds) the named container and returns the host and mapped port of `port`.
async fn run_reused<I>(image: I, name: &str, port: u16) -> Result<(String, u16), StartError>
where
    I: Image + 'static,
{
    let container = image
        .with_container_name(name)
        .with_reuse(ReuseDirective::Always)
        .start()
        .await?;
    let address = address_of(&container, port).await?;
    KEEP_ALIVE
        .lock()
        .expect("the keep-alive list is never poisoned")
        .push(Box::new(container));
    Ok(address)
}

async fn address_of<I: Image>(container: &ContainerAsync<I>, port: u16) -> Result<(String, u16), StartError> {
    let host = container.get_host().await?.to_string();
    let port = container.get_host_port_ipv4(ContainerPort::Tcp(port)).await?;
    // "localhost" may resolve to ::1 first, where Docker's port mapping may not listen.
    let host = if host == "localhost" {
        "127.0.0.1".to_owned()
    } else {
        host
    };
    Ok((host, port))
}

/// A dedicated Kafka broker in Docker (see [`start_kafka_advertising`]), for a machine without
/// tansu: its address, the handle that keeps it, and where it came from.
pub(crate) async fn dedicated_kafka(
    proxy_address: std::net::SocketAddr,
) -> Result<(String, Box<dyn Any + Send>, Origin), HarnessError> {
    match start_kafka_advertising(proxy_address).await {
        Ok((address, container)) => Ok((
            address,
            container,
            Origin::Container {
                image: "apache/kafka-native".into(),
                name: "dedicated".into(),
            },
        )),
        Err(StartError::NoDocker(why) | StartError::Failed(why)) => Err(HarnessError::Other(format!(
            "a dedicated Kafka broker needs tansu or a Docker engine, and neither is here.\n  \
             - tansu: not found in $WORKBOOK_TANSU, on PATH or in ~/.cargo/bin; `scripts/local-services up` \
             installs it (cargo install tansu --locked --features dynostore);\n  \
             - Docker: {why}"
        ))),
    }
}

/// The service as a container, when a Docker engine answers: the provisioning's second way (see
/// [`crate::provision`]). On failure, one line per way tried, after `tried_env`.
pub(crate) async fn endpoint(kind: ServiceKind, tried_env: String) -> Result<Endpoint, String> {
    match start(kind).await {
        Ok(started) => match probe::wait_ready(kind, &started.url, CONTAINER_READY_LIMIT).await {
            Ok(_version) => Ok(Endpoint {
                kind,
                url: started.url,
                origin: Origin::Container {
                    image: started.image,
                    name: started.name,
                },
            }),
            Err(error) => Err(format!(
                "{tried_env}\n  - the container {} started but: {error}",
                started.name
            )),
        },
        Err(StartError::NoDocker(why)) => Err(format!("{tried_env}\n  - no Docker engine answered ({why}).")),
        Err(StartError::Failed(why)) => Err(format!(
            "{tried_env}\n  - Docker answered, but the container did not start: {why}"
        )),
    }
}

/// How long a container gets: the first start may initialise a database.
const CONTAINER_READY_LIMIT: std::time::Duration = std::time::Duration::from_secs(90);

/// A Kafka broker in Docker that advertises `advertised` (a fault proxy's address) instead of its
/// own, so that every client connection, including those made after reading metadata, goes
/// through the proxy. Returns the container's own `host:port`, which the proxy forwards to.
pub(crate) async fn start_kafka_advertising(
    advertised: std::net::SocketAddr,
) -> Result<(String, Box<dyn Any + Send>), StartError> {
    crate::background::run(async move {
        let listeners = "PLAINTEXT://0.0.0.0:9092,BROKER://0.0.0.0:9093,CONTROLLER://0.0.0.0:9094";
        let image = GenericImage::new("apache/kafka-native", "3.8.0")
            .with_exposed_port(ContainerPort::Tcp(9092))
            .with_wait_for(WaitFor::message_on_stdout("Kafka Server started"))
            .with_env_var("KAFKA_NODE_ID", "1")
            .with_env_var("CLUSTER_ID", "5L6g3nShT-eMCtK--X86sw")
            .with_env_var("KAFKA_PROCESS_ROLES", "broker,controller")
            .with_env_var("KAFKA_LISTENERS", listeners)
            .with_env_var(
                "KAFKA_ADVERTISED_LISTENERS",
                format!("PLAINTEXT://{advertised},BROKER://localhost:9093"),
            )
            .with_env_var(
                "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
                "BROKER:PLAINTEXT,PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            )
            .with_env_var("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER")
            .with_env_var("KAFKA_INTER_BROKER_LISTENER_NAME", "BROKER")
            .with_env_var("KAFKA_CONTROLLER_QUORUM_VOTERS", "1@localhost:9094")
            .with_env_var("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1");
        let container = image.start().await?;
        let (host, port) = address_of(&container, 9092).await?;
        let keep: Box<dyn Any + Send> = Box::new(container);
        Ok((format!("{host}:{port}"), keep))
    })
    .await
}
