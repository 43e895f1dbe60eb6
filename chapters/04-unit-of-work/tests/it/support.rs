//! A database of the test's own on each backend, and the few statements the tests read it with.

use std::future::Future;

use ch03_transaction_manager::{Ctx, Dialect, SqlManager};
use ch04_unit_of_work::migrations::{MYSQL, POSTGRES, SQLITE};
use ch04_unit_of_work::shop::Product;
use ch04_unit_of_work::steps::step1_saves_by_hand::sql::HandSql;
use ch04_unit_of_work::{Batched, CommitError, Handle, PlanWriter, UnitOfWork, Written, commit};
use harness::{CountRows, MySqlDatabase, PgDatabase, SqliteDatabase};
use sqlx::{MySql, Pool, Postgres, Sqlite};
use uuid::Uuid;

/// A backend the tests run on: where its database of the test's own comes from.
pub trait Provisioned: Batched + Sized {
    type Handle;
    fn database() -> impl Future<Output = anyhow::Result<Self::Handle>>;
    fn pool(handle: &Self::Handle) -> &Pool<Self>;
    /// The URL of the handle's database, for a child process to connect to (PostgreSQL and
    /// MariaDB; SQLite's databases live in the test's memory).
    fn url(handle: &Self::Handle) -> Option<&str>;
}

impl Provisioned for Postgres {
    type Handle = PgDatabase;
    async fn database() -> anyhow::Result<PgDatabase> {
        Ok(PgDatabase::new(&POSTGRES).await?)
    }
    fn pool(handle: &PgDatabase) -> &Pool<Postgres> {
        handle.pool()
    }
    fn url(handle: &PgDatabase) -> Option<&str> {
        Some(handle.url())
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
    fn url(handle: &MySqlDatabase) -> Option<&str> {
        Some(handle.url())
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
    fn url(_handle: &SqliteDatabase) -> Option<&str> {
        None
    }
}

/// What the tests do on any backend, written once: commit a unit of work and count a table's rows
/// (the harness's count); from the chapter, read a product and send step 1's statements.
pub trait Store: Provisioned + PlanWriter + Dialect + HandSql + CountRows {
    fn commit_unit(unit: &mut UnitOfWork, pool: &Pool<Self>) -> impl Future<Output = Result<Written, CommitError>>;
    fn count(pool: &Pool<Self>, table: &'static str) -> impl Future<Output = anyhow::Result<i64>>;
}

impl<DB> Store for DB
where
    DB: Provisioned + PlanWriter + Dialect + HandSql + CountRows,
{
    async fn commit_unit(unit: &mut UnitOfWork, pool: &Pool<DB>) -> Result<Written, CommitError> {
        commit(unit, &SqlManager::new(pool.clone()), &Ctx::new()).await
    }

    async fn count(pool: &Pool<DB>, table: &'static str) -> anyhow::Result<i64> {
        Ok(DB::count_rows(pool, table).await?)
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
    #[error("the use case refused")]
    Refused,
}

/// `products`, stored by a unit of work of their own.
pub async fn stored<DB: Store>(pool: &Pool<DB>, products: &[Product]) -> anyhow::Result<()> {
    let mut unit = UnitOfWork::new();
    for product in products {
        unit.register_new(product.clone())?;
    }
    DB::commit_unit(&mut unit, pool).await?;
    Ok(())
}

/// The stock of the product `id` as stored.
pub async fn stock<DB: Store>(pool: &Pool<DB>, id: Uuid) -> anyhow::Result<i64> {
    let product = DB::product(pool, id).await?;
    Ok(product.ok_or_else(|| anyhow::anyhow!("no product {id}"))?.stock)
}
