//! The statements on MySQL/MariaDB.
//!
//! MySQL's upsert, `INSERT ... ON DUPLICATE KEY UPDATE`, fires on a clash with *any* unique key,
//! not just the primary key. Saving a new user whose email another user already has would not
//! fail: it would update that other user's row, overwriting their email and password hash. So the
//! `users` row is written with an `UPDATE` by id, and an `INSERT` when no row matched; a clash on
//! the email then fails with a duplicate-key error, which becomes `Conflict`. (`profiles` has only
//! its primary key, so its upsert is safe.)
//!
//! sqlx asks MySQL to report rows *matched* rather than rows *changed* (the `FOUND_ROWS` flag), so
//! an `UPDATE` that matches a row but changes nothing still counts it.
//!
//! The save runs at `READ COMMITTED`. At InnoDB's default, `REPEATABLE READ`, an `UPDATE` whose
//! `WHERE id = ?` matches nothing locks the *gap* where that id would go; the `INSERT` that follows
//! needs that gap too, and two concurrent saves of two new users each wait for the other's gap
//! lock: a deadlock, found by the contract test that saves fifty users at once. At `READ
//! COMMITTED`, InnoDB takes no gap locks for searches, and the unique indexes still reject a
//! duplicate email.
//!
//! MySQL's placeholders are `?`, bound in the order they appear.

use sqlx::{Connection, MySql, MySqlConnection, Transaction};
use uuid::Uuid;

use super::UserSql;
use crate::mapper::{JoinedRow, ProfileRow, UserRow};

const SELECT_BY_ID: &str = "SELECT u.id, u.email, u.email_normalized, u.password_hash, u.created_at, u.updated_at, \
     p.user_id, p.first_name, p.last_name, p.avatar_url, p.bio \
     FROM users u JOIN profiles p ON p.user_id = u.id WHERE u.id = ?";

const SELECT_BY_EMAIL: &str = "SELECT u.id, u.email, u.email_normalized, u.password_hash, u.created_at, u.updated_at, \
     p.user_id, p.first_name, p.last_name, p.avatar_url, p.bio \
     FROM users u JOIN profiles p ON p.user_id = u.id WHERE u.email_normalized = ?";

const SELECT_FIRST_PAGE: &str = "SELECT u.id, u.email, u.email_normalized, u.password_hash, u.created_at, u.updated_at, \
     p.user_id, p.first_name, p.last_name, p.avatar_url, p.bio \
     FROM users u JOIN profiles p ON p.user_id = u.id ORDER BY u.id LIMIT ?";

const SELECT_PAGE_AFTER: &str = "SELECT u.id, u.email, u.email_normalized, u.password_hash, u.created_at, u.updated_at, \
     p.user_id, p.first_name, p.last_name, p.avatar_url, p.bio \
     FROM users u JOIN profiles p ON p.user_id = u.id WHERE u.id > ? ORDER BY u.id LIMIT ?";

const INSERT_USER: &str = "INSERT INTO users (id, email, email_normalized, password_hash, created_at, updated_at) \
     VALUES (?, ?, ?, ?, ?, ?)";

const INSERT_PROFILE: &str =
    "INSERT INTO profiles (user_id, first_name, last_name, avatar_url, bio) VALUES (?, ?, ?, ?, ?)";

impl UserSql for MySql {
    // ANCHOR: mysql_save
    async fn begin_save(conn: &mut MySqlConnection) -> sqlx::Result<Transaction<'_, MySql>> {
        // Applies to the next transaction on this connection only.
        sqlx::query("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            .execute(&mut *conn)
            .await?;
        conn.begin().await
    }

    async fn upsert_user(conn: &mut MySqlConnection, row: &UserRow) -> sqlx::Result<()> {
        let updated = update_user(conn, row).await?;
        if !updated {
            insert_user(conn, row).await?;
        }
        Ok(())
    }

    async fn upsert_profile(conn: &mut MySqlConnection, row: &ProfileRow) -> sqlx::Result<()> {
        sqlx::query(
            "INSERT INTO profiles (user_id, first_name, last_name, avatar_url, bio) VALUES (?, ?, ?, ?, ?) \
             ON DUPLICATE KEY UPDATE first_name = VALUES(first_name), last_name = VALUES(last_name), \
             avatar_url = VALUES(avatar_url), bio = VALUES(bio)",
        )
        .bind(row.user_id)
        .bind(&row.first_name)
        .bind(&row.last_name)
        .bind(&row.avatar_url)
        .bind(&row.bio)
        .execute(conn)
        .await?;
        Ok(())
    }
    // ANCHOR_END: mysql_save

    async fn joined_by_id(conn: &mut MySqlConnection, id: Uuid) -> sqlx::Result<Option<JoinedRow>> {
        sqlx::query_as(SELECT_BY_ID).bind(id).fetch_optional(conn).await
    }

    async fn joined_by_email(conn: &mut MySqlConnection, email_normalized: &str) -> sqlx::Result<Option<JoinedRow>> {
        sqlx::query_as(SELECT_BY_EMAIL)
            .bind(email_normalized)
            .fetch_optional(conn)
            .await
    }

    async fn joined_page(conn: &mut MySqlConnection, after: Option<Uuid>, limit: u32) -> sqlx::Result<Vec<JoinedRow>> {
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

    async fn delete_user(conn: &mut MySqlConnection, id: Uuid) -> sqlx::Result<bool> {
        sqlx::query("DELETE FROM profiles WHERE user_id = ?")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        let deleted = sqlx::query("DELETE FROM users WHERE id = ?")
            .bind(id)
            .execute(conn)
            .await?;
        Ok(deleted.rows_affected() > 0)
    }

    async fn user_row(conn: &mut MySqlConnection, id: Uuid) -> sqlx::Result<Option<UserRow>> {
        sqlx::query_as(
            "SELECT id, email, email_normalized, password_hash, created_at, updated_at FROM users WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(conn)
        .await
    }

    async fn profile_row(conn: &mut MySqlConnection, id: Uuid) -> sqlx::Result<ProfileRow> {
        sqlx::query_as("SELECT user_id, first_name, last_name, avatar_url, bio FROM profiles WHERE user_id = ?")
            .bind(id)
            .fetch_one(conn)
            .await
    }

    async fn write_user(conn: &mut MySqlConnection, row: &UserRow, new: bool) -> sqlx::Result<()> {
        if new {
            insert_user(conn, row).await
        } else {
            update_user(conn, row).await.map(drop)
        }
    }

    async fn write_profile(conn: &mut MySqlConnection, row: &ProfileRow, new: bool) -> sqlx::Result<()> {
        let query = if new {
            sqlx::query(INSERT_PROFILE)
                .bind(row.user_id)
                .bind(&row.first_name)
                .bind(&row.last_name)
                .bind(&row.avatar_url)
                .bind(&row.bio)
        } else {
            sqlx::query("UPDATE profiles SET first_name = ?, last_name = ?, avatar_url = ?, bio = ? WHERE user_id = ?")
                .bind(&row.first_name)
                .bind(&row.last_name)
                .bind(&row.avatar_url)
                .bind(&row.bio)
                .bind(row.user_id)
        };
        query.execute(conn).await?;
        Ok(())
    }
}

/// Inserts the `users` row.
async fn insert_user(conn: &mut MySqlConnection, row: &UserRow) -> sqlx::Result<()> {
    sqlx::query(INSERT_USER)
        .bind(row.id)
        .bind(&row.email)
        .bind(&row.email_normalized)
        .bind(&row.password_hash)
        .bind(row.created_at)
        .bind(row.updated_at)
        .execute(conn)
        .await?;
    Ok(())
}

/// Updates the `users` row with the row's id, keeping its `created_at`; whether a row matched.
async fn update_user(conn: &mut MySqlConnection, row: &UserRow) -> sqlx::Result<bool> {
    let updated =
        sqlx::query("UPDATE users SET email = ?, email_normalized = ?, password_hash = ?, updated_at = ? WHERE id = ?")
            .bind(&row.email)
            .bind(&row.email_normalized)
            .bind(&row.password_hash)
            .bind(row.updated_at)
            .bind(row.id)
            .execute(conn)
            .await?;
    Ok(updated.rows_affected() > 0)
}
