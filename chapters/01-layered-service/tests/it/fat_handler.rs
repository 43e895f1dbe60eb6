//! Step 1's fat handler next to the layered service, with the same misbehaving email provider.
//! Note what the fat handler's tests need just to run: PostgreSQL and a mail server, for every
//! rule, because nothing in it can be replaced.

use std::time::Duration;

use axum::http::StatusCode;
use ch01_layered_service::PgUsers;
use ch01_layered_service::app;
use ch01_layered_service::http::ErrorBody;
use ch01_layered_service::metrics::NotificationOutcome::{Failed, Sent};
use ch01_layered_service::notify::Providers;
use ch01_layered_service::steps::step1_fat_handler;
use serde_json::Value;
use tokio::time::Instant;
use tower::ServiceExt;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

async fn email_provider(status: u16, delay: Duration) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/email"))
        .respond_with(ResponseTemplate::new(status).set_delay(delay))
        .mount(&server)
        .await;
    server
}

// ANCHOR: fat_fails
#[tokio::test]
async fn fat_handler_answers_500_for_a_user_it_stored_then_leaks_the_database_error() -> anyhow::Result<()> {
    let db = database().await?;
    let email = email_provider(500, Duration::ZERO).await;
    let fat = step1_fat_handler::router(db.pool().clone(), &email.uri());

    // Lower-cased but not trimmed: the fat handler's own check is thinner than the service's.
    let body = ada_as("Ada@example.com").to_string();
    let first = fat.clone().oneshot(post_json("/users", body.clone())).await?;
    let retry = fat.oneshot(post_json("/users", body)).await?;

    assert_eq!(
        first.status(),
        StatusCode::INTERNAL_SERVER_ERROR,
        "the client is told registration failed"
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM users").await,
        1,
        "yet the user was stored"
    );
    assert_eq!(
        retry.status(),
        StatusCode::INTERNAL_SERVER_ERROR,
        "so the retry hits the unique email"
    );
    let body: Value = body_json(retry).await;
    assert!(
        body["error"].as_str().unwrap().contains("users_email_unique"),
        "and shows the client our schema: {body}"
    );
    Ok(())
}
// ANCHOR_END: fat_fails

#[tokio::test]
async fn layered_service_answers_201_and_the_retry_409_with_the_same_provider() -> anyhow::Result<()> {
    let db = database().await?;
    let email = email_provider(500, Duration::ZERO).await;
    let providers = Providers {
        email: Some(email.uri()),
        ..Providers::default()
    };
    let running = app::start(PgUsers::new(db.pool().clone()), &providers).await?;
    let http = reqwest::Client::new();

    let first = http
        .post(format!("{}/users", running.http_url()))
        .json(&ada())
        .send()
        .await?;
    let retry = http
        .post(format!("{}/users", running.http_url()))
        .json(&ada())
        .send()
        .await?;
    running.notifications.idle().await;

    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(retry.status(), StatusCode::CONFLICT);
    let error: ErrorBody = retry.json().await?;
    assert_eq!(error.code, "already_exists");
    assert_eq!(
        running.metrics.notifications("email", Failed),
        1,
        "the one welcome that failed is counted"
    );
    stop_cleanly(running).await
}

#[tokio::test]
async fn a_slow_provider_makes_the_fat_handler_slow_but_not_the_layered_service() -> anyhow::Result<()> {
    let delay = Duration::from_millis(1500);
    let db = database().await?;
    let email = email_provider(202, delay).await;
    let fat = step1_fat_handler::router(db.pool().clone(), &email.uri());

    let started = Instant::now();
    let response = fat
        .oneshot(post_json("/users", ada_as("fat@example.com").to_string()))
        .await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(
        started.elapsed() >= delay,
        "the fat handler waited for the provider: {:?}",
        started.elapsed()
    );

    let providers = Providers {
        email: Some(email.uri()),
        deadline: Duration::from_secs(5),
        ..Providers::default()
    };
    let running = app::start(PgUsers::new(db.pool().clone()), &providers).await?;
    let response = reqwest::Client::new()
        .post(format!("{}/users", running.http_url()))
        .json(&ada_as("layered@example.com"))
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 201);
    assert_eq!(
        running.metrics.notifications("email", Sent),
        0,
        "the layered service answered before the provider did"
    );
    running.notifications.idle().await;
    assert_eq!(running.metrics.notifications("email", Sent), 1);
    stop_cleanly(running).await
}
