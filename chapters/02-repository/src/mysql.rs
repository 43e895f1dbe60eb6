//! The repository on MySQL/MariaDB.
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

use sqlx::{Connection, MySqlPool};

use crate::error::{RepositoryError, StorageContext};
use crate::mapper::{self, JoinedRow};
use crate::model::{User, UserId};
use crate::repository::UserRepository;
use crate::standard_sql::select_joined;

pub struct MySqlUserRepository {
    pool: MySqlPool,
}

impl MySqlUserRepository {
    pub fn new(pool: MySqlPool) -> Self {
        Self { pool }
    }
}

impl UserRepository for MySqlUserRepository {
    #[tracing::instrument(
        name = "users.get",
        skip(self),
        fields(adapter = "MySqlUserRepository"),
        err(Display)
    )]
    async fn get(&self, id: UserId) -> Result<User, RepositoryError> {
        let row: Option<JoinedRow> = sqlx::query_as(select_joined!("WHERE u.id = ?"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .doing("reading a user")?;
        row.map(|row| mapper::from_rows(row.user, row.profile))
            .ok_or(RepositoryError::NotFound(id))
    }

    #[tracing::instrument(
        name = "users.find_by_email",
        skip_all,
        fields(adapter = "MySqlUserRepository"),
        err(Display)
    )]
    async fn find_by_email(&self, email: &str) -> Result<Option<User>, RepositoryError> {
        let row: Option<JoinedRow> = sqlx::query_as(select_joined!("WHERE u.email_normalized = ?"))
            .bind(mapper::normalize_email(email))
            .fetch_optional(&self.pool)
            .await
            .doing("finding a user by email")?;
        Ok(row.map(|row| mapper::from_rows(row.user, row.profile)))
    }

    // ANCHOR: mysql_save
    #[tracing::instrument(name = "users.save", skip_all, fields(adapter = "MySqlUserRepository", user.id = %user.id), err(Display))]
    async fn save(&self, user: &User) -> Result<(), RepositoryError> {
        let (u, p) = mapper::to_rows(user)?;
        let mut conn = self.pool.acquire().await.doing("connecting")?;
        // Applies to the next transaction on this connection only.
        sqlx::query("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            .execute(&mut *conn)
            .await
            .doing("setting the isolation level")?;
        let mut tx = conn.begin().await.doing("starting a transaction")?;
        let updated = sqlx::query(
            "UPDATE users SET email = ?, email_normalized = ?, password_hash = ?, updated_at = ? WHERE id = ?",
        )
        .bind(&u.email)
        .bind(&u.email_normalized)
        .bind(&u.password_hash)
        .bind(u.updated_at)
        .bind(u.id)
        .execute(&mut *tx)
        .await
        .doing("saving a user")?;
        if updated.rows_affected() == 0 {
            sqlx::query(
                "INSERT INTO users (id, email, email_normalized, password_hash, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(u.id)
            .bind(&u.email)
            .bind(&u.email_normalized)
            .bind(&u.password_hash)
            .bind(u.created_at)
            .bind(u.updated_at)
            .execute(&mut *tx)
            .await
            .doing("saving a user")?;
        }
        sqlx::query(
            "INSERT INTO profiles (user_id, first_name, last_name, avatar_url, bio) VALUES (?, ?, ?, ?, ?) \
             ON DUPLICATE KEY UPDATE first_name = VALUES(first_name), last_name = VALUES(last_name), \
             avatar_url = VALUES(avatar_url), bio = VALUES(bio)",
        )
        .bind(p.user_id)
        .bind(&p.first_name)
        .bind(&p.last_name)
        .bind(&p.avatar_url)
        .bind(&p.bio)
        .execute(&mut *tx)
        .await
        .doing("saving a profile")?;
        tx.commit().await.doing("committing a user")
    }
    // ANCHOR_END: mysql_save

    #[tracing::instrument(
        name = "users.delete",
        skip(self),
        fields(adapter = "MySqlUserRepository"),
        err(Display)
    )]
    async fn delete(&self, id: UserId) -> Result<(), RepositoryError> {
        let mut tx = self.pool.begin().await.doing("starting a transaction")?;
        sqlx::query("DELETE FROM profiles WHERE user_id = ?")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .doing("deleting a profile")?;
        let deleted = sqlx::query("DELETE FROM users WHERE id = ?")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .doing("deleting a user")?;
        if deleted.rows_affected() == 0 {
            return Err(RepositoryError::NotFound(id));
        }
        tx.commit().await.doing("committing a delete")
    }

    #[tracing::instrument(
        name = "users.list",
        skip(self),
        fields(adapter = "MySqlUserRepository"),
        err(Display)
    )]
    async fn list(&self, after: Option<UserId>, limit: u32) -> Result<Vec<User>, RepositoryError> {
        let rows: Vec<JoinedRow> = match after {
            None => {
                sqlx::query_as(select_joined!("ORDER BY u.id LIMIT ?"))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await
            }
            Some(after) => {
                sqlx::query_as(select_joined!("WHERE u.id > ? ORDER BY u.id LIMIT ?"))
                    .bind(after.0)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await
            }
        }
        .doing("listing users")?;
        Ok(rows
            .into_iter()
            .map(|row| mapper::from_rows(row.user, row.profile))
            .collect())
    }
}
