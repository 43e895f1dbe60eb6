//! A shop on a PostgreSQL database of the test's own, and what the checks read it with.

use ch03_transaction_manager::{Ctx, SqlManager};
use ch04_unit_of_work::migrations::POSTGRES;
use ch04_unit_of_work::shop::Product;
use ch04_unit_of_work::{ShopSql, UnitOfWork, commit};
use harness::PgDatabase;
use sqlx::Postgres;
use uuid::Uuid;

pub struct Shop {
    pub db: PgDatabase,
    pub tm: SqlManager<Postgres>,
}

impl Shop {
    pub async fn new() -> anyhow::Result<Self> {
        let db = PgDatabase::new(&POSTGRES).await?;
        let tm = SqlManager::new(db.pool().clone());
        Ok(Shop { db, tm })
    }

    /// A product of stock `stock`, stored.
    pub async fn product(&self, name: &str, stock: i64) -> anyhow::Result<Product> {
        let product = Product {
            id: Uuid::now_v7(),
            name: name.into(),
            stock,
            version: 0,
        };
        let mut unit = UnitOfWork::new();
        unit.register_new(product.clone())?;
        commit(&mut unit, &self.tm, &Ctx::new()).await?;
        Ok(product)
    }

    /// The product `id` as stored.
    pub async fn stored(&self, id: Uuid) -> anyhow::Result<Product> {
        Postgres::product(self.db.pool(), id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no product {id}"))
    }

    pub async fn count(&self, table: &str) -> anyhow::Result<i64> {
        Ok(harness::CountRows::count_rows(self.db.pool(), table).await?)
    }
}
