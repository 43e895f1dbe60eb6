//! The caller's side: a record of every remote call, made before the call, so that nothing the
//! caller asked of a remote is ever lost track of.
//!
//! - `state`: the source's table of states (`create_requested`, `created`, `create_failed`, ...)
//!   and the moves between them.

pub mod state;
