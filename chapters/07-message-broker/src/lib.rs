//! Chapter 07: a message broker, the transactional outbox, and idempotent consumers.
//!
//! **The problem.** After a registration, the users service should not call the welcome service,
//! the analytics service and whoever comes next, handling each one being down. It publishes
//! `user_registered` to Kafka and forgets it; whoever cares consumes it. But "commit, then
//! publish" loses the event when the broker is down, and "publish, then commit" announces a user
//! who never comes to exist when the commit fails.
//!
//! **The pattern.** The *transactional outbox*: the event is written to a table in the same
//! transaction as the user (through chapter 03's manager), and a relay publishes it afterwards,
//! retrying until the broker has it. The relay can publish an event twice, so consumers are
//! *idempotent*: each records the events it has processed, in the same transaction as its effect.
//!
//! **The trade-off.** Delivery becomes at least once and a little later (the relay's lag), in
//! exchange for never losing an event and never publishing one that did not happen.

pub mod alongside;
pub mod backoff;
pub mod consumer;
pub mod db_errors;
pub mod event;
pub mod inbox;
pub mod outbox;
pub mod publisher;
pub mod relay;
pub mod sql;
#[cfg(feature = "tour")]
pub mod tour;
pub mod users;

pub use backoff::Backoff;
pub use consumer::{EventConsumer, Retry};
pub use event::Event;
pub use inbox::{CountByType, HandlerError, Inbox, Process, Processed, Welcome};
pub use outbox::{Lag, Outbox, OutboxStore, RelayError};
pub use publisher::{KafkaPublisher, PublishError, Publisher};
pub use relay::{Relay, RelayConfig};
pub use users::{Users, UsersError};

/// The publishing service's schema (users and the outbox), per database.
pub mod migrations {
    use sqlx::migrate::Migrator;

    pub static POSTGRES: Migrator = sqlx::migrate!("migrations/outbox/postgres");
    pub static MYSQL: Migrator = sqlx::migrate!("migrations/outbox/mysql");
    pub static SQLITE: Migrator = sqlx::migrate!("migrations/outbox/sqlite");
}
