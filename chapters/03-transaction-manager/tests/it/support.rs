//! A store per backend for the manager's tests: its manager, a way to write a labelled entry in
//! the current scope, and a way to read what is committed, from a connection of its own.
//!
//! Test bodies are written once and run on every backend by [`each_backend!`]: the macro stamps
//! the body out for `Store<Postgres>`, `Store<MySql>` and `Store<Sqlite>`, whose methods have the
//! same names, so each body is plain code on concrete types.

use std::time::Duration;

pub use ch03_transaction_manager::migrations::{MYSQL, POSTGRES, SQLITE};
use ch03_transaction_manager::{Ctx, Manager, TxError};
use harness::{MySqlDatabase, PgDatabase, SqliteDatabase};
use sqlx::{MySql, Postgres, Sqlite};

/// A use case's error: the manager's, or the use case's own failure.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Tx(#[from] TxError),
    #[error("the use case failed: {0}")]
    Boom(&'static str),
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
}

pub struct Store<DB: ch03_transaction_manager::Dialect> {
    pub manager: Manager<DB>,
    _database: Box<dyn std::any::Any + Send + Sync>,
}

macro_rules! store_for {
    ($db:ty, $insert:literal, $new:expr) => {
        impl Store<$db> {
            pub async fn new() -> anyhow::Result<Self> {
                let (pool, database) = $new;
                Ok(Self {
                    manager: Manager::new(pool),
                    _database: Box::new(database),
                })
            }

            /// Writes an entry in whatever scope `ctx` is in.
            pub async fn insert(&self, ctx: &Ctx, label: &str) -> Result<(), Failure> {
                let mut conn = self.manager.connection(ctx).await?;
                sqlx::query($insert).bind(label).execute(&mut *conn).await?;
                Ok(())
            }

            /// The labels visible in `ctx`'s scope (its own uncommitted writes included).
            pub async fn visible(&self, ctx: &Ctx) -> Result<Vec<String>, Failure> {
                let mut conn = self.manager.connection(ctx).await?;
                Ok(sqlx::query_scalar("SELECT label FROM entries ORDER BY id")
                    .fetch_all(&mut *conn)
                    .await?)
            }

            /// The labels committed, read on a pooled connection outside every transaction.
            pub async fn committed(&self) -> anyhow::Result<Vec<String>> {
                Ok(sqlx::query_scalar("SELECT label FROM entries ORDER BY id")
                    .fetch_all(self.manager.pool())
                    .await?)
            }

            /// Waits until every connection of the pool is back and idle: nothing is left checked
            /// out by a transaction that ended, however it ended.
            pub async fn every_connection_returns(&self) {
                let pool = self.manager.pool();
                harness::eventually(Duration::from_secs(10), || async {
                    let (size, idle) = (pool.size(), pool.num_idle());
                    if idle == size as usize {
                        Ok(())
                    } else {
                        Err(format!("{idle} of {size} connections idle"))
                    }
                })
                .await;
            }
        }
    };
}

store_for!(Postgres, "INSERT INTO entries (label) VALUES ($1)", {
    let db = PgDatabase::new(&POSTGRES).await?;
    (db.pool().clone(), db)
});
store_for!(MySql, "INSERT INTO entries (label) VALUES (?)", {
    let db = MySqlDatabase::new(&MYSQL).await?;
    (db.pool().clone(), db)
});
// A file, not memory: several scopes need several connections at once.
store_for!(Sqlite, "INSERT INTO entries (label) VALUES (?)", {
    let db = SqliteDatabase::file(&SQLITE, 5, Duration::from_secs(10)).await?;
    (db.pool().clone(), db)
});

/// Stamps out one test per backend: `each_backend!(async fn name(store) { body });` makes
/// `name::postgres`, `name::mysql` and `name::sqlite`.
macro_rules! each_backend {
    ($(#[doc = $doc:literal])* async fn $name:ident($store:ident, $sqlite:ident) $body:block) => {
        $(#[doc = $doc])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn postgres() -> anyhow::Result<()> {
                let $store = &crate::support::Store::<sqlx::Postgres>::new().await?;
                #[allow(unused_variables)]
                let $sqlite = false;
                $body
            }

            #[tokio::test]
            async fn mysql() -> anyhow::Result<()> {
                let $store = &crate::support::Store::<sqlx::MySql>::new().await?;
                #[allow(unused_variables)]
                let $sqlite = false;
                $body
            }

            #[tokio::test]
            async fn sqlite() -> anyhow::Result<()> {
                let $store = &crate::support::Store::<sqlx::Sqlite>::new().await?;
                #[allow(unused_variables)]
                let $sqlite = true;
                $body
            }
        }
    };
}
