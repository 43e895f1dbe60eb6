//! Chapter 03's integration tests: every propagation mode, rollback-only, settings, failures and
//! hooks, each on PostgreSQL, MariaDB and SQLite, read back from a connection of its own.

mod support;

mod before_commit;
mod endings;
mod failures;
mod propagation;
mod redis;
mod settings;
mod statements;
mod use_cases;

/// The benchmark's workload, shared with `benches/overhead.rs`.
#[path = "../../benches/shared/workload.rs"]
mod workload;
