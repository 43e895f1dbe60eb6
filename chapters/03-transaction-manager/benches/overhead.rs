//! What the transaction manager costs over writing the transaction by hand.
//!
//! The workload is go-transaction-manager's published one, per iteration: an outer transaction,
//! an INSERT, a nested `Required` scope with an UPDATE, and the commit. `raw_sqlx` writes it by
//! hand (`pool.begin_with(..)`, two statements on `&mut *tx`, `commit`); `manager` runs the same
//! statements through `SqlManager::run` and `SqlManager::connection` (`shared/workload.rs`). Both
//! begin with the statement the manager uses (`BEGIN IMMEDIATE` on SQLite, `BEGIN READ WRITE` on
//! PostgreSQL), and `tests/it/statements.rs` checks that the manager sends nothing more, so the
//! difference is the manager's own work. Their anchor: +17.7% on in-memory SQLite and +0.68% on
//! SQLite in a file. Run with `just bench tm_overhead`.
//!
//! How the two are compared matters more than usual, because a transaction on SQLite is mostly
//! hand-offs to sqlx's worker thread (one per connection), and what a hand-off costs depends on
//! where the scheduler put that thread: on this project's 2-core machines one transaction took
//! about 35 µs or about 450 µs, flipping between the two for minutes at a time. Each side on a
//! database of its own (two worker threads) measured ratios from 0.2 to 5.5. So both sides run on
//! one database, alternately, in the same loop: on SQLite through its one connection (an
//! in-memory database lives in its connection), on PostgreSQL through a pool each, so that
//! neither waits for a connection the other is still returning. After each group the bench
//! prints the ratio of the two sides' median transactions, over every transaction the group ran:
//! the figure to quote.

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

/// The time each transaction of a group took, per side: [by hand, manager].
type Timings = std::cell::RefCell<[Vec<Duration>; 2]>;

/// Runs both sides alternately, one transaction each, `iters` times, records each one's time in
/// `timings`, and returns the time that `side` took. Each bench function runs both, so a drift in
/// the machine's speed during the run falls on the two alike. Which side goes first alternates
/// too: the one that runs second finds the caches warmed, and the pool's background work from
/// the first (returning its connection) running on its time.
async fn alternating<DB: Workload>(
    iters: u64,
    side: Side,
    by_hand_pool: &Pool<DB>,
    tm: &SqlManager<DB>,
    timings: &Timings,
) -> Duration {
    let mut these: [Vec<Duration>; 2] = Default::default();
    for iteration in 0..iters {
        let by_hand_first = iteration % 2 == 0;
        for by_hand in [by_hand_first, !by_hand_first] {
            let started = Instant::now();
            let which = if by_hand {
                raw(by_hand_pool).await;
                0
            } else {
                managed(tm).await;
                1
            };
            these[which].push(started.elapsed());
        }
    }
    let reported: Duration = match side {
        Side::ByHand => these[0].iter().sum(),
        Side::Manager => these[1].iter().sum(),
    };
    let mut timings = timings.borrow_mut();
    for (all, these) in timings.iter_mut().zip(these) {
        all.extend(these);
    }
    reported
}

/// The two bench functions of one group, by hand on `by_hand` and through the manager on
/// `managed` (pools of one database); then the ratio of their medians.
fn compare<DB: Workload>(c: &mut Criterion, runtime: &Runtime, group: &str, by_hand: &Pool<DB>, managed: &Pool<DB>) {
    let tm = SqlManager::new(managed.clone());
    let timings = Timings::default();
    let mut bench = c.benchmark_group(group);
    // The two differ by a few per cent; a longer measurement narrows the interval.
    bench.measurement_time(Duration::from_secs(8));
    for (name, side) in [("raw_sqlx", Side::ByHand), ("manager", Side::Manager)] {
        bench.bench_function(name, |b| {
            b.to_async(runtime)
                .iter_custom(|iters| alternating(iters, side, by_hand, &tm, &timings));
        });
    }
    bench.finish();
    let [by_hand, manager] = &mut *timings.borrow_mut();
    // A smoke run (`cargo bench -- --test`) runs each function once: no figure to print.
    if by_hand.len() < 1000 {
        return;
    }
    if let (Some(by_hand), Some(manager)) = (median(by_hand), median(manager)) {
        println!(
            "{group}: manager / raw_sqlx = {:.3}, the medians of every transaction both ran in this group\n",
            manager.as_secs_f64() / by_hand.as_secs_f64()
        );
    }
}

/// The middle one of `times`: unmoved by the few transactions that a hiccup of the machine made
/// a hundred times slower, which decide a sum.
fn median(times: &mut [Duration]) -> Option<Duration> {
    times.sort_unstable();
    times.get(times.len() / 2).copied()
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
    compare(c, &runtime, "tm_overhead_sqlite_memory", memory.pool(), memory.pool());

    let file = runtime
        .block_on(SqliteDatabase::file(&SQLITE, 1, Duration::from_secs(5)))
        .unwrap_or_else(|e| fail(e));
    compare(c, &runtime, "tm_overhead_sqlite_file", file.pool(), file.pool());

    let postgres = runtime.block_on(PgDatabase::new(&POSTGRES)).unwrap_or_else(|e| fail(e));
    let second_pool = runtime
        .block_on(sqlx::PgPool::connect(postgres.url()))
        .expect("a second pool on the test database");
    compare(c, &runtime, "tm_overhead_postgres", postgres.pool(), &second_pool);
}

criterion_group!(benches, overhead);
criterion_main!(benches);
