//! The caller's side: a record of every remote call, made before the call, so that nothing the
//! caller asked of a remote is ever lost track of.
//!
//! - `state`: the source's table of states (`create_requested`, `created`, `create_failed`, ...)
//!   and the moves between them;
//! - `record`: the rows, one per resource and kind, written through chapter 03's manager, and
//!   the claims of recovery workers on the calls left requested.

pub mod record;
pub mod state;
