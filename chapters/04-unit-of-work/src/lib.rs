//! Chapter 04: the unit of work.
//!
//! **The problem.** A use case that loads a few aggregates, changes some of them and saves each by
//! hand issues a write per row, writes rows that did not change, forgets one it did change, and
//! writes in an order the foreign keys refuse.
//!
//! **The pattern** (Fowler's): the unit of work remembers what was loaded through it, works out
//! what changed, and writes it all at once at commit: in one transaction, parents before children,
//! one statement per table and kind of change.
//!
//! The lesson's steps come first (`steps`): saving by hand, then the talk's list of commands,
//! each with what it gets wrong. Then the unit of work: its memory, an identity map that tracks
//! each object once with a snapshot (`unit`); which columns of a row changed since it was loaded
//! (`changes`); in which order the tables are written (`order`); what a commit writes (`plan`);
//! the statements that write it, a multi-row one per table and kind, cut at each database's
//! parameter limit (`writer`), each update and delete of a versioned row checking the version it
//! was loaded at (optimistic locking); and the commit, all of it or none, in a scope of chapter
//! 03's transaction manager, so that it joins the transaction of the use case it runs in
//! (`commit`). The use case that places an order (`place_order`), the two ways of locking a
//! contended row (`locking`), and reading the shop's rows (`sql`), on PostgreSQL, MariaDB and
//! SQLite.

pub mod changes;
pub mod commit;
pub mod entity;
pub mod locking;
pub mod order;
pub mod place_order;
pub mod plan;
pub mod shop;
pub mod sql;
pub mod steps;
pub mod table;
pub mod unit;
pub mod value;
pub mod writer;

#[cfg(feature = "tour")]
pub mod tour;

pub use changes::changed_columns;
pub use commit::{CommitError, commit};
pub use entity::Entity;
pub use locking::{BuyError, buy_optimistically, buy_pessimistically};
pub use order::{CycleError, delete_order, insert_order};
pub use place_order::{OrderError, Products, place_order, reserve};
pub use plan::{State, Tracked, Write, plan};
pub use sql::{ShopDatabase, ShopSql, SqlProducts};
pub use table::Table;
pub use unit::{Handle, UnitError, UnitOfWork};
pub use value::Value;
pub use writer::{Batched, Binds, PlanWriter, UpdateForm, WriteError, Written};

/// The chapter's schema on each database.
pub mod migrations {
    pub static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");
    pub static MYSQL: sqlx::migrate::Migrator = sqlx::migrate!("migrations/mysql");
    pub static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
}
