//! What a test waits for to get its PostgreSQL database, and what a database costs the server.
//!
//! Group `harness_provision_postgres`, what a test waits for, over a migration set of 20 tables
//! with indexes, each up to and including the first connection to the new database:
//! - `pooled_handout`: `PgDatabase::new` taking a ready database from the pool (a rename);
//! - `template_clone`: `CREATE DATABASE ... TEMPLATE ...`, what a test waits for when the pool is
//!   empty;
//! - `create_and_migrate`: `CREATE DATABASE` and the 20 migrations replayed, what it would cost
//!   without templates.
//!
//! Group `harness_provision_background`, the server's work per database that the pool moves off
//! the test's path (a clone and its drop), with both of PostgreSQL 15's copy strategies:
//! `clone_and_drop_wal_log` (the default) and `clone_and_drop_file_copy`.
//!
//! Only what is named is timed. Between iterations, untimed, the database is dropped and a
//! `CHECKPOINT` is forced: PostgreSQL makes `DROP DATABASE` request a checkpoint, which would
//! otherwise run during the next creation and charge it for the previous iteration's drop. The
//! pooled handout's drop also waits for the pool's top-up, so each handout finds a full pool.
//! Run with `just bench harness_provision` (needs PostgreSQL; `CHECKPOINT` needs a superuser).

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use harness::pool::Handout;
use harness::{PgDatabase, ServiceKind, postgres};
use sqlx::migrate::Migrator;
use sqlx::{AssertSqlSafe, Connection, PgConnection};

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
    // One handout, untimed, fills the pool (its drop waits for the top-up).
    runtime.block_on(async {
        drop(
            PgDatabase::new(&TWENTY_TABLES)
                .await
                .unwrap_or_else(|error| panic!("{error}")),
        );
    });

    let mut waits = c.benchmark_group("harness_provision_postgres");
    waits.sample_size(10).measurement_time(Duration::from_secs(10));

    waits.bench_function("pooled_handout", |b| {
        b.to_async(&runtime).iter_custom(|iterations| {
            let admin_url = admin_url.clone();
            async move {
                let mut timed = Duration::ZERO;
                for _ in 0..iterations {
                    let started = Instant::now();
                    let db = PgDatabase::new(&TWENTY_TABLES).await.expect("a database");
                    timed += started.elapsed();
                    assert_eq!(db.handout(), Handout::Pool, "the pool was empty: this timed a clone");
                    // The drop waits for the top-up, so the next handout finds the pool full.
                    drop(db);
                    checkpoint(&admin_url).await;
                }
                timed
            }
        });
    });

    waits.bench_function("template_clone", |b| {
        b.to_async(&runtime).iter_custom(|iterations| {
            let (admin_url, template) = (admin_url.clone(), template.clone());
            async move {
                let mut timed = Duration::ZERO;
                for _ in 0..iterations {
                    let started = Instant::now();
                    let name = postgres::clone_template(&admin_url, &template).await.expect("a clone");
                    let first = connect_to(&admin_url, &name).await;
                    timed += started.elapsed();
                    let _ = first.close().await;
                    settle(&admin_url, &name).await;
                }
                timed
            }
        });
    });

    waits.bench_function("create_and_migrate", |b| {
        b.to_async(&runtime).iter_custom(|iterations| {
            let admin_url = admin_url.clone();
            async move {
                let mut timed = Duration::ZERO;
                for _ in 0..iterations {
                    let started = Instant::now();
                    let name = postgres::create_and_migrate(&admin_url, &TWENTY_TABLES)
                        .await
                        .expect("a database");
                    let first = connect_to(&admin_url, &name).await;
                    timed += started.elapsed();
                    let _ = first.close().await;
                    settle(&admin_url, &name).await;
                }
                timed
            }
        });
    });
    waits.finish();

    let mut background = c.benchmark_group("harness_provision_background");
    background.sample_size(10).measurement_time(Duration::from_secs(10));
    for strategy in ["wal_log", "file_copy"] {
        background.bench_function(format!("clone_and_drop_{strategy}"), |b| {
            b.to_async(&runtime).iter_custom(|iterations| {
                let (admin_url, template) = (admin_url.clone(), template.clone());
                async move {
                    let mut admin = PgConnection::connect(&admin_url).await.expect("a connection");
                    let mut timed = Duration::ZERO;
                    for n in 0..iterations {
                        // Not a name of the harness's: the sweep never sees it, and this loop drops it.
                        let name = format!("wbbench_{}_{n}", std::process::id());
                        let started = Instant::now();
                        for statement in [
                            format!("CREATE DATABASE {name} TEMPLATE {template} STRATEGY {strategy}"),
                            format!("DROP DATABASE {name}"),
                        ] {
                            sqlx::query(AssertSqlSafe(statement))
                                .execute(&mut admin)
                                .await
                                .expect("a clone and its drop");
                        }
                        timed += started.elapsed();
                        checkpoint(&admin_url).await;
                    }
                    timed
                }
            });
        });
    }
    background.finish();
}

/// The first connection to a new database: part of what a test waits for.
async fn connect_to(admin_url: &str, name: &str) -> PgConnection {
    let url = harness::database::with_database(admin_url, name).expect("a URL");
    PgConnection::connect(&url)
        .await
        .expect("a connection to the new database")
}

/// Drops the database and waits for the checkpoint that the drop requests, so that the next
/// timed creation starts with nothing left to flush.
async fn settle(admin_url: &str, name: &str) {
    postgres::drop_by_name(admin_url, name).await.expect("a drop");
    checkpoint(admin_url).await;
}

async fn checkpoint(admin_url: &str) {
    let mut admin = PgConnection::connect(admin_url).await.expect("a connection");
    sqlx::query("CHECKPOINT")
        .execute(&mut admin)
        .await
        .expect("CHECKPOINT (needs a superuser)");
}

criterion_group!(benches, provision);
criterion_main!(benches);
