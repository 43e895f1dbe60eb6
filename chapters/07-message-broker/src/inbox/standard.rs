//! The consumers' statements in the SQL that PostgreSQL and SQLite share: `$n` placeholders,
//! `INSERT ... ON CONFLICT`, and `RETURNING`, which says whether a row went in (sqlx has no
//! database-independent row count). MySQL's are in [`super::mysql`].

use chrono::{DateTime, Utc};
use sqlx::{Decode, Encode, Executor, IntoArguments, Postgres, Sqlite, Type};

use super::InboxDb;

/// A database that speaks the SQL of the `impl` below: PostgreSQL and SQLite.
pub trait StandardSql: ch03_transaction_manager::Dialect {}
impl StandardSql for Postgres {}
impl StandardSql for Sqlite {}

impl<DB> InboxDb for DB
where
    DB: StandardSql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> String: Decode<'q, DB> + Type<DB>,
    for<'q> DateTime<Utc>: Encode<'q, DB> + Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    async fn record_processed(conn: &mut DB::Connection, consumer: &str, event_id: &str) -> sqlx::Result<bool> {
        let inserted: Option<String> = sqlx::query_scalar(
            "INSERT INTO processed_events (consumer, event_id, processed_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING RETURNING event_id",
        )
        .bind(consumer)
        .bind(event_id)
        .bind(Utc::now())
        .fetch_optional(conn)
        .await?;
        Ok(inserted.is_some())
    }

    async fn prune_processed(conn: &mut DB::Connection, cutoff: DateTime<Utc>) -> sqlx::Result<u64> {
        let pruned: Vec<String> =
            sqlx::query_scalar("DELETE FROM processed_events WHERE processed_at < $1 RETURNING event_id")
                .bind(cutoff)
                .fetch_all(conn)
                .await?;
        Ok(pruned.len() as u64)
    }

    async fn insert_welcome(conn: &mut DB::Connection, user: &str, email: &str) -> sqlx::Result<()> {
        sqlx::query("INSERT INTO welcomes (user_id, email) VALUES ($1, $2)")
            .bind(user)
            .bind(email)
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn count_event(conn: &mut DB::Connection, kind: &str) -> sqlx::Result<()> {
        sqlx::query(
            "INSERT INTO event_counts (kind, seen) VALUES ($1, 1) \
             ON CONFLICT (kind) DO UPDATE SET seen = event_counts.seen + 1",
        )
        .bind(kind)
        .execute(conn)
        .await?;
        Ok(())
    }
}
