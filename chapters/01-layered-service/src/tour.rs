//! The chapter's tour: a registration over HTTP, a rejected one, a lookup over gRPC from "another
//! service", and an SMS gateway that is down while registration carries on, as the metrics show.
//!
//! The two notification providers are real HTTP servers on loopback, started by the tour: a mail
//! service that accepts everything and an SMS gateway that answers 503. Embedded, users live in
//! memory; with `--real`, in PostgreSQL, where the in-app provider also writes its inbox.

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use harness::PgDatabase;
use harness::narrator::Narrator;
use harness::tour::Services;
use serde_json::{Value, json};

use crate::app::{self, Running};
use crate::grpc::with_request_id;
use crate::http::IGNORED_FIELDS;
use crate::http::{ErrorBody, UserBody};
use crate::metrics::NotificationOutcome::{Failed, Sent, Skipped, TimedOut};
use crate::notify::Providers;
use crate::proto::users::v1::FindUserByEmailRequest;
use crate::proto::users::v1::users_client::UsersClient;
use crate::repository::{InMemoryUsers, PgUsers};
use crate::request_id::RequestId;

pub async fn run(services: Services, narrator: &mut Narrator) -> anyhow::Result<()> {
    narrator.title(
        "01 layered service: handler / service / repository",
        "Handlers translate protocols (HTTP for clients, gRPC for services), the service holds every rule, \
         repositories store. Notification providers plug in behind one trait, and one of them failing \
         costs a counter, not a registration.",
    );
    let (providers_url, stand_ins) = stand_in_providers().await?;
    let mut providers = Providers {
        email: Some(providers_url.clone()),
        sms: Some(providers_url),
        deadline: Duration::from_secs(2),
        ..Providers::default()
    };
    // Kept until the end: dropping it drops the tour's database.
    let mut database = None;
    let running = match services {
        Services::Embedded => {
            narrator.say("Users live in memory (run with --real for PostgreSQL and the in-app inbox).");
            app::start(InMemoryUsers::new(), &providers).await?
        }
        Services::Real => {
            let db = PgDatabase::new(&crate::MIGRATIONS).await?;
            narrator.say(&format!(
                "Users live in PostgreSQL database {} (from {}).",
                db.name(),
                db.endpoint().origin
            ));
            providers.in_app = Some(db.pool().clone());
            let users = PgUsers::new(db.pool().clone());
            database = Some(db);
            app::start(users, &providers).await?
        }
    };
    narrator.say(&format!("HTTP on {}, gRPC on {}.", running.http, running.grpc));
    scenario(&running, narrator).await?;
    running.stop().await?;
    stand_ins.abort();
    drop(database);
    Ok(())
}

async fn scenario(running: &Running, narrator: &mut Narrator) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let users = format!("{}/users", running.http_url());

    narrator.step("A client registers over HTTP, with the spacing and capitals people type");
    let ada = json!({
        "email": "  Ada@Example.COM ", "first_name": "Ada", "last_name": "Lovelace",
        "date_of_birth": "1990-12-10", "phone": "+44 7700 900123",
    });
    narrator.say(&format!("POST /users {ada}"));
    let response = http
        .post(&users)
        .header("x-request-id", "tour-1")
        .json(&ada)
        .send()
        .await?;
    let status = response.status();
    let created: UserBody = response.json().await?;
    narrator.held(&format!(
        "{status}: id {}, email {:?}, phone {:?}",
        created.id, created.email, created.phone
    ));

    narrator.step("A client sends a fifteen-year-old");
    let mut young = ada.clone();
    young["date_of_birth"] = json!("2011-06-01");
    young["email"] = json!("young@example.com");
    let response = http.post(&users).json(&young).send().await?;
    let status = response.status();
    anyhow::ensure!(
        status == StatusCode::BAD_REQUEST,
        "a fifteen-year-old was answered {status}"
    );
    let error: ErrorBody = response.json().await?;
    narrator.held(&format!("{status}: {}", serde_json::to_string(&error)?));

    narrator.step("A newer app sends a field this server does not know yet");
    let mut newer = ada.clone();
    newer["nickname"] = json!("ada");
    newer["email"] = json!("grace@example.com");
    let response = http.post(&users).json(&newer).send().await?;
    let status = response.status();
    let ignored = response
        .headers()
        .get(IGNORED_FIELDS)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    anyhow::ensure!(
        status == StatusCode::CREATED && ignored.as_deref() == Some("nickname"),
        "a newer client's field: {status}, ignored-fields {ignored:?}"
    );
    narrator.held(&format!(
        "{status}, and the response names what the server ignored: ignored-fields: {}",
        ignored.unwrap_or_default()
    ));
    let refused = http.get(format!("{users}/not-a-uuid")).send().await?;
    narrator.held(&format!("GET /users/not-a-uuid: {}", refused.status()));

    narrator.step("Another service looks her up over gRPC, by the email as it has it");
    let mut grpc = UsersClient::connect(running.grpc_url()).await?;
    let lookup = FindUserByEmailRequest {
        email: "ADA@example.com".into(),
    };
    let found = grpc
        .find_user_by_email(with_request_id(lookup, &RequestId::from_caller(Some("tour-2"))))
        .await?;
    let request_id = found
        .metadata()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap_or("?").to_owned());
    let user = found
        .into_inner()
        .user
        .ok_or_else(|| anyhow::anyhow!("FindUserByEmail answered no user"))?;
    anyhow::ensure!(
        user.id == created.id,
        "gRPC found {} where HTTP created {}",
        user.id,
        created.id
    );
    narrator.held(&format!(
        "FindUserByEmail: {} {} ({}), request id {request_id:?}",
        user.first_name, user.last_name, user.id
    ));

    narrator.step("Meanwhile, the welcome went out through every provider; the SMS gateway is down");
    running.notifications.idle().await;
    for provider in running.notifications.providers() {
        let outcomes: Vec<String> = [Sent, Skipped, Failed, TimedOut]
            .into_iter()
            .filter_map(|outcome| match running.metrics.notifications(provider, outcome) {
                0 => None,
                n => Some(format!("{} {n}", outcome.as_str())),
            })
            .collect();
        let line = format!("{provider}: {}", outcomes.join(", "));
        if running.metrics.notifications(provider, Sent) > 0 {
            narrator.held(&line);
        } else {
            narrator.broke(&line);
        }
    }
    narrator.held(
        "registration answered 201 all the same; the failure was logged as a warning (WORKBOOK_LOG=warn shows it)",
    );

    narrator.step("GET /metrics: what an operator's dashboard reads");
    let metrics = http
        .get(format!("{}/metrics", running.http_url()))
        .send()
        .await?
        .text()
        .await?;
    for line in metrics
        .lines()
        .filter(|l| l.starts_with("users_notifications_total{") || l.starts_with("users_requests_total{"))
    {
        narrator.say(line);
    }
    Ok(())
}

/// A mail service that accepts every message and an SMS gateway that is down, on one loopback port:
/// its base URL, and the task serving it.
async fn stand_in_providers() -> anyhow::Result<(String, tokio::task::JoinHandle<std::io::Result<()>>)> {
    let accept = async |_: axum::Json<Value>| StatusCode::ACCEPTED;
    let down = async |_: axum::Json<Value>| StatusCode::SERVICE_UNAVAILABLE;
    let router = Router::new()
        .route("/v1/email", post(accept))
        .route("/v1/sms", post(down));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    Ok((url, server))
}
