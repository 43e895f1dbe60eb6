//! Which test process owns what, so that leftovers of killed runs can be swept without touching
//! the databases of a run that is still going.
//!
//! Each process picks a random owner id and writes it into every name it makes (see
//! `names::unique`). On each server it then holds a lock named after that id, on a connection that
//! lives as long as the process: a PostgreSQL advisory lock, a MySQL/MariaDB named lock. The server
//! releases a lock when its connection goes away, which is exactly when the process dies, however
//! it dies. So "is the owner alive?" is a question the server answers: is its lock still held?
//!
//! A lock's session can also end while its process lives: a server restart, a proxy that cuts
//! the connection, an idle-session timeout. So the connection is checked every half second and
//! the lock taken again on a new one; and a sweep drops a database only when its owner's lock is
//! free *and* nobody is connected to it.
//!
//! Before a process creates its first database on a server, it takes its own lock and sweeps the
//! per-test databases whose owner's lock is free. The steps are written once, over [`Server`];
//! each server's SQL for them is in its own file.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use sqlx::Connection;

use crate::database::connect;
use crate::server::Server;
use crate::{HarnessError, ServiceKind, background, names};

/// This process's owner id.
pub fn id() -> u32 {
    names::this_owner()
}

/// One cell per server: the first test to use a server registers there, the others wait for it.
/// Registering twice would deadlock, since a second session asking for the same lock waits for the
/// first one forever.
type Registration = Arc<OnceCell<()>>;
static REGISTERED: Mutex<Option<HashMap<(ServiceKind, String), Registration>>> = Mutex::new(None);

/// Takes this process's lock on the server at `admin_url` and sweeps dead owners' databases.
/// Does the work once per server and process; later calls return at once.
pub(crate) async fn register<S: Server>(admin_url: &str) -> Result<(), HarnessError> {
    let cell = REGISTERED
        .lock()
        .expect("not poisoned")
        .get_or_insert_with(HashMap::new)
        .entry((S::KIND, admin_url.to_owned()))
        .or_default()
        .clone();
    cell.get_or_try_init(|| register_now::<S>(admin_url)).await?;
    Ok(())
}

async fn register_now<S: Server>(admin_url: &str) -> Result<(), HarnessError> {
    let url = admin_url.to_owned();
    // The lock's connection must outlive this test's runtime, so it is made on the background one.
    background::run(async move { hold_lock::<S>(&url).await }).await?;
    sweep::<S>(admin_url).await?;
    Ok(())
}

async fn hold_lock<S: Server>(url: &str) -> Result<(), HarnessError> {
    let conn = take_lock::<S>(url).await?;
    // Kept alive for the process's life on the background runtime: checked every second and, if
    // the session was lost (a server restart, a cut connection, an idle timeout), taken again on
    // a new one, so that a sweep by another run sees this owner alive.
    let url = url.to_owned();
    background::handle().spawn(keep_lock::<S>(url, conn));
    Ok(())
}

/// A connection that holds this process's owner lock.
async fn take_lock<S: Server>(url: &str) -> Result<S::Connection, HarnessError> {
    let mut conn = connect::<S>(url).await?;
    if !S::lock_owner(&mut conn, id()).await? {
        return Err(HarnessError::Other(format!(
            "the owner lock {:08x} on {} is held by another session",
            id(),
            S::KIND
        )));
    }
    Ok(conn)
}

// ANCHOR: keep_lock
/// Holds the owner lock on `conn`, and takes it again on a new connection whenever the old one
/// stops answering.
async fn keep_lock<S: Server>(url: String, mut conn: S::Connection) {
    loop {
        tokio::time::sleep(LOCK_CHECK).await;
        if conn.ping().await.is_ok() {
            continue;
        }
        match take_lock::<S>(&url).await {
            Ok(again) => {
                tracing::warn!(kind = %S::KIND, owner = %format!("{:08x}", id()), "the owner lock's session was lost; taken again");
                conn = again;
            }
            // The server may be down for now: try again at the next check.
            Err(error) => tracing::warn!(kind = %S::KIND, %error, "the owner lock could not be taken again yet"),
        }
    }
}
// ANCHOR_END: keep_lock

/// How often the owner lock's connection is checked.
const LOCK_CHECK: std::time::Duration = std::time::Duration::from_millis(500);

/// What a sweep did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// The databases it dropped: their owners are gone.
    pub dropped: Vec<String>,
    /// The databases it would not touch, each with the reason: a name the harness does not make,
    /// or a drop that failed. They are reported, and never stop the sweep or a test.
    pub refused: Vec<(String, String)>,
}

/// Drops every per-test database on the server whose owning process is gone.
pub async fn sweep<S: Server>(admin_url: &str) -> Result<Swept, HarnessError> {
    let mut admin = connect::<S>(admin_url).await?;
    let mut swept = Swept::default();
    for name in S::test_databases(&mut admin).await? {
        let Some(owner) = names::owner_of(&name) else {
            continue;
        };
        if let Err(refusal) = names::safe_identifier(&name) {
            swept.refused.push((name, refusal.to_string()));
            continue;
        }
        if S::owner_alive(&mut admin, owner).await? {
            continue;
        }
        // A free lock alone does not prove the owner gone: its lock session may have been cut
        // (a server restart, a proxy, an idle timeout) while the owner still works. A database
        // someone is connected to is not abandoned.
        if S::in_use(&mut admin, &name).await? {
            swept.refused.push((
                name,
                "its owner's lock is free, but it has connections: in use".to_owned(),
            ));
            continue;
        }
        match S::drop_database(&mut admin, &name).await {
            Ok(()) => swept.dropped.push(name),
            Err(error) => swept.refused.push((name, error.to_string())),
        }
    }
    if !swept.dropped.is_empty() {
        tracing::info!(
            kind = %S::KIND,
            count = swept.dropped.len(),
            "swept test databases left by processes that are gone"
        );
    }
    for (name, reason) in &swept.refused {
        tracing::warn!(kind = %S::KIND, database = %name, %reason, "the sweep left a database alone");
    }
    Ok(swept)
}
