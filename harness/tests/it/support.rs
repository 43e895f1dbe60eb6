//! What the harness's tests share beyond `harness::sample`.

pub use harness::sample::{Backend, ItemsDb as Db, POSTGRES};

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
            let count: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?")
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
    listener.local_addr().expect("a bound listener has an address").port()
}
