//! What the harness needs of a database server to give each test a database of its own, and to
//! sweep what killed runs left behind.
//!
//! The steps are the same on every server (register this process as a live owner, make a name,
//! create the database, drop it afterwards, sweep the dead owners' leftovers), and they are written
//! once, in [`crate::database`] and [`crate::owner`]. What differs is SQL: how a database is
//! created (PostgreSQL clones a template, MySQL replays migrations), how it is dropped, and which
//! lock marks a live owner. Each server kind says that in its own file: `postgres.rs`, `mysql.rs`.

use std::future::Future;

use sqlx::migrate::Migrator;

use crate::pool::Handout;
use crate::{HarnessError, ServiceKind};

/// A database server that hands out per-test databases. Implemented by sqlx's `Postgres` and
/// `MySql` (the database types), so that a handle reads `TestDatabase<Postgres>`.
pub trait Server: sqlx::Database {
    /// The service this server is, for provisioning and messages.
    const KIND: ServiceKind;

    /// Creates the database `name` on the server at `admin_url`, holding `migrator`'s schema, and
    /// says where it came from. On failure it leaves nothing behind.
    fn create(
        admin_url: &str,
        name: &str,
        migrator: &Migrator,
    ) -> impl Future<Output = Result<Handout, HarnessError>> + Send;

    /// Takes the database `name` out of use once its test is done, even while clients are still
    /// connected to it: from then on nobody can reach it by that name, and it is gone or about to
    /// be. MySQL drops it, ending its sessions first. PostgreSQL ends its sessions, renames it and
    /// drops it a moment later off the test's path, because its `DROP DATABASE` waits for a
    /// checkpoint of the whole server (measured: 13 to 120 ms while other tests write).
    fn retire(admin_url: &str, name: &str) -> impl Future<Output = Result<(), HarnessError>> + Send;

    /// Drops the database `name`, even while clients are connected to it.
    fn drop_database(admin: &mut Self::Connection, name: &str)
    -> impl Future<Output = Result<(), HarnessError>> + Send;

    /// The names of the per-test databases on the server, live or abandoned.
    fn test_databases(admin: &mut Self::Connection) -> impl Future<Output = Result<Vec<String>, HarnessError>> + Send;

    /// Takes the lock that marks `owner` as alive, on this session; false when another session
    /// holds it. The server releases it when the session ends, however the process ends.
    fn lock_owner(admin: &mut Self::Connection, owner: u32) -> impl Future<Output = Result<bool, HarnessError>> + Send;

    /// Whether some session holds `owner`'s lock.
    fn owner_alive(admin: &mut Self::Connection, owner: u32)
    -> impl Future<Output = Result<bool, HarnessError>> + Send;

    /// Whether any session other than `admin` is connected to the database `name`: a database
    /// in use is not abandoned, whatever its owner's lock says.
    fn in_use(admin: &mut Self::Connection, name: &str) -> impl Future<Output = Result<bool, HarnessError>> + Send;
}
