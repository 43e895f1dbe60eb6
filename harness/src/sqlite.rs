//! A SQLite database of a test's own: in memory, or in a file when a test needs several
//! connections.
//!
//! SQLite in memory lives inside its connection: a second connection would see a second, empty
//! database, and a pool that closes an idle connection would throw the data away. So the
//! in-memory pool holds exactly one connection and never retires it, and nothing is left to drop
//! afterwards. Code that needs two connections at once (a second transaction beside a first) gets
//! a file in the temporary directory instead, in WAL mode so that readers do not wait for the
//! writer; the file is deleted when the handle is dropped.

use std::str::FromStr;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

use crate::error::Context;
use crate::{HarnessError, migrations};

/// A test's own SQLite database, in memory or in a file of its own, migrated.
pub struct SqliteDatabase {
    pool: SqlitePool,
    /// The database file and its WAL companions, for a file database.
    file: Option<std::path::PathBuf>,
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
        migrations::run(migrator, &mut *conn)
            .await
            .context(|| "running the migrations into in-memory SQLite".to_owned())?;
        drop(conn);
        Ok(Self { pool, file: None })
    }

    /// A fresh database in a file, with a pool of up to `connections` connections. A writer that
    /// finds the database locked waits up to `busy_timeout`, then fails with "database is locked".
    pub async fn file(
        migrator: &Migrator,
        connections: u32,
        busy_timeout: std::time::Duration,
    ) -> Result<Self, HarnessError> {
        let path = std::env::temp_dir().join(format!("{}.sqlite", crate::names::unique()));
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .busy_timeout(busy_timeout)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(connections)
            .connect_with(options)
            .await
            .context(|| format!("opening SQLite at {}", path.display()))?;
        let handle = Self { pool, file: Some(path) };
        let mut conn = handle
            .pool
            .acquire()
            .await
            .context(|| "connecting to SQLite".to_owned())?;
        migrations::run(migrator, &mut *conn)
            .await
            .context(|| "running the migrations into SQLite".to_owned())?;
        drop(conn);
        Ok(handle)
    }

    /// The database file, for a file database.
    pub fn path(&self) -> Option<&std::path::Path> {
        self.file.as_deref()
    }

    /// The pool the test connects through.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

impl Drop for SqliteDatabase {
    fn drop(&mut self) {
        if let Some(path) = &self.file {
            // The pool's connections may still be open; on Unix the files can go regardless.
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
}
