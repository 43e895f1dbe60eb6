//! Chapter 07's exercises, in the order `workbook next` gives them (a blank line between them keeps
//! `cargo fmt` from sorting them). Each module is the learner's file: it compiles, and its checks
//! (`tests/it/<module>.rs`, on real services) fail for the reason its statement gives
//! (`statements/<module>.md`) until the learner fills the gap. `solutions/<module>.rs` is a
//! reference solution; `hints/<module>.md` holds the hints.

/// The event written with the user, in one transaction: the transactional outbox.
pub mod outbox_with_the_user;

/// A consumer that counts each event once, however often it arrives, and loses none to a crash.
pub mod idempotent_counter;

/// A retry that waits for a dependency to come back, and never retries a poison event.
pub mod retry_what_can_heal;

/// The key that keeps one user's events in order: Kafka orders only within a partition.
pub mod one_user_one_partition;
