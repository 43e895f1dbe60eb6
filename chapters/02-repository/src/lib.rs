//! Chapter 02: a repository and a data mapper.
//!
//! **The problem.** The domain thinks of a user as one thing: an email, a password hash and a
//! profile. The database stores two tables, `users` and `profiles`, plus a column the domain never
//! mentions. Code that mixes the two shapes, SQL in the middle of business logic, has to change
//! whenever either side changes, and cannot be tested without a database.
//!
//! **The pattern.** A *repository* offers a collection of one aggregate (`get`, `find_by_email`,
//! `save`, `delete`, `list`) in domain terms, and hides where and how it is stored. A *data mapper*
//! converts between the aggregate and its rows, in both directions, and is the only code that
//! knows both shapes. The repository holds no business rules: those live in services such as
//! [`ProfileService`], which are tested against a mock of the repository.
//!
//! **The trade-off.** One more layer, and each query written per database. In return, storage can
//! change without touching the domain, and the domain can be tested without storage. `save` writes
//! two tables in a local transaction *inside* the adapter; chapter 03 lifts that transaction out,
//! so that a use case can save a user and something else atomically.

pub mod error;
pub mod mapper;
pub mod memory;
pub mod model;
pub mod profile_service;
pub mod repository;
pub mod sql;
pub mod sql_repository;
#[cfg(feature = "tour")]
pub mod tour;

pub use error::RepositoryError;
pub use memory::InMemoryUserRepository;
pub use model::{Profile, User, UserId};
pub use profile_service::ProfileService;
pub use repository::UserRepository;
pub use sql::UserSql;
pub use sql_repository::{MySqlUserRepository, PostgresUserRepository, SqlUserRepository, SqliteUserRepository};

/// The schema of each database, for the adapters' users and the tests.
pub mod migrations {
    use sqlx::migrate::Migrator;

    pub static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");
    pub static MYSQL: Migrator = sqlx::migrate!("migrations/mysql");
    pub static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
}
