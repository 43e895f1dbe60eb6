//! A store per backend for the manager's tests: its manager, a way to write a labelled entry in
//! the current scope, and a way to read what is committed, from a connection of its own.
//!
//! Test bodies are written once, generic over the backend, and rstest runs each on every backend:
//! `#[values(Postgres, MySql, Sqlite)] backend: DB` makes one test per database, named after it
//! (`name::backend_1_Postgres`, ...). [`Backend`] is what differs per database (how its test
//! database is made, the placeholder in one statement); [`Store`]'s methods are written once.

use std::time::Duration;

pub use ch03_transaction_manager::migrations::{MYSQL, POSTGRES, SQLITE};
use ch03_transaction_manager::{Ctx, Dialect, SqlManager, TxError};
use harness::{MySqlDatabase, PgDatabase, SqliteDatabase};
use sqlx::pool::PoolOptions;
use sqlx::{Decode, Encode, Executor, IntoArguments, MySql, Pool, Postgres, Sqlite, Type};

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

/// What differs per database in these tests.
pub trait Backend: Dialect {
    const IS_SQLITE: bool;
    /// Writes one entry: `$1` or `?`.
    const INSERT: &'static str;
    /// Relabels entries: the new label first, then the old.
    const RELABEL: &'static str;

    /// A test database of its own with a pool of `connections`, and the handle that drops it.
    fn open(connections: u32) -> impl Future<Output = anyhow::Result<(Pool<Self>, Keep)>> + Send;
}

/// What keeps a test database alive until the test ends.
pub type Keep = Box<dyn std::any::Any + Send + Sync>;

impl Backend for Postgres {
    const IS_SQLITE: bool = false;
    const INSERT: &'static str = "INSERT INTO entries (label) VALUES ($1)";
    const RELABEL: &'static str = "UPDATE entries SET label = $1 WHERE label = $2";

    async fn open(connections: u32) -> anyhow::Result<(Pool<Self>, Keep)> {
        let db = PgDatabase::new(&POSTGRES).await?;
        let pool = PoolOptions::new()
            .max_connections(connections)
            .connect(db.url())
            .await?;
        Ok((pool, Box::new(db)))
    }
}

impl Backend for MySql {
    const IS_SQLITE: bool = false;
    const INSERT: &'static str = "INSERT INTO entries (label) VALUES (?)";
    const RELABEL: &'static str = "UPDATE entries SET label = ? WHERE label = ?";

    async fn open(connections: u32) -> anyhow::Result<(Pool<Self>, Keep)> {
        let db = MySqlDatabase::new(&MYSQL).await?;
        let pool = PoolOptions::new()
            .max_connections(connections)
            .connect(db.url())
            .await?;
        Ok((pool, Box::new(db)))
    }
}

impl Backend for Sqlite {
    const IS_SQLITE: bool = true;
    const INSERT: &'static str = "INSERT INTO entries (label) VALUES (?)";
    const RELABEL: &'static str = "UPDATE entries SET label = ? WHERE label = ?";

    /// A file, not memory: several scopes need several connections at once.
    async fn open(connections: u32) -> anyhow::Result<(Pool<Self>, Keep)> {
        let db = SqliteDatabase::file(&SQLITE, connections, Duration::from_secs(10)).await?;
        Ok((db.pool().clone(), Box::new(db)))
    }
}

/// A backend the tests can run on: a [`Backend`] whose connections sqlx can run the tests'
/// statements on. Implemented for every such backend at once, so a test says only `DB: TestDb`.
pub trait TestDb: Backend {
    fn insert_entry(conn: &mut Self::Connection, label: &str) -> impl Future<Output = sqlx::Result<()>> + Send;
    fn labels(conn: &mut Self::Connection) -> impl Future<Output = sqlx::Result<Vec<String>>> + Send;
    /// Relabels the entries labelled `from` to `to`.
    fn relabel(conn: &mut Self::Connection, from: &str, to: &str) -> impl Future<Output = sqlx::Result<()>> + Send;
    /// The one number a `SELECT COUNT(*) ...` answers.
    fn count(conn: &mut Self::Connection, sql: &'static str) -> impl Future<Output = sqlx::Result<i64>> + Send;
}

impl<DB> TestDb for DB
where
    DB: Backend,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> String: Decode<'q, DB> + Type<DB>,
    for<'q> i64: Decode<'q, DB> + Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    async fn insert_entry(conn: &mut DB::Connection, label: &str) -> sqlx::Result<()> {
        sqlx::query(DB::INSERT).bind(label).execute(conn).await?;
        Ok(())
    }

    async fn relabel(conn: &mut DB::Connection, from: &str, to: &str) -> sqlx::Result<()> {
        sqlx::query(DB::RELABEL).bind(to).bind(from).execute(conn).await?;
        Ok(())
    }

    async fn labels(conn: &mut DB::Connection) -> sqlx::Result<Vec<String>> {
        sqlx::query_scalar("SELECT label FROM entries ORDER BY id")
            .fetch_all(conn)
            .await
    }

    async fn count(conn: &mut DB::Connection, sql: &'static str) -> sqlx::Result<i64> {
        sqlx::query_scalar(sql).fetch_one(conn).await
    }
}

pub struct Store<DB: Dialect> {
    pub manager: SqlManager<DB>,
    _database: Keep,
}

impl<DB: TestDb> Store<DB> {
    /// A store on a fresh database of `DB`'s (the value only says which backend).
    pub async fn new(backend: DB) -> anyhow::Result<Self> {
        Self::with_connections(backend, 5).await
    }

    /// The same, with a pool of `connections`.
    pub async fn with_connections(_backend: DB, connections: u32) -> anyhow::Result<Self> {
        let (pool, database) = DB::open(connections).await?;
        Ok(Self {
            manager: SqlManager::new(pool),
            _database: database,
        })
    }

    /// Writes an entry in whatever scope `ctx` is in.
    pub async fn insert(&self, ctx: &Ctx, label: &str) -> Result<(), Failure> {
        let mut conn = self.manager.connection(ctx).await?;
        Ok(DB::insert_entry(&mut conn, label).await?)
    }

    /// The labels visible in `ctx`'s scope (its own uncommitted writes included).
    pub async fn visible(&self, ctx: &Ctx) -> Result<Vec<String>, Failure> {
        let mut conn = self.manager.connection(ctx).await?;
        Ok(DB::labels(&mut *conn).await?)
    }

    /// Rows of the shop's tables, committed: (users, messages, orders).
    pub async fn shop_counts(&self) -> anyhow::Result<(i64, i64, i64)> {
        let mut conn = self.manager.pool().acquire().await?;
        Ok((
            DB::count(&mut conn, "SELECT COUNT(*) FROM users").await?,
            DB::count(&mut conn, "SELECT COUNT(*) FROM messages").await?,
            DB::count(&mut conn, "SELECT COUNT(*) FROM orders").await?,
        ))
    }

    /// The labels committed, read on a pooled connection outside every transaction.
    pub async fn committed(&self) -> anyhow::Result<Vec<String>> {
        let mut conn = self.manager.pool().acquire().await?;
        Ok(DB::labels(&mut conn).await?)
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
