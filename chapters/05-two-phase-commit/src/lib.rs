//! Chapter 05: two-phase commit of remote calls, with caller-assigned keys.
//!
//! **The problem.** A purchase writes to our database and calls services we do not own. No
//! transaction spans them: call first, and the call can succeed while our write is lost (a
//! charge nobody knows of); write first, and the call can fail or its answer be lost (did the
//! customer pay?).
//!
//! **The pattern** (the source's two steps): record the call as requested, with a key that *we*
//! assign, before making it; make it with that key; record its outcome after. A recovery process
//! finishes whatever stopped in between, and the remote side makes the key idempotent, so that a
//! repeated call is harmless.
//!
//! What is here so far: the remote side (`remote`), a payments service as a real HTTP server
//! with its own database, whose charges carry the caller's key and whose requests are made
//! idempotent by key the way serious APIs do it; and the caller's state machine (`calls`), the
//! source's table of states and the moves between them. The caller's records, recovery,
//! compensation and the lesson's steps build on them.

pub mod calls;
pub mod orders;
pub mod payments_client;
pub mod purchase;
pub mod remote;
pub mod steps;

/// The schema of each service's database.
pub mod migrations {
    pub static PAYMENTS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/payments");
    pub static CALLER: sqlx::migrate::Migrator = sqlx::migrate!("migrations/caller");
}
