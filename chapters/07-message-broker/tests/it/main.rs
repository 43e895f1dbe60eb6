//! Chapter 07's integration tests, against real databases and a real Kafka broker.

mod support;

mod consumers;
mod db_errors;
mod dual_write;
mod faults;
mod outbox;
mod rebalance;
mod retention;
