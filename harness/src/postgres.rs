//! PostgreSQL as a [`Server`]: a test's database is a clone of a migrated template.
//!
//! Running twenty migrations for every test would cost hundreds of milliseconds each. Instead the
//! migrations run once, into a *template* database named after their [`key`](crate::migrations::key);
//! every test then gets `CREATE DATABASE <its own> TEMPLATE <template>`, a file-level copy that takes
//! tens of milliseconds (`just bench` measures both: `harness_provision_postgres`).
//!
//! The template is built under an advisory lock, so two test processes starting together do not
//! build it twice, and under a temporary name that is renamed when complete, so a builder killed
//! halfway never leaves a template that looks finished. Templates refuse connections: a connection
//! to a template would make every clone fail with "source database is being accessed by other users".
//!
//! A test does not wait for its clone either: [`crate::pool`] keeps clones ready, made before they
//! were asked for.
//!
//! A live test process holds an advisory lock named after its owner id (see [`crate::owner`]).

use sqlx::migrate::Migrator;
use sqlx::{AssertSqlSafe, Connection, PgConnection, Postgres};

use crate::database::{connect, with_database};
use crate::error::Context;
use crate::pool::{self, Handout};
use crate::server::Server;
use crate::{HarnessError, ServiceKind, admin, migrations, names, owner};

/// The first key of the advisory lock that guards a template's build ("tpl" in ASCII).
const TEMPLATE_LOCK_SPACE: i32 = 0x0074_706c;

/// The first key of the two-part advisory locks that mark live owners ("wbt" in ASCII).
const OWNER_LOCK_SPACE: i32 = 0x0077_6274;

impl Server for Postgres {
    const KIND: ServiceKind = ServiceKind::Postgres;

    /// A ready database from the template's pool, or a clone made now when the pool is empty;
    /// either way the pool is topped up in the background while the test runs.
    async fn create(admin_url: &str, name: &str, migrator: &Migrator) -> Result<Handout, HarnessError> {
        let name = names::safe_identifier(name)?;
        let template = template_name(migrator);
        let handout = match hand_out(admin_url, &template, name).await? {
            Some(handout) => handout,
            // The first test of these migrations on this server builds their template.
            None => {
                ensure_template(admin_url, migrator).await?;
                hand_out(admin_url, &template, name)
                    .await?
                    .ok_or_else(|| HarnessError::Other(format!("{template} was dropped while in use")))?
            }
        };
        pool::refill_in_background(admin_url, &template);
        Ok(handout)
    }

    /// Renamed out of the way at once (0.2 ms), and dropped in the background by
    /// [`pool::drop_retired_in_background`]. A rename needs the database to have no sessions, so
    /// the test's are ended first ([`end_sessions`]); if the rename fails all the same, the
    /// database is dropped by force, now.
    async fn retire(admin_url: &str, name: &str) -> Result<(), HarnessError> {
        let name = names::safe_identifier(name)?.to_owned();
        let retired = pool::retired_name(&name);
        let statement = format!("ALTER DATABASE {name} RENAME TO {retired}");
        let in_use = name.clone();
        let renamed = admin::run::<Postgres, _, _>(admin_url, move |admin| {
            Box::pin(async move {
                end_sessions(admin, &in_use).await?;
                run_statement(admin, statement).await
            })
        })
        .await;
        match renamed {
            Ok(()) => {
                pool::drop_retired_in_background(admin_url);
                Ok(())
            }
            Err(_) => drop_by_name(admin_url, &name).await,
        }
    }

    /// `WITH (FORCE)` (PostgreSQL 13 and later) ends the sessions still connected.
    async fn drop_database(admin: &mut PgConnection, name: &str) -> Result<(), HarnessError> {
        let name = names::safe_identifier(name)?;
        sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .execute(admin)
            .await
            .context(|| format!("dropping the test database {name}"))?;
        Ok(())
    }

    async fn test_databases(admin: &mut PgConnection) -> Result<Vec<String>, HarnessError> {
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'wbt\\_%'")
            .fetch_all(admin)
            .await
            .context(|| "listing test databases".to_owned())
    }

    async fn lock_owner(admin: &mut PgConnection, owner: u32) -> Result<bool, HarnessError> {
        sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
            .bind(OWNER_LOCK_SPACE)
            .bind(owner as i32)
            .fetch_one(admin)
            .await
            .context(|| format!("taking the advisory lock of owner {owner:08x}"))
    }

    async fn in_use(admin: &mut PgConnection, name: &str) -> Result<bool, HarnessError> {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid())",
        )
        .bind(name)
        .fetch_one(admin)
        .await
        .context(|| format!("checking whether {name} is in use"))
    }

    async fn owner_alive(admin: &mut PgConnection, owner: u32) -> Result<bool, HarnessError> {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted \
             AND classid = $1::int4::oid AND objid = $2::int4::oid AND objsubid = 2)",
        )
        .bind(OWNER_LOCK_SPACE)
        .bind(owner as i32)
        .fetch_one(admin)
        .await
        .context(|| format!("checking whether owner {owner:08x} is alive"))
    }
}

/// Runs one administrative statement on a connection of its own.
async fn execute(admin_url: &str, statement: String) -> Result<(), HarnessError> {
    let mut admin = connect::<Postgres>(admin_url).await?;
    run_statement(&mut admin, statement).await?;
    let _ = admin.close().await;
    Ok(())
}

/// Runs one administrative statement (made of names checked by `names::safe_identifier`), and
/// names it in the error.
pub(crate) async fn run_statement(admin: &mut PgConnection, statement: String) -> Result<(), HarnessError> {
    sqlx::query(AssertSqlSafe(statement.clone()))
        .execute(admin)
        .await
        .context(|| statement)?;
    Ok(())
}

// ANCHOR: end_sessions
/// Ends the sessions still connected to `name`, and waits until the server has let them go. A
/// database with sessions cannot be renamed, and the server waits 5 s for them before it says so:
/// that was the 5 s every test's end took when its pool's connections were still open (a test on
/// a current-thread runtime cannot close them while its handle's drop blocks that runtime).
pub(crate) async fn end_sessions(admin: &mut PgConnection, name: &str) -> Result<(), HarnessError> {
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(name)
    .execute(&mut *admin)
    .await
    .context(|| format!("ending the sessions on {name}"))?;
    wait_until_unused(admin, name).await
}
// ANCHOR_END: end_sessions

/// Waits, for up to a second, until no session is connected to `name`: a session that was closed
/// or ended is gone from the server a few milliseconds later.
pub(crate) async fn wait_until_unused(admin: &mut PgConnection, name: &str) -> Result<(), HarnessError> {
    for _ in 0..500 {
        let unused: bool = sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut *admin)
            .await
            .context(|| format!("waiting for the sessions on {name} to end"))?;
        if unused {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    Ok(())
}

/// The name of `migrator`'s template: `wbtpl_` and the migrations' key.
fn template_name(migrator: &Migrator) -> String {
    format!("wbtpl_{}", migrations::key(migrator))
}

/// On an administrative session: `name` made from a ready database of `template`'s pool, or else
/// cloned now. `None` when the template is not built yet.
async fn hand_out(admin_url: &str, template: &str, name: &str) -> Result<Option<Handout>, HarnessError> {
    let (template, name) = (template.to_owned(), name.to_owned());
    admin::run::<Postgres, _, _>(admin_url, move |admin| {
        Box::pin(async move {
            // A ready database proves the template exists; only without one is that asked.
            if let Some(handout) = pool::claim(admin, &template, &name).await? {
                return Ok(Some(handout));
            }
            if !database_exists(admin, &template).await? {
                return Ok(None);
            }
            let statement = format!("CREATE DATABASE {name} TEMPLATE {template}");
            run_statement(&mut *admin, statement).await?;
            Ok(Some(Handout::Clone))
        })
    })
    .await
}

/// The template database for `migrator`, built now if no process has built it yet.
pub async fn ensure_template(admin_url: &str, migrator: &Migrator) -> Result<String, HarnessError> {
    let key = migrations::key(migrator);
    let template = template_name(migrator);
    let mut admin = connect::<Postgres>(admin_url).await?;
    if database_exists(&mut admin, &template).await? {
        return Ok(template);
    }

    // Whoever gets the lock builds; the others wait here and then find the template done.
    sqlx::query("SELECT pg_advisory_lock($1, $2)")
        .bind(TEMPLATE_LOCK_SPACE)
        .bind(migrations::lock_key(&key))
        .execute(&mut admin)
        .await
        .context(|| format!("waiting for the lock that guards {template}"))?;
    let built = build_template_unless_present(&mut admin, admin_url, migrator, &template).await;
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1, $2)")
        .bind(TEMPLATE_LOCK_SPACE)
        .bind(migrations::lock_key(&key))
        .execute(&mut admin)
        .await;
    built?;
    unlocked.context(|| format!("releasing the lock that guards {template}"))?;
    let _ = admin.close().await;
    Ok(template)
}

async fn build_template_unless_present(
    admin: &mut PgConnection,
    admin_url: &str,
    migrator: &Migrator,
    template: &str,
) -> Result<(), HarnessError> {
    if database_exists(admin, template).await? {
        return Ok(());
    }
    // A builder that died halfway may have left this behind; it is never complete.
    let building = format!("{template}_building");
    Postgres::drop_database(admin, &building).await?;
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {building}")))
        .execute(&mut *admin)
        .await
        .context(|| format!("creating {building}"))?;

    let mut conn = connect::<Postgres>(&with_database(admin_url, &building)?).await?;
    migrations::run(migrator, &mut conn)
        .await
        .context(|| format!("running the migrations into {building}"))?;
    let _ = conn.close().await;

    for statement in [
        format!("ALTER DATABASE {building} RENAME TO {template}"),
        format!("ALTER DATABASE {template} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"),
    ] {
        run_statement(&mut *admin, statement).await?;
    }
    tracing::info!(%template, "built a template database");
    Ok(())
}

async fn database_exists(admin: &mut PgConnection, name: &str) -> Result<bool, HarnessError> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(admin)
        .await
        .context(|| format!("looking for database {name}"))
}

// ANCHOR: clone_template
/// Clones `template` into a new database of this process's and returns its name: the per-test
/// path. (The `harness_provision_postgres` benchmark compares it with [`create_and_migrate`].)
pub async fn clone_template(admin_url: &str, template: &str) -> Result<String, HarnessError> {
    create_owned_database(admin_url, Some(template)).await
}
// ANCHOR_END: clone_template

/// Creates a new database of this process's, replays every migration into it, and returns its
/// name: the work a template saves each test.
pub async fn create_and_migrate(admin_url: &str, migrator: &Migrator) -> Result<String, HarnessError> {
    let name = create_owned_database(admin_url, None).await?;
    let mut conn = connect::<Postgres>(&with_database(admin_url, &name)?).await?;
    migrations::run(migrator, &mut conn)
        .await
        .context(|| format!("running the migrations into {name}"))?;
    let _ = conn.close().await;
    Ok(name)
}

/// A new, uniquely named database that this process owns (see [`crate::owner`]), empty or copied
/// from `template`.
async fn create_owned_database(admin_url: &str, template: Option<&str>) -> Result<String, HarnessError> {
    // Registered first: a sweep by another process must never see this name without a live owner.
    owner::register::<Postgres>(admin_url).await?;
    let name = names::unique();
    let statement = match template {
        Some(template) => format!("CREATE DATABASE {name} TEMPLATE {}", names::safe_identifier(template)?),
        None => format!("CREATE DATABASE {name}"),
    };
    execute(admin_url, statement).await?;
    Ok(name)
}

/// Drops a database by name, even while clients are connected.
pub async fn drop_by_name(admin_url: &str, name: &str) -> Result<(), HarnessError> {
    crate::database::drop_by_name::<Postgres>(admin_url, name).await
}
