//! Exercise: save a profile only over what was read, so no one's edit is lost (statement:
//! `statements/no_lost_update.md`, or `workbook hint no_lost_update`).

use ch02_repository::error::RepositoryError;
use ch02_repository::model::User;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// Saves `user`'s profile and its new `updated_at`. `read_version` is the `updated_at` the user
/// had when it was read: if someone saved the user since, this is `Conflict` on `updated_at`, and
/// nothing is written.
pub async fn save_profile(pool: &PgPool, user: &User, read_version: DateTime<Utc>) -> Result<(), RepositoryError> {
    let storage = |doing| move |source| RepositoryError::Storage { doing, source };
    let mut tx = pool.begin().await.map_err(storage("starting a transaction"))?;
    // The gap: whoever saves last wins, and `read_version` is never looked at.
    let _ = read_version;
    sqlx::query("UPDATE users SET updated_at = $1 WHERE id = $2")
        .bind(user.updated_at)
        .bind(user.id.0)
        .execute(&mut *tx)
        .await
        .map_err(storage("saving a user"))?;
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
