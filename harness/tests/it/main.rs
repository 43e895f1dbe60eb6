//! The harness's own tests, against real services: what every chapter relies on is proven here.
//!
//! One test binary for the crate (a binary per file would cost a link each). The modules:
//! - `provision`: every service resolves and answers; a missing one fails with a useful message;
//! - `isolation`: tests writing the same names at the same time never see each other's data;
//! - `cleanup`: what a test made is gone after it, also after a panic or a crash;
//! - `pool`: ready databases handed out at once, never twice, also with a holder killed;
//! - `faults`: cut, restore, latency and blackhole, observed on PostgreSQL, Redis and Kafka, and a
//!   session killed by the server inside a write;
//! - `scratch`: scratch copies of a workspace, and the renamed packages in them.

mod broker;
mod cleanup;
mod faults;
mod isolation;
mod pool;
mod provision;
mod scratch;
mod support;
