//! Chapter 01's exercises, in the order `workbook next` gives them (a blank line between them keeps
//! `cargo fmt` from sorting them). Each module is the learner's file: it compiles, and its checks
//! (`tests/it/<module>.rs`, on a real PostgreSQL and real HTTP servers) fail for the reason its
//! statement gives (`statements/<module>.md`) until the learner fills the gap.
//! `solutions/<module>.rs` is a reference solution; `hints/<module>.md` holds the hints.

/// The handler's one translation: a service error into an HTTP status and body.
pub mod error_answers;

/// A new route that goes through the service, so it gets the service's rules.
pub mod lookup_through_the_service;

/// A notification provider of your own, plugged in at the one place providers are plugged in.
pub mod webhook_provider;

/// Welcome messages that never hold up, or fail, the registration that caused them.
pub mod welcome_without_waiting;
