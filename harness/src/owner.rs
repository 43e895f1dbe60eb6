//! Which test process owns what, so that leftovers of killed runs can be swept without touching
//! the databases of a run that is still going.
//!
//! Each process picks a random owner id and writes it into every name it makes (see
//! `names::unique`). On each server it then holds a lock named after that id, on a connection that
//! lives as long as the process: a PostgreSQL advisory lock, a MySQL/MariaDB named lock. The server
//! releases a lock when its connection goes away, which is exactly when the process dies, however
//! it dies. So "is the owner alive?" is a question the server answers: is its lock still held?
//!
//! Before a process creates its first database on a server, it takes its own lock and sweeps the
//! per-test databases whose owner's lock is free.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use tokio::sync::OnceCell;

use sqlx::{Connection, MySqlConnection, PgConnection};

use crate::error::Context;
use crate::{HarnessError, ServiceKind, background, names};

/// The first key of the two-part PostgreSQL advisory locks that mark live owners ("wbt" in ASCII).
pub(crate) const PG_LOCK_SPACE: i32 = 0x0077_6274;

static OWNER_ID: LazyLock<u32> = LazyLock::new(|| {
    // Positive as an i32, because PostgreSQL's advisory lock keys are int4.
    (uuid::Uuid::new_v4().as_u128() as u32) & 0x7fff_ffff
});

/// This process's owner id.
pub fn id() -> u32 {
    *OWNER_ID
}

/// One cell per server: the first test to use a server registers there, the others wait for it.
/// Registering twice would deadlock, since a second session asking for the same lock waits for the
/// first one forever.
type Registration = Arc<OnceCell<()>>;
static REGISTERED: Mutex<Option<HashMap<(ServiceKind, String), Registration>>> = Mutex::new(None);

/// The lock connections, kept here so they are never closed while the process lives.
static HOLDERS: Mutex<Vec<Box<dyn std::any::Any + Send>>> = Mutex::new(Vec::new());

/// Takes this process's lock on the server at `admin_url` and sweeps dead owners' databases.
/// Does the work once per server and process; later calls return at once.
pub(crate) async fn register(kind: ServiceKind, admin_url: &str) -> Result<(), HarnessError> {
    let cell = REGISTERED
        .lock()
        .expect("not poisoned")
        .get_or_insert_with(HashMap::new)
        .entry((kind, admin_url.to_owned()))
        .or_default()
        .clone();
    cell.get_or_try_init(|| register_now(kind, admin_url)).await?;
    Ok(())
}

async fn register_now(kind: ServiceKind, admin_url: &str) -> Result<(), HarnessError> {
    let url = admin_url.to_owned();
    // The lock's connection must outlive this test's runtime, so it is made on the background one.
    background::run(async move {
        match kind {
            ServiceKind::Postgres => hold_pg_lock(&url).await,
            ServiceKind::MySql => hold_mysql_lock(&url).await,
            _ => unreachable!("only databases are swept"),
        }
    })
    .await?;
    sweep(kind, admin_url).await?;
    Ok(())
}

async fn hold_pg_lock(url: &str) -> Result<(), HarnessError> {
    let mut conn = PgConnection::connect(url)
        .await
        .context(|| format!("connecting to {url} to register this test process"))?;
    let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
        .bind(PG_LOCK_SPACE)
        .bind(id() as i32)
        .fetch_one(&mut conn)
        .await
        .context(|| "taking this test process's advisory lock".to_owned())?;
    if !got {
        return Err(HarnessError::Other(format!(
            "the owner lock {:08x} is held by another session",
            id()
        )));
    }
    HOLDERS.lock().expect("not poisoned").push(Box::new(conn));
    Ok(())
}

fn mysql_lock_name(owner: u32) -> String {
    format!("{}_owner_{owner:08x}", names::PREFIX)
}

async fn hold_mysql_lock(url: &str) -> Result<(), HarnessError> {
    let mut conn = MySqlConnection::connect(url)
        .await
        .context(|| format!("connecting to {url} to register this test process"))?;
    let got: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, 0)")
        .bind(mysql_lock_name(id()))
        .fetch_one(&mut conn)
        .await
        .context(|| "taking this test process's named lock".to_owned())?;
    if got != Some(1) {
        return Err(HarnessError::Other(format!(
            "the lock {} is held by another session",
            mysql_lock_name(id())
        )));
    }
    HOLDERS.lock().expect("not poisoned").push(Box::new(conn));
    Ok(())
}

/// Drops every per-test database on the server whose owning process is gone. Returns their names.
pub async fn sweep(kind: ServiceKind, admin_url: &str) -> Result<Vec<String>, HarnessError> {
    let mut swept = Vec::new();
    match kind {
        ServiceKind::Postgres => {
            let mut conn = PgConnection::connect(admin_url)
                .await
                .context(|| format!("connecting to {admin_url} to sweep"))?;
            let databases: Vec<String> =
                sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'wbt\\_%'")
                    .fetch_all(&mut conn)
                    .await
                    .context(|| "listing test databases".to_owned())?;
            for name in databases {
                let Some(owner) = names::owner_of(&name) else {
                    continue;
                };
                let alive: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted \
                     AND classid = $1::int4::oid AND objid = $2::int4::oid AND objsubid = 2)",
                )
                .bind(PG_LOCK_SPACE)
                .bind(owner as i32)
                .fetch_one(&mut conn)
                .await
                .context(|| format!("checking whether the owner of {name} is alive"))?;
                if !alive {
                    crate::postgres::drop_database(&mut conn, &name).await?;
                    swept.push(name);
                }
            }
            let _ = conn.close().await;
        }
        ServiceKind::MySql => {
            let mut conn = MySqlConnection::connect(admin_url)
                .await
                .context(|| format!("connecting to {admin_url} to sweep"))?;
            let databases: Vec<String> = sqlx::query_scalar(
                "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'wbt\\_%'",
            )
            .fetch_all(&mut conn)
            .await
            .context(|| "listing test databases".to_owned())?;
            for name in databases {
                let Some(owner) = names::owner_of(&name) else {
                    continue;
                };
                let holder: Option<i64> = sqlx::query_scalar("SELECT IS_USED_LOCK(?)")
                    .bind(mysql_lock_name(owner))
                    .fetch_one(&mut conn)
                    .await
                    .context(|| format!("checking whether the owner of {name} is alive"))?;
                if holder.is_none() {
                    crate::mysql::drop_database(&mut conn, &name).await?;
                    swept.push(name);
                }
            }
            let _ = conn.close().await;
        }
        ServiceKind::Redis | ServiceKind::Kafka => {}
    }
    if !swept.is_empty() {
        tracing::info!(
            ?kind,
            count = swept.len(),
            "swept test databases left by processes that are gone"
        );
    }
    Ok(swept)
}
