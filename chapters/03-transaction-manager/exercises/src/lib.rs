//! Chapter 03's exercises, in the order `workbook next` gives them (the order below: a blank line
//! between them keeps `cargo fmt` from sorting them). Each module is the learner's file: it
//! compiles, and its checks (`tests/it/<module>.rs`, on real databases) fail for the reason its
//! statement gives (`statements/<module>.md`) until the learner fills the gap.
//! `solutions/<module>.rs` is a reference solution; `hints/<module>.md` holds the hints.

/// Two writes in one transaction, checked with the session killed between them.
pub mod register_atomically;

/// A record that must outlive the rollback of the transaction around it: `RequiresNew`.
pub mod audit_survives;

/// An optional step whose failure must not doom the purchase: `Nested`, a savepoint.
pub mod optional_gift_wrap;

/// A purchase that gives up on a row another transaction holds: the manager's deadline.
pub mod purchase_deadline;
