//! Chapter 03: the transaction manager.
//!
//! **The problem.** Registering a user must save the user and record "user registered" in one
//! transaction; buying must create the order and write off the stock in one; and a *quick
//! purchase* runs registration and purchase together, as one. Passing a transaction object through
//! every repository method and every use case spreads database knowledge everywhere and repeats
//! begin/commit/rollback in each use case, and nesting two use cases means rewriting both.
//!
//! **The pattern.** A transaction manager. A use case says "this runs in a transaction"
//! (`manager.run(&ctx, settings, async |ctx| ...)`); repositories find the current transaction in
//! the context they are given (`manager.connection(&ctx)`); a use case called from inside another
//! joins the outer transaction, or opens a savepoint, or a transaction of its own, as its
//! propagation says.
//!
//! **The trade-off.** A little machinery, whose semantics (propagation, rollback-only, timeouts)
//! must be learned, in exchange for use cases that say nothing about connections and compose.

pub mod ctx;
pub mod error;
pub mod manager;
pub mod settings;
pub mod shop;
pub mod steps;
#[cfg(feature = "tour")]
pub mod tour;

pub use ctx::Ctx;
pub use error::TxError;
pub use manager::dialect::Dialect;
pub use manager::redis::RedisManager;
pub use manager::sql::{Conn, SqlManager};
pub use manager::transactional::{Transactional, UseCase};
pub use manager::{Body, TransactionManager, body};
pub use settings::{Isolation, Propagation, Settings};

/// The schema of each database, for the tests, the benchmark and the tour.
pub mod migrations {
    use sqlx::migrate::Migrator;

    pub static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");
    pub static MYSQL: Migrator = sqlx::migrate!("migrations/mysql");
    pub static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
}
