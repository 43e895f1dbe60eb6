//! A one-table schema, `items`, on every database: what the harness's own tests and its tour write.
//!
//! Chapters bring their own schemas; this one exists so that the harness can prove isolation and
//! clean-up on each backend with the same few lines.

use sqlx::migrate::Migrator;

use crate::error::Context;
use crate::{HarnessError, MySqlDatabase, PgDatabase, SqliteDatabase};

/// The `items` schema on PostgreSQL.
pub static POSTGRES: Migrator = sqlx::migrate!("migrations/items/postgres");
/// The `items` schema on MySQL/MariaDB.
pub static MYSQL: Migrator = sqlx::migrate!("migrations/items/mysql");
/// The `items` schema on SQLite.
pub static SQLITE: Migrator = sqlx::migrate!("migrations/items/sqlite");

/// Which database an [`ItemsDb`] is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL, a database of the test's own on the provisioned server.
    Postgres,
    /// MySQL/MariaDB, likewise.
    MySql,
    /// SQLite in memory.
    Sqlite,
}

/// A per-test database of any backend, with the `items` table.
pub enum ItemsDb {
    /// On PostgreSQL.
    Postgres(PgDatabase),
    /// On MySQL/MariaDB.
    MySql(MySqlDatabase),
    /// On SQLite.
    Sqlite(SqliteDatabase),
}

impl ItemsDb {
    /// A fresh database on `backend`, migrated.
    pub async fn new(backend: Backend) -> Result<Self, HarnessError> {
        Ok(match backend {
            Backend::Postgres => ItemsDb::Postgres(PgDatabase::new(&POSTGRES).await?),
            Backend::MySql => ItemsDb::MySql(MySqlDatabase::new(&MYSQL).await?),
            Backend::Sqlite => ItemsDb::Sqlite(SqliteDatabase::new(&SQLITE).await?),
        })
    }

    /// The server-side database name; none for in-memory SQLite.
    pub fn name(&self) -> Option<&str> {
        match self {
            ItemsDb::Postgres(db) => Some(db.name()),
            ItemsDb::MySql(db) => Some(db.name()),
            ItemsDb::Sqlite(_) => None,
        }
    }

    /// Where it lives, in words, for narration.
    pub fn describe(&self) -> String {
        match self {
            ItemsDb::Postgres(db) => format!(
                "PostgreSQL database {} (server from {})",
                db.name(),
                db.endpoint().origin
            ),
            ItemsDb::MySql(db) => format!("MySQL database {} (server from {})", db.name(), db.endpoint().origin),
            ItemsDb::Sqlite(_) => "SQLite in memory, inside this process".to_owned(),
        }
    }

    /// Inserts one item.
    pub async fn insert(&self, name: &str, owner: &str) -> Result<(), HarnessError> {
        let what = || format!("inserting item {name}");
        match self {
            ItemsDb::Postgres(db) => {
                sqlx::query("INSERT INTO items (name, owner) VALUES ($1, $2)")
                    .bind(name)
                    .bind(owner)
                    .execute(db.pool())
                    .await
                    .context(what)?;
            }
            ItemsDb::MySql(db) => {
                sqlx::query("INSERT INTO items (name, owner) VALUES (?, ?)")
                    .bind(name)
                    .bind(owner)
                    .execute(db.pool())
                    .await
                    .context(what)?;
            }
            ItemsDb::Sqlite(db) => {
                sqlx::query("INSERT INTO items (name, owner) VALUES (?, ?)")
                    .bind(name)
                    .bind(owner)
                    .execute(db.pool())
                    .await
                    .context(what)?;
            }
        }
        Ok(())
    }

    /// The owners of every item called `name`, in insertion order.
    pub async fn owners_of(&self, name: &str) -> Result<Vec<String>, HarnessError> {
        let what = || format!("reading items called {name}");
        match self {
            ItemsDb::Postgres(db) => sqlx::query_scalar("SELECT owner FROM items WHERE name = $1 ORDER BY id")
                .bind(name)
                .fetch_all(db.pool())
                .await
                .context(what),
            ItemsDb::MySql(db) => sqlx::query_scalar("SELECT owner FROM items WHERE name = ? ORDER BY id")
                .bind(name)
                .fetch_all(db.pool())
                .await
                .context(what),
            ItemsDb::Sqlite(db) => sqlx::query_scalar("SELECT owner FROM items WHERE name = ? ORDER BY id")
                .bind(name)
                .fetch_all(db.pool())
                .await
                .context(what),
        }
    }
}
