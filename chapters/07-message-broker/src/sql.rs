//! The chapter's statements, in each database's SQL, and the sqlx calls that run them.
//!
//! What differs between databases is only text: PostgreSQL and SQLite take `$n` placeholders,
//! MySQL and MariaDB `?`; SQLite has no row locks. [`ChapterSql`] holds that text, one `impl` per
//! database. [`EventDb`] runs it, written once for every database: its `where` clause is what sqlx
//! must know of a database to run these statements, stated here so that nothing else repeats it.
//! The logic (what the outbox, the relay and the users service do with the statements) is in
//! `users.rs` and `outbox.rs`, written once too.

use std::future::Future;

use ch03_transaction_manager::Dialect;
use chrono::{DateTime, Utc};
use sqlx::{Decode, Encode, Executor, IntoArguments, MySql, Postgres, QueryBuilder, Sqlite, Type};

use crate::event::Event;
use crate::outbox::shard_of;

/// One outbox row: seq, event id, kind, aggregate id, when it happened, payload.
pub type OutboxRow = (i64, String, String, String, DateTime<Utc>, String);

/// The statements whose text differs between databases.
///
/// A relay claims a shard in two steps: it lists the shards that have events, oldest first,
/// without locking anything ([`EventDb::candidate_shards`]), then locks the first one no other
/// relay holds, by its key (`LOCK_SHARD`). One locking statement with the ordering in it would be
/// shorter, but InnoDB (MariaDB, MySQL) locks every row a locking read examines, not only the one
/// it returns: it would lock every shard with events, and relays side by side would find nothing
/// left to take.
pub trait ChapterSql: Dialect {
    const INSERT_USER: &'static str;
    const INSERT_EVENT: &'static str;
    /// Takes a shard's row lock, skipping (not waiting for) a shard another relay holds.
    const LOCK_SHARD: &'static str;
    /// A shard's waiting events, oldest first, at most a batch of them.
    const PENDING: &'static str;
    /// Whether a relay may hold a transaction while it publishes (see `outbox::relay_settings`).
    const RELAY_IN_TRANSACTION: bool;
}

impl ChapterSql for Postgres {
    const INSERT_USER: &'static str = "INSERT INTO users (id, email) VALUES ($1, $2)";
    const INSERT_EVENT: &'static str = "INSERT INTO outbox (event_id, shard, kind, aggregate_id, occurred_at, payload) \
                                        VALUES ($1, $2, $3, $4, $5, $6)";
    const LOCK_SHARD: &'static str = "SELECT shard FROM outbox_shards WHERE shard = $1 FOR UPDATE SKIP LOCKED";
    const PENDING: &'static str = "SELECT seq, event_id, kind, aggregate_id, occurred_at, payload FROM outbox \
                                   WHERE shard = $1 ORDER BY seq LIMIT $2";
    const RELAY_IN_TRANSACTION: bool = true;
}

impl ChapterSql for MySql {
    const INSERT_USER: &'static str = "INSERT INTO users (id, email) VALUES (?, ?)";
    const INSERT_EVENT: &'static str = "INSERT INTO outbox (event_id, shard, kind, aggregate_id, occurred_at, payload) \
                                        VALUES (?, ?, ?, ?, ?, ?)";
    const LOCK_SHARD: &'static str = "SELECT shard FROM outbox_shards WHERE shard = ? FOR UPDATE SKIP LOCKED";
    const PENDING: &'static str = "SELECT seq, event_id, kind, aggregate_id, occurred_at, payload FROM outbox \
                                   WHERE shard = ? ORDER BY seq LIMIT ?";
    const RELAY_IN_TRANSACTION: bool = true;
}

impl ChapterSql for Sqlite {
    const INSERT_USER: &'static str = Postgres::INSERT_USER;
    const INSERT_EVENT: &'static str = Postgres::INSERT_EVENT;
    /// SQLite has no row locks: one relay at a time.
    const LOCK_SHARD: &'static str = "SELECT shard FROM outbox_shards WHERE shard = $1";
    const PENDING: &'static str = Postgres::PENDING;
    const RELAY_IN_TRANSACTION: bool = false;
}

// ANCHOR: candidates
/// Shards with events waiting, the one with the oldest event first. Asked per shard (16 of them),
/// each oldest event is one lookup in the `(shard, seq)` index, so the cost does not grow with
/// the backlog; `GROUP BY shard` over the outbox read every waiting row on every batch, and
/// draining a backlog after a long outage took time quadratic in its size.
const CANDIDATES: &str = "SELECT shard FROM \
     (SELECT s.shard, (SELECT MIN(o.seq) FROM outbox o WHERE o.shard = s.shard) AS oldest FROM outbox_shards s) \
     AS waiting WHERE oldest IS NOT NULL ORDER BY oldest";
// ANCHOR_END: candidates
const LAG: &str = "SELECT COUNT(*), MIN(occurred_at) FROM outbox";

/// The statements, run. Each takes the connection that chapter 03's manager gave its caller, so
/// it runs in whatever transaction the caller is in.
pub trait EventDb: ChapterSql {
    fn insert_user(conn: &mut Self::Connection, id: &str, email: &str)
    -> impl Future<Output = sqlx::Result<()>> + Send;
    fn insert_event(conn: &mut Self::Connection, event: &Event) -> impl Future<Output = sqlx::Result<()>> + Send;
    fn candidate_shards(conn: &mut Self::Connection) -> impl Future<Output = sqlx::Result<Vec<i32>>> + Send;
    /// Whether this relay now holds `shard`.
    fn lock_shard(conn: &mut Self::Connection, shard: i32) -> impl Future<Output = sqlx::Result<bool>> + Send;
    fn pending(
        conn: &mut Self::Connection,
        shard: i32,
        max: usize,
    ) -> impl Future<Output = sqlx::Result<Vec<OutboxRow>>> + Send;
    /// Deletes exactly the rows `seqs`.
    fn delete(conn: &mut Self::Connection, seqs: &[i64]) -> impl Future<Output = sqlx::Result<()>> + Send;
    /// How many events wait, and when the oldest happened.
    fn lag(conn: &mut Self::Connection) -> impl Future<Output = sqlx::Result<(i64, Option<DateTime<Utc>>)>> + Send;
}

impl<DB> EventDb for DB
where
    DB: ChapterSql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> i32: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> DateTime<Utc>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    async fn insert_user(conn: &mut DB::Connection, id: &str, email: &str) -> sqlx::Result<()> {
        sqlx::query(DB::INSERT_USER).bind(id).bind(email).execute(conn).await?;
        Ok(())
    }

    async fn insert_event(conn: &mut DB::Connection, event: &Event) -> sqlx::Result<()> {
        sqlx::query(DB::INSERT_EVENT)
            .bind(event.id.to_string())
            .bind(shard_of(&event.aggregate_id))
            .bind(event.kind.as_str())
            .bind(event.aggregate_id.as_str())
            .bind(event.occurred_at)
            .bind(event.payload.to_string())
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn candidate_shards(conn: &mut DB::Connection) -> sqlx::Result<Vec<i32>> {
        sqlx::query_scalar(CANDIDATES).fetch_all(conn).await
    }

    async fn lock_shard(conn: &mut DB::Connection, shard: i32) -> sqlx::Result<bool> {
        let locked: Option<i32> = sqlx::query_scalar(DB::LOCK_SHARD)
            .bind(shard)
            .fetch_optional(conn)
            .await?;
        Ok(locked.is_some())
    }

    async fn pending(conn: &mut DB::Connection, shard: i32, max: usize) -> sqlx::Result<Vec<OutboxRow>> {
        sqlx::query_as(DB::PENDING)
            .bind(shard)
            .bind(max as i64)
            .fetch_all(conn)
            .await
    }

    async fn delete(conn: &mut DB::Connection, seqs: &[i64]) -> sqlx::Result<()> {
        // Only the rows published: never `seq <= last`, which on InnoDB would also take a row
        // with a lower `seq` committed meanwhile, unpublished.
        let mut delete = QueryBuilder::<DB>::new("DELETE FROM outbox WHERE seq IN (");
        let mut list = delete.separated(", ");
        for seq in seqs {
            list.push_bind(*seq);
        }
        list.push_unseparated(")");
        delete.build().execute(conn).await?;
        Ok(())
    }

    async fn lag(conn: &mut DB::Connection) -> sqlx::Result<(i64, Option<DateTime<Utc>>)> {
        sqlx::query_as(LAG).fetch_one(conn).await
    }
}
