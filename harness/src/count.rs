//! How many rows a table holds, on any database: what tours and tests check after each scene.
//!
//! A trait, not a generic function, so that generic code says only `DB: CountRows`. Rust does not
//! carry the bounds sqlx needs (connections that execute queries, an `i64` that decodes) from a
//! function to its callers, but it does carry a supertrait: the bounds are written once, here.

use std::future::Future;

use sqlx::{AssertSqlSafe, Database, Decode, Executor, IntoArguments, Pool, Type};

use crate::HarnessError;
use crate::error::Context;

/// A database whose tables the harness can count.
pub trait CountRows: Database {
    /// The number of rows in `table`, a plain lower-case name.
    fn count_rows(pool: &Pool<Self>, table: &str) -> impl Future<Output = Result<i64, HarnessError>> + Send;
}

impl<DB> CountRows for DB
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'r> i64: Decode<'r, DB> + Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    async fn count_rows(pool: &Pool<DB>, table: &str) -> Result<i64, HarnessError> {
        let table = crate::names::safe_identifier(table)?;
        let mut conn = pool.acquire().await.context(|| format!("counting {table}"))?;
        sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(&mut *conn)
            .await
            .context(|| format!("counting {table}"))
    }
}
