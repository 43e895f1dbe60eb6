//! The repository's statements, per table, in each database's SQL: all that differs between
//! databases here.
//!
//! The repository ([`crate::SqlUserRepository`]) is written once: it maps a user to its rows,
//! writes both tables in one transaction and reads them back joined. It runs its SQL through this
//! trait, which has one `impl` per kind of SQL, each with its statements in view:
//! [`standard`] for PostgreSQL and SQLite, [`mysql`] for MySQL and MariaDB.
//!
//! Every statement takes the connection it runs on, so the repository decides which run inside
//! its transaction.

pub mod mysql;
pub mod standard;

use std::future::Future;

use sqlx::{Connection, Database, Transaction};
use uuid::Uuid;

use crate::mapper::{JoinedRow, ProfileRow, UserRow};

/// The statements of the `users` and `profiles` tables on one database.
pub trait UserSql: Database {
    /// Begins the transaction that saves a user. Most databases need nothing more than `BEGIN`;
    /// MySQL sets its isolation level first (see [`mysql`]).
    fn begin_save(conn: &mut Self::Connection) -> impl Future<Output = sqlx::Result<Transaction<'_, Self>>> + Send {
        conn.begin()
    }

    /// Both rows of the user with this id.
    fn joined_by_id(
        conn: &mut Self::Connection,
        id: Uuid,
    ) -> impl Future<Output = sqlx::Result<Option<JoinedRow>>> + Send;

    /// Both rows of the user with this normalised email.
    fn joined_by_email(
        conn: &mut Self::Connection,
        email_normalized: &str,
    ) -> impl Future<Output = sqlx::Result<Option<JoinedRow>>> + Send;

    /// Up to `limit` users' rows in id order, after `after` if given.
    fn joined_page(
        conn: &mut Self::Connection,
        after: Option<Uuid>,
        limit: u32,
    ) -> impl Future<Output = sqlx::Result<Vec<JoinedRow>>> + Send;

    /// Inserts the `users` row, or updates the row with its id. It never touches another user's
    /// row: a clash on the email is a unique violation.
    fn upsert_user(conn: &mut Self::Connection, row: &UserRow) -> impl Future<Output = sqlx::Result<()>> + Send;

    /// Inserts the `profiles` row, or updates the row of its user.
    fn upsert_profile(conn: &mut Self::Connection, row: &ProfileRow) -> impl Future<Output = sqlx::Result<()>> + Send;

    /// Deletes the user's profile, then the user; whether there was a user to delete.
    fn delete_user(conn: &mut Self::Connection, id: Uuid) -> impl Future<Output = sqlx::Result<bool>> + Send;

    // The benchmark's alternatives: a table at a time, and a write chosen after a read.

    /// The `users` row alone.
    fn user_row(conn: &mut Self::Connection, id: Uuid) -> impl Future<Output = sqlx::Result<Option<UserRow>>> + Send;

    /// The `profiles` row alone.
    fn profile_row(conn: &mut Self::Connection, id: Uuid) -> impl Future<Output = sqlx::Result<ProfileRow>> + Send;

    /// Writes the `users` row: a plain `INSERT` if `new`, else an `UPDATE` by id.
    fn write_user(
        conn: &mut Self::Connection,
        row: &UserRow,
        new: bool,
    ) -> impl Future<Output = sqlx::Result<()>> + Send;

    /// Writes the `profiles` row: a plain `INSERT` if `new`, else an `UPDATE` by user id.
    fn write_profile(
        conn: &mut Self::Connection,
        row: &ProfileRow,
        new: bool,
    ) -> impl Future<Output = sqlx::Result<()>> + Send;
}
