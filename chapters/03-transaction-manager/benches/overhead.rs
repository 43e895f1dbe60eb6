//! What the transaction manager costs over writing the transaction by hand.
//!
//! The workload is go-transaction-manager's published one, per iteration: an outer transaction,
//! an INSERT, a nested `Required` scope with an UPDATE, and the commit. `raw_sqlx` writes it by
//! hand (`pool.begin_with(..)`, two statements on `&mut *tx`, `commit`); `manager` runs the same
//! statements through `SqlManager::run` and `SqlManager::connection` (`shared/workload.rs`). Both
//! begin with the statement the manager uses (`BEGIN IMMEDIATE` on SQLite, `BEGIN READ WRITE` on
//! PostgreSQL), and `tests/it/statements.rs` checks that the manager sends nothing more, so the
//! difference is the manager's own work. The two run alternately, each on a database of its own.
//! Their anchor: +17.7% on in-memory SQLite and +0.68% on SQLite in a file. Run with
//! `just bench tm_overhead`.

use std::time::Duration;

use ch03_transaction_manager::SqlManager;
use ch03_transaction_manager::migrations::{POSTGRES, SQLITE};
use criterion::{Criterion, criterion_group, criterion_main};
use harness::{PgDatabase, SqliteDatabase};

#[path = "shared/workload.rs"]
mod workload;

use sqlx::Pool;
use tokio::runtime::Runtime;
use tokio::time::Instant;
use workload::{Workload, managed, raw};

/// Which side of the comparison a bench function reports.
#[derive(Clone, Copy)]
enum Side {
    ByHand,
    Manager,
}

/// Runs both sides alternately, one transaction each, `iters` times, and returns the time that
/// `side` took. Each bench function runs both, so a drift in the machine's speed during the run
/// (another process, the CPU's clock) falls on the two alike and the ratio stays honest. Which
/// side goes first alternates too: the one that runs second finds the caches warmed, and the
/// pool's background work from the first (returning its connection) running on its time.
async fn alternating<DB: Workload>(iters: u64, side: Side, by_hand: &Pool<DB>, tm: &SqlManager<DB>) -> Duration {
    let mut took = [Duration::ZERO; 2];
    for iteration in 0..iters {
        let by_hand_first = iteration % 2 == 0;
        for turn in [by_hand_first, !by_hand_first] {
            let started = Instant::now();
            if turn {
                raw(by_hand).await;
                took[0] += started.elapsed();
            } else {
                managed(tm).await;
                took[1] += started.elapsed();
            }
        }
    }
    match side {
        Side::ByHand => took[0],
        Side::Manager => took[1],
    }
}

/// The two bench functions of one group, on two databases of the same kind.
fn compare<DB: Workload>(c: &mut Criterion, runtime: &Runtime, group: &str, by_hand: &Pool<DB>, managed: &Pool<DB>) {
    let tm = SqlManager::new(managed.clone());
    let mut group = c.benchmark_group(group);
    // The two differ by a few per cent; a longer measurement narrows the interval.
    group.measurement_time(Duration::from_secs(8));
    for (name, side) in [("raw_sqlx", Side::ByHand), ("manager", Side::Manager)] {
        group.bench_function(name, |b| {
            b.to_async(runtime)
                .iter_custom(|iters| alternating(iters, side, by_hand, &tm));
        });
    }
    group.finish();
}

fn overhead(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let fail = |error: harness::HarnessError| -> ! { panic!("{error}") };
    // Each side writes into a database of its own, so that neither runs on a table the other
    // has grown.
    let sqlite_memory = || {
        runtime
            .block_on(SqliteDatabase::new(&SQLITE))
            .unwrap_or_else(|e| fail(e))
    };
    let (by_hand, managed) = (sqlite_memory(), sqlite_memory());
    compare(c, &runtime, "tm_overhead_sqlite_memory", by_hand.pool(), managed.pool());

    let sqlite_file = || {
        runtime
            .block_on(SqliteDatabase::file(&SQLITE, 1, Duration::from_secs(5)))
            .unwrap_or_else(|e| fail(e))
    };
    let (by_hand, managed) = (sqlite_file(), sqlite_file());
    compare(c, &runtime, "tm_overhead_sqlite_file", by_hand.pool(), managed.pool());

    let postgres = || runtime.block_on(PgDatabase::new(&POSTGRES)).unwrap_or_else(|e| fail(e));
    let (by_hand, managed) = (postgres(), postgres());
    compare(c, &runtime, "tm_overhead_postgres", by_hand.pool(), managed.pool());
}

criterion_group!(benches, overhead);
criterion_main!(benches);
