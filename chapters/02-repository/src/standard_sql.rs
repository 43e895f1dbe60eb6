//! The repository in standard SQL, for PostgreSQL and SQLite.
//!
//! Both accept the same statements for everything this repository does: `$1` placeholders,
//! `INSERT ... ON CONFLICT (...) DO UPDATE`, keyset pagination. sqlx gives each database its own
//! pool and row types, so the one implementation below is stamped out for each by a macro
//! (`postgres.rs`, `sqlite.rs`). MySQL's upsert behaves differently; see `mysql.rs`.

/// The joined `SELECT` of one user, up to its `WHERE` clause (MySQL's adapter uses it too, with
/// its own `?` placeholders in the clause).
macro_rules! select_joined {
    ($where:literal) => {
        concat!(
            "SELECT u.id, u.email, u.email_normalized, u.password_hash, u.created_at, u.updated_at, ",
            "p.user_id, p.first_name, p.last_name, p.avatar_url, p.bio ",
            "FROM users u JOIN profiles p ON p.user_id = u.id ",
            $where
        )
    };
}
pub(crate) use select_joined;

// ANCHOR: upsert
/// One statement per table: insert, or update the row with the same key. `created_at` is kept.
pub const UPSERT_USER: &str = "INSERT INTO users (id, email, email_normalized, password_hash, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (id) DO UPDATE SET email = excluded.email, email_normalized = excluded.email_normalized, \
     password_hash = excluded.password_hash, updated_at = excluded.updated_at";

pub const UPSERT_PROFILE: &str = "INSERT INTO profiles (user_id, first_name, last_name, avatar_url, bio) \
     VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (user_id) DO UPDATE SET first_name = excluded.first_name, last_name = excluded.last_name, \
     avatar_url = excluded.avatar_url, bio = excluded.bio";
// ANCHOR_END: upsert

pub const SELECT_BY_ID: &str = select_joined!("WHERE u.id = $1");
pub const SELECT_BY_EMAIL: &str = select_joined!("WHERE u.email_normalized = $1");
pub const SELECT_FIRST_PAGE: &str = select_joined!("ORDER BY u.id LIMIT $1");
pub const SELECT_PAGE_AFTER: &str = select_joined!("WHERE u.id > $1 ORDER BY u.id LIMIT $2");

// The alternatives the benchmark compares with the statements above.
pub const SELECT_USER_ROW: &str =
    "SELECT id, email, email_normalized, password_hash, created_at, updated_at FROM users WHERE id = $1";
pub const SELECT_PROFILE_ROW: &str =
    "SELECT user_id, first_name, last_name, avatar_url, bio FROM profiles WHERE user_id = $1";
pub const INSERT_USER: &str = "INSERT INTO users (id, email, email_normalized, password_hash, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";
pub const UPDATE_USER: &str = "UPDATE users SET email = $2, email_normalized = $3, password_hash = $4, \
     created_at = $5, updated_at = $6 WHERE id = $1";
pub const INSERT_PROFILE: &str =
    "INSERT INTO profiles (user_id, first_name, last_name, avatar_url, bio) VALUES ($1, $2, $3, $4, $5)";
pub const UPDATE_PROFILE: &str =
    "UPDATE profiles SET first_name = $2, last_name = $3, avatar_url = $4, bio = $5 WHERE user_id = $1";

/// Implements [`crate::UserRepository`] and the benchmark's alternatives for `$name`, a struct
/// holding `pool: $pool`, in the SQL above.
macro_rules! standard_sql_repository {
    ($name:ident, $pool:ty) => {
        impl $name {
            pub fn new(pool: $pool) -> Self {
                Self { pool }
            }

            pub fn pool(&self) -> &$pool {
                &self.pool
            }

            /// `get` in two round trips (a query per table) instead of one join: the benchmark's
            /// alternative, kept correct by the same contract tests.
            pub async fn get_with_two_queries(&self, id: UserId) -> Result<User, RepositoryError> {
                let user: Option<UserRow> =
                    sqlx::query_as(SELECT_USER_ROW).bind(id.0).fetch_optional(&self.pool).await.doing("reading a user")?;
                let Some(user) = user else { return Err(RepositoryError::NotFound(id)) };
                let profile: ProfileRow =
                    sqlx::query_as(SELECT_PROFILE_ROW).bind(id.0).fetch_one(&self.pool).await.doing("reading a profile")?;
                Ok(mapper::from_rows(user, profile))
            }

            /// `save` by reading first and then inserting or updating each row: the benchmark's
            /// alternative to the upsert.
            pub async fn save_select_then_write(&self, user: &User) -> Result<(), RepositoryError> {
                let (user_row, profile_row) = mapper::to_rows(user)?;
                let mut tx = self.pool.begin().await.doing("starting a transaction")?;
                let existing: Option<UserRow> =
                    sqlx::query_as(SELECT_USER_ROW).bind(user_row.id).fetch_optional(&mut *tx).await.doing("reading a user")?;
                let (user_sql, profile_sql) = match existing {
                    Some(stored) if stored == user_row => (None, Some(UPDATE_PROFILE)),
                    Some(_) => (Some(UPDATE_USER), Some(UPDATE_PROFILE)),
                    None => (Some(INSERT_USER), Some(INSERT_PROFILE)),
                };
                if let Some(sql) = user_sql {
                    bind_user!(sqlx::query(sql), user_row).execute(&mut *tx).await.doing("writing a user")?;
                }
                if let Some(sql) = profile_sql {
                    bind_profile!(sqlx::query(sql), profile_row).execute(&mut *tx).await.doing("writing a profile")?;
                }
                tx.commit().await.doing("committing a user")
            }
        }

        impl UserRepository for $name {
            #[tracing::instrument(name = "users.get", skip(self), fields(adapter = stringify!($name)), err(Display))]
            async fn get(&self, id: UserId) -> Result<User, RepositoryError> {
                let row: Option<JoinedRow> =
                    sqlx::query_as(SELECT_BY_ID).bind(id.0).fetch_optional(&self.pool).await.doing("reading a user")?;
                row.map(|row| mapper::from_rows(row.user, row.profile)).ok_or(RepositoryError::NotFound(id))
            }

            #[tracing::instrument(name = "users.find_by_email", skip_all, fields(adapter = stringify!($name)), err(Display))]
            async fn find_by_email(&self, email: &str) -> Result<Option<User>, RepositoryError> {
                let row: Option<JoinedRow> = sqlx::query_as(SELECT_BY_EMAIL)
                    .bind(mapper::normalize_email(email))
                    .fetch_optional(&self.pool)
                    .await
                    .doing("finding a user by email")?;
                Ok(row.map(|row| mapper::from_rows(row.user, row.profile)))
            }

            // ANCHOR: save
            #[tracing::instrument(name = "users.save", skip_all, fields(adapter = stringify!($name), user.id = %user.id), err(Display))]
            async fn save(&self, user: &User) -> Result<(), RepositoryError> {
                // Checked before any SQL runs: an invalid user writes nothing at all.
                let (user_row, profile_row) = mapper::to_rows(user)?;
                // Two tables, one transaction: both rows are written, or neither is. Dropping `tx`
                // without `commit` (an early return through `?`) rolls back.
                let mut tx = self.pool.begin().await.doing("starting a transaction")?;
                bind_user!(sqlx::query(UPSERT_USER), user_row).execute(&mut *tx).await.doing("saving a user")?;
                bind_profile!(sqlx::query(UPSERT_PROFILE), profile_row).execute(&mut *tx).await.doing("saving a profile")?;
                tx.commit().await.doing("committing a user")
            }
            // ANCHOR_END: save

            #[tracing::instrument(name = "users.delete", skip(self), fields(adapter = stringify!($name)), err(Display))]
            async fn delete(&self, id: UserId) -> Result<(), RepositoryError> {
                let mut tx = self.pool.begin().await.doing("starting a transaction")?;
                sqlx::query("DELETE FROM profiles WHERE user_id = $1").bind(id.0).execute(&mut *tx).await.doing("deleting a profile")?;
                let deleted =
                    sqlx::query("DELETE FROM users WHERE id = $1").bind(id.0).execute(&mut *tx).await.doing("deleting a user")?;
                if deleted.rows_affected() == 0 {
                    return Err(RepositoryError::NotFound(id));
                }
                tx.commit().await.doing("committing a delete")
            }

            #[tracing::instrument(name = "users.list", skip(self), fields(adapter = stringify!($name)), err(Display))]
            async fn list(&self, after: Option<UserId>, limit: u32) -> Result<Vec<User>, RepositoryError> {
                let limit = i64::from(limit);
                let rows: Vec<JoinedRow> = match after {
                    None => sqlx::query_as(SELECT_FIRST_PAGE).bind(limit).fetch_all(&self.pool).await,
                    Some(after) => sqlx::query_as(SELECT_PAGE_AFTER).bind(after.0).bind(limit).fetch_all(&self.pool).await,
                }
                .doing("listing users")?;
                Ok(rows.into_iter().map(|row| mapper::from_rows(row.user, row.profile)).collect())
            }
        }
    };
}
pub(crate) use standard_sql_repository;

/// Binds a [`crate::mapper::UserRow`] to `$1`..`$6` in column order.
macro_rules! bind_user {
    ($query:expr, $row:expr) => {
        $query
            .bind($row.id)
            .bind(&$row.email)
            .bind(&$row.email_normalized)
            .bind(&$row.password_hash)
            .bind($row.created_at)
            .bind($row.updated_at)
    };
}
pub(crate) use bind_user;

/// Binds a [`crate::mapper::ProfileRow`] to `$1`..`$5` in column order.
macro_rules! bind_profile {
    ($query:expr, $row:expr) => {
        $query
            .bind($row.user_id)
            .bind(&$row.first_name)
            .bind(&$row.last_name)
            .bind(&$row.avatar_url)
            .bind(&$row.bio)
    };
}
pub(crate) use bind_profile;
