//! The harness gives every test of the workbook real services, and keeps tests out of each other's
//! way.
//!
//! A test asks for what it needs (a PostgreSQL database, a Redis key namespace, Kafka topics) and
//! gets a handle that is its own: a fresh database cloned from a migrated template, keys under a
//! prefix nobody else uses, topic names nobody else has. When the handle is dropped, at the end of
//! the test or during a panic, what it made is removed.
//!
//! Where the services come from is decided once per test process, in this order (see
//! [`provision`]): a `WORKBOOK_*` environment variable, else a Docker container started through
//! testcontainers, else the test fails with a message that names both ways to provide the service.
//! Nothing is skipped silently.
//!
//! Beside provisioning, the harness has the tools that the chapters use to show patterns failing
//! and holding: a [`fault::FaultProxy`] that cuts, slows or blackholes a connection, a dedicated
//! Kafka broker reached only through such a proxy ([`kafka::DedicatedKafka`]), crash points that
//! abort a child process between two steps ([`crash`]), and [`eventually`] for effects that
//! happen asynchronously.

#![warn(missing_docs)]

mod admin;
pub mod background;
mod containers;
pub mod count;
pub mod crash;
pub mod database;
mod error;
pub mod eventually;
pub mod fault;
pub mod kafka;
pub mod killed_session;
pub mod migrations;
mod mysql;
mod names;
pub mod narrator;
pub mod owner;
pub mod pool;
pub mod postgres;
pub mod probe;
pub mod provision;
pub mod redact;
pub mod redis;
pub mod sample;
pub mod scratch;
pub mod server;
mod service;
pub mod sqlite;
pub mod tour;

pub use count::CountRows;
pub use database::{MySqlDatabase, PgDatabase, TestDatabase};
pub use error::HarnessError;
pub use eventually::eventually;
pub use kafka::{DedicatedKafka, KafkaScope};
pub use provision::{Endpoint, Origin, endpoint};
pub use redis::RedisNamespace;
pub use service::ServiceKind;
pub use sqlite::SqliteDatabase;
