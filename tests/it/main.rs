//! End-to-end tests of the workbook as a reader uses it: the `workbook` binary, and the book.
//!
//! Cross-chapter scenarios join here as chapters land.

mod cli;
mod docs;
mod exercises;
