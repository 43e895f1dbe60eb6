//! A shop on a PostgreSQL database of the test's own, with its repositories at hand.

use std::sync::Arc;

use ch03_transaction_manager::SqlManager;
use ch03_transaction_manager::migrations::POSTGRES;
use ch03_transaction_manager::shop::{Messages, Orders, Products, Users};
use harness::PgDatabase;
use sqlx::Postgres;

pub struct Shop {
    pub db: PgDatabase,
    pub tm: Arc<SqlManager<Postgres>>,
    pub users: Users<Postgres>,
    pub messages: Messages<Postgres>,
    pub products: Products<Postgres>,
    pub orders: Orders<Postgres>,
}

impl Shop {
    pub async fn new() -> anyhow::Result<Self> {
        let db = PgDatabase::new(&POSTGRES).await?;
        let tm = Arc::new(SqlManager::new(db.pool().clone()));
        Ok(Self {
            users: Users::new(tm.clone()),
            messages: Messages::new(tm.clone()),
            products: Products::new(tm.clone()),
            orders: Orders::new(tm.clone()),
            tm,
            db,
        })
    }

    /// A shop with `lamps` lamps (product 7) in stock and one buyer, whose id comes back.
    pub async fn with_lamps_and_a_buyer(lamps: i32) -> anyhow::Result<(Self, i64)> {
        let shop = Self::new().await?;
        let ctx = ch03_transaction_manager::Ctx::new();
        shop.products.add(&ctx, 7, "lamp", lamps).await?;
        let user = shop.users.add(&ctx, "ada@example.com").await?;
        Ok((shop, user))
    }

    /// A count of what is committed, on a connection of its own.
    pub async fn count(&self, query: &'static str) -> anyhow::Result<i64> {
        Ok(sqlx::query_scalar(query).fetch_one(self.db.pool()).await?)
    }
}
