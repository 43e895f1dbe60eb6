//! The statements in standard SQL, for PostgreSQL and SQLite.
//!
//! Both accept the same text for everything this repository does: `$n` placeholders,
//! `INSERT ... ON CONFLICT (...) DO UPDATE`, `DELETE ... RETURNING`, keyset pagination. MySQL's
//! upsert behaves differently; see [`super::mysql`].
//!
//! SQLite enforces foreign keys only when asked (`PRAGMA foreign_keys = ON`, which the harness and
//! the tour set); the repository does not rely on them: `delete_user` removes both rows itself.

use chrono::{DateTime, Utc};
use sqlx::{Decode, Encode, Executor, FromRow, IntoArguments, Postgres, Sqlite, Type};
use uuid::Uuid;

use super::UserSql;
use crate::mapper::{JoinedRow, ProfileRow, UserRow};

/// A database that speaks the SQL of the `impl` below: PostgreSQL and SQLite.
pub trait StandardSql: sqlx::Database {}
impl StandardSql for Postgres {}
impl StandardSql for Sqlite {}

const SELECT_BY_ID: &str = "SELECT u.id, u.email, u.email_normalized, u.password_hash, u.created_at, u.updated_at, \
     p.user_id, p.first_name, p.last_name, p.avatar_url, p.bio \
     FROM users u JOIN profiles p ON p.user_id = u.id WHERE u.id = $1";

const SELECT_BY_EMAIL: &str = "SELECT u.id, u.email, u.email_normalized, u.password_hash, u.created_at, u.updated_at, \
     p.user_id, p.first_name, p.last_name, p.avatar_url, p.bio \
     FROM users u JOIN profiles p ON p.user_id = u.id WHERE u.email_normalized = $1";

const SELECT_FIRST_PAGE: &str = "SELECT u.id, u.email, u.email_normalized, u.password_hash, u.created_at, u.updated_at, \
     p.user_id, p.first_name, p.last_name, p.avatar_url, p.bio \
     FROM users u JOIN profiles p ON p.user_id = u.id ORDER BY u.id LIMIT $1";

/// Keyset pagination: `u.id > $1` walks the primary key's index from the last id seen on.
const SELECT_PAGE_AFTER: &str = "SELECT u.id, u.email, u.email_normalized, u.password_hash, u.created_at, u.updated_at, \
     p.user_id, p.first_name, p.last_name, p.avatar_url, p.bio \
     FROM users u JOIN profiles p ON p.user_id = u.id WHERE u.id > $1 ORDER BY u.id LIMIT $2";

// ANCHOR: upsert
/// One statement per table: insert, or update the row with the same key. `created_at` is kept.
const UPSERT_USER: &str = "INSERT INTO users (id, email, email_normalized, password_hash, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (id) DO UPDATE SET email = excluded.email, email_normalized = excluded.email_normalized, \
     password_hash = excluded.password_hash, updated_at = excluded.updated_at";

const UPSERT_PROFILE: &str = "INSERT INTO profiles (user_id, first_name, last_name, avatar_url, bio) \
     VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (user_id) DO UPDATE SET first_name = excluded.first_name, last_name = excluded.last_name, \
     avatar_url = excluded.avatar_url, bio = excluded.bio";
// ANCHOR_END: upsert

const INSERT_USER: &str = "INSERT INTO users (id, email, email_normalized, password_hash, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";
const UPDATE_USER: &str = "UPDATE users SET email = $2, email_normalized = $3, password_hash = $4, \
     created_at = $5, updated_at = $6 WHERE id = $1";
const INSERT_PROFILE: &str =
    "INSERT INTO profiles (user_id, first_name, last_name, avatar_url, bio) VALUES ($1, $2, $3, $4, $5)";
const UPDATE_PROFILE: &str =
    "UPDATE profiles SET first_name = $2, last_name = $3, avatar_url = $4, bio = $5 WHERE user_id = $1";

/// PostgreSQL and SQLite. The `where` clause is what sqlx must know of a database to run these
/// statements on it: that its connections execute queries, and how it encodes and decodes the
/// column types used. It is written here once, and nowhere else needs it.
impl<DB> UserSql for DB
where
    DB: StandardSql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'r> JoinedRow: FromRow<'r, DB::Row>,
    for<'r> UserRow: FromRow<'r, DB::Row>,
    for<'r> ProfileRow: FromRow<'r, DB::Row>,
    for<'q> Uuid: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> DateTime<Utc>: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    async fn joined_by_id(conn: &mut DB::Connection, id: Uuid) -> sqlx::Result<Option<JoinedRow>> {
        sqlx::query_as(SELECT_BY_ID).bind(id).fetch_optional(conn).await
    }

    async fn joined_by_email(conn: &mut DB::Connection, email_normalized: &str) -> sqlx::Result<Option<JoinedRow>> {
        sqlx::query_as(SELECT_BY_EMAIL)
            .bind(email_normalized)
            .fetch_optional(conn)
            .await
    }

    async fn joined_page(conn: &mut DB::Connection, after: Option<Uuid>, limit: u32) -> sqlx::Result<Vec<JoinedRow>> {
        let limit = i64::from(limit);
        match after {
            None => sqlx::query_as(SELECT_FIRST_PAGE).bind(limit).fetch_all(conn).await,
            Some(after) => {
                sqlx::query_as(SELECT_PAGE_AFTER)
                    .bind(after)
                    .bind(limit)
                    .fetch_all(conn)
                    .await
            }
        }
    }

    async fn upsert_user(conn: &mut DB::Connection, row: &UserRow) -> sqlx::Result<()> {
        write_user_row(conn, UPSERT_USER, row).await
    }

    async fn upsert_profile(conn: &mut DB::Connection, row: &ProfileRow) -> sqlx::Result<()> {
        write_profile_row(conn, UPSERT_PROFILE, row).await
    }

    async fn delete_user(conn: &mut DB::Connection, id: Uuid) -> sqlx::Result<bool> {
        sqlx::query("DELETE FROM profiles WHERE user_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        // sqlx has no database-independent count of changed rows, so the row says it went.
        let deleted: Option<Uuid> = sqlx::query_scalar("DELETE FROM users WHERE id = $1 RETURNING id")
            .bind(id)
            .fetch_optional(conn)
            .await?;
        Ok(deleted.is_some())
    }

    async fn user_row(conn: &mut DB::Connection, id: Uuid) -> sqlx::Result<Option<UserRow>> {
        sqlx::query_as(
            "SELECT id, email, email_normalized, password_hash, created_at, updated_at FROM users WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(conn)
        .await
    }

    async fn profile_row(conn: &mut DB::Connection, id: Uuid) -> sqlx::Result<ProfileRow> {
        sqlx::query_as("SELECT user_id, first_name, last_name, avatar_url, bio FROM profiles WHERE user_id = $1")
            .bind(id)
            .fetch_one(conn)
            .await
    }

    async fn write_user(conn: &mut DB::Connection, row: &UserRow, new: bool) -> sqlx::Result<()> {
        write_user_row(conn, if new { INSERT_USER } else { UPDATE_USER }, row).await
    }

    async fn write_profile(conn: &mut DB::Connection, row: &ProfileRow, new: bool) -> sqlx::Result<()> {
        write_profile_row(conn, if new { INSERT_PROFILE } else { UPDATE_PROFILE }, row).await
    }
}

/// Runs `sql` with the row's columns bound to `$1`..`$6`, in the table's column order.
async fn write_user_row<DB>(conn: &mut DB::Connection, sql: &'static str, row: &UserRow) -> sqlx::Result<()>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'q> Uuid: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> DateTime<Utc>: Encode<'q, DB> + Type<DB>,
{
    sqlx::query(sql)
        .bind(row.id)
        .bind(row.email.as_str())
        .bind(row.email_normalized.as_str())
        .bind(row.password_hash.as_str())
        .bind(row.created_at)
        .bind(row.updated_at)
        .execute(conn)
        .await?;
    Ok(())
}

/// Runs `sql` with the row's columns bound to `$1`..`$5`, in the table's column order.
async fn write_profile_row<DB>(conn: &mut DB::Connection, sql: &'static str, row: &ProfileRow) -> sqlx::Result<()>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'q> Uuid: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
{
    sqlx::query(sql)
        .bind(row.user_id)
        .bind(row.first_name.as_str())
        .bind(row.last_name.as_str())
        .bind(row.avatar_url.as_deref())
        .bind(row.bio.as_deref())
        .execute(conn)
        .await?;
    Ok(())
}
