//! What the harness's tests share: the test schema on each database, and a way to use it without
//! caring which database it is.

use harness::{MySqlDatabase, PgDatabase, SqliteDatabase};
use sqlx::migrate::Migrator;

pub static POSTGRES: Migrator = sqlx::migrate!("tests/it/migrations/postgres");
pub static MYSQL: Migrator = sqlx::migrate!("tests/it/migrations/mysql");
pub static SQLITE: Migrator = sqlx::migrate!("tests/it/migrations/sqlite");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    MySql,
    Sqlite,
}

/// A per-test database of any backend, with the `items` table.
pub enum Db {
    Postgres(PgDatabase),
    MySql(MySqlDatabase),
    Sqlite(SqliteDatabase),
}

impl Db {
    pub async fn new(backend: Backend) -> anyhow::Result<Self> {
        Ok(match backend {
            Backend::Postgres => Db::Postgres(PgDatabase::new(&POSTGRES).await?),
            Backend::MySql => Db::MySql(MySqlDatabase::new(&MYSQL).await?),
            Backend::Sqlite => Db::Sqlite(SqliteDatabase::new(&SQLITE).await?),
        })
    }

    /// The server-side database name (none for in-memory SQLite).
    pub fn name(&self) -> Option<String> {
        match self {
            Db::Postgres(db) => Some(db.name().to_owned()),
            Db::MySql(db) => Some(db.name().to_owned()),
            Db::Sqlite(_) => None,
        }
    }

    pub async fn insert(&self, name: &str, owner: &str) -> anyhow::Result<()> {
        match self {
            Db::Postgres(db) => {
                sqlx::query("INSERT INTO items (name, owner) VALUES ($1, $2)")
                    .bind(name)
                    .bind(owner)
                    .execute(db.pool())
                    .await?;
            }
            Db::MySql(db) => {
                sqlx::query("INSERT INTO items (name, owner) VALUES (?, ?)")
                    .bind(name)
                    .bind(owner)
                    .execute(db.pool())
                    .await?;
            }
            Db::Sqlite(db) => {
                sqlx::query("INSERT INTO items (name, owner) VALUES (?, ?)")
                    .bind(name)
                    .bind(owner)
                    .execute(db.pool())
                    .await?;
            }
        }
        Ok(())
    }

    /// The owners of every row called `name`, in insertion order.
    pub async fn owners_of(&self, name: &str) -> anyhow::Result<Vec<String>> {
        Ok(match self {
            Db::Postgres(db) => {
                sqlx::query_scalar("SELECT owner FROM items WHERE name = $1 ORDER BY id")
                    .bind(name)
                    .fetch_all(db.pool())
                    .await?
            }
            Db::MySql(db) => {
                sqlx::query_scalar("SELECT owner FROM items WHERE name = ? ORDER BY id")
                    .bind(name)
                    .fetch_all(db.pool())
                    .await?
            }
            Db::Sqlite(db) => {
                sqlx::query_scalar("SELECT owner FROM items WHERE name = ? ORDER BY id")
                    .bind(name)
                    .fetch_all(db.pool())
                    .await?
            }
        })
    }
}

/// Whether a database of that name exists on the provisioned server.
pub async fn database_exists(backend: Backend, name: &str) -> anyhow::Result<bool> {
    use sqlx::Connection;
    Ok(match backend {
        Backend::Postgres => {
            let endpoint = harness::endpoint(harness::ServiceKind::Postgres).await?;
            let mut conn = sqlx::PgConnection::connect(&endpoint.url).await?;
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(name)
                .fetch_one(&mut conn)
                .await?
        }
        Backend::MySql => {
            let endpoint = harness::endpoint(harness::ServiceKind::MySql).await?;
            let mut conn = sqlx::MySqlConnection::connect(&endpoint.url).await?;
            let count: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
            )
            .bind(name)
            .fetch_one(&mut conn)
            .await?;
            count == 1
        }
        Backend::Sqlite => anyhow::bail!("an in-memory SQLite database has no name on a server"),
    })
}

/// A loopback port on which nothing listens.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding a free port");
    listener
        .local_addr()
        .expect("a bound listener has an address")
        .port()
}
