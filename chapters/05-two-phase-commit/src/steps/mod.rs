//! How the chapter gets from calling a remote and hoping to the two-phase record, one step at a
//! time.
//!
//! - `step1_retry_without_a_key`: a charge retried when its answer is lost, each attempt a new
//!   request, against the same retried with the caller's own key;
//! - `step2_call_inside_the_transaction`: the call made inside the order's transaction, which
//!   holds a connection for as long as the remote takes.

pub mod step1_retry_without_a_key;
pub mod step2_call_inside_the_transaction;
