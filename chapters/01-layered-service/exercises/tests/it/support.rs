//! What the checks share: a database with the chapter's schema, a service on it, a registration,
//! and a router served on a loopback port.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use ch01_layered_service::{Metrics, Notifications, PgUsers, Registration, UserService};
use harness::PgDatabase;
use harness::fault::FaultProxy;
use serde_json::{Value, json};
use sqlx::postgres::PgPoolOptions;
use tokio::net::TcpListener;

/// A database of the check's own, with the chapter's schema.
pub async fn database() -> anyhow::Result<PgDatabase> {
    Ok(PgDatabase::new(&ch01_layered_service::MIGRATIONS).await?)
}

/// The chapter's service on a PostgreSQL pool, with no notification provider.
pub fn service(pool: sqlx::PgPool) -> Arc<UserService<PgUsers>> {
    let quiet = Notifications::new(std::time::Duration::from_secs(1), Metrics::new());
    Arc::new(UserService::new(PgUsers::new(pool), quiet))
}

/// A pool on `db` through a fault proxy, which the check cuts to make the database go away: each
/// query then fails after a second.
pub async fn behind_a_proxy(db: &PgDatabase) -> anyhow::Result<(FaultProxy, sqlx::PgPool)> {
    let (proxy, through_proxy) = FaultProxy::route(db.url()).await?;
    let pool = PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_secs(1))
        .connect_lazy(&through_proxy)?;
    Ok((proxy, pool))
}

/// Fails unless an error's message says nothing a stranger could learn our database from.
pub fn assert_says_nothing_of_the_database(body: &Value) {
    let message = body["message"].as_str().unwrap_or_default().to_lowercase();
    for secret in ["pool", "store", "connect", "sqlx", "database", "postgres", "timed out"] {
        assert!(
            !message.contains(secret),
            "the answer tells a stranger about our database ({secret:?}): {message:?}"
        );
    }
}

/// Ada's registration as the service takes it (stored as `ada@example.com`), with a phone for the
/// SMS.
pub fn ada_registration() -> Registration {
    Registration {
        email: "ada@example.com".into(),
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        date_of_birth: "1990-12-10".into(),
        phone: Some("+44 7700 900123".into()),
    }
}

/// A valid registration, with the sloppy casing real clients send.
pub fn ada() -> Value {
    json!({
        "email": "Ada@Example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "date_of_birth": "1990-12-10",
    })
}

/// Serves `router` on a loopback port until the check ends; returns its base URL.
pub async fn serve(router: Router) -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address: SocketAddr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(format!("http://{address}"))
}

/// The status and JSON body of an answer.
pub async fn answer_of(response: reqwest::Response) -> anyhow::Result<(u16, Value)> {
    let status = response.status().as_u16();
    let text = response.text().await?;
    let body = serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{e}: the body was {text:?}"))?;
    Ok((status, body))
}
