//! An in-memory SQLite database of a test's own.
//!
//! SQLite in memory lives inside its connection: a second connection would see a second, empty
//! database, and a pool that closes an idle connection would throw the data away. So the pool
//! holds exactly one connection and never retires it. Nothing to drop afterwards: the database
//! disappears with the pool.

use std::str::FromStr;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

use crate::error::Context;
use crate::{HarnessError, migrations};

pub struct SqliteDatabase {
    pool: SqlitePool,
}

impl SqliteDatabase {
    /// A fresh in-memory database holding the schema of `migrator`.
    pub async fn new(migrator: &Migrator) -> Result<Self, HarnessError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")
            .context(|| "parsing the in-memory SQLite URL".to_owned())?
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .min_connections(1)
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
            .context(|| "opening an in-memory SQLite database".to_owned())?;
        let mut conn = pool
            .acquire()
            .await
            .context(|| "opening an in-memory SQLite database".to_owned())?;
        migrations::run_sqlite(migrator, &mut conn)
            .await
            .context(|| "running the migrations into in-memory SQLite".to_owned())?;
        drop(conn);
        Ok(Self { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}
