//! MySQL/MariaDB as a [`Server`]: a test's database is created and its migrations replayed.
//!
//! MySQL has no template databases, so each test's database is created and migrated. Before a
//! database is dropped its sessions are killed, because a session left inside a transaction by a
//! panicking test holds metadata locks that would make `DROP DATABASE` wait forever.
//!
//! A live test process holds a named lock (`GET_LOCK`) named after its owner id (see
//! [`crate::owner`]).

use sqlx::migrate::Migrator;
use sqlx::{AssertSqlSafe, Connection, MySql, MySqlConnection};

use crate::database::{connect, with_database};
use crate::error::Context;
use crate::pool::Handout;
use crate::server::Server;
use crate::{HarnessError, ServiceKind, migrations, names};

impl Server for MySql {
    const KIND: ServiceKind = ServiceKind::MySql;

    async fn create(admin_url: &str, name: &str, migrator: &Migrator) -> Result<Handout, HarnessError> {
        let name = names::safe_identifier(name)?;
        let mut admin = connect::<MySql>(admin_url).await?;
        sqlx::query(AssertSqlSafe(format!(
            "CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        )))
        .execute(&mut admin)
        .await
        .context(|| format!("creating the test database {name}"))?;
        let migrated = migrate(admin_url, name, migrator).await;
        if migrated.is_err() {
            // A failed migration leaves nothing behind: the error is what the caller needs.
            let _ = MySql::drop_database(&mut admin, name).await;
        }
        let _ = admin.close().await;
        migrated.map(|()| Handout::Migrate)
    }

    async fn retire(admin_url: &str, name: &str) -> Result<(), HarnessError> {
        crate::database::drop_by_name::<MySql>(admin_url, name).await
    }

    async fn drop_database(admin: &mut MySqlConnection, name: &str) -> Result<(), HarnessError> {
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

    async fn test_databases(admin: &mut MySqlConnection) -> Result<Vec<String>, HarnessError> {
        sqlx::query_scalar("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'wbt\\_%'")
            .fetch_all(admin)
            .await
            .context(|| "listing test databases".to_owned())
    }

    async fn lock_owner(admin: &mut MySqlConnection, owner: u32) -> Result<bool, HarnessError> {
        let got: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, 0)")
            .bind(owner_lock(owner))
            .fetch_one(admin)
            .await
            .context(|| format!("taking the named lock {}", owner_lock(owner)))?;
        Ok(got == Some(1))
    }

    async fn in_use(admin: &mut MySqlConnection, name: &str) -> Result<bool, HarnessError> {
        let sessions: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()",
        )
        .bind(name)
        .fetch_one(admin)
        .await
        .context(|| format!("checking whether {name} is in use"))?;
        Ok(sessions > 0)
    }

    async fn owner_alive(admin: &mut MySqlConnection, owner: u32) -> Result<bool, HarnessError> {
        let holder: Option<i64> = sqlx::query_scalar("SELECT IS_USED_LOCK(?)")
            .bind(owner_lock(owner))
            .fetch_one(admin)
            .await
            .context(|| format!("checking whether owner {owner:08x} is alive"))?;
        Ok(holder.is_some())
    }
}

/// The named lock that marks `owner` as alive.
fn owner_lock(owner: u32) -> String {
    format!("{}_owner_{owner:08x}", names::PREFIX)
}

async fn migrate(admin_url: &str, name: &str, migrator: &Migrator) -> Result<(), HarnessError> {
    let mut conn = connect::<MySql>(&with_database(admin_url, name)?).await?;
    migrations::run(migrator, &mut conn)
        .await
        .context(|| format!("running the migrations into {name}"))?;
    let _ = conn.close().await;
    Ok(())
}
