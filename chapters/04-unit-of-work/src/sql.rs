//! Reading the shop's rows on a real database: for the use case's port, the tests and the
//! tour. (Writing is the unit of work's: `writer`.)

use std::future::Future;

use ch03_transaction_manager::Dialect;
use sqlx::{Database, Executor, IntoArguments, Pool, QueryBuilder};
use uuid::Uuid;

use crate::place_order::{OrderError, Products};
use crate::shop::{Order, OrderLine, Product};
use crate::writer::PlanWriter;

/// A database the shop's rows can be read from. The `where` clause, what sqlx must know of the
/// database to read them, is written here once.
pub trait ShopSql: Database {
    fn product(pool: &Pool<Self>, id: Uuid) -> impl Future<Output = sqlx::Result<Option<Product>>>;

    /// The product, its row locked until the end of the transaction `conn` is in (pessimistic
    /// locking: `SELECT ... FOR UPDATE`, on PostgreSQL and MariaDB; SQLite has no row locks).
    fn product_for_update(conn: &mut Self::Connection, id: Uuid)
    -> impl Future<Output = sqlx::Result<Option<Product>>>;

    fn order(pool: &Pool<Self>, id: Uuid) -> impl Future<Output = sqlx::Result<Option<Order>>>;

    /// The lines of the order `order_id`, oldest first (their keys are UUIDv7).
    fn lines_of(pool: &Pool<Self>, order_id: Uuid) -> impl Future<Output = sqlx::Result<Vec<OrderLine>>>;
}

impl<DB> ShopSql for DB
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB> + Default,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'r> Product: sqlx::FromRow<'r, DB::Row>,
    for<'r> Order: sqlx::FromRow<'r, DB::Row>,
    for<'r> OrderLine: sqlx::FromRow<'r, DB::Row>,
{
    async fn product(pool: &Pool<DB>, id: Uuid) -> sqlx::Result<Option<Product>> {
        by_id::<DB>(id).build_query_as().fetch_optional(pool).await
    }

    async fn product_for_update(conn: &mut DB::Connection, id: Uuid) -> sqlx::Result<Option<Product>> {
        let mut query = by_id::<DB>(id);
        query.push(" FOR UPDATE");
        query.build_query_as().fetch_optional(&mut *conn).await
    }

    async fn order(pool: &Pool<DB>, id: Uuid) -> sqlx::Result<Option<Order>> {
        let mut query = QueryBuilder::<DB>::new("SELECT id, customer FROM orders WHERE id = ");
        query.push_bind(id);
        query.build_query_as().fetch_optional(pool).await
    }

    async fn lines_of(pool: &Pool<DB>, order_id: Uuid) -> sqlx::Result<Vec<OrderLine>> {
        let mut query =
            QueryBuilder::<DB>::new("SELECT id, order_id, product_id, quantity FROM order_lines WHERE order_id = ");
        query.push_bind(order_id);
        query.push(" ORDER BY id");
        query.build_query_as().fetch_all(pool).await
    }
}

/// A product by its key, up to the key's placeholder.
pub const SELECT_PRODUCT: &str = "SELECT id, name, stock, version FROM products WHERE id = ";

fn by_id<DB>(id: Uuid) -> QueryBuilder<DB>
where
    DB: Database,
    DB::Arguments: Default,
    for<'e> Uuid: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
{
    let mut query = QueryBuilder::<DB>::new(SELECT_PRODUCT);
    query.push_bind(id);
    query
}

/// A database the chapter's use cases run on: its rows read (`ShopSql`) and written
/// (`PlanWriter`) in chapter 03's transactions (`Dialect`).
pub trait ShopDatabase: ShopSql + PlanWriter + Dialect {}
impl<DB: ShopSql + PlanWriter + Dialect> ShopDatabase for DB {}

/// The use case's port on a real database: products read from a pool.
pub struct SqlProducts<DB: Database>(pub Pool<DB>);

impl<DB: ShopSql> Products for SqlProducts<DB> {
    async fn product(&self, id: Uuid) -> Result<Option<Product>, OrderError> {
        DB::product(&self.0, id)
            .await
            .map_err(|error| OrderError::Read(error.to_string()))
    }
}
