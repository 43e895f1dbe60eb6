//! Exercise: find a user by email, whatever the case (statement: `statements/email_any_case.md`,
//! or `workbook hint email_any_case`).

use ch02_repository::mapper::normalize_email;
use sqlx::PgPool;
use uuid::Uuid;

/// The id of the user with this email address, if there is one.
pub async fn find_user_id_by_email(pool: &PgPool, email: &str) -> sqlx::Result<Option<Uuid>> {
    // The mapper's rule, on the mapper's column: the one the unique index is on.
    sqlx::query_scalar("SELECT id FROM users WHERE email_normalized = $1")
        .bind(normalize_email(email))
        .fetch_optional(pool)
        .await
}
