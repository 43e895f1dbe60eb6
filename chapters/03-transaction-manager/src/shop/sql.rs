//! The shop's statements, in each database's SQL: all that differs between databases here.
//!
//! PostgreSQL and SQLite accept the same text: `$n` placeholders, and `RETURNING id` to get a new
//! row's id back in the same round trip. MySQL and MariaDB take `?` placeholders, and give the id
//! of the row just inserted in the statement's result (`last_insert_id`). So there are two plain
//! `impl` blocks, one per kind of SQL, each with its statements in view.

use std::future::Future;

use sqlx::{Decode, Encode, Executor, IntoArguments, MySql, MySqlConnection, Postgres, Sqlite, Type};

use crate::Dialect;

/// The statements the shop's repositories run. Each takes the connection the manager gave the
/// repository, so it runs in whatever transaction the caller is in.
pub trait ShopSql: Dialect {
    /// Inserts a user; the new user's id.
    fn insert_user(conn: &mut Self::Connection, email: &str) -> impl Future<Output = sqlx::Result<i64>> + Send;
    fn insert_message(
        conn: &mut Self::Connection,
        kind: &str,
        payload: &str,
    ) -> impl Future<Output = sqlx::Result<()>> + Send;
    fn insert_product(
        conn: &mut Self::Connection,
        id: i64,
        name: &str,
        stock: i32,
    ) -> impl Future<Output = sqlx::Result<()>> + Send;
    fn stock(conn: &mut Self::Connection, id: i64) -> impl Future<Output = sqlx::Result<i32>> + Send;
    /// Takes `quantity` off the stock if there is that much; whether it did.
    fn write_off(
        conn: &mut Self::Connection,
        id: i64,
        quantity: i32,
    ) -> impl Future<Output = sqlx::Result<bool>> + Send;
    /// Inserts an order; the new order's id.
    fn insert_order(
        conn: &mut Self::Connection,
        user: i64,
        product: i64,
        quantity: i32,
    ) -> impl Future<Output = sqlx::Result<i64>> + Send;
}

/// A database that speaks the SQL of the first `impl` below: PostgreSQL and SQLite.
pub trait NumberedSql: Dialect {}
impl NumberedSql for Postgres {}
impl NumberedSql for Sqlite {}

// ANCHOR: numbered_sql
/// PostgreSQL and SQLite. The `where` clause is what sqlx must know of a database to run these
/// statements on it: that its connections execute queries, and how it encodes and decodes the
/// column types used. It is written here once, and nowhere else needs it.
impl<DB> ShopSql for DB
where
    DB: NumberedSql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> i32: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    async fn insert_user(conn: &mut DB::Connection, email: &str) -> sqlx::Result<i64> {
        sqlx::query_scalar("INSERT INTO users (email) VALUES ($1) RETURNING id")
            .bind(email)
            .fetch_one(conn)
            .await
    }

    async fn insert_message(conn: &mut DB::Connection, kind: &str, payload: &str) -> sqlx::Result<()> {
        sqlx::query("INSERT INTO messages (kind, payload) VALUES ($1, $2)")
            .bind(kind)
            .bind(payload)
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn insert_product(conn: &mut DB::Connection, id: i64, name: &str, stock: i32) -> sqlx::Result<()> {
        sqlx::query("INSERT INTO products (id, name, stock) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(name)
            .bind(stock)
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn stock(conn: &mut DB::Connection, id: i64) -> sqlx::Result<i32> {
        sqlx::query_scalar("SELECT stock FROM products WHERE id = $1")
            .bind(id)
            .fetch_one(conn)
            .await
    }

    async fn write_off(conn: &mut DB::Connection, id: i64, quantity: i32) -> sqlx::Result<bool> {
        // sqlx has no database-independent count of changed rows, so the row says it changed.
        let written: Option<i64> =
            sqlx::query_scalar("UPDATE products SET stock = stock - $1 WHERE id = $2 AND stock >= $1 RETURNING id")
                .bind(quantity)
                .bind(id)
                .fetch_optional(conn)
                .await?;
        Ok(written.is_some())
    }

    async fn insert_order(conn: &mut DB::Connection, user: i64, product: i64, quantity: i32) -> sqlx::Result<i64> {
        sqlx::query_scalar("INSERT INTO orders (user_id, product_id, quantity) VALUES ($1, $2, $3) RETURNING id")
            .bind(user)
            .bind(product)
            .bind(quantity)
            .fetch_one(conn)
            .await
    }
}
// ANCHOR_END: numbered_sql

// ANCHOR: mysql_sql
/// MySQL and MariaDB: `?` placeholders (bound in order, so a value used twice is bound twice),
/// and the new row's id from the statement's result.
impl ShopSql for MySql {
    async fn insert_user(conn: &mut MySqlConnection, email: &str) -> sqlx::Result<i64> {
        let done = sqlx::query("INSERT INTO users (email) VALUES (?)")
            .bind(email)
            .execute(conn)
            .await?;
        Ok(done.last_insert_id() as i64)
    }

    async fn insert_message(conn: &mut MySqlConnection, kind: &str, payload: &str) -> sqlx::Result<()> {
        sqlx::query("INSERT INTO messages (kind, payload) VALUES (?, ?)")
            .bind(kind)
            .bind(payload)
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn insert_product(conn: &mut MySqlConnection, id: i64, name: &str, stock: i32) -> sqlx::Result<()> {
        sqlx::query("INSERT INTO products (id, name, stock) VALUES (?, ?, ?)")
            .bind(id)
            .bind(name)
            .bind(stock)
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn stock(conn: &mut MySqlConnection, id: i64) -> sqlx::Result<i32> {
        sqlx::query_scalar("SELECT stock FROM products WHERE id = ?")
            .bind(id)
            .fetch_one(conn)
            .await
    }

    async fn write_off(conn: &mut MySqlConnection, id: i64, quantity: i32) -> sqlx::Result<bool> {
        let done = sqlx::query("UPDATE products SET stock = stock - ? WHERE id = ? AND stock >= ?")
            .bind(quantity)
            .bind(id)
            .bind(quantity)
            .execute(conn)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_order(conn: &mut MySqlConnection, user: i64, product: i64, quantity: i32) -> sqlx::Result<i64> {
        let done = sqlx::query("INSERT INTO orders (user_id, product_id, quantity) VALUES (?, ?, ?)")
            .bind(user)
            .bind(product)
            .bind(quantity)
            .execute(conn)
            .await?;
        Ok(done.last_insert_id() as i64)
    }
}
// ANCHOR_END: mysql_sql
