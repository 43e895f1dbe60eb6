//! Exercise `webhook_provider`: the learner's provider, plugged in, posts the welcome to a real
//! HTTP receiver when a user registers through the chapter's running service on PostgreSQL.

use std::sync::Arc;

use ch01_exercises::webhook_provider::{Webhook, plug_webhook};
use ch01_layered_service::metrics::NotificationOutcome::{Failed, Sent};
use ch01_layered_service::notify::{Notification, Notifier, NotifyError, Providers, plug};
use ch01_layered_service::{Metrics, PgUsers, Running, UserId, UserService, app};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{ada, database};

/// A partner's receiver at `/hooks/users`, answering `status`.
async fn receiver(status: u16) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks/users"))
        .respond_with(ResponseTemplate::new(status))
        .mount(&server)
        .await;
    server
}

/// The chapter's service, with its usual providers (none configured here) and the webhook.
async fn running_with_webhook(pool: sqlx::PgPool, url: &str) -> anyhow::Result<Running> {
    let metrics = Metrics::new();
    let notifications = plug_webhook(plug(&Providers::default(), &metrics), Some(url));
    let service = Arc::new(UserService::new(PgUsers::new(pool), notifications));
    Ok(app::serve(service, metrics).await?)
}

/// Registers Ada over HTTP, waits for the notifications, and returns her id.
async fn register_ada(running: &Running) -> anyhow::Result<String> {
    let response = reqwest::Client::new()
        .post(format!("{}/users", running.http_url()))
        .json(&ada())
        .send()
        .await?;
    assert_eq!(response.status(), 201, "a webhook never decides a registration");
    let user: Value = response.json().await?;
    running.notifications.idle().await;
    Ok(user["id"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn a_registration_posts_the_welcome_to_the_partner() -> anyhow::Result<()> {
    let db = database().await?;
    let partner = receiver(204).await;
    let running = running_with_webhook(db.pool().clone(), &format!("{}/hooks/users", partner.uri())).await?;

    let ada = register_ada(&running).await?;

    let received = partner.received_requests().await.unwrap_or_default();
    assert_eq!(
        received.len(),
        1,
        "the partner should hear of Ada once, and heard {} times",
        received.len()
    );
    let body: Value = received[0].body_json()?;
    assert_eq!(body["user_id"], ada.as_str(), "{body}");
    assert_eq!(body["title"], "Welcome to the shop, Ada", "{body}");
    assert!(body["body"].as_str().is_some_and(|text| !text.is_empty()), "{body}");
    assert_eq!(running.metrics.notifications("webhook", Sent), 1);
    running.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_partner_answering_503_is_a_failed_notification_not_a_failed_registration() -> anyhow::Result<()> {
    let db = database().await?;
    let partner = receiver(503).await;
    let running = running_with_webhook(db.pool().clone(), &format!("{}/hooks/users", partner.uri())).await?;

    register_ada(&running).await?;

    assert_eq!(
        partner.received_requests().await.unwrap_or_default().len(),
        1,
        "the partner was never asked"
    );
    assert_eq!(
        running.metrics.notifications("webhook", Failed),
        1,
        "a 503 is no delivery"
    );
    assert_eq!(running.metrics.notifications("webhook", Sent), 0);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(db.pool())
        .await?;
    assert_eq!(stored, 1, "Ada is registered whatever the partner answers");
    running.stop().await?;
    Ok(())
}

#[tokio::test]
async fn each_answer_of_the_partner_is_reported_as_it_was() -> anyhow::Result<()> {
    let welcome = Notification {
        user_id: UserId::new(),
        email: "ada@example.com".into(),
        phone: None,
        title: "Welcome".into(),
        body: "Hello".into(),
    };
    let refusing = receiver(503).await;
    let refused = Webhook::new(&format!("{}/hooks/users", refusing.uri()))
        .send(welcome.clone())
        .await;
    assert!(
        matches!(refused, Err(NotifyError::Rejected { status: 503 })),
        "the partner answered 503, and the webhook said {refused:?}"
    );

    // A port nobody listens on: bound, then closed.
    let gone = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let unreachable = Webhook::new(&format!("http://{gone}/hooks/users")).send(welcome).await;
    assert!(
        matches!(unreachable, Err(NotifyError::Unreachable(_))),
        "nobody listens there, and the webhook said {unreachable:?}"
    );
    Ok(())
}
