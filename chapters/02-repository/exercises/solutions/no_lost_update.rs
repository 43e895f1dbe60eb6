//! Exercise: save a profile only over what was read, so no one's edit is lost (statement:
//! `statements/no_lost_update.md`, or `workbook hint no_lost_update`).

use chrono::{DateTime, Utc};
use ch02_repository::error::RepositoryError;
use ch02_repository::model::User;
use sqlx::PgPool;

/// Saves `user`'s profile and its new `updated_at`. `read_version` is the `updated_at` the user
/// had when it was read: if someone saved the user since, this is `Conflict` on `updated_at`, and
/// nothing is written.
pub async fn save_profile(pool: &PgPool, user: &User, read_version: DateTime<Utc>) -> Result<(), RepositoryError> {
    let storage = |doing| move |source| RepositoryError::Storage { doing, source };
    let mut tx = pool.begin().await.map_err(storage("starting a transaction"))?;
    // The check and the write are one statement: of two savers of one version, the second waits
    // for the first's row lock, then finds the version changed and updates nothing.
    let moved_on = sqlx::query("UPDATE users SET updated_at = $1 WHERE id = $2 AND updated_at = $3")
        .bind(user.updated_at)
        .bind(user.id.0)
        .bind(read_version)
        .execute(&mut *tx)
        .await
        .map_err(storage("saving a user"))?;
    if moved_on.rows_affected() == 0 {
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)")
            .bind(user.id.0)
            .fetch_one(&mut *tx)
            .await
            .map_err(storage("looking for a user"))?;
        // Dropping `tx` rolls back: nothing was written either way.
        return Err(if exists {
            RepositoryError::Conflict { field: "updated_at" }
        } else {
            RepositoryError::NotFound(user.id)
        });
    }
    sqlx::query("UPDATE profiles SET first_name = $1, last_name = $2, avatar_url = $3, bio = $4 WHERE user_id = $5")
        .bind(&user.profile.first_name)
        .bind(&user.profile.last_name)
        .bind(&user.profile.avatar_url)
        .bind(&user.profile.bio)
        .bind(user.id.0)
        .execute(&mut *tx)
        .await
        .map_err(storage("saving a profile"))?;
    tx.commit().await.map_err(storage("committing a profile"))
}
