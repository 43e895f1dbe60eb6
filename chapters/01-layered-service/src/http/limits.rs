//! What the HTTP server grants a client, in one place: how long it may take to send its request,
//! how long a connection may sit idle, how many connections may be open at once, and how long a
//! shutdown waits for requests in progress.
//!
//! Without these, a client holds the server's resources for as long as it likes: tried from
//! outside, 1,000 connections that each sent half a request and stalled were all kept open (1,000
//! file descriptors), and a request whose body never came was waited for forever. That is a
//! slow-loris attack when done on purpose, and a fleet of phones on bad networks when not.

use std::time::Duration;

// ANCHOR: limits
/// The limits one HTTP server enforces. [`Limits::DEFAULT`] is what `app::start` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long a client has to send a request's headers, from the moment the server waits for
    /// them. hyper starts this clock also while a kept-alive connection waits for its next
    /// request, so it is the idle timeout too: a connection that sends nothing for this long is
    /// closed.
    pub header_read: Duration,
    /// How long a client has to send a request's body once its headers are in; then the server
    /// answers 408 and closes the connection.
    pub body_read: Duration,
    /// Connections open at once. The next waits in the kernel's accept queue until one closes.
    pub max_connections: usize,
    /// How long `stop` lets requests in progress finish; then it closes what is still open.
    pub shutdown_grace: Duration,
}

impl Limits {
    /// Generous for a phone on a slow network, short for a client that has stopped sending.
    pub const DEFAULT: Limits = Limits {
        header_read: Duration::from_secs(10),
        body_read: Duration::from_secs(10),
        max_connections: 1024,
        shutdown_grace: Duration::from_secs(10),
    };
}
// ANCHOR_END: limits

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
