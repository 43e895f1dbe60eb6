//! The repository on PostgreSQL, in the standard SQL of `standard_sql.rs`.

use sqlx::PgPool;

use crate::error::{RepositoryError, StorageContext};
use crate::mapper::{self, JoinedRow, ProfileRow, UserRow};
use crate::model::{User, UserId};
use crate::repository::UserRepository;
use crate::standard_sql::*;

pub struct PostgresUserRepository {
    pool: PgPool,
}

standard_sql_repository!(PostgresUserRepository, PgPool);
