//! Chapter 04's integration tests, on real PostgreSQL, MariaDB and SQLite through the harness:
//! - `commit`: what a commit writes, in which order and in how many statements, and that a commit
//!   that fails (a statement refused, the session killed between two statements, the database cut
//!   off mid-commit) writes nothing;
//! - `crash`: the process killed between two statements of a commit leaves none of it;
//! - `locking`: a stale commit refused by name with nothing written, and fifty buyers racing on
//!   one product without a lost update;
//! - `manager`: the commit joins the transaction of the use case it runs in (chapter 03);
//! - `steps`: the lesson's steps before the unit of work (saves by hand, a list of commands) and
//!   what each gets wrong, beside the unit of work doing the same.

mod commit;
mod crash;
mod locking;
mod manager;
mod steps;
mod support;
