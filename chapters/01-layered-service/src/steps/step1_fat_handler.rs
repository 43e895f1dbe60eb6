//! Step 1: the fat handler. Parsing, checking, SQL and the welcome email, all in one function.
//!
//! It is how many services start, and it works until it has to change. What it costs, each shown
//! by a test in `tests/it/fat_handler.rs`:
//! - it cannot be tested without PostgreSQL and a mail server, because nothing can be replaced;
//! - the welcome email is sent inline: a slow provider makes registration slow, and a failing one
//!   answers 500 *after* the user was stored, so the client retries and is told the email is taken;
//! - the database's error text goes to the client;
//! - a gRPC handler for the same registration would have to copy all of it, and drift.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use sqlx::PgPool;

#[derive(Clone)]
struct FatState {
    pool: PgPool,
    http: reqwest::Client,
    email_provider: String,
}

pub fn router(pool: PgPool, email_provider: &str) -> Router {
    let state = FatState {
        pool,
        http: reqwest::Client::new(),
        email_provider: email_provider.to_owned(),
    };
    Router::new().route("/users", post(register)).with_state(state)
}

// ANCHOR: fat
async fn register(State(state): State<FatState>, Json(input): Json<Value>) -> (StatusCode, Json<Value>) {
    let email = input["email"].as_str().unwrap_or_default().to_lowercase();
    if !email.contains('@') {
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": "bad email" })));
    }
    let id = uuid::Uuid::now_v7();
    let inserted = sqlx::query(
        "INSERT INTO users (id, email, first_name, last_name, date_of_birth, phone, created_at)
         VALUES ($1, $2, $3, $4, $5::date, NULL, now())",
    )
    .bind(id)
    .bind(&email)
    .bind(input["first_name"].as_str().unwrap_or_default())
    .bind(input["last_name"].as_str().unwrap_or_default())
    .bind(input["date_of_birth"].as_str().unwrap_or_default())
    .execute(&state.pool)
    .await;
    if let Err(error) = inserted {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": error.to_string() })),
        );
    }
    let welcome = json!({ "to": email, "subject": "Welcome to the shop", "text": "Your account is ready." });
    let sent = state
        .http
        .post(format!("{}/v1/email", state.email_provider))
        .json(&welcome)
        .send()
        .await;
    match sent {
        Ok(response) if response.status().is_success() => (StatusCode::CREATED, Json(json!({ "id": id }))),
        _ => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": "could not send the welcome email" })),
        ),
    }
}
// ANCHOR_END: fat
