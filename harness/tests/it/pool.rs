//! The pool of ready PostgreSQL databases: a test gets one at once, nobody gets one that another
//! test holds or held, and without a refiller tests still get databases.
//!
//! Each test has a schema of its own (`migrations/pool_*`), so its template and its pool are its
//! own: no other test process claims from them or refills them while it counts.

use std::collections::HashSet;

use harness::crash::{ChildTest, arm_from_env};
use harness::pool::{self, Handout};
use harness::{PgDatabase, ServiceKind, postgres};
use sqlx::Connection;
use sqlx::migrate::Migrator;

use crate::support::{Backend, database_exists};

static REFILL: Migrator = sqlx::migrate!("tests/it/migrations/pool_refill");
static STOPPED: Migrator = sqlx::migrate!("tests/it/migrations/pool_stopped");
static KILLED: Migrator = sqlx::migrate!("tests/it/migrations/pool_killed");
static TWO_RUNS: Migrator = sqlx::migrate!("tests/it/migrations/pool_two_runs");
static BUSY: Migrator = sqlx::migrate!("tests/it/migrations/pool_busy");

/// The server's administrative URL, once it is clear that the pool is on: these tests are about
/// the pool, so with it turned off they fail and say so, rather than pass on clones.
async fn admin_url() -> anyhow::Result<String> {
    anyhow::ensure!(
        pool::size() > 0,
        "WORKBOOK_POOL_SIZE=0 turns the pool off, and these tests need it on: unset it to run them"
    );
    Ok(harness::endpoint(ServiceKind::Postgres).await?.url)
}

async fn holders(db: &PgDatabase) -> anyhow::Result<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT holder FROM marks")
        .fetch_all(db.pool())
        .await?)
}

async fn mark(db: &PgDatabase, holder: &str) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO marks (holder) VALUES ($1)")
        .bind(holder)
        .execute(db.pool())
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_handout_is_topped_up_so_the_next_test_gets_a_ready_database() -> anyhow::Result<()> {
    let url = admin_url().await?;
    let template = postgres::ensure_template(&url, &REFILL).await?;

    // The first handout on a fresh server finds the pool empty; its drop waits for the top-up.
    drop(PgDatabase::new(&REFILL).await?);
    assert_eq!(pool::ready(&url, &template).await?, pool::size());

    let db = PgDatabase::new(&REFILL).await?;
    assert_eq!(db.handout(), Handout::Pool);
    assert!(
        holders(&db).await?.is_empty(),
        "a ready database holds the template's schema only"
    );
    mark(&db, "me").await?;
    drop(db);
    assert_eq!(pool::ready(&url, &template).await?, pool::size(), "topped up again");
    Ok(())
}

/// A ready database that a session is connected to (a stray `psql`, a monitoring agent) cannot be
/// renamed, and the server takes 5 s to say so: a claim passes over it without asking, and with
/// every member busy the test clones its own at once, rather than fail or wait (it waited 40 s
/// before claims looked for sessions). Once the sessions are gone, claims take members again.
#[tokio::test]
async fn ready_databases_someone_is_connected_to_are_passed_over() -> anyhow::Result<()> {
    let url = admin_url().await?;
    let template = postgres::ensure_template(&url, &BUSY).await?;
    // The first handout's drop waits for the top-up: then the pool is full, and stays as it is.
    drop(PgDatabase::new(&BUSY).await?);
    pool::stop_refilling();
    let prefix = template.replacen("wbtpl_", "wbpool_", 1);
    let mut admin = sqlx::PgConnection::connect(&url).await?;
    let members: Vec<String> = sqlx::query_scalar("SELECT datname FROM pg_database WHERE starts_with(datname, $1)")
        .bind(&prefix)
        .fetch_all(&mut admin)
        .await?;
    assert_eq!(members.len(), pool::size(), "{members:?}");
    let mut sessions = Vec::new();
    for member in &members {
        let member_url = harness::database::with_database(&url, member)?;
        sessions.push(sqlx::PgConnection::connect(&member_url).await?);
    }

    let asked = std::time::Instant::now();
    let db = PgDatabase::new(&BUSY).await?;
    assert_eq!(db.handout(), Handout::Clone, "every ready database has a session on it");
    assert!(
        asked.elapsed() < std::time::Duration::from_secs(5),
        "the claim waited {:?} on busy databases",
        asked.elapsed()
    );
    assert!(!members.contains(&db.name().to_owned()));

    for session in sessions {
        session.close().await?;
    }
    let next = harness::eventually::try_eventually(std::time::Duration::from_secs(10), || async {
        let db = PgDatabase::new(&BUSY).await.map_err(|error| error.to_string())?;
        match db.handout() {
            Handout::Pool => Ok(db),
            other => Err(format!("handed out by {other:?}: the sessions are not gone yet")),
        }
    })
    .await;
    if let Err(gave) = next {
        panic!(
            "no claim took a ready database once its session was gone: {}",
            gave.last
        );
    }
    Ok(())
}

// ANCHOR: stopped_refiller
#[tokio::test]
async fn a_pool_whose_refiller_is_stopped_still_hands_out_databases() -> anyhow::Result<()> {
    let url = admin_url().await?;
    let template = postgres::ensure_template(&url, &STOPPED).await?;
    pool::stop_refilling();

    // Held, so that none of them goes back anywhere while the pool drains.
    let mut held = Vec::new();
    loop {
        let db = PgDatabase::new(&STOPPED).await?;
        let handout = db.handout();
        held.push(db);
        if handout == Handout::Clone {
            break;
        }
        assert!(held.len() <= pool::size(), "more handouts from the pool than it holds");
    }
    assert_eq!(pool::ready(&url, &template).await?, 0, "nobody refilled the pool");
    // The last one was cloned while the test waited, and works like any other.
    let cloned = held.last().expect("at least one");
    mark(cloned, "me").await?;
    assert_eq!(holders(cloned).await?, ["me"]);
    Ok(())
}
// ANCHOR_END: stopped_refiller

/// Set by the parent to make the child hold its database and crash.
const HOLD_AND_CRASH: &str = "HARNESS_IT_POOL_HOLDER";

/// On its own this test takes a database from the pool, marks it and ends; in a child armed at
/// `pool::while_holding` it dies holding it.
#[tokio::test]
async fn a_holder_marks_its_database() -> anyhow::Result<()> {
    arm_from_env();
    admin_url().await?;
    let db = PgDatabase::new(&KILLED).await?;
    let holder = std::env::var(HOLD_AND_CRASH).unwrap_or_else(|_| "alone".to_owned());
    mark(&db, &holder).await?;
    println!("holding: {} ({:?})", db.name(), db.handout());
    fail::fail_point!("pool::while_holding");
    assert_eq!(holders(&db).await?, [holder]);
    Ok(())
}

// ANCHOR: killed_holder
#[tokio::test]
async fn a_database_whose_holder_was_killed_is_never_handed_out_again() -> anyhow::Result<()> {
    let url = admin_url().await?;
    let template = postgres::ensure_template(&url, &KILLED).await?;
    // A full pool, so that the child takes its database from it.
    drop(PgDatabase::new(&KILLED).await?);

    let child = ChildTest::new("pool::a_holder_marks_its_database")
        .crash_at("pool::while_holding")
        .env(HOLD_AND_CRASH, "the killed holder")
        .run()
        .await?;
    assert!(child.crashed_at("pool::while_holding"), "{child}");
    let line = child
        .stdout
        .lines()
        .find_map(|line| line.split_once("holding: ").map(|(_, rest)| rest))
        .unwrap_or_else(|| panic!("the child did not say what it held:\n{child}"));
    let (held, handout) = line.split_once(' ').expect("a name and a handout");
    assert_eq!(handout, "(Pool)", "{child}");
    // The claim renamed it to a name of its holder's, which no claim looks for.
    assert!(held.starts_with("wbt_"), "{held} is not a holder's name");

    // Every database the pool hands out now is fresh: none is the killed holder's.
    let mut handed = Vec::new();
    for _ in 0..=pool::size() {
        let db = PgDatabase::new(&KILLED).await?;
        assert!(
            holders(&db).await?.is_empty(),
            "{} was handed out with marks",
            db.name()
        );
        handed.push(db);
    }
    assert!(pool::ready(&url, &template).await? <= pool::size());

    // The holder's lock went with its process: a sweep drops its database.
    harness::owner::sweep::<sqlx::Postgres>(&url).await?;
    assert!(
        !database_exists(Backend::Postgres, held).await?,
        "{held} survived the sweep"
    );
    Ok(())
}
// ANCHOR_END: killed_holder

/// Set by the parent: which of two simultaneous "runs" this child is.
const RUN: &str = "HARNESS_IT_POOL_RUN";

/// How many databases each run claims, holding them all: more than the pool holds, so that both
/// runs also clone and refill while the other claims.
const CLAIMS_PER_RUN: usize = 8;

/// On its own this test claims databases and checks that each is fresh; the parent runs two of it
/// at once, as two `just test` runs sharing one server would.
#[tokio::test]
async fn a_run_claims_databases_and_finds_each_one_fresh() -> anyhow::Result<()> {
    admin_url().await?;
    let run = std::env::var(RUN).unwrap_or_else(|_| "alone".to_owned());
    let mut held = Vec::new();
    for _ in 0..CLAIMS_PER_RUN {
        let db = PgDatabase::new(&TWO_RUNS).await?;
        let seen = holders(&db).await?;
        assert!(seen.is_empty(), "run {run} was handed {} holding {seen:?}", db.name());
        mark(&db, &run).await?;
        println!("claimed: {} {:?}", db.name(), db.handout());
        held.push(db);
    }
    for db in &held {
        assert_eq!(
            holders(db).await?,
            std::slice::from_ref(&run),
            "{} changed under run {run}",
            db.name()
        );
    }
    Ok(())
}

// ANCHOR: two_runs
#[tokio::test]
async fn two_runs_at_once_never_share_a_database() -> anyhow::Result<()> {
    admin_url().await?;
    let run = |name: &'static str| {
        ChildTest::new("pool::a_run_claims_databases_and_finds_each_one_fresh")
            .env(RUN, name)
            .run()
    };
    let (first, second) = tokio::join!(run("first"), run("second"));
    let (first, second) = (first?, second?);
    assert!(first.status.success(), "{first}");
    assert!(second.status.success(), "{second}");

    let claimed: Vec<&str> = [&first, &second]
        .iter()
        .flat_map(|child| {
            child
                .stdout
                .lines()
                .filter_map(|line| line.split_once("claimed: ").map(|(_, rest)| rest))
        })
        .collect();
    assert_eq!(claimed.len(), 2 * CLAIMS_PER_RUN, "{first}\n{second}");
    let names: HashSet<&str> = claimed.iter().filter_map(|line| line.split(' ').next()).collect();
    assert_eq!(
        names.len(),
        claimed.len(),
        "a database was handed to both runs: {claimed:#?}"
    );
    assert!(
        claimed.iter().any(|line| line.ends_with("Pool")),
        "no handout came from the pool: {claimed:#?}"
    );
    Ok(())
}
// ANCHOR_END: two_runs

static BUILD: Migrator = sqlx::migrate!("tests/it/migrations/template_build");

/// Removes `BUILD`'s template and its pool, as on a server that never saw these migrations.
async fn forget_the_template(url: &str) -> anyhow::Result<String> {
    use sqlx::Connection;
    let template = format!("wbtpl_{}", harness::migrations::key(&BUILD));
    let mut admin = sqlx::PgConnection::connect(url).await?;
    let leftovers: Vec<String> = sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE $1")
        .bind(format!("wbpool\\_{}\\_%", harness::migrations::key(&BUILD)))
        .fetch_all(&mut admin)
        .await?;
    for statement in leftovers.iter().map(|member| format!("DROP DATABASE {member}")).chain([
        format!("ALTER DATABASE {template} WITH IS_TEMPLATE false"),
        format!("DROP DATABASE {template}"),
    ]) {
        // The template is absent on a first run: its ALTER and DROP fail, which is what we want.
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(statement)).execute(&mut admin).await;
    }
    Ok(template)
}

#[tokio::test]
async fn a_template_is_built_once_however_many_tests_ask_for_it_at_once() -> anyhow::Result<()> {
    use sqlx::Connection;
    let url = admin_url().await?;
    let template = forget_the_template(&url).await?;

    let asking: Vec<_> = (0..4).map(|_| tokio::spawn(PgDatabase::new(&BUILD))).collect();
    let mut handed = Vec::new();
    for ask in asking {
        handed.push(ask.await??);
    }

    for db in &handed {
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM built")
            .fetch_one(db.pool())
            .await?;
        assert_eq!(rows, 0, "{} has the schema, empty", db.name());
    }
    let mut admin = sqlx::PgConnection::connect(&url).await?;
    let (is_template, allows_connections): (bool, bool) =
        sqlx::query_as("SELECT datistemplate, datallowconn FROM pg_database WHERE datname = $1")
            .bind(&template)
            .fetch_one(&mut admin)
            .await?;
    assert!(
        is_template && !allows_connections,
        "{template} is a template nobody connects to"
    );
    let half_built: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
        .bind(format!("{template}_building"))
        .fetch_one(&mut admin)
        .await?;
    assert_eq!(half_built, 0, "the builder left its temporary database behind");
    Ok(())
}

#[tokio::test]
async fn create_and_migrate_gives_the_schema_a_clone_gives() -> anyhow::Result<()> {
    let url = admin_url().await?;
    let name = postgres::create_and_migrate(&url, &crate::support::POSTGRES).await?;
    let pool = sqlx::PgPool::connect(&harness::database::with_database(&url, &name)?).await?;
    let items: i64 = sqlx::query_scalar("SELECT count(*) FROM items")
        .fetch_one(&pool)
        .await?;
    pool.close().await;
    postgres::drop_by_name(&url, &name).await?;
    assert_eq!(items, 0);
    assert!(!database_exists(Backend::Postgres, &name).await?);
    Ok(())
}

#[tokio::test]
async fn the_handout_log_counts_where_each_test_database_came_from() -> anyhow::Result<()> {
    admin_url().await?;
    let log = std::env::temp_dir().join(format!("handouts-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let child = ChildTest::new("pool::a_holder_marks_its_database")
        .env(pool::HANDOUT_LOG, log.display().to_string())
        .run()
        .await?;
    assert!(child.status.success(), "{child}");

    let written = std::fs::read_to_string(&log)?;
    std::fs::remove_file(&log)?;
    let counts = pool::HandoutCounts::from_log(&written);
    // The child asked for one database: from the pool, or cloned if the pool was empty.
    match counts.servers.as_slice() {
        [(server, from_pool, cloned, 0)] => {
            assert_eq!(server, "PostgreSQL");
            assert_eq!(from_pool + cloned, 1, "{written}");
        }
        other => panic!("one line per handout, all PostgreSQL: {other:?}\n{written}"),
    }
    Ok(())
}
