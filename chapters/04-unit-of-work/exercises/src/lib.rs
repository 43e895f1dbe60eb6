//! Chapter 04's exercises, in the order `workbook next` gives them (the order below: a blank line
//! between them keeps `cargo fmt` from sorting them). Each module is the learner's file: it
//! compiles, and its checks (`tests/it/<module>.rs`, on real databases) fail for the reason its
//! statement gives (`statements/<module>.md`) until the learner fills the gap.
//! `solutions/<module>.rs` is a reference solution; `hints/<module>.md` holds the hints.

/// Cancelling an order: its lines removed before it, their stock given back, one commit.
pub mod cancel_order;

/// A new table mapped for the unit of work: its references and a missing value.
pub mod review_mapping;

/// A restock that loses to a concurrent one starts again, so none is lost.
pub mod restock_retries;

/// A form saved in a later request than it was read: refused if the product moved on.
pub mod stale_form;

/// What the exercises' use cases fail with.
#[derive(Debug, thiserror::Error)]
pub enum ExerciseError {
    #[error("there is no {0} {1}")]
    NotFound(&'static str, uuid::Uuid),
    #[error(transparent)]
    Commit(#[from] ch04_unit_of_work::CommitError),
    #[error(transparent)]
    Unit(#[from] ch04_unit_of_work::UnitError),
    #[error("reading failed: {0}")]
    Storage(#[from] sqlx::Error),
}
