//! What the repository's choices cost, measured against the alternatives in one run.
//!
//! - `ch02_get_user_{postgres,sqlite}`: `join_one_query` (the adapter's `get`: one `SELECT ... JOIN`)
//!   vs `two_queries` (a round trip per table);
//! - `ch02_save_{postgres,sqlite}`: `upsert` (the adapter's `save`: one `INSERT ... ON CONFLICT`
//!   per table) vs `select_then_write` (read the row first, then insert or update it).
//!
//! Each iteration of a save benchmark updates an existing user (its bio changes), the common case
//! for `save`. Run with `just bench ch02` (PostgreSQL from the harness, SQLite in memory).

use std::time::Duration;

use ch02_repository::{
    PostgresUserRepository, Profile, SqlUserRepository, SqliteUserRepository, User, UserRepository, UserSql, migrations,
};
use criterion::{Criterion, criterion_group, criterion_main};
use harness::{PgDatabase, SqliteDatabase};
use tokio::runtime::Runtime;

/// A user saved in the store, with 200 others around it so that indexes are not trivially small.
async fn seeded<R: UserRepository>(users: &R) -> User {
    for i in 0..200 {
        users
            .save(&User::new(
                format!("other{i}@example.com"),
                "hash",
                Profile::new("O", "Ther"),
            ))
            .await
            .expect("seed");
    }
    let mut profile = Profile::new("Ada", "Lovelace");
    profile.bio = Some("bio".into());
    let ada = User::new("ada@example.com", "hash", profile);
    users.save(&ada).await.expect("seed");
    ada
}

/// Both comparisons on one database, named `ch02_{get_user,save}_{backend}`.
fn compare<DB: UserSql>(c: &mut Criterion, runtime: &Runtime, backend: &str, users: SqlUserRepository<DB>) {
    let ada = runtime.block_on(seeded(&users));

    let mut group = c.benchmark_group(format!("ch02_get_user_{backend}"));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("join_one_query", |b| {
        b.to_async(runtime).iter(|| async { users.get(ada.id).await.unwrap() });
    });
    group.bench_function("two_queries", |b| {
        b.to_async(runtime)
            .iter(|| async { users.get_with_two_queries(ada.id).await.unwrap() });
    });
    group.finish();

    let mut group = c.benchmark_group(format!("ch02_save_{backend}"));
    group.measurement_time(Duration::from_secs(5));
    let mut changed = ada.clone();
    group.bench_function("upsert", |b| {
        b.to_async(runtime).iter(|| {
            let user = next_version(&mut changed);
            let users = &users;
            async move { users.save(&user).await.unwrap() }
        });
    });
    group.bench_function("select_then_write", |b| {
        b.to_async(runtime).iter(|| {
            let user = next_version(&mut changed);
            let users = &users;
            async move { users.save_select_then_write(&user).await.unwrap() }
        });
    });
    group.finish();
}

/// The user with a new bio, as a save benchmark writes it.
fn next_version(user: &mut User) -> User {
    user.profile.bio = Some(format!("bio {}", user.updated_at.timestamp_micros()));
    user.touch();
    user.clone()
}

fn repository(c: &mut Criterion) {
    let runtime = Runtime::new().expect("a tokio runtime");

    let postgres = runtime
        .block_on(PgDatabase::new(&migrations::POSTGRES))
        .unwrap_or_else(|error| panic!("{error}"));
    compare(
        c,
        &runtime,
        "postgres",
        PostgresUserRepository::new(postgres.pool().clone()),
    );

    let sqlite = runtime
        .block_on(SqliteDatabase::new(&migrations::SQLITE))
        .unwrap_or_else(|error| panic!("{error}"));
    compare(c, &runtime, "sqlite", SqliteUserRepository::new(sqlite.pool().clone()));
}

criterion_group!(benches, repository);
criterion_main!(benches);
