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
//! What is here so far is what a commit decides before it sends any SQL: the unit of work's memory,
//! an identity map that tracks each object once with a snapshot (`unit`); which columns of a row
//! changed since it was loaded (`changes`); in which order the tables are written (`order`); and
//! so what a commit writes (`plan`). The commit through chapter 03's manager and the adapters that
//! write a plan in batches on each database build on them.

pub mod changes;
pub mod entity;
pub mod order;
pub mod plan;
pub mod table;
pub mod unit;
pub mod value;

pub use changes::changed_columns;
pub use entity::Entity;
pub use order::{CycleError, delete_order, insert_order};
pub use plan::{State, Tracked, Write, plan};
pub use table::Table;
pub use unit::{Handle, UnitError, UnitOfWork};
pub use value::Value;
