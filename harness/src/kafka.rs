//! Kafka topics and consumer groups of a test's own, and a broker of a test's own for fault tests.
//!
//! Tests share one broker per process (see [`crate::provision`]); isolation is by name. Every
//! topic and group a test uses goes through [`KafkaScope::topic`] and [`KafkaScope::group`], which
//! add a prefix no other test has. Topics are created through the admin API, the way an operator
//! would, and deleted when the scope is dropped.
//!
//! Cutting a Kafka connection takes more than a proxy. A client asks the bootstrap server for
//! metadata and then connects to the address each broker *advertises*, so a proxy in front of a
//! shared broker only sees the first connection. [`DedicatedKafka`] starts a broker whose
//! advertised address is its proxy's: every connection goes through the proxy, and `cut` really
//! cuts the client off.

use std::any::Any;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;

use crate::error::Context;
use crate::fault::FaultProxy;
use crate::{Endpoint, HarnessError, Origin, ServiceKind, background, containers, names, probe, provision};

/// A set of topic and group names of a test's own, on one broker.
pub struct KafkaScope {
    brokers: String,
    prefix: String,
    endpoint: Endpoint,
    created: Mutex<Vec<String>>,
}

impl KafkaScope {
    /// A fresh scope on the provisioned broker.
    pub async fn new() -> Result<Self, HarnessError> {
        Ok(Self::on(provision::endpoint(ServiceKind::Kafka).await?))
    }

    /// A fresh scope on a given broker.
    pub fn on(endpoint: Endpoint) -> Self {
        Self {
            brokers: endpoint.url.clone(),
            prefix: names::unique(),
            endpoint,
            created: Mutex::new(Vec::new()),
        }
    }

    /// The scope's name for topic `name`.
    pub fn topic(&self, name: &str) -> String {
        format!("{}.{name}", self.prefix)
    }

    /// The scope's name for consumer group `name`.
    pub fn group(&self, name: &str) -> String {
        format!("{}.{name}", self.prefix)
    }

    /// The bootstrap servers, for `bootstrap.servers`.
    pub fn brokers(&self) -> &str {
        &self.brokers
    }

    /// Where the broker answers, and where it came from.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// A client configuration with `bootstrap.servers` set; add what the client needs.
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.brokers);
        config
    }

    /// A producer configuration that fails fast: a send that cannot be delivered in 5 seconds
    /// fails instead of waiting librdkafka's default five minutes.
    pub fn producer_config(&self) -> ClientConfig {
        let mut config = self.client_config();
        config.set("message.timeout.ms", "5000");
        config
    }

    /// A consumer configuration for the scope's group `group`: reads from the beginning and
    /// commits only when told to.
    pub fn consumer_config(&self, group: &str) -> ClientConfig {
        let mut config = self.client_config();
        config
            .set("group.id", self.group(group))
            .set("auto.offset.reset", "earliest")
            .set("enable.auto.commit", "false")
            .set("session.timeout.ms", "6000");
        config
    }

    /// Creates the scope's topic `name` with `partitions` partitions and returns its full name.
    pub async fn create_topic(&self, name: &str, partitions: i32) -> Result<String, HarnessError> {
        let topic = self.topic(name);
        let admin: AdminClient<DefaultClientContext> = self
            .client_config()
            .create()
            .context(|| "creating a Kafka admin client".into())?;
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        let results = admin
            .create_topics(
                &[NewTopic::new(&topic, partitions, TopicReplication::Fixed(1))],
                &options,
            )
            .await
            .context(|| format!("creating topic {topic}"))?;
        for result in results {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((name, code)) => {
                    return Err(HarnessError::Other(format!("creating topic {name}: {code}")));
                }
            }
        }
        self.created.lock().expect("not poisoned").push(topic.clone());
        Ok(topic)
    }
}

impl Drop for KafkaScope {
    fn drop(&mut self) {
        let topics = std::mem::take(&mut *self.created.lock().expect("not poisoned"));
        if topics.is_empty() {
            return;
        }
        let config = self.client_config();
        // Best effort: a broker that a test cut or stopped cannot delete anything, and the names
        // are unique anyway, so a leftover topic is clutter, not a hazard.
        background::block_on_with_limit(Duration::from_secs(5), async move {
            let admin: AdminClient<DefaultClientContext> = config.create().ok()?;
            let names: Vec<&str> = topics.iter().map(String::as_str).collect();
            let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(3)));
            admin.delete_topics(&names, &options).await.ok()
        });
    }
}

/// A Kafka broker of one test's own, reachable only through a [`FaultProxy`].
///
/// It is a local `tansu` process when tansu is installed (`scripts/local-services up` installs
/// it), else an Apache Kafka container when a Docker engine answers.
pub struct DedicatedKafka {
    proxy: FaultProxy,
    endpoint: Endpoint,
    _broker: Box<dyn Any + Send>,
}

impl DedicatedKafka {
    /// Starts the broker and its proxy, and waits until metadata comes back through the proxy.
    pub async fn start() -> Result<Self, HarnessError> {
        // The proxy's port must be known before the broker starts, because the broker advertises it.
        let listener = background::run(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .await
            .context(|| "binding the proxy of a dedicated Kafka broker".into())?;
        let proxy_address = listener.local_addr().context(|| "reading the proxy's address".into())?;

        let (upstream, broker, origin): (String, Box<dyn Any + Send>, Origin) = match tansu_binary() {
            Some(tansu) => {
                let (address, process) = start_tansu(&tansu, proxy_address).await?;
                (
                    address,
                    Box::new(process),
                    Origin::Process {
                        program: tansu.display().to_string(),
                    },
                )
            }
            None => containers::dedicated_kafka(proxy_address).await?,
        };
        let proxy = FaultProxy::serve(listener, upstream)?;
        let endpoint = Endpoint {
            kind: ServiceKind::Kafka,
            url: proxy_address.to_string(),
            origin,
        };
        probe::wait_ready(ServiceKind::Kafka, &endpoint.url, Duration::from_secs(60))
            .await
            .map_err(|why| HarnessError::NotReady {
                kind: ServiceKind::Kafka,
                url: endpoint.url.clone(),
                waited: Duration::from_secs(60),
                last_error: why,
            })?;
        Ok(Self {
            proxy,
            endpoint,
            _broker: broker,
        })
    }

    /// The proxy every connection to this broker goes through.
    pub fn proxy(&self) -> &FaultProxy {
        &self.proxy
    }

    /// The broker's address as clients see it: the proxy's.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// A scope of names on this broker.
    pub fn scope(&self) -> KafkaScope {
        KafkaScope::on(self.endpoint.clone())
    }
}

/// Where tansu is: `$WORKBOOK_TANSU`, then `PATH`, then cargo's install directory.
pub fn tansu_binary() -> Option<PathBuf> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")));
    find_tansu(std::env::var_os("WORKBOOK_TANSU"), std::env::var_os("PATH"), cargo_home)
}

/// [`tansu_binary`]'s search, given the environment's values: an explicit path is the answer
/// (if it is not a file, there is no tansu: a typo must not fall back to another one).
fn find_tansu(explicit: Option<OsString>, path: Option<OsString>, cargo_home: Option<PathBuf>) -> Option<PathBuf> {
    if let Some(explicit) = explicit.map(PathBuf::from) {
        return explicit.is_file().then_some(explicit);
    }
    let on_path = path
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("tansu"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain(cargo_home.map(|home| home.join("bin").join("tansu")))
        .find(|candidate| candidate.is_file())
}

/// A tansu broker process, killed when dropped.
struct TansuProcess {
    _child: tokio::process::Child,
    _directory: TempDirectory,
}

/// A directory removed when dropped. tansu reads a `.env` file from its working directory, so each
/// broker starts in an empty one of its own.
struct TempDirectory(PathBuf);

impl Drop for TempDirectory {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn start_tansu(
    tansu: &std::path::Path,
    advertised: std::net::SocketAddr,
) -> Result<(String, TansuProcess), HarnessError> {
    let listen = free_port().await?;
    let directory = std::env::temp_dir().join(format!("{}-tansu", names::unique()));
    std::fs::create_dir_all(&directory).context(|| format!("creating {}", directory.display()))?;
    let log = std::fs::File::create(directory.join("broker.log")).context(|| "creating the broker's log".into())?;
    let log_err = log.try_clone().context(|| "sharing the broker's log".into())?;

    let mut command = tokio::process::Command::new(tansu);
    command
        .arg("broker")
        .arg("--listener-url")
        .arg(format!("tcp://127.0.0.1:{listen}"))
        .arg("--advertised-listener-url")
        .arg(format!("tcp://{advertised}"))
        .arg("--storage-engine")
        .arg("memory://tansu/")
        .current_dir(&directory)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .kill_on_drop(true);
    // Spawned on the background runtime, which reaps the process after it is killed.
    let child = background::run(async move { command.spawn() })
        .await
        .context(|| format!("starting {}", tansu.display()))?;
    Ok((
        format!("127.0.0.1:{listen}"),
        TansuProcess {
            _child: child,
            _directory: TempDirectory(directory),
        },
    ))
}

/// A loopback port that is free now. Another process could take it before the broker binds it;
/// on a test machine that race is rare, and the readiness check would report it.
async fn free_port() -> Result<u16, HarnessError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context(|| "finding a free port".into())?;
    Ok(listener.local_addr().context(|| "finding a free port".into())?.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tansu_is_looked_for_where_it_was_said_then_on_path_then_where_cargo_installs() {
        let root = std::env::temp_dir().join(format!("tansu-lookup-{}", std::process::id()));
        let (on_path, cargo_home, elsewhere) = (root.join("path"), root.join("cargo"), root.join("elsewhere"));
        for dir in [on_path.clone(), cargo_home.join("bin"), elsewhere.clone()] {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("tansu"), "").unwrap();
        }
        let path = || Some(std::env::join_paths([root.join("empty"), on_path.clone()]).unwrap());
        let explicit = Some(elsewhere.join("tansu").into_os_string());

        assert_eq!(
            find_tansu(explicit, path(), Some(cargo_home.clone())),
            Some(elsewhere.join("tansu"))
        );
        assert_eq!(
            find_tansu(
                Some(root.join("typo").into_os_string()),
                path(),
                Some(cargo_home.clone())
            ),
            None,
            "a wrong explicit path is not replaced by another tansu"
        );
        assert_eq!(
            find_tansu(None, path(), Some(cargo_home.clone())),
            Some(on_path.join("tansu"))
        );
        assert_eq!(
            find_tansu(None, None, Some(cargo_home.clone())),
            Some(cargo_home.join("bin/tansu"))
        );
        assert_eq!(find_tansu(None, None, None), None);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
