//! Why each test gets a database cloned from a template instead of a freshly migrated one.
//!
//! Group `harness_provision_postgres`, over a migration set of 20 tables with indexes:
//! - `template_clone`: `CREATE DATABASE ... TEMPLATE ...`, what `PgDatabase::new` does per test;
//! - `create_and_migrate`: `CREATE DATABASE` and the 20 migrations replayed, what it would cost
//!   without templates.
//!
//! Only the creation is timed; each database is dropped outside the measurement.
//! Run with `just bench harness` (needs PostgreSQL, like the tests).

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use harness::{ServiceKind, postgres};
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
    group.sample_size(10).measurement_time(Duration::from_secs(20));

    group.bench_function("template_clone", |b| {
        b.to_async(&runtime).iter_custom(|iterations| {
            let (admin_url, template) = (admin_url.clone(), template.clone());
            async move {
                let mut timed = Duration::ZERO;
                for _ in 0..iterations {
                    let started = Instant::now();
                    let name = postgres::clone_template(&admin_url, &template).await.expect("a clone");
                    timed += started.elapsed();
                    postgres::drop_by_name(&admin_url, &name).await.expect("a drop");
                }
                timed
            }
        })
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
                        .expect("a migrated database");
                    timed += started.elapsed();
                    postgres::drop_by_name(&admin_url, &name).await.expect("a drop");
                }
                timed
            }
        })
    });
    group.finish();
}

criterion_group!(benches, provision);
criterion_main!(benches);
