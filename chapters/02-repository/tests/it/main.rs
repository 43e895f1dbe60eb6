//! Chapter 02's integration tests: one contract, the same test bodies, on every adapter.

mod adapters;
mod alternatives;
mod contract;
mod half_writes;
