//! The users table on PostgreSQL.
//!
//! The database, not the service, has the last word on "one account per email": checking first and
//! inserting second leaves a gap in which two registrations both see the email free. The UNIQUE
//! constraint closes it, and this adapter turns its violation into `EmailTaken`.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::{RepositoryError, UserRepository};
use crate::user::{User, UserId};

/// The name the migration gives the constraint; the adapter recognises the violation by it.
const EMAIL_UNIQUE: &str = "users_email_unique";

#[derive(Debug, Clone)]
pub struct PgUsers {
    pool: PgPool,
}

impl PgUsers {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

type Row = (Uuid, String, String, String, NaiveDate, Option<String>, DateTime<Utc>);

fn user((id, email, first_name, last_name, date_of_birth, phone, created_at): Row) -> User {
    User {
        id: UserId(id),
        email,
        first_name,
        last_name,
        date_of_birth,
        phone,
        created_at,
    }
}

/// The columns a `Row` reads, by id and by email.
const SELECT_BY_ID: &str =
    "SELECT id, email, first_name, last_name, date_of_birth, phone, created_at FROM users WHERE id = $1";
const SELECT_BY_EMAIL: &str =
    "SELECT id, email, first_name, last_name, date_of_birth, phone, created_at FROM users WHERE email = $1";

impl UserRepository for PgUsers {
    #[tracing::instrument(name = "repository.insert", skip_all, fields(user_id = %user.id))]
    async fn insert(&self, user: &User) -> Result<(), RepositoryError> {
        sqlx::query(
            "INSERT INTO users (id, email, first_name, last_name, date_of_birth, phone, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(user.id.0)
        .bind(&user.email)
        .bind(&user.first_name)
        .bind(&user.last_name)
        .bind(user.date_of_birth)
        .bind(&user.phone)
        .bind(user.created_at)
        .execute(&self.pool)
        .await
        .map_err(|error| match &error {
            sqlx::Error::Database(db) if db.constraint() == Some(EMAIL_UNIQUE) => {
                RepositoryError::EmailTaken(user.email.clone())
            }
            _ => RepositoryError::Unavailable(error),
        })?;
        Ok(())
    }

    #[tracing::instrument(name = "repository.by_id", skip_all, fields(user_id = %id))]
    async fn by_id(&self, id: UserId) -> Result<Option<User>, RepositoryError> {
        let row: Option<Row> = sqlx::query_as(SELECT_BY_ID)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(user))
    }

    #[tracing::instrument(name = "repository.by_email", skip_all)]
    async fn by_email(&self, email: &str) -> Result<Option<User>, RepositoryError> {
        let row: Option<Row> = sqlx::query_as(SELECT_BY_EMAIL)
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(user))
    }
}
