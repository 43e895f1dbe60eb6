//! The transactional outbox: events are written to a table in the same transaction as the
//! business change, and a relay publishes them afterwards.
//!
//! The business transaction either commits both the user and the event, or neither, so an event
//! can no longer be lost (committed, then the publish failed) or be a phantom (published, then the
//! commit failed). What it cannot promise is *exactly once*: the relay publishes, then deletes;
//! if it dies between the two, it publishes again. Consumers absorb that (see `inbox`).
//!
//! Writing goes through chapter 03's manager: [`Outbox::add`] finds the business transaction in
//! the `Ctx` it is given, like any repository there.

use ch03_transaction_manager::{Ctx, Isolation, Settings, SqlManager, TxError};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::event::Event;
use crate::publisher::{PublishError, Publisher};
use crate::sql::{ChapterSql, EventDb, OutboxRow};

/// How many shards the outbox has (rows of `outbox_shards`). An aggregate's events are all in
/// one shard; relays side by side take different shards.
pub const SHARDS: u32 = 16;

/// The shard of an aggregate: FNV-1a of its id, which every process computes alike.
pub fn shard_of(aggregate_id: &str) -> i32 {
    let hash = aggregate_id.bytes().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    });
    (hash % SHARDS) as i32
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error(transparent)]
    Tx(#[from] TxError),
    #[error("outbox database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("outbox row {seq} does not hold an event: {error}")]
    CorruptRow { seq: i64, error: String },
}

/// What is waiting in the outbox: the relay's lag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lag {
    pub backlog: i64,
    /// When the oldest unpublished event happened; `None` when none waits.
    pub oldest: Option<DateTime<Utc>>,
}

impl Lag {
    /// How long the oldest unpublished event has waited.
    pub fn oldest_age(&self, now: DateTime<Utc>) -> std::time::Duration {
        self.oldest
            .map(|oldest| (now - oldest).to_std().unwrap_or_default())
            .unwrap_or_default()
    }
}

/// What a relay needs of an outbox.
pub trait OutboxStore: Send + Sync + 'static {
    /// Takes the shard whose oldest event is the oldest, hands up to `max` of its events to
    /// `publisher` in order, and deletes them once the broker has them. All or nothing: if the
    /// publish fails, nothing is deleted. Returns how many were published; 0 when none waits.
    fn relay_batch<P: Publisher>(
        &self,
        max: usize,
        publisher: &P,
    ) -> impl Future<Output = Result<usize, RelayError>> + Send;

    fn lag(&self) -> impl Future<Output = Result<Lag, RelayError>> + Send;
}

/// The outbox table of one database.
pub struct Outbox<DB: EventDb> {
    tm: SqlManager<DB>,
}

impl<DB: EventDb> Outbox<DB> {
    pub fn new(tm: SqlManager<DB>) -> Self {
        Self { tm }
    }

    // ANCHOR: add
    /// Writes `event` in the transaction `ctx` is in: it will be published if, and only if, that
    /// transaction commits.
    pub async fn add(&self, ctx: &Ctx, event: &Event) -> Result<(), RelayError> {
        let mut conn = self.tm.connection(ctx).await?;
        DB::insert_event(&mut conn, event).await?;
        Ok(())
    }
    // ANCHOR_END: add
}

fn event_of((seq, id, kind, aggregate_id, occurred_at, payload): OutboxRow) -> Result<(i64, Event), RelayError> {
    let corrupt = |error: String| RelayError::CorruptRow { seq, error };
    Ok((
        seq,
        Event {
            id: Uuid::parse_str(&id).map_err(|e| corrupt(e.to_string()))?,
            kind,
            aggregate_id,
            occurred_at,
            payload: serde_json::from_str(&payload).map_err(|e| corrupt(e.to_string()))?,
        },
    ))
}

impl<DB: EventDb> OutboxStore for Outbox<DB> {
    async fn relay_batch<P: Publisher>(&self, max: usize, publisher: &P) -> Result<usize, RelayError> {
        self.tm
            .run(&Ctx::new(), relay_settings::<DB>(), async |ctx| {
                let mut conn = self.tm.connection(ctx).await?;
                // The first shard, oldest first, that no other relay holds and that still has
                // events once it is ours (another relay may have emptied it meanwhile).
                let mut rows = Vec::new();
                for candidate in DB::candidate_shards(&mut conn).await? {
                    if !DB::lock_shard(&mut conn, candidate).await? {
                        continue;
                    }
                    rows = DB::pending(&mut conn, candidate, max).await?;
                    if !rows.is_empty() {
                        break;
                    }
                }
                if rows.is_empty() {
                    return Ok(0);
                }
                let (seqs, events): (Vec<i64>, Vec<Event>) = rows
                    .into_iter()
                    .map(event_of)
                    .collect::<Result<Vec<_>, _>>()?
                    .into_iter()
                    .unzip();

                publisher.publish(&events).await?;
                fail::fail_point!("relay::after_publish");

                DB::delete(&mut conn, &seqs).await?;
                Ok(events.len())
            })
            .await
    }

    async fn lag(&self) -> Result<Lag, RelayError> {
        let mut conn = self.tm.connection(&Ctx::new()).await?;
        let (backlog, oldest) = DB::lag(&mut conn).await?;
        Ok(Lag { backlog, oldest })
    }
}

// ANCHOR: relay_settings
/// How a relay's batch runs. On PostgreSQL and MariaDB a relay works in a transaction that holds
/// its shard's row lock while it publishes; the timeout bounds how long a stuck broker can hold
/// it. READ COMMITTED, so that the events it reads after taking the lock are those left by the
/// relay that held it before (MariaDB's default, REPEATABLE READ, would show it a snapshot from
/// before that relay's delete, and it would publish them again). SQLite has one writer: a
/// transaction held through a publish would stop every business write, so there the relay works
/// without one (each statement commits alone) and only one relay may run.
fn relay_settings<DB: ChapterSql>() -> Settings {
    if DB::RELAY_IN_TRANSACTION {
        relay_transaction()
    } else {
        Settings::new(ch03_transaction_manager::Propagation::NotSupported)
    }
}
// ANCHOR_END: relay_settings

fn relay_transaction() -> Settings {
    Settings::default()
        .isolation(Isolation::ReadCommitted)
        .timeout(RELAY_TRANSACTION_LIMIT)
}

/// The longest a relay's transaction may last: a publish blocked longer than this is abandoned,
/// its batch rolled back (not deleted) and published again later.
pub const RELAY_TRANSACTION_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_aggregate_always_lands_in_the_same_shard_and_shards_spread() {
        assert_eq!(shard_of("user-1"), shard_of("user-1"));
        let used: std::collections::HashSet<i32> = (0..1000).map(|n| shard_of(&format!("user-{n}"))).collect();
        assert_eq!(used.len(), SHARDS as usize, "1000 aggregates use every shard");
        assert!(used.iter().all(|shard| (0..SHARDS as i32).contains(shard)));
    }
}
