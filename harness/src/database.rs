//! A database of a test's own, on PostgreSQL or MySQL/MariaDB, with its schema in place.
//!
//! [`TestDatabase::new`] registers this process as a live owner on the server (see
//! [`crate::owner`]), makes a name no other test uses, and has the server create the database (on
//! PostgreSQL a ready clone from [`crate::pool`], or a clone made now; migrations replayed on
//! MySQL). The database is taken out of use when the handle is dropped, also while a test
//! panics (see [`Server::retire`]). A process killed before that leaves it behind, and
//! the next run sweeps it.

use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::pool::PoolOptions;
use sqlx::{Connection, MySql, Pool, Postgres};

use crate::error::Context;
use crate::pool::{self, Handout};
use crate::server::Server;
use crate::{Endpoint, HarnessError, background, names, owner, provision};

/// A per-test PostgreSQL database, cloned from a migrated template.
pub type PgDatabase = TestDatabase<Postgres>;
/// A per-test MySQL/MariaDB database, created and migrated.
pub type MySqlDatabase = TestDatabase<MySql>;

/// A per-test database. Deref-free on purpose: call [`TestDatabase::pool`] to use it.
pub struct TestDatabase<S: Server> {
    name: String,
    url: String,
    admin_url: String,
    pool: Pool<S>,
    endpoint: Endpoint,
    handout: Handout,
}

impl<S: Server> TestDatabase<S> {
    /// A fresh database holding the schema of `migrator`, on the provisioned server.
    pub async fn new(migrator: &Migrator) -> Result<Self, HarnessError> {
        let endpoint = provision::endpoint(S::KIND).await?;
        Self::on(endpoint, migrator).await
    }

    /// The same, on a given server (for example one reached through a fault proxy).
    pub async fn on(endpoint: Endpoint, migrator: &Migrator) -> Result<Self, HarnessError> {
        let admin_url = endpoint.url.clone();
        // Registered first: a sweep by another process must never see our name without a live owner.
        owner::register::<S>(&admin_url).await?;
        let name = names::unique();
        let handout = S::create(&admin_url, &name, migrator).await?;
        let url = with_database(&admin_url, &name)?;
        let pool = PoolOptions::<S>::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(10))
            .connect(&url)
            .await
            .context(|| format!("connecting to the test database {name}"));
        let pool = match pool {
            Ok(pool) => pool,
            Err(error) => {
                let _ = drop_by_name::<S>(&admin_url, &name).await;
                return Err(error);
            }
        };
        tracing::debug!(%name, origin = %endpoint.origin, handout = handout.as_str(), "test database ready");
        pool::record(S::KIND, handout);
        Ok(Self {
            name,
            url,
            admin_url,
            pool,
            endpoint,
            handout,
        })
    }

    /// The pool the test connects through.
    pub fn pool(&self) -> &Pool<S> {
        &self.pool
    }

    /// The URL of this database, for a client that makes its own connections.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name on the server.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The server this database lives on, and where that server came from.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Where this database came from: the pool, a clone made while the test waited, or
    /// migrations replayed.
    pub fn handout(&self) -> Handout {
        self.handout
    }
}

impl<S: Server> Drop for TestDatabase<S> {
    fn drop(&mut self) {
        let (admin_url, name, pool) = (self.admin_url.clone(), self.name.clone(), self.pool.clone());
        // A connection is driven by the runtime that made it. A `#[tokio::test]` runs on one
        // thread, which this drop now blocks: there, a close could only wait out its timeout.
        let can_close = tokio::runtime::Handle::try_current()
            .is_ok_and(|runtime| runtime.runtime_flavor() != tokio::runtime::RuntimeFlavor::CurrentThread);
        let retired = background::block_on_with_limit(Duration::from_secs(15), async move {
            // The test's sessions are closed when its runtime can drive the close; if not, the
            // server ends them (see `Server::retire`).
            if can_close {
                let _ = tokio::time::timeout(Duration::from_millis(500), pool.close()).await;
            }
            S::retire(&admin_url, &name).await
        });
        if !matches!(retired, Some(Ok(()))) {
            // Not fatal: the next test process sweeps it, because this process's lock will be free.
            eprintln!(
                "harness: could not take test database {} out of use ({retired:?}); the next run sweeps it",
                self.name
            );
        }
        // A top-up this handout started must not be cut off by the process ending.
        pool::settle();
    }
}

/// A connection to the server's administrative database.
pub(crate) async fn connect<S: Server>(url: &str) -> Result<S::Connection, HarnessError> {
    S::Connection::connect(url)
        .await
        .context(|| format!("connecting to {} at {}", S::KIND, crate::redact::masked(url)))
}

/// Drops a database by name, even while clients are connected.
pub async fn drop_by_name<S: Server>(admin_url: &str, name: &str) -> Result<(), HarnessError> {
    let name = name.to_owned();
    crate::admin::run::<S, _, _>(admin_url, move |admin| {
        Box::pin(async move { S::drop_database(admin, &name).await })
    })
    .await
}

/// `url` pointing at another database on the same server (for a test that connects to one it did
/// not get a handle for, such as a pool's ready database).
pub fn with_database(url: &str, database: &str) -> Result<String, HarnessError> {
    let mut parsed = url::Url::parse(url)
        .map_err(|e| HarnessError::Other(format!("{} is not a URL: {e}", crate::redact::masked(url))))?;
    parsed.set_path(&format!("/{database}"));
    Ok(parsed.into())
}
