//! A pool of ready PostgreSQL databases, so that a test does not wait for its clone.
//!
//! A clone of a template takes tens of milliseconds, and a test used to wait for its own. The pool
//! holds, per template, databases cloned before anyone asked: `wbpool_<key>_<random>`, where `key`
//! is the template's migrations key.
//!
//! **Claiming is a rename.** A test takes a member with `ALTER DATABASE <member> RENAME TO <its
//! own name>`. The server does a rename atomically: of two processes renaming the same member, one
//! wins and the other is told the member does not exist, and tries the next. The claimed database
//! then carries its holder's owner id, exactly as a database the holder cloned itself would, so
//! the rest of its life is [`crate::owner`]'s: the holder's lock ends with its process, however it
//! ends, and the next sweep drops the database of a holder that is gone. A database is never
//! renamed back into the pool, so nothing a test wrote is ever handed to another test.
//!
//! **Refilling happens beside the test, not before it.** A test that claimed a member (or found
//! the pool empty and cloned for itself) starts a top-up on the harness's background runtime and
//! goes on with its work; the top-up clones until the pool is full again, while the test runs.
//! The handle's drop waits for it (by then it is usually long done), so a short-lived test process
//! (nextest runs each test in its own) does not exit in the middle of a clone. One process at a
//! time tops up a template's pool, under an advisory lock it only tries for. A new member is
//! cloned under an owned name and renamed into the pool when complete: a refiller killed halfway
//! leaves an owned database that a sweep drops, never a half-made member.
//!
//! Why the test processes refill, and not a daemon or a nextest setup script: it works wherever
//! the harness does (`cargo test`, nextest, a server given by `WORKBOOK_POSTGRES_URL`, a Docker
//! container), with nothing else to start or to forget, and a pool whose refiller is missing
//! degrades to what the harness did before, a clone per test. `WORKBOOK_POOL_SIZE` sets how many
//! members a template keeps (0 turns the pool off).

use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::{AssertSqlSafe, Connection, PgConnection, Postgres};
use tokio::task::JoinHandle;

use crate::database::connect;
use crate::error::Context;
use crate::postgres::run_statement;
use crate::{HarnessError, ServiceKind, background, migrations, names};

/// How many ready databases each template keeps when `WORKBOOK_POOL_SIZE` does not say: one for
/// each of the 8 test processes nextest runs at once (`.config/nextest.toml`). With 4, two runs
/// of `just test` took 88.7% and 90.9% of their databases from the pool, the rest cloned while
/// many processes asked for one template at once.
const DEFAULT_SIZE: usize = 8;

/// The first key of the advisory lock that one refiller per template holds ("pol" in ASCII).
const REFILL_LOCK_SPACE: i32 = 0x0070_6f6c;

/// How long a handle's drop waits for this process's top-ups.
const SETTLE_LIMIT: Duration = Duration::from_secs(15);

/// How many members each template's pool keeps.
pub fn size() -> usize {
    std::env::var("WORKBOOK_POOL_SIZE")
        .ok()
        .and_then(|size| size.trim().parse().ok())
        .unwrap_or(DEFAULT_SIZE)
}

/// Where a test's database came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handout {
    /// Claimed from the pool: cloned before the test asked.
    Pool,
    /// Cloned from the template while the test waited: the pool was empty.
    Clone,
    /// Created and migrated while the test waited (MySQL, which has no templates).
    Migrate,
}

impl Handout {
    /// The word the handout log uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Handout::Pool => "pool",
            Handout::Clone => "clone",
            Handout::Migrate => "migrate",
        }
    }
}

// ANCHOR: claim
/// Takes a ready member of `template`'s pool by renaming it to `name`. `None` when the pool has
/// none left (or is turned off): the caller clones for itself.
pub(crate) async fn claim(
    admin: &mut PgConnection,
    template: &str,
    name: &str,
) -> Result<Option<Handout>, HarnessError> {
    if size() == 0 {
        return Ok(None);
    }
    let name = names::safe_identifier(name)?;
    // In random order, so that processes claiming at the same moment mostly try different members.
    // Members someone is connected to (a stray `psql`, a monitoring agent) are left out: the server
    // refuses to rename a database with sessions, but only after waiting 5 s for them to end, and
    // a claimer that tried each busy member in turn waited 40 s for a pool of 8.
    let members: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database d WHERE datname LIKE $1 \
         AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname) ORDER BY random()",
    )
    .bind(format!("{}%", like_escaped(&member_prefix(template)?)))
    .fetch_all(&mut *admin)
    .await
    .context(|| format!("listing the ready databases of {template}"))?;
    for member in members {
        let member = names::safe_identifier(&member)?;
        let renamed = sqlx::query(AssertSqlSafe(format!("ALTER DATABASE {member} RENAME TO {name}")))
            .execute(&mut *admin)
            .await;
        match renamed {
            Ok(_) => return Ok(Some(Handout::Pool)),
            // Another process renamed it first: try the next one.
            Err(error) if claimed_by_another(&error) => continue,
            Err(error) => return Err(error).context(|| format!("claiming {member} as {name}")),
        }
    }
    Ok(None)
}
// ANCHOR_END: claim

/// The rename failed because the member is gone (`3D000`, another claimer renamed it) or someone
/// is connected to it (`55006`); either way it is not ours to take.
fn claimed_by_another(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(sqlx::error::DatabaseError::code)
        .is_some_and(|code| code == "3D000" || code == "55006")
}

/// `wbpool_<key>_`, the start of every member's name of `template` (`wbtpl_<key>`).
fn member_prefix(template: &str) -> Result<String, HarnessError> {
    let key = template
        .strip_prefix("wbtpl_")
        .ok_or_else(|| HarnessError::Other(format!("{template} is not a template the harness makes")))?;
    Ok(format!("wbpool_{key}_"))
}

/// `_` matches any character in `LIKE`; a member's prefix means it literally.
fn like_escaped(prefix: &str) -> String {
    prefix.replace('_', "\\_")
}

/// Top-ups this process started, which a handle's drop waits for.
static PENDING: Mutex<Vec<JoinHandle<()>>> = Mutex::new(Vec::new());

/// Set by a test that shows the pool without a refiller.
static REFILL_STOPPED: AtomicBool = AtomicBool::new(false);

/// Stops this process from refilling any pool: what a pool whose refiller is gone looks like.
pub fn stop_refilling() {
    REFILL_STOPPED.store(true, Ordering::SeqCst);
}

// ANCHOR: refill
/// Starts topping up `template`'s pool on the background runtime, and returns at once.
pub(crate) fn refill_in_background(admin_url: &str, template: &str) {
    if size() == 0 || REFILL_STOPPED.load(Ordering::SeqCst) {
        return;
    }
    let (admin_url, template) = (admin_url.to_owned(), template.to_owned());
    let top_up = background::handle().spawn(async move {
        if let Err(error) = top_up(&admin_url, &template).await {
            // Not a test's failure: the next claim clones for itself, and the next top-up retries.
            tracing::warn!(%template, %error, "the pool could not be refilled");
        }
    });
    PENDING.lock().expect("not poisoned").push(top_up);
}

/// Clones members until `template`'s pool is full, unless another process is already at it.
async fn top_up(admin_url: &str, template: &str) -> Result<(), HarnessError> {
    let prefix = member_prefix(template)?;
    let template = names::safe_identifier(template)?;
    let mut admin = connect::<Postgres>(admin_url).await?;
    let lock_key = migrations::lock_key(prefix.trim_start_matches("wbpool_"));
    let refilling: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
        .bind(REFILL_LOCK_SPACE)
        .bind(lock_key)
        .fetch_one(&mut admin)
        .await
        .context(|| format!("trying the refill lock of {template}"))?;
    if !refilling {
        // Its holder counts again before every clone, so it sees the member we took, unless it
        // was just finishing: then the pool is one short until the next claim tops it up.
        return Ok(());
    }
    while count_members(&mut admin, &prefix).await? < size() {
        // Cloned under a name this process owns, renamed into the pool only when complete.
        let building = names::unique();
        let member = format!("{prefix}{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let statement = format!("CREATE DATABASE {building} TEMPLATE {template}");
        run_statement(&mut admin, statement).await?;
        warm_up(&mut admin, admin_url, &building).await?;
        let statement = format!("ALTER DATABASE {building} RENAME TO {member}");
        run_statement(&mut admin, statement).await?;
    }
    // Closing the session releases the refill lock.
    let _ = admin.close().await;
    Ok(())
}
// ANCHOR_END: refill

/// Connects to a new member once, so that the test that claims it does not pay for the first
/// connection to a new database: that one builds the database's relation cache file, and took
/// 4.5 to 9 ms here against 2.5 to 4.5 ms for the next. Then waits for that session to be gone,
/// since a database with a session cannot be renamed into the pool.
async fn warm_up(admin: &mut PgConnection, admin_url: &str, building: &str) -> Result<(), HarnessError> {
    let mut first = connect::<Postgres>(&crate::database::with_database(admin_url, building)?).await?;
    sqlx::query("SELECT 1")
        .execute(&mut first)
        .await
        .context(|| format!("a first session on {building}"))?;
    let _ = first.close().await;
    crate::postgres::wait_until_unused(admin, building).await
}

async fn count_members(admin: &mut PgConnection, prefix: &str) -> Result<usize, HarnessError> {
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname LIKE $1")
        .bind(format!("{}%", like_escaped(prefix)))
        .fetch_one(admin)
        .await
        .context(|| format!("counting the ready databases {prefix}*"))?;
    Ok(usize::try_from(count).unwrap_or(0))
}

/// The first key of the advisory lock that one dropper of retired databases holds ("rip").
const DROPPER_LOCK_SPACE: i32 = 0x0072_6970;

/// The start of a retired database's name: a test is done with it, and it waits to be dropped.
const RETIRED_PREFIX: &str = "wbdone_";

/// The name a test's database `name` (`wbt_<owner>_<n>_<test>`) takes once its test is done
/// (see `Server::retire`): still unique, because the owner and the counter come first.
pub fn retired_name(name: &str) -> String {
    let mut retired = format!("{RETIRED_PREFIX}{}", name.strip_prefix("wbt_").unwrap_or(name));
    retired.truncate(63);
    retired.trim_end_matches('_').to_owned()
}

// ANCHOR: drop_retired
/// Starts dropping every retired database on the server, on the background runtime, unless
/// another process is at it. Nothing waits for it: a process that ends first leaves the rest to
/// the next dropper (a `DROP` already sent finishes on the server anyway), and a retired database
/// is nobody's, so cutting this short loses nothing.
pub(crate) fn drop_retired_in_background(admin_url: &str) {
    let admin_url = admin_url.to_owned();
    background::handle().spawn(async move {
        if let Err(error) = drop_retired(&admin_url).await {
            tracing::warn!(%error, "retired test databases could not be dropped yet");
        }
    });
}

async fn drop_retired(admin_url: &str) -> Result<(), HarnessError> {
    let mut admin = connect::<Postgres>(admin_url).await?;
    let dropping: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, 0)")
        .bind(DROPPER_LOCK_SPACE)
        .fetch_one(&mut admin)
        .await
        .context(|| "trying the lock of the dropper of retired databases".to_owned())?;
    if !dropping {
        return Ok(());
    }
    loop {
        let retired: Vec<String> = sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE $1")
            .bind(format!("{}%", like_escaped(RETIRED_PREFIX)))
            .fetch_all(&mut admin)
            .await
            .context(|| "listing retired test databases".to_owned())?;
        if retired.is_empty() {
            break;
        }
        for name in retired {
            let name = names::safe_identifier(&name)?;
            let statement = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            run_statement(&mut admin, statement).await?;
        }
    }
    let _ = admin.close().await;
    Ok(())
}
// ANCHOR_END: drop_retired

/// How many ready databases `template`'s pool holds now.
pub async fn ready(admin_url: &str, template: &str) -> Result<usize, HarnessError> {
    let mut admin = connect::<Postgres>(admin_url).await?;
    let count = count_members(&mut admin, &member_prefix(template)?).await;
    let _ = admin.close().await;
    count
}

/// Waits (bounded) for the top-ups this process started, so that it does not exit in the middle
/// of one. Called by a handle's drop.
pub(crate) fn settle() {
    let pending = std::mem::take(&mut *PENDING.lock().expect("not poisoned"));
    if pending.is_empty() {
        return;
    }
    let settled = background::block_on_with_limit(SETTLE_LIMIT, async move {
        for top_up in pending {
            let _ = top_up.await;
        }
    });
    if settled.is_none() {
        eprintln!("harness: a pool top-up took longer than {SETTLE_LIMIT:?}; left to finish on its own");
    }
}

/// The environment variable naming a file that gets one line per test database handed out
/// (the server, a tab, and `pool`, `clone` or `migrate`), from every test process. `just test`
/// sets it and prints the count at the end (`workbook handouts`).
pub const HANDOUT_LOG: &str = "WORKBOOK_HANDOUT_LOG";

/// Appends this handout to the log, when one is asked for. Appends of one short line are atomic
/// between processes, so no lock is needed.
pub(crate) fn record(kind: ServiceKind, handout: Handout) {
    let Some(path) = std::env::var_os(HANDOUT_LOG) else {
        return;
    };
    let line = format!("{kind}\t{}\n", handout.as_str());
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut log| log.write_all(line.as_bytes()));
    if let Err(error) = written {
        eprintln!(
            "harness: could not append to the handout log {}: {error}",
            path.display()
        );
    }
}

/// What a handout log says: per server, how many test databases came from where.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct HandoutCounts {
    /// `(server, pool, clone, migrate)`, in the order the servers first appear in the log.
    pub servers: Vec<(String, usize, usize, usize)>,
}

impl HandoutCounts {
    /// Counts the lines of a log written by [`record`]; lines it does not know are ignored.
    pub fn from_log(log: &str) -> Self {
        let mut counts = Self::default();
        for (server, handout) in log.lines().filter_map(|line| line.split_once('\t')) {
            let index = match counts.servers.iter().position(|(known, ..)| known == server) {
                Some(index) => index,
                None => {
                    counts.servers.push((server.to_owned(), 0, 0, 0));
                    counts.servers.len() - 1
                }
            };
            let (_, pool, clone, migrate) = &mut counts.servers[index];
            match handout {
                "pool" => *pool += 1,
                "clone" => *clone += 1,
                "migrate" => *migrate += 1,
                _ => {}
            }
        }
        counts
    }
}

impl std::fmt::Display for HandoutCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.servers.is_empty() {
            return writeln!(f, "no test database was handed out");
        }
        for (server, pool, clone, migrate) in &self.servers {
            let total = pool + clone + migrate;
            write!(f, "{server}: {total} test databases")?;
            if pool + clone > 0 {
                let share = 100.0 * *pool as f64 / (pool + clone) as f64;
                write!(
                    f,
                    ", {pool} from the pool ({share:.1}%), {clone} cloned while the test waited"
                )?;
            }
            if *migrate > 0 {
                write!(f, ", {migrate} created and migrated while the test waited")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handout_log_is_counted_per_server_and_source() {
        let log =
            "PostgreSQL\tpool\nPostgreSQL\tpool\nMySQL/MariaDB\tmigrate\nPostgreSQL\tclone\nPostgreSQL\tpool\nnoise\n";
        let counts = HandoutCounts::from_log(log);
        assert_eq!(
            counts.servers,
            [
                ("PostgreSQL".to_owned(), 3, 1, 0),
                ("MySQL/MariaDB".to_owned(), 0, 0, 1)
            ]
        );
        assert_eq!(
            counts.to_string(),
            "PostgreSQL: 4 test databases, 3 from the pool (75.0%), 1 cloned while the test waited\n\
             MySQL/MariaDB: 1 test databases, 1 created and migrated while the test waited\n"
        );
        assert_eq!(
            HandoutCounts::from_log("").to_string(),
            "no test database was handed out\n"
        );
    }

    #[test]
    fn members_are_named_after_their_template_and_matched_literally() {
        assert_eq!(member_prefix("wbtpl_0123456789ab").unwrap(), "wbpool_0123456789ab_");
        assert!(member_prefix("postgres").is_err());
        assert_eq!(like_escaped("wbpool_ab_"), "wbpool\\_ab\\_");
        assert_eq!(retired_name("wbt_0000abcd_7_a_test"), "wbdone_0000abcd_7_a_test");
        let long = format!("wbt_0000abcd_7_{}", "x".repeat(50));
        assert_eq!(retired_name(&long).len(), 63);
        assert!(retired_name(&long).starts_with("wbdone_0000abcd_7_x"));
    }
}
