//! Chapter 05's integration tests, on real PostgreSQL and real HTTP servers on loopback:
//! - `payments`: the payments service's idempotency keys, as a caller over the network sees them.

mod payments;
mod support;
