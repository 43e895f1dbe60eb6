//! The repository on a SQL database, written once for PostgreSQL, MySQL/MariaDB and SQLite.
//!
//! What the repository does with a user does not depend on the database: map it to its rows
//! (checked before any SQL runs), write both tables in one transaction, read them back joined, and
//! turn database errors into [`RepositoryError`]s. The statements it runs are each database's own,
//! in [`crate::sql`].

use sqlx::{Database, MySql, Pool, Postgres, Sqlite};

use crate::error::{RepositoryError, StorageContext};
use crate::mapper;
use crate::model::{User, UserId};
use crate::repository::UserRepository;
use crate::sql::UserSql;

/// Users in a SQL database, on a pool of its connections.
pub struct SqlUserRepository<DB: Database> {
    pool: Pool<DB>,
}

pub type PostgresUserRepository = SqlUserRepository<Postgres>;
pub type MySqlUserRepository = SqlUserRepository<MySql>;
pub type SqliteUserRepository = SqlUserRepository<Sqlite>;

impl<DB: Database> SqlUserRepository<DB> {
    pub fn new(pool: Pool<DB>) -> Self {
        Self { pool }
    }

    pub fn pool(&self) -> &Pool<DB> {
        &self.pool
    }
}

impl<DB: UserSql> UserRepository for SqlUserRepository<DB> {
    #[tracing::instrument(name = "users.get", skip(self), fields(db = DB::NAME), err(Display))]
    async fn get(&self, id: UserId) -> Result<User, RepositoryError> {
        let mut conn = self.pool.acquire().await.doing("connecting")?;
        let row = DB::joined_by_id(&mut conn, id.0).await.doing("reading a user")?;
        row.map(|row| mapper::from_rows(row.user, row.profile))
            .ok_or(RepositoryError::NotFound(id))
    }

    #[tracing::instrument(name = "users.find_by_email", skip_all, fields(db = DB::NAME), err(Display))]
    async fn find_by_email(&self, email: &str) -> Result<Option<User>, RepositoryError> {
        let mut conn = self.pool.acquire().await.doing("connecting")?;
        let row = DB::joined_by_email(&mut conn, &mapper::normalize_email(email))
            .await
            .doing("finding a user by email")?;
        Ok(row.map(|row| mapper::from_rows(row.user, row.profile)))
    }

    // ANCHOR: save
    #[tracing::instrument(name = "users.save", skip_all, fields(db = DB::NAME, user.id = %user.id), err(Display))]
    async fn save(&self, user: &User) -> Result<(), RepositoryError> {
        // Checked before any SQL runs: an invalid user writes nothing at all.
        let (user_row, profile_row) = mapper::to_rows(user)?;
        let mut conn = self.pool.acquire().await.doing("connecting")?;
        // Two tables, one transaction: both rows are written, or neither is. Dropping `tx`
        // without `commit` (an early return through `?`) rolls back.
        let mut tx = DB::begin_save(&mut conn).await.doing("starting a transaction")?;
        DB::upsert_user(&mut tx, &user_row).await.doing("saving a user")?;
        DB::upsert_profile(&mut tx, &profile_row)
            .await
            .doing("saving a profile")?;
        tx.commit().await.doing("committing a user")
    }
    // ANCHOR_END: save

    #[tracing::instrument(name = "users.delete", skip(self), fields(db = DB::NAME), err(Display))]
    async fn delete(&self, id: UserId) -> Result<(), RepositoryError> {
        let mut tx = self.pool.begin().await.doing("starting a transaction")?;
        if !DB::delete_user(&mut tx, id.0).await.doing("deleting a user")? {
            return Err(RepositoryError::NotFound(id));
        }
        tx.commit().await.doing("committing a delete")
    }

    #[tracing::instrument(name = "users.list", skip(self), fields(db = DB::NAME), err(Display))]
    async fn list(&self, after: Option<UserId>, limit: u32) -> Result<Vec<User>, RepositoryError> {
        let mut conn = self.pool.acquire().await.doing("connecting")?;
        let rows = DB::joined_page(&mut conn, after.map(|id| id.0), limit)
            .await
            .doing("listing users")?;
        Ok(rows
            .into_iter()
            .map(|row| mapper::from_rows(row.user, row.profile))
            .collect())
    }
}

/// The benchmark's alternatives to `get` and `save`, kept correct by the same checks.
impl<DB: UserSql> SqlUserRepository<DB> {
    /// `get` in two round trips (a query per table) instead of one join.
    pub async fn get_with_two_queries(&self, id: UserId) -> Result<User, RepositoryError> {
        let mut conn = self.pool.acquire().await.doing("connecting")?;
        let Some(user) = DB::user_row(&mut conn, id.0).await.doing("reading a user")? else {
            return Err(RepositoryError::NotFound(id));
        };
        let profile = DB::profile_row(&mut conn, id.0).await.doing("reading a profile")?;
        Ok(mapper::from_rows(user, profile))
    }

    /// `save` by reading the `users` row first and then inserting or updating each row, instead
    /// of one upsert per table. An unchanged `users` row is not written again.
    pub async fn save_select_then_write(&self, user: &User) -> Result<(), RepositoryError> {
        let (user_row, profile_row) = mapper::to_rows(user)?;
        let mut conn = self.pool.acquire().await.doing("connecting")?;
        let mut tx = DB::begin_save(&mut conn).await.doing("starting a transaction")?;
        let stored = DB::user_row(&mut tx, user_row.id).await.doing("reading a user")?;
        let new = stored.is_none();
        if stored.as_ref() != Some(&user_row) {
            DB::write_user(&mut tx, &user_row, new).await.doing("writing a user")?;
        }
        DB::write_profile(&mut tx, &profile_row, new)
            .await
            .doing("writing a profile")?;
        tx.commit().await.doing("committing a user")
    }
}
