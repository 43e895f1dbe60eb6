//! Each adapter on a fresh store of its own, behind one type so that a test body runs on all four.

use ch02_repository::{
    InMemoryUserRepository, MySqlUserRepository, PostgresUserRepository, RepositoryError, SqliteUserRepository, User,
    UserId, UserRepository, migrations,
};
use harness::{MySqlDatabase, PgDatabase, SqliteDatabase};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    MySql,
    Sqlite,
    Memory,
}

/// An adapter, and the per-test database it stores into (kept alive, dropped after the test).
pub enum Adapter {
    Postgres(PostgresUserRepository, PgDatabase),
    MySql(MySqlUserRepository, MySqlDatabase),
    Sqlite(SqliteUserRepository, SqliteDatabase),
    Memory(InMemoryUserRepository),
}

impl Adapter {
    pub async fn new(backend: Backend) -> anyhow::Result<Self> {
        Ok(match backend {
            Backend::Postgres => {
                let db = PgDatabase::new(&migrations::POSTGRES).await?;
                Adapter::Postgres(PostgresUserRepository::new(db.pool().clone()), db)
            }
            Backend::MySql => {
                let db = MySqlDatabase::new(&migrations::MYSQL).await?;
                Adapter::MySql(MySqlUserRepository::new(db.pool().clone()), db)
            }
            Backend::Sqlite => {
                let db = SqliteDatabase::new(&migrations::SQLITE).await?;
                Adapter::Sqlite(SqliteUserRepository::new(db.pool().clone()), db)
            }
            Backend::Memory => Adapter::Memory(InMemoryUserRepository::new()),
        })
    }

    /// How many rows each table holds, read past the repository: (users, profiles).
    pub async fn row_counts(&self) -> anyhow::Result<(i64, i64)> {
        const USERS: &str = "SELECT COUNT(*) FROM users";
        const PROFILES: &str = "SELECT COUNT(*) FROM profiles";
        Ok(match self {
            Adapter::Postgres(_, db) => (
                sqlx::query_scalar(USERS).fetch_one(db.pool()).await?,
                sqlx::query_scalar(PROFILES).fetch_one(db.pool()).await?,
            ),
            Adapter::MySql(_, db) => (
                sqlx::query_scalar(USERS).fetch_one(db.pool()).await?,
                sqlx::query_scalar(PROFILES).fetch_one(db.pool()).await?,
            ),
            Adapter::Sqlite(_, db) => (
                sqlx::query_scalar(USERS).fetch_one(db.pool()).await?,
                sqlx::query_scalar(PROFILES).fetch_one(db.pool()).await?,
            ),
            Adapter::Memory(repository) => {
                let (users, profiles) = repository.row_counts();
                (users as i64, profiles as i64)
            }
        })
    }
}

/// The adapter as the trait, so that test bodies cannot use anything else.
impl UserRepository for Adapter {
    async fn get(&self, id: UserId) -> Result<User, RepositoryError> {
        match self {
            Adapter::Postgres(r, _) => r.get(id).await,
            Adapter::MySql(r, _) => r.get(id).await,
            Adapter::Sqlite(r, _) => r.get(id).await,
            Adapter::Memory(r) => r.get(id).await,
        }
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<User>, RepositoryError> {
        match self {
            Adapter::Postgres(r, _) => r.find_by_email(email).await,
            Adapter::MySql(r, _) => r.find_by_email(email).await,
            Adapter::Sqlite(r, _) => r.find_by_email(email).await,
            Adapter::Memory(r) => r.find_by_email(email).await,
        }
    }

    async fn save(&self, user: &User) -> Result<(), RepositoryError> {
        match self {
            Adapter::Postgres(r, _) => r.save(user).await,
            Adapter::MySql(r, _) => r.save(user).await,
            Adapter::Sqlite(r, _) => r.save(user).await,
            Adapter::Memory(r) => r.save(user).await,
        }
    }

    async fn delete(&self, id: UserId) -> Result<(), RepositoryError> {
        match self {
            Adapter::Postgres(r, _) => r.delete(id).await,
            Adapter::MySql(r, _) => r.delete(id).await,
            Adapter::Sqlite(r, _) => r.delete(id).await,
            Adapter::Memory(r) => r.delete(id).await,
        }
    }

    async fn list(&self, after: Option<UserId>, limit: u32) -> Result<Vec<User>, RepositoryError> {
        match self {
            Adapter::Postgres(r, _) => r.list(after, limit).await,
            Adapter::MySql(r, _) => r.list(after, limit).await,
            Adapter::Sqlite(r, _) => r.list(after, limit).await,
            Adapter::Memory(r) => r.list(after, limit).await,
        }
    }
}
