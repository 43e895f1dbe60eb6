//! What the transaction manager costs over writing the transaction by hand.
//!
//! The workload is go-transaction-manager's published one, per iteration: an outer transaction,
//! an INSERT, a nested `Required` scope with an UPDATE, and the commit. `raw_sqlx` writes it by
//! hand (`pool.begin_with(..)`, two statements on `&mut *tx`, `commit`); `manager` runs the same
//! statements through `SqlManager::run` and `SqlManager::connection`. Both begin with the statement the
//! manager uses (`BEGIN IMMEDIATE` on SQLite, `BEGIN READ WRITE` on PostgreSQL), so the difference
//! is the manager's own work. Their anchor: +17.7% on in-memory SQLite and +0.68% on SQLite in a
//! file. Run with `just bench tm_overhead`.

use std::time::Duration;

use ch03_transaction_manager::migrations::{POSTGRES, SQLITE};
use ch03_transaction_manager::{Ctx, Dialect, Settings, SqlManager, TxError};
use criterion::{Criterion, criterion_group, criterion_main};
use harness::{PgDatabase, SqliteDatabase};
use sqlx::{AssertSqlSafe, Decode, Encode, Executor, IntoArguments, Pool, Type};

/// The workload's two statements, in the `$n` SQL that PostgreSQL and SQLite share. Implemented
/// for every database sqlx can run them on, so the two ways below say only `DB: Workload`.
trait Workload: Dialect {
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
async fn raw<DB: Workload>(pool: &Pool<DB>) {
    let begin = DB::begin(None, false).expect("a begin statement");
    let mut tx = pool.begin_with(AssertSqlSafe(begin)).await.unwrap();
    let id = DB::insert(&mut tx).await.unwrap();
    DB::update(&mut tx, id).await.unwrap();
    tx.commit().await.unwrap();
}

/// The same workload through the manager, the update in a nested `Required` scope.
async fn managed<DB: Workload>(tm: &SqlManager<DB>) {
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

fn overhead(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let fail = |error: harness::HarnessError| -> ! { panic!("{error}") };

    let memory = runtime
        .block_on(SqliteDatabase::new(&SQLITE))
        .unwrap_or_else(|e| fail(e));
    let file = runtime
        .block_on(SqliteDatabase::file(&SQLITE, 1, Duration::from_secs(5)))
        .unwrap_or_else(|e| fail(e));
    for (group, pool) in [
        ("tm_overhead_sqlite_memory", memory.pool()),
        ("tm_overhead_sqlite_file", file.pool()),
    ] {
        let tm = SqlManager::new(pool.clone());
        let mut group = c.benchmark_group(group);
        group.bench_function("raw_sqlx", |b| b.to_async(&runtime).iter(|| raw(pool)));
        group.bench_function("manager", |b| b.to_async(&runtime).iter(|| managed(&tm)));
        group.finish();
    }

    let postgres = runtime.block_on(PgDatabase::new(&POSTGRES)).unwrap_or_else(|e| fail(e));
    let tm = SqlManager::new(postgres.pool().clone());
    let mut group = c.benchmark_group("tm_overhead_postgres");
    group.bench_function("raw_sqlx", |b| {
        b.to_async(&runtime).iter(|| raw(postgres.pool()));
    });
    group.bench_function("manager", |b| b.to_async(&runtime).iter(|| managed(&tm)));
    group.finish();
}

criterion_group!(benches, overhead);
criterion_main!(benches);
