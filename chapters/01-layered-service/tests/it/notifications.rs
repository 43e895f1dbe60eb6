//! Notifications after registration, through providers behind real HTTP servers (wiremock) and a
//! real PostgreSQL inbox: all delivering, none plugged in, and one down while another hangs.

use std::time::Duration;

use ch01_layered_service::app;
use ch01_layered_service::http::UserBody;
use ch01_layered_service::metrics::NotificationOutcome::{Failed, Sent, Skipped, TimedOut};
use ch01_layered_service::notify::Providers;
use ch01_layered_service::{PgUsers, Running};
use harness::PgDatabase;
use reqwest::StatusCode;
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

/// A provider endpoint answering `status` after `delay`.
async fn provider(route: &str, status: u16, delay: Duration) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(route))
        .respond_with(ResponseTemplate::new(status).set_delay(delay))
        .mount(&server)
        .await;
    server
}

async fn register(running: &Running, body: Value) -> anyhow::Result<UserBody> {
    let response = reqwest::Client::new()
        .post(format!("{}/users", running.http_url()))
        .json(&body)
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    Ok(response.json().await?)
}

async fn bodies(server: &MockServer) -> Vec<Value> {
    let requests = server.received_requests().await.expect("wiremock records requests");
    requests.iter().map(|request| request.body_json().unwrap()).collect()
}

async fn inbox(db: &PgDatabase, user: &UserBody) -> Vec<String> {
    let id = uuid::Uuid::parse_str(&user.id).unwrap();
    sqlx::query_scalar("SELECT title FROM in_app_notifications WHERE user_id = $1")
        .bind(id)
        .fetch_all(db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn every_provider_delivers_the_welcome() -> anyhow::Result<()> {
    let db = database().await?;
    let (email, sms) = (
        provider("/v1/email", 202, Duration::ZERO).await,
        provider("/v1/sms", 200, Duration::ZERO).await,
    );
    let providers = Providers {
        email: Some(email.uri()),
        sms: Some(sms.uri()),
        in_app: Some(db.pool().clone()),
        ..Providers::default()
    };
    let running = app::start(PgUsers::new(db.pool().clone()), &providers).await?;

    let user = register(&running, ada()).await?;
    running.notifications.idle().await;

    let emails = bodies(&email).await;
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0]["to"], "ada@example.com");
    assert_eq!(emails[0]["subject"], "Welcome to the shop, Ada");
    let texts = bodies(&sms).await;
    assert_eq!(texts.len(), 1);
    assert_eq!(texts[0]["to"], "+447700900123");
    assert_eq!(inbox(&db, &user).await, ["Welcome to the shop, Ada"]);
    for provider in ["email", "sms", "in_app"] {
        assert_eq!(running.metrics.notifications(provider, Sent), 1, "{provider}");
    }
    stop_cleanly(running).await
}

#[tokio::test]
async fn registration_needs_no_provider_at_all() -> anyhow::Result<()> {
    let db = database().await?;
    let running = app::start(PgUsers::new(db.pool().clone()), &Providers::default()).await?;

    let user = register(&running, ada()).await?;
    running.notifications.idle().await;

    assert_eq!(user.email, "ada@example.com");
    assert!(inbox(&db, &user).await.is_empty());
    assert!(!running.metrics.render().contains("users_notifications_total{"));
    stop_cleanly(running).await
}

// ANCHOR: one_down
/// The email provider answers 500 and the SMS gateway hangs for 30 s. Registration answers 201 at
/// once; the in-app notification is delivered; the two others are logged and counted, the hanging
/// one after its 1 s deadline.
#[tokio::test]
async fn one_provider_down_and_one_hanging_while_the_third_delivers() -> anyhow::Result<()> {
    let db = database().await?;
    let email = provider("/v1/email", 500, Duration::ZERO).await;
    let sms = provider("/v1/sms", 200, Duration::from_secs(30)).await;
    let providers = Providers {
        email: Some(email.uri()),
        sms: Some(sms.uri()),
        in_app: Some(db.pool().clone()),
        deadline: Duration::from_secs(1),
    };
    let running = app::start(PgUsers::new(db.pool().clone()), &providers).await?;

    let user = register(&running, ada()).await?;
    assert_eq!(
        running.metrics.notifications("sms", TimedOut),
        0,
        "the response did not wait for the SMS gateway"
    );
    running.notifications.idle().await;

    assert_eq!(count(&db, "SELECT count(*) FROM users").await, 1);
    assert_eq!(inbox(&db, &user).await.len(), 1);
    assert_eq!(running.metrics.notifications("in_app", Sent), 1);
    assert_eq!(running.metrics.notifications("email", Failed), 1);
    assert_eq!(running.metrics.notifications("sms", TimedOut), 1);
    let metrics = reqwest::get(format!("{}/metrics", running.http_url()))
        .await?
        .text()
        .await?;
    assert!(
        metrics.contains(r#"users_notifications_total{provider="sms",outcome="timed_out"} 1"#),
        "{metrics}"
    );
    stop_cleanly(running).await
}
// ANCHOR_END: one_down

#[tokio::test]
async fn a_user_without_a_phone_gets_no_sms() -> anyhow::Result<()> {
    let db = database().await?;
    let sms = provider("/v1/sms", 200, Duration::ZERO).await;
    let providers = Providers {
        sms: Some(sms.uri()),
        ..Providers::default()
    };
    let running = app::start(PgUsers::new(db.pool().clone()), &providers).await?;
    let mut body = ada();
    body.as_object_mut().unwrap().remove("phone");

    register(&running, body).await?;
    running.notifications.idle().await;

    assert!(bodies(&sms).await.is_empty());
    assert_eq!(running.metrics.notifications("sms", Skipped), 1);
    stop_cleanly(running).await
}

#[tokio::test]
async fn an_unreachable_provider_is_counted_as_failed() -> anyhow::Result<()> {
    let db = database().await?;
    let providers = Providers {
        email: Some("http://127.0.0.1:1".into()),
        ..Providers::default()
    };
    let running = app::start(PgUsers::new(db.pool().clone()), &providers).await?;

    register(&running, ada()).await?;
    running.notifications.idle().await;

    assert_eq!(running.metrics.notifications("email", Failed), 1);
    stop_cleanly(running).await
}
