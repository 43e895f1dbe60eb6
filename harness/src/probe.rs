//! Protocol-level checks that a server answers: `SELECT 1`, `PING`, Kafka metadata.
//!
//! A TCP connect is not enough: PostgreSQL accepts connections while it is still starting and
//! answers them with "the database system is starting up". Each probe asks the server a real
//! question and returns its version (or, for Kafka, what the metadata says) for `workbook doctor`.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use sqlx::Connection;

use crate::ServiceKind;

/// One attempt: connects, asks, and returns a short description of the server.
pub async fn probe(kind: ServiceKind, url: &str) -> Result<String, String> {
    match kind {
        ServiceKind::Postgres => {
            let mut conn = sqlx::PgConnection::connect(url).await.map_err(|e| e.to_string())?;
            let one: i32 = sqlx::query_scalar("SELECT 1")
                .fetch_one(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
            debug_assert_eq!(one, 1);
            let version: String = sqlx::query_scalar("SHOW server_version")
                .fetch_one(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
            let _ = conn.close().await;
            Ok(format!("PostgreSQL {version}"))
        }
        ServiceKind::MySql => {
            let mut conn = sqlx::MySqlConnection::connect(url).await.map_err(|e| e.to_string())?;
            let version: String = sqlx::query_scalar("SELECT VERSION()")
                .fetch_one(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
            let _ = conn.close().await;
            Ok(version)
        }
        ServiceKind::Redis => {
            let client = redis::Client::open(url).map_err(|e| e.to_string())?;
            let mut conn = client
                .get_multiplexed_async_connection()
                .await
                .map_err(|e| e.to_string())?;
            let pong: String = redis::cmd("PING")
                .query_async(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
            if pong != "PONG" {
                return Err(format!("PING answered {pong:?}"));
            }
            let info: String = redis::cmd("INFO")
                .arg("server")
                .query_async(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
            let version = info
                .lines()
                .find_map(|line| line.strip_prefix("redis_version:"))
                .unwrap_or("unknown version")
                .trim();
            Ok(format!("Redis {version}"))
        }
        ServiceKind::Kafka => kafka_metadata(url, Duration::from_secs(3)).await,
    }
}

/// Asks the brokers for cluster metadata. librdkafka's call blocks, so it runs off the runtime.
async fn kafka_metadata(brokers: &str, timeout: Duration) -> Result<String, String> {
    let brokers = brokers.to_owned();
    tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &brokers)
            .set("socket.connection.setup.timeout.ms", "2000")
            .create()
            .map_err(|e| e.to_string())?;
        let metadata = consumer.fetch_metadata(None, timeout).map_err(|e| e.to_string())?;
        let names: Vec<String> = metadata
            .brokers()
            .iter()
            .map(|b| format!("{}:{} (id {})", b.host(), b.port(), b.id()))
            .collect();
        Ok(format!("Kafka protocol, brokers {}", names.join(", ")))
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Probes until the server answers or `limit` passes; returns the last error on timeout.
pub async fn wait_ready(kind: ServiceKind, url: &str, limit: Duration) -> Result<String, String> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut pause = Duration::from_millis(50);
    loop {
        let attempt = tokio::time::timeout_at(deadline, probe(kind, url)).await;
        match attempt {
            Ok(Ok(description)) => return Ok(description),
            Ok(Err(error)) if tokio::time::Instant::now() + pause >= deadline => {
                return Err(format!("no answer within {limit:?}; last error: {error}"));
            }
            Ok(Err(_)) => {}
            Err(_elapsed) => return Err(format!("no answer within {limit:?}")),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(1));
    }
}

/// The settings that decide what a test run costs on a database server, and what they mean:
/// `None` for a service without such settings.
pub async fn durability(kind: ServiceKind, url: &str) -> Result<Option<String>, String> {
    match kind {
        ServiceKind::Postgres => {
            let mut conn = sqlx::PgConnection::connect(url).await.map_err(|e| e.to_string())?;
            let mut said = Vec::new();
            let mut durable = false;
            for setting in ["fsync", "synchronous_commit", "full_page_writes", "wal_level"] {
                let value: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SHOW {setting}")))
                    .fetch_one(&mut conn)
                    .await
                    .map_err(|e| e.to_string())?;
                durable |= setting != "wal_level" && value != "off";
                said.push(format!("{setting}={value}"));
            }
            let _ = conn.close().await;
            Ok(Some(format!("{} ({})", said.join(" "), cost(durable))))
        }
        ServiceKind::MySql => {
            let mut conn = sqlx::MySqlConnection::connect(url).await.map_err(|e| e.to_string())?;
            let (flush, doublewrite): (i64, i64) = sqlx::query_as(
                "SELECT CAST(@@innodb_flush_log_at_trx_commit AS SIGNED), CAST(@@innodb_doublewrite AS SIGNED)",
            )
            .fetch_one(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
            let _ = conn.close().await;
            Ok(Some(format!(
                "innodb_flush_log_at_trx_commit={flush} innodb_doublewrite={doublewrite} ({})",
                cost(flush == 1 || doublewrite != 0)
            )))
        }
        ServiceKind::Redis | ServiceKind::Kafka => Ok(None),
    }
}

/// What durability costs a test run, in words.
fn cost(durable: bool) -> &'static str {
    if durable {
        "durable: every commit and every dropped database waits for the disk, which a test run pays \
         for each database it makes; `scripts/local-services up` starts servers tuned for tests"
    } else {
        "tuned for tests: commits and drops do not wait for the disk; a crash can lose recent commits"
    }
}
