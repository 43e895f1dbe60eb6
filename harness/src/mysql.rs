//! A MySQL/MariaDB database of a test's own, with its migrations applied.
//!
//! MySQL has no template databases, so each test's database is created and migrated. The
//! database is dropped when the handle is dropped; first its sessions are killed, because a
//! session left inside a transaction by a panicking test holds metadata locks that would make
//! `DROP DATABASE` wait forever.

use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::mysql::{MySqlPool, MySqlPoolOptions};
use sqlx::{AssertSqlSafe, Connection, MySqlConnection};

use crate::error::Context;
use crate::postgres::with_database;
use crate::{Endpoint, HarnessError, ServiceKind, background, migrations, names, owner, provision};

pub struct MySqlDatabase {
    name: String,
    url: String,
    admin_url: String,
    pool: MySqlPool,
    endpoint: Endpoint,
}

impl MySqlDatabase {
    /// A fresh database holding the schema of `migrator`, on the provisioned server.
    pub async fn new(migrator: &Migrator) -> Result<Self, HarnessError> {
        let endpoint = provision::endpoint(ServiceKind::MySql).await?;
        Self::on(endpoint, migrator).await
    }

    /// The same, on a given server (for example one reached through a fault proxy).
    pub async fn on(endpoint: Endpoint, migrator: &Migrator) -> Result<Self, HarnessError> {
        let admin_url = endpoint.url.clone();
        owner::register(ServiceKind::MySql, &admin_url).await?;
        let name = names::unique();
        let mut admin = connect(&admin_url).await?;
        sqlx::query(AssertSqlSafe(format!(
            "CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        )))
        .execute(&mut admin)
        .await
        .context(|| format!("creating the test database {name}"))?;
        let _ = admin.close().await;

        let url = with_database(&admin_url, &name)?;
        let pool = MySqlPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(10))
            .connect(&url)
            .await
            .context(|| format!("connecting to the test database {name}"))?;
        // The handle exists before the migrations run, so a failing migration still drops the database.
        let handle = Self {
            name,
            url,
            admin_url,
            pool,
            endpoint,
        };
        let mut conn = handle
            .pool
            .acquire()
            .await
            .context(|| format!("connecting to {}", handle.name))?;
        migrations::run_mysql(migrator, &mut conn)
            .await
            .context(|| format!("running the migrations into {}", handle.name))?;
        drop(conn);
        Ok(handle)
    }

    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }
}

impl Drop for MySqlDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropped = background::block_on_with_limit(Duration::from_secs(15), async move {
            let mut admin = connect(&admin_url).await?;
            drop_database(&mut admin, &name).await
        });
        if !matches!(dropped, Some(Ok(()))) {
            eprintln!(
                "harness: could not drop test database {} ({dropped:?}); the next run sweeps it",
                self.name
            );
        }
    }
}

async fn connect(url: &str) -> Result<MySqlConnection, HarnessError> {
    MySqlConnection::connect(url)
        .await
        .context(|| format!("connecting to MySQL at {url}"))
}

/// Kills the sessions using the database, then drops it.
pub(crate) async fn drop_database(admin: &mut MySqlConnection, name: &str) -> Result<(), HarnessError> {
    let name = names::safe_identifier(name)?;
    let sessions: Vec<i64> =
        sqlx::query_scalar("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()")
            .bind(name)
            .fetch_all(&mut *admin)
            .await
            .context(|| format!("listing the sessions on {name}"))?;
    for id in sessions {
        // The session may end by itself in between; that is what we wanted anyway.
        let _ = sqlx::query("KILL ?").bind(id).execute(&mut *admin).await;
    }
    sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}")))
        .execute(&mut *admin)
        .await
        .context(|| format!("dropping the test database {name}"))?;
    Ok(())
}
