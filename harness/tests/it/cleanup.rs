//! What a test made is gone after it: when it passes, when it panics, and when its process is
//! killed (then the next process's sweep removes it).

use std::time::Duration;

use harness::crash::{ChildTest, arm_from_env};
use harness::eventually;
use harness::owner::Swept;
use harness::{PgDatabase, RedisNamespace, ServiceKind};
use redis::AsyncCommands;
use rstest::rstest;
use sqlx::Connection;

use crate::support::{Backend, Db, POSTGRES, database_exists};

#[rstest]
#[tokio::test]
async fn a_test_database_is_gone_after_its_test(
    #[values(Backend::Postgres, Backend::MySql)] backend: Backend,
) -> anyhow::Result<()> {
    let db = Db::new(backend).await?;
    db.insert("x", "me").await?;
    let name = db.name().expect("a server database has a name").to_owned();
    assert!(database_exists(backend, &name).await?);

    drop(db);

    assert!(!database_exists(backend, &name).await?, "{name} is still there");
    if backend == Backend::Postgres {
        // Renamed at once, dropped a moment later in the background (see `Server::retire`).
        let retired = harness::pool::retired_name(&name);
        eventually(Duration::from_secs(10), || async {
            anyhow::ensure!(!database_exists(backend, &retired).await?, "{retired} is still there");
            Ok(())
        })
        .await;
    }
    Ok(())
}

#[rstest]
#[tokio::test]
async fn a_test_database_is_gone_after_its_test_panics(
    #[values(Backend::Postgres, Backend::MySql)] backend: Backend,
) -> anyhow::Result<()> {
    let (named, name) = tokio::sync::oneshot::channel::<String>();
    let panicking_test = tokio::spawn(async move {
        let db = Db::new(backend).await.expect("a database");
        db.insert("x", "me").await.expect("an insert");
        named
            .send(db.name().expect("a name").to_owned())
            .expect("the receiver waits");
        panic!("this test fails while its database is in use");
    });

    let failure = panicking_test.await.expect_err("the task panics");
    assert!(failure.is_panic());
    let name = name.await?;
    assert!(!database_exists(backend, &name).await?, "{name} survived the panic");
    Ok(())
}

#[tokio::test]
async fn a_redis_namespace_is_emptied_after_its_test() -> anyhow::Result<()> {
    let namespace = RedisNamespace::new().await?;
    let mut connection = namespace.connection();
    for key in ["a", "b", "c"] {
        let _: () = connection.set(namespace.key(key), key).await?;
    }
    let prefix = namespace.prefix().to_owned();
    let client = namespace.client().clone();
    assert_eq!(namespace.keys().await?.len(), 3);

    drop(namespace);

    let mut fresh = client.get_multiplexed_async_connection().await?;
    let left: Vec<String> = fresh.keys(format!("{prefix}*")).await?;
    assert!(left.is_empty(), "left behind: {left:?}");
    Ok(())
}

/// Set by a parent test to make the crash child write into the parent's database: a database
/// whose owner is alive, which no other test process's sweep will take while the parent looks.
const PARENT_DATABASE: &str = "HARNESS_IT_PARENT_DATABASE";

// ANCHOR: crash_scenario
/// Two steps with a crash point between them. On its own this test runs both steps; in a child
/// armed at `cleanup::between_steps` it dies after the first.
#[tokio::test]
async fn two_steps_write_two_rows() -> anyhow::Result<()> {
    arm_from_env();
    let own_database;
    let pool = match std::env::var(PARENT_DATABASE) {
        Ok(url) => sqlx::PgPool::connect(&url).await?,
        Err(_) => {
            own_database = PgDatabase::new(&POSTGRES).await?;
            println!("database: {}", own_database.name());
            own_database.pool().clone()
        }
    };
    sqlx::query("INSERT INTO items (name, owner) VALUES ('step', 'one')")
        .execute(&pool)
        .await?;
    fail::fail_point!("cleanup::between_steps");
    sqlx::query("INSERT INTO items (name, owner) VALUES ('step', 'two')")
        .execute(&pool)
        .await?;

    let owners: Vec<String> = sqlx::query_scalar("SELECT owner FROM items ORDER BY id")
        .fetch_all(&pool)
        .await?;
    assert_eq!(owners, ["one", "two"]);
    Ok(())
}
// ANCHOR_END: crash_scenario

// ANCHOR: crash_parent
#[tokio::test]
async fn a_crash_between_two_steps_leaves_the_first_step_done_and_the_second_not() -> anyhow::Result<()> {
    let db = PgDatabase::new(&POSTGRES).await?;
    let child = ChildTest::new("cleanup::two_steps_write_two_rows")
        .crash_at("cleanup::between_steps")
        .env(PARENT_DATABASE, db.url())
        .run()
        .await?;
    assert!(child.crashed_at("cleanup::between_steps"), "{child}");

    // No destructor and no rollback ran in the child: what it did before the crash is there.
    let owners: Vec<String> = sqlx::query_scalar("SELECT owner FROM items ORDER BY id")
        .fetch_all(db.pool())
        .await?;
    assert_eq!(owners, ["one"]);
    Ok(())
}
// ANCHOR_END: crash_parent

#[tokio::test]
async fn a_database_left_by_a_crashed_process_is_swept() -> anyhow::Result<()> {
    let child = ChildTest::new("cleanup::two_steps_write_two_rows")
        .crash_at("cleanup::between_steps")
        .run()
        .await?;
    assert!(child.crashed_at("cleanup::between_steps"), "{child}");
    let name = child
        .stdout
        .lines()
        .find_map(|line| line.split_once("database: ").map(|(_, name)| name.trim()))
        .unwrap_or_else(|| panic!("the child did not say its database:\n{child}"))
        .to_owned();

    // The child's lock went with its process, so a sweep knows the database is nobody's. Another
    // test process starting now may sweep it first; either way it must not survive a sweep.
    let endpoint = harness::endpoint(ServiceKind::Postgres).await?;
    harness::owner::sweep::<sqlx::Postgres>(&endpoint.url).await?;
    assert!(
        !database_exists(Backend::Postgres, &name).await?,
        "{name} survived the sweep"
    );
    Ok(())
}

#[tokio::test]
async fn a_sweep_leaves_the_databases_of_live_processes_alone() -> anyhow::Result<()> {
    let db = PgDatabase::new(&POSTGRES).await?;
    let swept = harness::owner::sweep::<sqlx::Postgres>(&db.endpoint().url).await?;
    assert!(!swept.dropped.contains(&db.name().to_owned()));
    assert!(database_exists(Backend::Postgres, db.name()).await?);
    Ok(())
}

/// A leftover database whose name the harness would not make (here with capitals) is skipped and
/// reported by the sweep; it no longer makes every `PgDatabase::new` fail.
#[tokio::test]
async fn a_database_with_a_name_the_harness_does_not_make_is_reported_not_fatal() -> anyhow::Result<()> {
    let endpoint = harness::endpoint(ServiceKind::Postgres).await?;
    let mut admin = sqlx::PgConnection::connect(&endpoint.url).await?;
    // Owner 00000001 holds no lock, so the sweep would drop this one if it could.
    let odd = format!("wbt_00000001_Leftover_{}", std::process::id());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{odd}\"")))
        .execute(&mut admin)
        .await?;

    let swept = harness::owner::sweep::<sqlx::Postgres>(&endpoint.url).await;
    let db = PgDatabase::new(&POSTGRES).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE \"{odd}\"")))
        .execute(&mut admin)
        .await?;

    let swept = swept?;
    assert!(
        swept
            .refused
            .iter()
            .any(|(name, reason)| *name == odd && reason.contains("refusing")),
        "{swept:?}"
    );
    assert!(!swept.dropped.contains(&odd));
    db?;
    Ok(())
}

/// `clone_template` is public and puts the template's name into SQL: a name the harness does not
/// make is refused before any SQL runs, and nothing is created or dropped.
#[tokio::test]
async fn a_template_name_that_is_not_an_identifier_is_refused() -> anyhow::Result<()> {
    let endpoint = harness::endpoint(ServiceKind::Postgres).await?;
    let refused = harness::postgres::clone_template(&endpoint.url, "wbtpl_x; DROP DATABASE postgres; --").await;
    match refused {
        Err(error) => assert!(error.to_string().contains("refusing to use it in SQL"), "{error}"),
        Ok(name) => panic!("a clone named {name} was made from an unchecked template name"),
    }
    Ok(())
}

// ANCHOR: lost_lock
/// The owner's lock session is cut (what a server restart, a proxy or `idle_session_timeout`
/// does) while its database is in use. A sweep at that very moment finds the lock free, but not
/// the database abandoned: it has connections. The database is still there and usable, and the
/// owner takes its lock again.
#[tokio::test]
async fn a_live_database_survives_its_owners_lock_session_being_cut() -> anyhow::Result<()> {
    let db = PgDatabase::new(&POSTGRES).await?;
    sqlx::query("SELECT 1").execute(db.pool()).await?;
    let endpoint = harness::endpoint(ServiceKind::Postgres).await?;
    let mut admin = sqlx::PgConnection::connect(&endpoint.url).await?;
    const LOCK_SESSION: &str = "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted \
                                AND objid = $1::int4::oid AND objsubid = 2";
    let owner = harness::owner::id() as i32;
    let holder: i32 = sqlx::query_scalar(LOCK_SESSION)
        .bind(owner)
        .fetch_one(&mut admin)
        .await?;
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(holder)
        .execute(&mut admin)
        .await?;

    let swept = harness::owner::sweep::<sqlx::Postgres>(&endpoint.url).await?;
    assert!(!swept.dropped.contains(&db.name().to_owned()), "{swept:?}");
    assert!(database_exists(Backend::Postgres, db.name()).await?);
    sqlx::query("SELECT 1").execute(db.pool()).await?;

    eventually(Duration::from_secs(10), || async {
        let again: Option<i32> = sqlx::query_scalar(LOCK_SESSION)
            .bind(owner)
            .fetch_optional(db.pool())
            .await
            .map_err(|error| error.to_string())?;
        match again {
            Some(session) if session != holder => Ok(()),
            _ => Err("the owner lock is not held again yet".to_owned()),
        }
    })
    .await;
    Ok(())
}
// ANCHOR_END: lost_lock

/// On each server, two databases named as an owner that holds no lock (00000001) would name them:
/// the one nobody uses is dropped by a sweep; the one a session is connected to is left alone and
/// reported in use, since a free lock alone does not prove its owner gone.
#[rstest]
#[case::postgres(Backend::Postgres)]
#[case::mysql(Backend::MySql)]
#[tokio::test]
async fn a_sweep_drops_an_abandoned_database_but_not_one_in_use(#[case] backend: Backend) -> anyhow::Result<()> {
    let (abandoned, in_use) = (
        format!("wbt_00000001_abandoned_{}", std::process::id()),
        format!("wbt_00000001_in_use_{}", std::process::id()),
    );
    let swept = match backend {
        Backend::Postgres => sweep_beside::<sqlx::Postgres>(&abandoned, &in_use).await?,
        Backend::MySql => sweep_beside::<sqlx::MySql>(&abandoned, &in_use).await?,
        Backend::Sqlite => unreachable!("an in-memory SQLite database has no server to sweep"),
    };

    // Another test process may have swept the abandoned one first: either way it is gone.
    assert!(
        !database_exists(backend, &abandoned).await?,
        "{abandoned} survived: {swept:?}"
    );
    assert!(!swept.dropped.contains(&in_use), "{swept:?}");
    assert!(
        swept
            .refused
            .iter()
            .any(|(name, reason)| *name == in_use && reason.contains("in use")),
        "{swept:?}"
    );
    Ok(())
}

/// Creates `abandoned` and `in_use` on `S`'s server, sweeps while a session is connected to
/// `in_use`, then drops `in_use`.
async fn sweep_beside<S: harness::server::Server>(abandoned: &str, in_use: &str) -> anyhow::Result<Swept>
where
    for<'c> &'c mut S::Connection: sqlx::Executor<'c, Database = S>,
{
    let url = harness::endpoint(S::KIND).await?.url;
    let mut admin = S::Connection::connect(&url).await?;
    let user = joined(&mut admin, &url, in_use).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {abandoned}")))
        .execute(&mut admin)
        .await?;
    let swept = harness::owner::sweep::<S>(&url).await?;
    user.close().await?;
    // Nobody's once its session is gone, so another test process's sweep may drop it first.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {in_use}")))
        .execute(&mut admin)
        .await?;
    Ok(swept)
}

/// Creates the database `name` and connects to it. Any other test process's sweep may drop it
/// between the two (its owner holds no lock, and no one is connected yet): then it is made again.
async fn joined<C: sqlx::Connection>(admin: &mut C, url: &str, name: &str) -> anyhow::Result<C>
where
    for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
{
    let mut last = None;
    for _ in 0..5 {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut *admin)
            .await?;
        match C::connect(&harness::database::with_database(url, name)?).await {
            Ok(user) => return Ok(user),
            Err(error) => last = Some(error),
        }
    }
    Err(anyhow::anyhow!(
        "{name} was dropped each time before a session could join it: {last:?}"
    ))
}
