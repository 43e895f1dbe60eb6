//! The classification of database errors, on errors that real databases return: content they
//! refuse for good is the event's fault; a lost connection, a lock wait timeout or a deadlock is
//! not.

use std::time::Duration;

use ch07_message_broker::db_errors::refuses_for_good;
use harness::{MySqlDatabase, PgDatabase, SqliteDatabase};
use sqlx::Connection;

/// The error a statement gets.
async fn error_of<'e, E>(executor: E, sql: &'static str) -> sqlx::Error
where
    E: sqlx::Executor<'e>,
{
    match executor.execute(sql).await {
        Ok(_) => panic!("{sql} succeeded"),
        Err(error) => error,
    }
}

#[tokio::test]
async fn postgres_data_and_integrity_errors_are_the_events_fault() -> anyhow::Result<()> {
    let db = PgDatabase::new(&ch07_message_broker::inbox::migrations::POSTGRES).await?;
    let pool = db.pool();
    sqlx::query("CREATE TABLE t (id INT PRIMARY KEY, short VARCHAR(3) NOT NULL)")
        .execute(pool)
        .await?;
    sqlx::query("INSERT INTO t VALUES (1, 'abc')").execute(pool).await?;
    for refused in [
        error_of(pool, "INSERT INTO t VALUES (2, 'too long')").await,
        error_of(pool, "INSERT INTO t VALUES (1, 'dup')").await,
        error_of(pool, "INSERT INTO t VALUES (3, NULL)").await,
        error_of(pool, "SELECT 1 / 0").await,
        error_of(pool, "SELECT convert_from('\\x00'::bytea, 'UTF8')").await,
    ] {
        assert!(refuses_for_good(&refused), "{refused}");
    }
    // Not the event's fault: a serialization failure, which a retry resolves.
    let retried = error_of(pool, "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '40001'; END $$").await;
    assert!(!refuses_for_good(&retried), "{retried}");
    Ok(())
}

#[tokio::test]
async fn mariadb_data_and_integrity_errors_are_the_events_fault_and_a_lock_timeout_is_not() -> anyhow::Result<()> {
    let db = MySqlDatabase::new(&ch07_message_broker::migrations::MYSQL).await?;
    let pool = db.pool();
    sqlx::query("CREATE TABLE t (id INT PRIMARY KEY, short VARCHAR(3) NOT NULL, n TINYINT NOT NULL)")
        .execute(pool)
        .await?;
    sqlx::query("INSERT INTO t VALUES (1, 'abc', 1)").execute(pool).await?;
    for refused in [
        error_of(pool, "INSERT INTO t VALUES (2, 'too long', 1)").await,
        error_of(pool, "INSERT INTO t VALUES (1, 'dup', 1)").await,
        error_of(pool, "INSERT INTO t VALUES (3, NULL, 1)").await,
        error_of(pool, "INSERT INTO t VALUES (4, 'x', 1000)").await,
        error_of(pool, "INSERT INTO t VALUES (5, 'x', 'not a number')").await,
    ] {
        assert!(refuses_for_good(&refused), "{refused}");
    }

    // A row lock held by another transaction, and a short lock wait: error 1205, retried.
    let mut holder = pool.begin().await?;
    sqlx::query("UPDATE t SET n = 2 WHERE id = 1")
        .execute(&mut *holder)
        .await?;
    let mut waiter = pool.acquire().await?;
    sqlx::query("SET SESSION innodb_lock_wait_timeout = 1")
        .execute(&mut *waiter)
        .await?;
    let timed_out = error_of(&mut *waiter, "UPDATE t SET n = 3 WHERE id = 1").await;
    holder.rollback().await?;
    assert!(!refuses_for_good(&timed_out), "{timed_out}");
    Ok(())
}

#[tokio::test]
async fn sqlite_constraint_errors_are_the_events_fault_and_a_busy_database_is_not() -> anyhow::Result<()> {
    let db = SqliteDatabase::file(
        &ch07_message_broker::inbox::migrations::SQLITE,
        2,
        Duration::from_millis(100),
    )
    .await?;
    let pool = db.pool();
    sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, short TEXT NOT NULL CHECK (length(short) <= 3))")
        .execute(pool)
        .await?;
    sqlx::query("INSERT INTO t VALUES (1, 'abc')").execute(pool).await?;
    for refused in [
        error_of(pool, "INSERT INTO t VALUES (2, 'too long')").await,
        error_of(pool, "INSERT INTO t VALUES (1, 'dup')").await,
        error_of(pool, "INSERT INTO t VALUES (3, NULL)").await,
    ] {
        assert!(refuses_for_good(&refused), "{refused}");
    }
    // One writer holds the lock; the other's busy timeout runs out: retried.
    let mut writer = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query("INSERT INTO t VALUES (4, 'x')")
        .execute(&mut *writer)
        .await?;
    let busy = error_of(pool, "INSERT INTO t VALUES (5, 'y')").await;
    writer.rollback().await?;
    assert!(!refuses_for_good(&busy), "{busy}");
    Ok(())
}

#[tokio::test]
async fn a_connection_that_cannot_be_made_is_not_the_events_fault() {
    let refused = sqlx::PgConnection::connect("postgres://postgres@127.0.0.1:1/postgres")
        .await
        .map(|_| ())
        .expect_err("nothing listens on port 1");
    assert!(!refuses_for_good(&refused), "{refused}");
}

/// The manager wraps a database error in `TxError::Database`, saying what it was doing; the
/// consumer still sees through it: content refused for good is the event's fault (and keeps the
/// database's message), anything else is retried and says what the manager was doing.
#[tokio::test]
async fn a_database_error_from_the_manager_is_classified_like_one_from_sqlx() -> anyhow::Result<()> {
    use ch03_transaction_manager::TxError;
    use ch07_message_broker::HandlerError;

    let db = PgDatabase::new(&ch07_message_broker::inbox::migrations::POSTGRES).await?;
    let refused = error_of(db.pool(), "SELECT 1 / 0").await;
    let wrapped = TxError::Database {
        doing: "inserting a welcome",
        source: refused,
    };
    match HandlerError::from(wrapped) {
        HandlerError::Rejected(reason) => assert!(reason.contains("division by zero"), "{reason}"),
        other => panic!("content refused for good must be rejected: {other:?}"),
    }
    let lost = TxError::Database {
        doing: "committing",
        source: sqlx::Error::PoolTimedOut,
    };
    match HandlerError::from(lost) {
        HandlerError::Unavailable(reason) => assert!(reason.contains("committing"), "{reason}"),
        other => panic!("a pool timeout must be retried: {other:?}"),
    }
    Ok(())
}
