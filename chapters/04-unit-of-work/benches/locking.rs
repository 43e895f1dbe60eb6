//! Optimistic against pessimistic locking, under high and low contention, in one run.
//!
//! Group `ch04_locking_postgres`: each iteration, 16 buyers at once each take one off a product's
//! stock, through a unit of work:
//! - `optimistic_high` and `pessimistic_high`: all sixteen on one product;
//! - `optimistic_low` and `pessimistic_low`: each on a product of its own.
//!
//! Optimistic buyers load without a lock and start again when their commit finds the row moved
//! on; pessimistic ones lock the row at load (`SELECT ... FOR UPDATE`) and wait for each other.
//!
//! Run with `just bench ch04` (PostgreSQL from the harness).

use std::time::Duration;

use ch03_transaction_manager::{Ctx, SqlManager};
use ch04_unit_of_work::migrations::POSTGRES;
use ch04_unit_of_work::shop::Product;
use ch04_unit_of_work::{UnitOfWork, buy_optimistically, buy_pessimistically, commit};
use criterion::{Criterion, criterion_group, criterion_main};
use futures::future::try_join_all;
use harness::PgDatabase;
use sqlx::Postgres;
use tokio::runtime::Runtime;
use uuid::Uuid;

const BUYERS: usize = 16;

/// `count` products with plenty in stock, stored.
async fn stocked(tm: &SqlManager<Postgres>, count: usize) -> Vec<Uuid> {
    let mut unit = UnitOfWork::new();
    let mut ids = Vec::new();
    for n in 0..count {
        let product = Product {
            id: Uuid::now_v7(),
            name: format!("part {n}"),
            stock: i64::MAX / 2,
            version: 0,
        };
        ids.push(product.id);
        unit.register_new(product).expect("a new product");
    }
    commit(&mut unit, tm, &Ctx::new()).await.expect("stocked");
    ids
}

fn benches(c: &mut Criterion) {
    let runtime = Runtime::new().expect("a tokio runtime");
    let db = runtime
        .block_on(PgDatabase::new(&POSTGRES))
        .unwrap_or_else(|error| panic!("{error}"));
    let tm = SqlManager::new(db.pool().clone());
    let one = runtime.block_on(stocked(&tm, 1));
    let own = runtime.block_on(stocked(&tm, BUYERS));
    let mut group = c.benchmark_group("ch04_locking_postgres");
    group.sample_size(10).measurement_time(Duration::from_secs(10));

    let contended = [
        ("optimistic_high", "pessimistic_high", vec![one[0]; BUYERS]),
        ("optimistic_low", "pessimistic_low", own),
    ];
    for (optimistic, pessimistic, products) in contended {
        group.bench_function(optimistic, |b| {
            b.to_async(&runtime).iter(|| {
                let buyers = products.iter().map(|&id| buy_optimistically(&tm, id, 1, 1_000));
                async { try_join_all(buyers).await.expect("every buyer bought") }
            });
        });
        group.bench_function(pessimistic, |b| {
            b.to_async(&runtime).iter(|| {
                let buyers = products.iter().map(|&id| buy_pessimistically(&tm, id, 1));
                async { try_join_all(buyers).await.expect("every buyer bought") }
            });
        });
    }
    group.finish();
}

criterion_group!(locking_benches, benches);
criterion_main!(locking_benches);
