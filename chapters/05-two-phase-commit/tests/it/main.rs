//! Chapter 05's integration tests, on real PostgreSQL and real HTTP servers on loopback:
//! - `calls`: the caller's record of its calls, and recovery workers' claims on them;
//! - `lost_answer`: a charge whose answer is lost, retried without a key and with one;
//! - `payments`: the payments service's idempotency keys, as a caller over the network sees them;
//! - `pool`: a transaction held across a remote call runs the pool dry; the two-phase way does not;
//! - `purchase`: the two-phase purchase, and recovery of what it left requested.

mod calls;
mod lost_answer;
mod payments;
mod pool;
mod purchase;
mod support;
