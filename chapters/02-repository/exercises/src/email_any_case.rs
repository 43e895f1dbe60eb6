//! Exercise: find a user by email, whatever the case (statement: `statements/email_any_case.md`,
//! or `workbook hint email_any_case`).

use sqlx::PgPool;
use uuid::Uuid;

/// The id of the user with this email address, if there is one.
pub async fn find_user_id_by_email(pool: &PgPool, email: &str) -> sqlx::Result<Option<Uuid>> {
    // The gap: compared as typed, `Ada@` is not `ada@`.
    sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_optional(pool)
        .await
}
