//! Chapter 02's exercises, in the order `workbook next` gives them (a blank line between them keeps
//! `cargo fmt` from sorting them). Each module is the learner's file: it compiles, and its checks
//! (`tests/it/<module>.rs`, on real databases) fail for the reason its statement gives
//! (`statements/<module>.md`) until the learner fills the gap. `solutions/<module>.rs` is a
//! reference solution; `hints/<module>.md` holds the hints.

/// Pages of users that neither skip nor repeat one while others are added and removed.
pub mod keyset_pages;

/// The column the domain never sees: a lookup by email in any case.
pub mod email_any_case;

/// A set in the domain, one text column in the table, on every backend.
pub mod channels_as_text;

/// A profile saved only over what was read, so that no one's edit is lost.
pub mod no_lost_update;
