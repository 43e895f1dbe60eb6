//! The consumers' statements in MySQL's SQL (MariaDB's too): `?` placeholders, no `RETURNING` on
//! `INSERT` and no `ON CONFLICT`.
//!
//! Recording an event is a plain `INSERT` whose duplicate-key error means "seen before". The
//! alternatives each hide something: `INSERT IGNORE` also turns data errors into warnings, so a
//! value the column cannot hold would be stored cut short instead of refused; and the affected-row
//! count of `ON DUPLICATE KEY UPDATE` is 1 for an unchanged row under the `CLIENT_FOUND_ROWS` flag
//! that clients such as sqlx set. A failed statement does not end a MySQL transaction, so the
//! transaction goes on after the duplicate.

use chrono::{DateTime, Utc};
use sqlx::MySql;
use sqlx::mysql::{MySqlConnection, MySqlDatabaseError};

use super::InboxDb;

/// MySQL's error number for a duplicate key.
const DUPLICATE_KEY: u16 = 1062;

impl InboxDb for MySql {
    // ANCHOR: record
    async fn record_processed(conn: &mut MySqlConnection, consumer: &str, event_id: &str) -> sqlx::Result<bool> {
        let inserted = sqlx::query("INSERT INTO processed_events (consumer, event_id, processed_at) VALUES (?, ?, ?)")
            .bind(consumer)
            .bind(event_id)
            .bind(Utc::now())
            .execute(conn)
            .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(sqlx::Error::Database(error))
                if error
                    .try_downcast_ref::<MySqlDatabaseError>()
                    .is_some_and(|mysql| mysql.number() == DUPLICATE_KEY) =>
            {
                Ok(false)
            }
            Err(error) => Err(error),
        }
    }
    // ANCHOR_END: record

    async fn prune_processed(conn: &mut MySqlConnection, cutoff: DateTime<Utc>) -> sqlx::Result<u64> {
        let pruned = sqlx::query("DELETE FROM processed_events WHERE processed_at < ?")
            .bind(cutoff)
            .execute(conn)
            .await?;
        Ok(pruned.rows_affected())
    }

    async fn insert_welcome(conn: &mut MySqlConnection, user: &str, email: &str) -> sqlx::Result<()> {
        sqlx::query("INSERT INTO welcomes (user_id, email) VALUES (?, ?)")
            .bind(user)
            .bind(email)
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn count_event(conn: &mut MySqlConnection, kind: &str) -> sqlx::Result<()> {
        sqlx::query("INSERT INTO event_counts (kind, seen) VALUES (?, 1) ON DUPLICATE KEY UPDATE seen = seen + 1")
            .bind(kind)
            .execute(conn)
            .await?;
        Ok(())
    }
}
