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
use ch03_transaction_manager::{Ctx, Settings, SqlManager, TxError};
use criterion::{Criterion, criterion_group, criterion_main};
use harness::{PgDatabase, SqliteDatabase};

/// The two ways of running the workload, for one database type and its placeholder syntax.
macro_rules! workload {
    ($raw:ident, $managed:ident, $db:ty, $begin:literal, $insert:literal, $update:literal) => {
        async fn $raw(pool: &sqlx::Pool<$db>) {
            let mut tx = pool.begin_with($begin).await.unwrap();
            let id: i64 = sqlx::query_scalar($insert)
                .bind("created")
                .fetch_one(&mut *tx)
                .await
                .unwrap();
            sqlx::query($update)
                .bind("updated")
                .bind(id)
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }

        async fn $managed(tm: &SqlManager<$db>) {
            tm.run(&Ctx::new(), Settings::default(), async |ctx| {
                let id: i64 = {
                    let mut conn = tm.connection(ctx).await?;
                    sqlx::query_scalar($insert)
                        .bind("created")
                        .fetch_one(&mut *conn)
                        .await
                        .unwrap()
                };
                tm.run(ctx, Settings::default(), async |ctx| {
                    let mut conn = tm.connection(ctx).await?;
                    sqlx::query($update)
                        .bind("updated")
                        .bind(id)
                        .execute(&mut *conn)
                        .await
                        .unwrap();
                    Ok::<_, TxError>(())
                })
                .await
            })
            .await
            .unwrap();
        }
    };
}

workload!(
    raw_postgres,
    managed_postgres,
    sqlx::Postgres,
    "BEGIN READ WRITE",
    "INSERT INTO entries (label) VALUES ($1) RETURNING id",
    "UPDATE entries SET label = $1 WHERE id = $2"
);
workload!(
    raw_sqlite,
    managed_sqlite,
    sqlx::Sqlite,
    "BEGIN IMMEDIATE",
    "INSERT INTO entries (label) VALUES (?) RETURNING id",
    "UPDATE entries SET label = ? WHERE id = ?"
);

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
        group.bench_function("raw_sqlx", |b| b.to_async(&runtime).iter(|| raw_sqlite(pool)));
        group.bench_function("manager", |b| b.to_async(&runtime).iter(|| managed_sqlite(&tm)));
        group.finish();
    }

    let postgres = runtime.block_on(PgDatabase::new(&POSTGRES)).unwrap_or_else(|e| fail(e));
    let tm = SqlManager::new(postgres.pool().clone());
    let mut group = c.benchmark_group("tm_overhead_postgres");
    group.bench_function("raw_sqlx", |b| {
        b.to_async(&runtime).iter(|| raw_postgres(postgres.pool()))
    });
    group.bench_function("manager", |b| b.to_async(&runtime).iter(|| managed_postgres(&tm)));
    group.finish();
}

criterion_group!(benches, overhead);
criterion_main!(benches);
