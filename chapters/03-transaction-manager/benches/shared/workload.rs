//! The benchmark's workload, by hand and through the manager. A module of its own so that a test
//! (`tests/it/statements.rs`) can check that both send the same statements: then the benchmark
//! measures the manager's own work and nothing else.

use ch03_transaction_manager::{Ctx, Dialect, Settings, SqlManager, TxError};
use sqlx::{AssertSqlSafe, Decode, Encode, Executor, IntoArguments, Pool, Type};

/// The workload's two statements, in the `$n` SQL that PostgreSQL and SQLite share. Implemented
/// for every database sqlx can run them on, so the two ways below say only `DB: Workload`.
pub trait Workload: Dialect {
    /// Inserts an entry; its id.
    fn insert(conn: &mut Self::Connection) -> impl Future<Output = sqlx::Result<i64>>;
    fn update(conn: &mut Self::Connection, id: i64) -> impl Future<Output = sqlx::Result<()>>;
}

impl<DB> Workload for DB
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    async fn insert(conn: &mut DB::Connection) -> sqlx::Result<i64> {
        sqlx::query_scalar("INSERT INTO entries (label) VALUES ($1) RETURNING id")
            .bind("created")
            .fetch_one(conn)
            .await
    }

    async fn update(conn: &mut DB::Connection, id: i64) -> sqlx::Result<()> {
        sqlx::query("UPDATE entries SET label = $1 WHERE id = $2")
            .bind("updated")
            .bind(id)
            .execute(conn)
            .await?;
        Ok(())
    }
}

/// The workload by hand: begin with the manager's own statement, two statements, commit.
pub async fn raw<DB: Workload>(pool: &Pool<DB>) {
    let begin = DB::begin(None, false).expect("a begin statement");
    let mut tx = pool.begin_with(AssertSqlSafe(begin)).await.unwrap();
    let id = DB::insert(&mut tx).await.unwrap();
    DB::update(&mut tx, id).await.unwrap();
    tx.commit().await.unwrap();
}

/// The same workload through the manager, the update in a nested `Required` scope.
pub async fn managed<DB: Workload>(tm: &SqlManager<DB>) {
    tm.run(&Ctx::new(), Settings::default(), async |ctx| {
        let id = DB::insert(&mut *tm.connection(ctx).await?).await.unwrap();
        tm.run(ctx, Settings::default(), async |ctx| {
            DB::update(&mut *tm.connection(ctx).await?, id).await.unwrap();
            Ok::<_, TxError>(())
        })
        .await
    })
    .await
    .unwrap();
}
