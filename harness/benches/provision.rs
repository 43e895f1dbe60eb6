//! Why each test gets a database cloned from a template instead of a freshly migrated one.
//!
//! Group `harness_provision_postgres`, over a migration set of 20 tables with indexes:
//! - `template_clone`: `CREATE DATABASE ... TEMPLATE ...`, what `PgDatabase::new` does per test;
//! - `create_and_migrate`: `CREATE DATABASE` and the 20 migrations replayed, what it would cost
//!   without templates.
//!
//! Only the creation is timed. Between iterations, untimed, the database is dropped and a
//! `CHECKPOINT` is forced: PostgreSQL makes `DROP DATABASE` request a checkpoint, which would
//! otherwise run during the next creation and charge it for the previous iteration's drop (seen
//! here: clone times climbing from 45 to 130 ms over 30 back-to-back clone/drop pairs). Measured
//! with the drop included, under that churn, the clone's lead shrinks (docs/src/harness.md gives the figures across runs).
//! Run with `just bench harness_provision` (needs PostgreSQL; `CHECKPOINT` needs a superuser).

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use harness::{ServiceKind, postgres};
use sqlx::Connection;
use sqlx::migrate::Migrator;

static TWENTY_TABLES: Migrator = sqlx::migrate!("benches/migrations/twenty_tables");

fn provision(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let admin_url = runtime
        .block_on(harness::endpoint(ServiceKind::Postgres))
        .unwrap_or_else(|error| panic!("{error}"))
        .url;
    let template = runtime
        .block_on(postgres::ensure_template(&admin_url, &TWENTY_TABLES))
        .unwrap_or_else(|error| panic!("{error}"));

    let mut group = c.benchmark_group("harness_provision_postgres");
    group.sample_size(10).measurement_time(Duration::from_secs(15));

    group.bench_function("template_clone", |b| {
        b.to_async(&runtime).iter_custom(|iterations| {
            let (admin_url, template) = (admin_url.clone(), template.clone());
            async move {
                let mut timed = Duration::ZERO;
                for _ in 0..iterations {
                    let started = Instant::now();
                    let name = postgres::clone_template(&admin_url, &template).await.expect("a clone");
                    timed += started.elapsed();
                    settle(&admin_url, &name).await;
                }
                timed
            }
        });
    });

    group.bench_function("create_and_migrate", |b| {
        b.to_async(&runtime).iter_custom(|iterations| {
            let admin_url = admin_url.clone();
            async move {
                let mut timed = Duration::ZERO;
                for _ in 0..iterations {
                    let started = Instant::now();
                    let name = postgres::create_and_migrate(&admin_url, &TWENTY_TABLES)
                        .await
                        .expect("a database");
                    timed += started.elapsed();
                    settle(&admin_url, &name).await;
                    postgres::drop_by_name(&admin_url, &name).await.expect("a drop");
                }
                timed
            }
        });
    });
    group.finish();
}

/// Drops the database and waits for the checkpoint that the drop requests, so that the next
/// timed creation starts with nothing left to flush.
async fn settle(admin_url: &str, name: &str) {
    postgres::drop_by_name(admin_url, name).await.expect("a drop");
    let mut admin = sqlx::PgConnection::connect(admin_url).await.expect("a connection");
    sqlx::query("CHECKPOINT")
        .execute(&mut admin)
        .await
        .expect("CHECKPOINT (needs a superuser)");
}

criterion_group!(benches, provision);
criterion_main!(benches);
