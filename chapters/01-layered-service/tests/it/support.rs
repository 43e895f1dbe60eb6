//! What the chapter's tests share: sample registrations, requests and bodies, clients, databases.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response, header};
use ch01_layered_service::{PgUsers, UserRepository};
use harness::PgDatabase;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sqlx::postgres::PgPoolOptions;

pub use ch01_layered_service::proto::users::v1 as pb;

pub type GrpcClient = pb::users_client::UsersClient<tonic::transport::Channel>;

/// A valid registration, with the sloppy spacing and casing real clients send.
pub fn ada() -> Value {
    json!({
        "email": "  Ada@Example.COM ",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "date_of_birth": "1990-12-10",
        "phone": "+44 7700 900123",
    })
}

/// Ada's registration with `email` instead of hers.
pub fn ada_as(email: &str) -> Value {
    let mut body = ada();
    body["email"] = email.into();
    body
}

pub fn grpc_registration(email: &str) -> pb::RegisterUserRequest {
    pb::RegisterUserRequest {
        email: email.into(),
        first_name: "Grace".into(),
        last_name: "Hopper".into(),
        date_of_birth: "1986-12-09".into(),
        phone: None,
    }
}

pub fn post_json(uri: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
        .unwrap()
}

pub fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

pub async fn body_json<T: DeserializeOwned>(response: Response<Body>) -> T {
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes)))
}

pub async fn body_text(response: Response<Body>) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// A database of the test's own with the chapter's schema.
pub async fn database() -> anyhow::Result<PgDatabase> {
    Ok(PgDatabase::new(&ch01_layered_service::MIGRATIONS).await?)
}

/// A repository whose database cannot be reached: every call fails after a short wait, the way a
/// database that went away fails.
pub fn unreachable_users() -> impl UserRepository {
    let pool = PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(500))
        .connect_lazy("postgres://nobody@127.0.0.1:1/gone")
        .unwrap();
    PgUsers::new(pool)
}

pub async fn grpc_client(url: String) -> anyhow::Result<GrpcClient> {
    Ok(pb::users_client::UsersClient::connect(url).await?)
}

pub async fn count(db: &PgDatabase, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.pool()).await.unwrap()
}

/// Stops the servers, and fails if a connection had to be cut off: an ordinary test leaves none
/// busy.
pub async fn stop_cleanly(running: ch01_layered_service::Running) -> anyhow::Result<()> {
    let stopped = running.stop().await?;
    anyhow::ensure!(stopped.cut_off == 0, "stop cut off {} connections", stopped.cut_off);
    Ok(())
}
