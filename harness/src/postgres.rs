//! A PostgreSQL database of a test's own, with the schema already in place.
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
//! The test's database is dropped when the handle is dropped, also while a test panics. A process
//! killed before that leaves it behind, and the next run sweeps it (see [`crate::owner`]).

use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection};

use crate::error::Context;
use crate::{Endpoint, HarnessError, ServiceKind, background, migrations, names, owner, provision};

/// The first key of the advisory lock that guards a template's build ("tpl" in ASCII).
const TEMPLATE_LOCK_SPACE: i32 = 0x0074_706c;

/// A per-test database. Deref-free on purpose: call [`PgDatabase::pool`] to use it.
pub struct PgDatabase {
    name: String,
    url: String,
    admin_url: String,
    pool: PgPool,
    endpoint: Endpoint,
}

impl PgDatabase {
    /// A fresh database holding the schema of `migrator`, on the provisioned server.
    pub async fn new(migrator: &Migrator) -> Result<Self, HarnessError> {
        let endpoint = provision::endpoint(ServiceKind::Postgres).await?;
        Self::on(endpoint, migrator).await
    }

    /// The same, on a given server (for example one reached through a fault proxy).
    pub async fn on(endpoint: Endpoint, migrator: &Migrator) -> Result<Self, HarnessError> {
        let admin_url = endpoint.url.clone();
        let template = ensure_template(&admin_url, migrator).await?;
        let name = clone_template(&admin_url, &template).await?;

        let url = with_database(&admin_url, &name)?;
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(10))
            .connect(&url)
            .await
            .context(|| format!("connecting to the test database {name}"))?;
        tracing::debug!(%name, origin = %endpoint.origin, "test database ready");
        Ok(Self {
            name,
            url,
            admin_url,
            pool,
            endpoint,
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The URL of this database, for a client that makes its own connections.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The server this database lives on, and where that server came from.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropped = background::block_on_with_limit(Duration::from_secs(15), async move {
            let mut admin = connect(&admin_url).await?;
            drop_database(&mut admin, &name).await
        });
        if !matches!(dropped, Some(Ok(()))) {
            // Not fatal: the next test process sweeps it, because this process's lock will be free.
            eprintln!(
                "harness: could not drop test database {} ({dropped:?}); the next run sweeps it",
                self.name
            );
        }
    }
}

async fn connect(url: &str) -> Result<PgConnection, HarnessError> {
    PgConnection::connect(url)
        .await
        .context(|| format!("connecting to PostgreSQL at {url}"))
}

/// Drops a database even while clients are connected to it (PostgreSQL 13 and later).
pub(crate) async fn drop_database(admin: &mut PgConnection, name: &str) -> Result<(), HarnessError> {
    let name = names::safe_identifier(name)?;
    sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
        .execute(admin)
        .await
        .context(|| format!("dropping the test database {name}"))?;
    Ok(())
}

/// `url` pointing at another database on the same server.
pub(crate) fn with_database(url: &str, database: &str) -> Result<String, HarnessError> {
    let mut parsed = url::Url::parse(url).map_err(|e| HarnessError::Other(format!("{url} is not a URL: {e}")))?;
    parsed.set_path(&format!("/{database}"));
    Ok(parsed.into())
}

/// The template database for `migrator`, built now if no process has built it yet.
pub async fn ensure_template(admin_url: &str, migrator: &Migrator) -> Result<String, HarnessError> {
    let key = migrations::key(migrator);
    let template = format!("wbtpl_{key}");
    let mut admin = connect(admin_url).await?;
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
    drop_database(admin, &building).await?;
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {building}")))
        .execute(&mut *admin)
        .await
        .context(|| format!("creating {building}"))?;

    let mut conn = connect(&with_database(admin_url, &building)?).await?;
    migrations::run_postgres(migrator, &mut conn)
        .await
        .context(|| format!("running the migrations into {building}"))?;
    let _ = conn.close().await;

    for statement in [
        format!("ALTER DATABASE {building} RENAME TO {template}"),
        format!("ALTER DATABASE {template} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"),
    ] {
        sqlx::query(AssertSqlSafe(statement.clone()))
            .execute(&mut *admin)
            .await
            .context(|| statement)?;
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
    let mut conn = connect(&with_database(admin_url, &name)?).await?;
    migrations::run_postgres(migrator, &mut conn)
        .await
        .context(|| format!("running the migrations into {name}"))?;
    let _ = conn.close().await;
    Ok(name)
}

/// A new, uniquely named database that this process owns (see [`crate::owner`]), empty or copied
/// from `template`.
async fn create_owned_database(admin_url: &str, template: Option<&str>) -> Result<String, HarnessError> {
    // Registered first: a sweep by another process must never see this name without a live owner.
    owner::register(ServiceKind::Postgres, admin_url).await?;
    let name = names::unique();
    let statement = match template {
        Some(template) => format!("CREATE DATABASE {name} TEMPLATE {template}"),
        None => format!("CREATE DATABASE {name}"),
    };
    let mut admin = connect(admin_url).await?;
    sqlx::query(AssertSqlSafe(statement.clone()))
        .execute(&mut admin)
        .await
        .context(|| statement)?;
    let _ = admin.close().await;
    Ok(name)
}

/// Drops a database by name, even while clients are connected.
pub async fn drop_by_name(admin_url: &str, name: &str) -> Result<(), HarnessError> {
    let mut admin = connect(admin_url).await?;
    drop_database(&mut admin, name).await
}
