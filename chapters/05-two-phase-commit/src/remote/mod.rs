//! The services the caller does not own, as real HTTP servers on loopback, each with its own
//! PostgreSQL database.
//!
//! - `idempotency`: a request's key, fingerprint, recovery point and stored response, kept so that
//!   a repeated request is answered as the first was, and never done twice;
//! - `payments`: charges, each with the caller's `object_key` beside the service's own id;
//! - `server`: serving a service's router on a port of its own, and the faults a test asks for.

pub mod idempotency;
pub mod payments;
pub mod server;
