//! Step 1's repository on a real database: a statement per call, each in its own transaction
//! (autocommit), and a record of every statement sent, so that the tests count them and read
//! their text instead of guessing.
//!
//! Also the orders numbered by the database (`numbered_orders`), for what a key the application
//! does not know until the insert costs.

use std::future::Future;
use std::sync::Mutex;

use sqlx::{Database, Executor, IntoArguments, Pool, QueryBuilder};
use uuid::Uuid;

use super::ShopRows;
use crate::shop::{Order, OrderLine, Product};
use crate::sql::{SELECT_PRODUCT, ShopSql};
use crate::writer::Binds;

/// A database step 1's statements can be sent to. The `where` clause, what sqlx must know of it
/// to bind and read these values, is written here once.
pub trait HandSql: ShopSql + Binds {
    /// Sends `query`, as is, on its own.
    fn execute(pool: &Pool<Self>, query: QueryBuilder<Self>) -> impl Future<Output = sqlx::Result<()>>;
    /// Sends `query`, which returns one number.
    fn number(pool: &Pool<Self>, query: QueryBuilder<Self>) -> impl Future<Output = sqlx::Result<i64>>;
}

impl<DB> HandSql for DB
where
    DB: ShopSql + Binds,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB> + Default,
    for<'r> (i64,): sqlx::FromRow<'r, DB::Row>,
{
    async fn execute(pool: &Pool<DB>, mut query: QueryBuilder<DB>) -> sqlx::Result<()> {
        query.build().execute(pool).await.map(drop)
    }

    async fn number(pool: &Pool<DB>, mut query: QueryBuilder<DB>) -> sqlx::Result<i64> {
        let (number,): (i64,) = query.build_query_as().fetch_one(pool).await?;
        Ok(number)
    }
}

/// Step 1's repository over a pool, recording the text of each statement it sends.
pub struct HandRows<DB: Database> {
    pool: Pool<DB>,
    sent: Mutex<Vec<String>>,
}

impl<DB: HandSql> HandRows<DB> {
    pub fn new(pool: Pool<DB>) -> Self {
        HandRows {
            pool,
            sent: Mutex::new(Vec::new()),
        }
    }

    /// The text of every statement sent so far, reads included, in order.
    pub fn sent(&self) -> Vec<String> {
        self.sent.lock().expect("the record of statements").clone()
    }

    /// How many of the statements sent so far wrote (all but the reads).
    pub fn writes(&self) -> usize {
        self.sent().iter().filter(|sql| !sql.starts_with("SELECT")).count()
    }

    async fn execute(&self, query: QueryBuilder<DB>) -> sqlx::Result<()> {
        self.record(query.sql().as_str());
        DB::execute(&self.pool, query).await
    }

    async fn number(&self, query: QueryBuilder<DB>) -> sqlx::Result<i64> {
        self.record(query.sql().as_str());
        DB::number(&self.pool, query).await
    }

    fn record(&self, sql: &str) {
        self.sent.lock().expect("the record of statements").push(sql.to_owned());
    }

    // ANCHOR: numbered
    /// A new order numbered by the database: its number is known only once the insert returns it.
    pub async fn insert_numbered_order(&self, customer: &str) -> sqlx::Result<i64> {
        let mut query = QueryBuilder::new("INSERT INTO numbered_orders (customer) VALUES (");
        DB::bind(&mut query, &customer.to_owned().into());
        query.push(") RETURNING id");
        self.number(query).await
    }

    /// The shortcut that saves the round trip: the number the next order will get, guessed
    /// before inserting it as one more than the highest so far. Another order inserted between
    /// the guess and the insert takes the number.
    pub async fn guess_next_number(&self) -> sqlx::Result<i64> {
        self.number(QueryBuilder::new(
            "SELECT COALESCE(MAX(id), 0) + 1 FROM numbered_orders",
        ))
        .await
    }
    // ANCHOR_END: numbered

    pub async fn insert_numbered_line(&self, order: i64, product: Uuid, quantity: i64) -> sqlx::Result<()> {
        let mut query = QueryBuilder::new("INSERT INTO numbered_order_lines (order_id, product_id, quantity) VALUES (");
        DB::bind(&mut query, &order.into());
        query.push(", ");
        DB::bind(&mut query, &product.into());
        query.push(", ");
        DB::bind(&mut query, &quantity.into());
        query.push(")");
        self.execute(query).await
    }

    /// How many lines the numbered order `order` has.
    pub async fn numbered_lines(&self, order: i64) -> sqlx::Result<i64> {
        let mut query = QueryBuilder::new("SELECT COUNT(*) FROM numbered_order_lines WHERE order_id = ");
        DB::bind(&mut query, &order.into());
        self.number(query).await
    }
}

impl<DB: HandSql> ShopRows for HandRows<DB> {
    async fn product(&self, id: Uuid) -> sqlx::Result<Option<Product>> {
        self.record(SELECT_PRODUCT);
        DB::product(&self.pool, id).await
    }

    // ANCHOR: save_product
    async fn save_product(&self, product: &Product) -> sqlx::Result<()> {
        let mut query = QueryBuilder::new("UPDATE products SET name = ");
        DB::bind(&mut query, &product.name.clone().into());
        query.push(", stock = ");
        DB::bind(&mut query, &product.stock.into());
        query.push(", version = ");
        DB::bind(&mut query, &product.version.into());
        query.push(" WHERE id = ");
        DB::bind(&mut query, &product.id.into());
        self.execute(query).await
    }
    // ANCHOR_END: save_product

    async fn insert_order(&self, order: &Order) -> sqlx::Result<()> {
        let mut query = QueryBuilder::new("INSERT INTO orders (id, customer) VALUES (");
        DB::bind(&mut query, &order.id.into());
        query.push(", ");
        DB::bind(&mut query, &order.customer.clone().into());
        query.push(")");
        self.execute(query).await
    }

    async fn insert_line(&self, line: &OrderLine) -> sqlx::Result<()> {
        let mut query = QueryBuilder::new("INSERT INTO order_lines (id, order_id, product_id, quantity) VALUES (");
        DB::bind(&mut query, &line.id.into());
        query.push(", ");
        DB::bind(&mut query, &line.order_id.into());
        query.push(", ");
        DB::bind(&mut query, &line.product_id.into());
        query.push(", ");
        DB::bind(&mut query, &line.quantity.into());
        query.push(")");
        self.execute(query).await
    }
}
