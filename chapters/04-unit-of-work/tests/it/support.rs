//! A database of the test's own on each backend, and the few statements the tests read it with.

use std::future::Future;

use ch03_transaction_manager::{Ctx, Dialect, SqlManager};
use ch04_unit_of_work::migrations::{MYSQL, POSTGRES, SQLITE};
use ch04_unit_of_work::shop::Product;
use ch04_unit_of_work::{Batched, CommitError, Handle, PlanWriter, UnitOfWork, Written, commit};
use harness::{MySqlDatabase, PgDatabase, SqliteDatabase};
use sqlx::{Encode, Executor, IntoArguments, MySql, Pool, Postgres, QueryBuilder, Sqlite, Type};
use uuid::Uuid;

/// A backend the tests run on: where its database of the test's own comes from.
pub trait Provisioned: Batched + Sized {
    type Handle;
    fn database() -> impl Future<Output = anyhow::Result<Self::Handle>>;
    fn pool(handle: &Self::Handle) -> &Pool<Self>;
}

impl Provisioned for Postgres {
    type Handle = PgDatabase;
    async fn database() -> anyhow::Result<PgDatabase> {
        Ok(PgDatabase::new(&POSTGRES).await?)
    }
    fn pool(handle: &PgDatabase) -> &Pool<Postgres> {
        handle.pool()
    }
}

impl Provisioned for MySql {
    type Handle = MySqlDatabase;
    async fn database() -> anyhow::Result<MySqlDatabase> {
        Ok(MySqlDatabase::new(&MYSQL).await?)
    }
    fn pool(handle: &MySqlDatabase) -> &Pool<MySql> {
        handle.pool()
    }
}

impl Provisioned for Sqlite {
    type Handle = SqliteDatabase;
    async fn database() -> anyhow::Result<SqliteDatabase> {
        Ok(SqliteDatabase::new(&SQLITE).await?)
    }
    fn pool(handle: &SqliteDatabase) -> &Pool<Sqlite> {
        handle.pool()
    }
}

/// What the tests do on any backend, written once: commit a unit of work, read a product, count
/// a table's rows.
pub trait Store: Provisioned + PlanWriter + Dialect {
    fn commit_unit(unit: &mut UnitOfWork, pool: &Pool<Self>) -> impl Future<Output = Result<Written, CommitError>>;
    fn product(pool: &Pool<Self>, id: Uuid) -> impl Future<Output = sqlx::Result<Option<Product>>>;
    fn count(pool: &Pool<Self>, table: &'static str) -> impl Future<Output = sqlx::Result<i64>>;
    /// The product, its row locked until the end of the transaction `conn` is in (pessimistic
    /// locking: `SELECT ... FOR UPDATE`, on PostgreSQL and MariaDB).
    fn product_for_update(conn: &mut Self::Connection, id: Uuid)
    -> impl Future<Output = sqlx::Result<Option<Product>>>;
}

impl<DB> Store for DB
where
    DB: Provisioned + PlanWriter + Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB> + Default,
    for<'q> Uuid: Encode<'q, DB> + Type<DB>,
    for<'r> Product: sqlx::FromRow<'r, DB::Row>,
    for<'r> (i64,): sqlx::FromRow<'r, DB::Row>,
{
    async fn commit_unit(unit: &mut UnitOfWork, pool: &Pool<DB>) -> Result<Written, CommitError> {
        commit(unit, &SqlManager::new(pool.clone()), &Ctx::new()).await
    }

    async fn product(pool: &Pool<DB>, id: Uuid) -> sqlx::Result<Option<Product>> {
        let mut query = QueryBuilder::<DB>::new("SELECT id, name, stock, version FROM products WHERE id = ");
        query.push_bind(id);
        query.build_query_as().fetch_optional(pool).await
    }

    async fn product_for_update(conn: &mut DB::Connection, id: Uuid) -> sqlx::Result<Option<Product>> {
        let mut query = QueryBuilder::<DB>::new("SELECT id, name, stock, version FROM products WHERE id = ");
        query.push_bind(id);
        query.push(" FOR UPDATE");
        query.build_query_as().fetch_optional(&mut *conn).await
    }

    async fn count(pool: &Pool<DB>, table: &'static str) -> sqlx::Result<i64> {
        let (count,): (i64,) = QueryBuilder::<DB>::new(format!("SELECT COUNT(*) FROM {table}"))
            .build_query_as()
            .fetch_one(pool)
            .await?;
        Ok(count)
    }
}

/// Loads a product into `unit` (one query, unless the unit has it already).
pub async fn load<DB: Store>(unit: &mut UnitOfWork, pool: &Pool<DB>, id: Uuid) -> anyhow::Result<Handle<Product>> {
    let loaded = unit
        .load(id, |id| async move {
            DB::product(pool, id).await.map_err(anyhow::Error::from)
        })
        .await?;
    loaded.ok_or_else(|| anyhow::anyhow!("no product {id}"))
}

/// A new product, at version 0.
pub fn product(name: &str, stock: i64) -> Product {
    Product {
        id: Uuid::now_v7(),
        name: name.into(),
        stock,
        version: 0,
    }
}

/// What a use case in these tests can fail with.
#[derive(Debug, thiserror::Error)]
pub enum UseCaseError {
    #[error(transparent)]
    Commit(#[from] CommitError),
    #[error(transparent)]
    Unit(#[from] ch04_unit_of_work::UnitError),
    #[error(transparent)]
    Tx(#[from] ch03_transaction_manager::TxError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("no product {0}")]
    NoProduct(Uuid),
    #[error("the use case refused")]
    Refused,
}

/// The use case's port on a real database: products read from the pool.
pub struct SqlProducts<'p, DB: sqlx::Database>(pub &'p Pool<DB>);

impl<DB: Store> ch04_unit_of_work::Products for SqlProducts<'_, DB> {
    async fn product(&self, id: Uuid) -> Result<Option<Product>, ch04_unit_of_work::OrderError> {
        DB::product(self.0, id)
            .await
            .map_err(|error| ch04_unit_of_work::OrderError::Read(error.to_string()))
    }
}
