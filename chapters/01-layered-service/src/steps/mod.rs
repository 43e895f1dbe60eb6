//! The chapter's evolution.
//!
//! - Step 1, [`step1_fat_handler`]: one handler that does everything.
//! - Step 2 is the rest of the crate: `http` and `grpc` (handlers), `service` and `validation`
//!   (the rules), `repository` (storage), `notify` (providers behind a trait), wired in `app`.

pub mod step1_fat_handler;
