//! A Redis key namespace of a test's own.
//!
//! Redis has numbered databases, but only 16 by default and no way to clone one, so isolation is
//! by key prefix instead: a test builds every key with [`RedisNamespace::key`], and when the
//! handle is dropped every key under the prefix is deleted.

use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use crate::error::Context;
use crate::{Endpoint, HarnessError, ServiceKind, background, names, provision};

/// A test's own corner of a Redis server: every key it writes goes under a prefix nobody else
/// uses, and the keys are deleted when the namespace is dropped.
pub struct RedisNamespace {
    prefix: String,
    client: redis::Client,
    connection: ConnectionManager,
    endpoint: Endpoint,
}

impl RedisNamespace {
    /// A fresh namespace on the provisioned server.
    pub async fn new() -> Result<Self, HarnessError> {
        let endpoint = provision::endpoint(ServiceKind::Redis).await?;
        Self::on(endpoint).await
    }

    /// The same, on a given server (for example one reached through a fault proxy).
    pub async fn on(endpoint: Endpoint) -> Result<Self, HarnessError> {
        let client = redis::Client::open(endpoint.url.as_str())
            .context(|| format!("parsing {}", crate::redact::masked(&endpoint.url)))?;
        let connection = client
            .get_connection_manager()
            .await
            .context(|| format!("connecting to Redis at {}", crate::redact::masked(&endpoint.url)))?;
        Ok(Self {
            prefix: format!("{}:", names::unique()),
            client,
            connection,
            endpoint,
        })
    }

    /// The full name of the key `name` in this namespace.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// The prefix every key of this namespace starts with.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A connection that reconnects by itself; cheap to clone.
    pub fn connection(&self) -> ConnectionManager {
        self.connection.clone()
    }

    /// The client, for code that makes its own connections.
    /// A client of the server, for a connection of the test's own.
    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    /// Where the server answers, and where it came from.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The keys that exist under this namespace now.
    pub async fn keys(&self) -> Result<Vec<String>, HarnessError> {
        scan_prefix(&self.client, &self.prefix).await
    }
}

async fn scan_prefix(client: &redis::Client, prefix: &str) -> Result<Vec<String>, HarnessError> {
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .context(|| "connecting to Redis".to_owned())?;
    // The prefix holds only [a-z0-9_:], none of which is special in a MATCH pattern.
    let mut iter: redis::AsyncIter<String> = connection
        .scan_match(format!("{prefix}*"))
        .await
        .context(|| format!("scanning {prefix}*"))?;
    let mut keys = Vec::new();
    while let Some(key) = iter.next_item().await {
        keys.push(key.context(|| format!("scanning {prefix}*"))?);
    }
    Ok(keys)
}

impl Drop for RedisNamespace {
    fn drop(&mut self) {
        let (client, prefix) = (self.client.clone(), self.prefix.clone());
        let deleted = background::block_on_with_limit(Duration::from_secs(10), async move {
            let keys = scan_prefix(&client, &prefix).await?;
            if keys.is_empty() {
                return Ok(());
            }
            let mut connection = client
                .get_multiplexed_async_connection()
                .await
                .context(|| "connecting to Redis".to_owned())?;
            for chunk in keys.chunks(500) {
                let _: usize = connection
                    .unlink(chunk)
                    .await
                    .context(|| format!("deleting keys under {prefix}"))?;
            }
            Ok::<(), HarnessError>(())
        });
        if !matches!(deleted, Some(Ok(()))) {
            eprintln!("harness: could not delete the keys under {} ({deleted:?})", self.prefix);
        }
    }
}
