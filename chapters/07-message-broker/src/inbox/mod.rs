//! The idempotent consumer: an event's effect is applied once, however often the event arrives.
//!
//! Kafka delivers at least once: a relay may publish an event twice, and a consumer that dies
//! after applying an event but before committing its offset gets it again. So the consumer keeps,
//! in its own database, the ids of the events it has processed, and records the id *in the same
//! transaction* as the effect. A redelivered event finds its id already there and changes nothing.
//! Recording the id in a separate step would reopen the gap: effect applied, crash, id missing.
//!
//! The two consuming services here are the chapter's: `welcomes` (a welcome for each new user)
//! and `event_counts` (analytics: a counter per event type, which a duplicate would inflate).

use ch03_transaction_manager::{Ctx, Settings, SqlManager, TxError};
use chrono::{DateTime, Utc};

use crate::db_errors::refuses_for_good;
use crate::event::Event;

mod mysql;
mod standard;

pub use standard::StandardSql;

/// Why an event was not processed.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The event cannot be processed, now or later: its content is wrong. Retrying cannot help;
    /// after its attempts it goes to the dead-letter topic.
    #[error("rejected: {0}")]
    Rejected(String),
    /// Something the consumer depends on failed (its database); the same event may succeed later,
    /// so it is never parked, only retried.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// For mutation testing only (the `mutants` feature): see [`Processed`].
#[cfg(feature = "mutants")]
impl Default for HandlerError {
    fn default() -> Self {
        HandlerError::Unavailable(String::new())
    }
}

/// A database error is the event's fault only when the database refuses its content for good
/// (see [`crate::db_errors`]); otherwise it is retried.
impl From<sqlx::Error> for HandlerError {
    fn from(error: sqlx::Error) -> Self {
        if refuses_for_good(&error) {
            HandlerError::Rejected(format!("the database refuses this event: {error}"))
        } else {
            HandlerError::Unavailable(error.to_string())
        }
    }
}

impl From<TxError> for HandlerError {
    fn from(error: TxError) -> Self {
        match error {
            TxError::Database { source, .. } if refuses_for_good(&source) => source.into(),
            other => HandlerError::Unavailable(other.to_string()),
        }
    }
}

/// What processing did with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// No outcome is a default one: `Default` is for mutation testing only (the `mutants` feature).
#[cfg_attr(feature = "mutants", derive(Default))]
pub enum Processed {
    #[cfg_attr(feature = "mutants", default)]
    Applied,
    /// Seen before: nothing changed.
    Duplicate,
}

/// Processes one event: what the consumer loop calls, and what [`crate::consumer::Retry`] wraps.
#[cfg_attr(test, mockall::automock)]
pub trait Process: Send + Sync + 'static {
    fn process(&self, event: &Event) -> impl Future<Output = Result<Processed, HandlerError>> + Send;
}

/// An effect, applied in the transaction `ctx` is in.
pub trait Effect<DB: ch03_transaction_manager::Dialect>: Send + Sync + 'static {
    fn apply(
        &self,
        tm: &SqlManager<DB>,
        ctx: &Ctx,
        event: &Event,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;
}

/// A consumer's processed-event record and its effect, committed together.
pub struct Inbox<DB: ch03_transaction_manager::Dialect, E> {
    tm: SqlManager<DB>,
    consumer: String,
    effect: E,
}

impl<DB: ch03_transaction_manager::Dialect, E> Inbox<DB, E> {
    /// `consumer` names the consuming service: each keeps its own record of what it processed.
    pub fn new(tm: SqlManager<DB>, consumer: impl Into<String>, effect: E) -> Self {
        Self {
            tm,
            consumer: consumer.into(),
            effect,
        }
    }
}

// ANCHOR: retention
/// How long an inbox remembers an event it processed. A redelivery can come as late as the
/// oldest message a consumer may read again: the topic's retention (Kafka's default is 7 days),
/// should its group's offsets be reset to the earliest; a relay's republish after a crash comes
/// within minutes. Twice the topic's retention leaves room for a topic kept longer than the
/// default by an operator who forgot to say so.
pub const RETENTION: std::time::Duration = std::time::Duration::from_secs(14 * 24 * 60 * 60);

impl<DB: InboxDb, E> Inbox<DB, E> {
    /// Forgets the events processed more than `retention` ago; how many. An event older than that
    /// which arrives again would be applied again, so `retention` must exceed the latest a
    /// redelivery can come (see [`RETENTION`]).
    pub async fn prune(&self, retention: std::time::Duration) -> Result<u64, HandlerError> {
        let cutoff = chrono::Duration::from_std(retention)
            .ok()
            .and_then(|retention| Utc::now().checked_sub_signed(retention));
        // A window longer than the calendar reaches back: nothing is old enough to forget.
        let Some(cutoff) = cutoff else { return Ok(0) };
        let mut conn = self.tm.connection(&Ctx::new()).await?;
        Ok(DB::prune_processed(&mut conn, cutoff).await?)
    }
}
// ANCHOR_END: retention

/// A welcome for each registered user.
pub struct Welcome;

/// Analytics: how many events of each type.
pub struct CountByType;

// ANCHOR: process
impl<DB: InboxDb, E: Effect<DB>> Process for Inbox<DB, E> {
    async fn process(&self, event: &Event) -> Result<Processed, HandlerError> {
        self.tm
            .run(&Ctx::new(), Settings::default(), async |ctx| {
                let first_time = {
                    let mut conn = self.tm.connection(ctx).await?;
                    DB::record_processed(&mut conn, &self.consumer, &event.id.to_string()).await?
                };
                if !first_time {
                    return Ok(Processed::Duplicate);
                }
                self.effect.apply(&self.tm, ctx, event).await?;
                Ok(Processed::Applied)
            })
            .await
    }
}
// ANCHOR_END: process

impl<DB: InboxDb> Effect<DB> for Welcome {
    async fn apply(&self, tm: &SqlManager<DB>, ctx: &Ctx, event: &Event) -> Result<(), HandlerError> {
        let field = |name: &str| {
            event.payload[name]
                .as_str()
                .ok_or_else(|| HandlerError::Rejected(format!("{} {} has no {name}", event.kind, event.id)))
        };
        let (user, email) = (field("user_id")?, field("email")?);
        let mut conn = tm.connection(ctx).await?;
        Ok(DB::insert_welcome(&mut conn, user, email).await?)
    }
}

impl<DB: InboxDb> Effect<DB> for CountByType {
    async fn apply(&self, tm: &SqlManager<DB>, ctx: &Ctx, event: &Event) -> Result<(), HandlerError> {
        let mut conn = tm.connection(ctx).await?;
        Ok(DB::count_event(&mut conn, &event.kind).await?)
    }
}

/// The consumers' statements, run on the connection of the caller's transaction: one `impl` per
/// kind of SQL, in [`standard`] (PostgreSQL and SQLite) and [`mysql`].
pub trait InboxDb: ch03_transaction_manager::Dialect {
    /// Records that `consumer` processed `event_id`; false when it already had.
    fn record_processed(
        conn: &mut Self::Connection,
        consumer: &str,
        event_id: &str,
    ) -> impl Future<Output = sqlx::Result<bool>> + Send;
    fn insert_welcome(
        conn: &mut Self::Connection,
        user: &str,
        email: &str,
    ) -> impl Future<Output = sqlx::Result<()>> + Send;
    fn count_event(conn: &mut Self::Connection, kind: &str) -> impl Future<Output = sqlx::Result<()>> + Send;
    /// Deletes the records of events processed before `cutoff`; how many went.
    fn prune_processed(
        conn: &mut Self::Connection,
        cutoff: DateTime<Utc>,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;
}

/// The consumer's migrations: its own database, not the publisher's.
pub mod migrations {
    use sqlx::migrate::Migrator;

    pub static POSTGRES: Migrator = sqlx::migrate!("migrations/consumer/postgres");
    pub static MYSQL: Migrator = sqlx::migrate!("migrations/consumer/mysql");
    pub static SQLITE: Migrator = sqlx::migrate!("migrations/consumer/sqlite");
}
