//! The repository on SQLite, in the standard SQL of `standard_sql.rs`.
//!
//! SQLite enforces foreign keys only when asked (`PRAGMA foreign_keys = ON`, which the harness and
//! the tour set); the repository does not rely on them: `delete` removes both rows itself.

use sqlx::SqlitePool;

use crate::error::{RepositoryError, StorageContext};
use crate::mapper::{self, JoinedRow, ProfileRow, UserRow};
use crate::model::{User, UserId};
use crate::repository::UserRepository;
use crate::standard_sql::*;

pub struct SqliteUserRepository {
    pool: SqlitePool,
}

standard_sql_repository!(SqliteUserRepository, SqlitePool);
