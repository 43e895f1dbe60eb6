//! How the chapter gets from saving each row by hand to the unit of work, one step at a time.
//! Each step places the same order (an order, a line per item, the stock taken off each product);
//! the final step is the crate's `UnitOfWork` and `place_order`.
//!
//! - `step1_saves_by_hand`: a repository save per row, as each row is ready. Nothing is atomic,
//!   the order of the saves is the author's to get right, a change without its save is lost, and
//!   a save without a change is sent anyway.
//! - `step2_command_list`: the talk's simplified unit of work, the saves collected as a list of
//!   commands and run in one transaction at the end, in the order the foreign keys need. Atomic
//!   and ordered; but two loads of one product are two copies that overwrite each other, and each
//!   registered row is written whole, changed or not.

pub mod step1_saves_by_hand;
pub mod step2_command_list;
