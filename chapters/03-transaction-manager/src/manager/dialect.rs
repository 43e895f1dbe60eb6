//! What differs between databases when beginning and ending a transaction.

use futures::future::BoxFuture;
use sqlx::{
    AssertSqlSafe, Connection, Database, Executor, MySql, MySqlConnection, PgConnection, Pool, Postgres, Sqlite,
};

use crate::error::TxError;
use crate::settings::Isolation;

/// A database the manager can drive: how to begin a transaction with given settings, and what
/// else it needs around it.
pub trait Dialect: sqlx::Database {
    /// Whether `SAVEPOINT` works (needed for `Propagation::Nested`).
    const SAVEPOINTS: bool = true;

    /// The statement that begins a transaction with this isolation and access mode.
    fn begin(isolation: Option<Isolation>, read_only: bool) -> Result<String, TxError>;

    /// Run right after `begin` and right before the end, for what `begin` cannot say.
    fn after_begin(_read_only: bool) -> Option<&'static str> {
        None
    }
    fn before_end(_read_only: bool) -> Option<&'static str> {
        None
    }

    /// Whether the database runs one writing transaction at a time (SQLite).
    const ONE_WRITER: bool = false;

    /// The server's id for this connection, which [`Dialect::cancel`] takes; `None` where a
    /// statement cannot be cancelled from another connection (SQLite).
    fn server_id(_connection: &mut Self::Connection) -> BoxFuture<'_, Result<Option<i64>, sqlx::Error>> {
        Box::pin(async { Ok(None) })
    }

    /// Cancels the statement running on the connection with server id `id`, from a connection
    /// of its own (the pool's may all be taken). The connection itself stays open and usable.
    fn cancel(_pool: &Pool<Self>, _id: i64) -> BoxFuture<'static, Result<(), sqlx::Error>> {
        Box::pin(async { Ok(()) })
    }

    /// Runs one statement on a connection of this database (every impl calls [`execute_on`]).
    ///
    /// This is here, and not a bound `for<'c> &'c mut DB::Connection: Executor<'c>` on the
    /// manager, because Rust does not carry such a bound from a trait to its users: every generic
    /// use case over the manager would have to repeat it.
    fn execute<'c>(connection: &'c mut Self::Connection, statement: &str) -> BoxFuture<'c, Result<(), sqlx::Error>>;
}

/// [`Dialect::execute`] for any database whose connections execute queries, which is all of them.
fn execute_on<'c, DB>(connection: &'c mut DB::Connection, statement: &str) -> BoxFuture<'c, Result<(), sqlx::Error>>
where
    DB: Database,
    for<'e> &'e mut DB::Connection: Executor<'e, Database = DB>,
{
    // Only the manager's own statements come here: BEGIN variants, SAVEPOINT with its counter.
    let statement = AssertSqlSafe(statement.to_owned());
    Box::pin(async move { sqlx::raw_sql(statement).execute(connection).await.map(|_| ()) })
}

impl Dialect for Postgres {
    fn execute<'c>(connection: &'c mut Self::Connection, statement: &str) -> BoxFuture<'c, Result<(), sqlx::Error>> {
        execute_on::<Self>(connection, statement)
    }

    fn server_id(connection: &mut PgConnection) -> BoxFuture<'_, Result<Option<i64>, sqlx::Error>> {
        Box::pin(async move {
            let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
                .fetch_one(connection)
                .await?;
            Ok(Some(i64::from(pid)))
        })
    }

    // ANCHOR: cancel_postgres
    /// A cancel request: the statement fails with `canceling statement due to user request`, and
    /// the transaction stays open, aborted, for the rollback that follows.
    fn cancel(pool: &Pool<Self>, id: i64) -> BoxFuture<'static, Result<(), sqlx::Error>> {
        let options = pool.connect_options();
        Box::pin(async move {
            let mut side = PgConnection::connect_with(&options).await?;
            sqlx::query("SELECT pg_cancel_backend($1)")
                .bind(id as i32)
                .execute(&mut side)
                .await?;
            side.close().await
        })
    }
    // ANCHOR_END: cancel_postgres

    fn begin(isolation: Option<Isolation>, read_only: bool) -> Result<String, TxError> {
        let mut statement = String::from("BEGIN");
        if let Some(isolation) = isolation {
            statement.push_str(" ISOLATION LEVEL ");
            statement.push_str(isolation.sql());
        }
        statement.push_str(if read_only { " READ ONLY" } else { " READ WRITE" });
        Ok(statement)
    }
}

impl Dialect for MySql {
    fn execute<'c>(connection: &'c mut Self::Connection, statement: &str) -> BoxFuture<'c, Result<(), sqlx::Error>> {
        execute_on::<Self>(connection, statement)
    }

    fn server_id(connection: &mut MySqlConnection) -> BoxFuture<'_, Result<Option<i64>, sqlx::Error>> {
        Box::pin(async move {
            let id: i64 = sqlx::query_scalar("SELECT CAST(CONNECTION_ID() AS SIGNED)")
                .fetch_one(connection)
                .await?;
            Ok(Some(id))
        })
    }

    /// `KILL QUERY` ends the statement (`Query execution was interrupted`) and leaves the
    /// connection and its transaction open for the rollback that follows.
    fn cancel(pool: &Pool<Self>, id: i64) -> BoxFuture<'static, Result<(), sqlx::Error>> {
        let options = pool.connect_options();
        Box::pin(async move {
            let mut side = MySqlConnection::connect_with(&options).await?;
            // An integer, not text from outside: safe to put into the statement.
            sqlx::raw_sql(AssertSqlSafe(format!("KILL QUERY {id}")))
                .execute(&mut side)
                .await?;
            side.close().await
        })
    }

    fn begin(isolation: Option<Isolation>, read_only: bool) -> Result<String, TxError> {
        // MySQL sets the isolation of the *next* transaction with a statement of its own, sent
        // in the same round trip.
        let access = if read_only {
            "START TRANSACTION READ ONLY"
        } else {
            "START TRANSACTION READ WRITE"
        };
        Ok(match isolation {
            Some(isolation) => format!("SET TRANSACTION ISOLATION LEVEL {}; {access}", isolation.sql()),
            None => access.to_owned(),
        })
    }
}

impl Dialect for Sqlite {
    const ONE_WRITER: bool = true;

    fn execute<'c>(connection: &'c mut Self::Connection, statement: &str) -> BoxFuture<'c, Result<(), sqlx::Error>> {
        execute_on::<Self>(connection, statement)
    }

    fn begin(isolation: Option<Isolation>, read_only: bool) -> Result<String, TxError> {
        // SQLite transactions are serializable, always.
        match isolation {
            None | Some(Isolation::Serializable) => {}
            Some(other) => return Err(TxError::IsolationUnsupported(other)),
        }
        // A writer takes the write lock at BEGIN (IMMEDIATE). A deferred BEGIN would take it at
        // the first write, and two connections that both read first would then deadlock, each
        // waiting to upgrade its lock: SQLite answers one of them with SQLITE_BUSY.
        Ok(if read_only { "BEGIN DEFERRED" } else { "BEGIN IMMEDIATE" }.to_owned())
    }

    // SQLite has no read-only transactions; `query_only` refuses writes on the connection, and
    // must be turned off again before the connection serves anyone else (the manager does that
    // also when a read-only transaction is abandoned by a panic or a cancellation).
    fn after_begin(read_only: bool) -> Option<&'static str> {
        read_only.then_some("PRAGMA query_only = ON")
    }
    fn before_end(read_only: bool) -> Option<&'static str> {
        read_only.then_some("PRAGMA query_only = OFF")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn begin_statements_carry_isolation_and_access_mode() {
        assert_eq!(Postgres::begin(None, false).unwrap(), "BEGIN READ WRITE");
        assert_eq!(
            Postgres::begin(Some(Isolation::Serializable), true).unwrap(),
            "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY"
        );
        assert_eq!(
            MySql::begin(Some(Isolation::ReadCommitted), false).unwrap(),
            "SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION READ WRITE"
        );
        assert_eq!(Sqlite::begin(None, false).unwrap(), "BEGIN IMMEDIATE");
        assert_eq!(Sqlite::after_begin(true), Some("PRAGMA query_only = ON"));
        assert!(matches!(
            Sqlite::begin(Some(Isolation::ReadCommitted), false),
            Err(TxError::IsolationUnsupported(Isolation::ReadCommitted))
        ));
    }
}
