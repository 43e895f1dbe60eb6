//! The whole service on real PostgreSQL: one user through both protocols, and registrations racing
//! for one email across two running copies of the service.

use ch01_layered_service::app;
use ch01_layered_service::http::{ErrorBody, UserBody};
use ch01_layered_service::notify::Providers;
use ch01_layered_service::user::now;
use ch01_layered_service::{PgUsers, RepositoryError, User, UserId, UserRepository};
use chrono::NaiveDate;
use futures::future::join_all;
use reqwest::StatusCode;
use tonic::Code;

use crate::support::*;

#[tokio::test]
async fn register_over_http_then_fetch_over_http_and_grpc() -> anyhow::Result<()> {
    let db = database().await?;
    let running = app::start(PgUsers::new(db.pool().clone()), &Providers::default()).await?;
    let http = reqwest::Client::new();

    let response = http
        .post(format!("{}/users", running.http_url()))
        .json(&ada())
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: UserBody = response.json().await?;
    let fetched: UserBody = http
        .get(format!("{}/users/{}", running.http_url(), created.id))
        .send()
        .await?
        .json()
        .await?;
    let mut grpc = grpc_client(running.grpc_url()).await?;
    let by_id = grpc
        .get_user(pb::GetUserRequest { id: created.id.clone() })
        .await?
        .into_inner()
        .user
        .unwrap();
    let by_email = grpc
        .find_user_by_email(pb::FindUserByEmailRequest {
            email: "ADA@example.com".into(),
        })
        .await?
        .into_inner();

    assert_eq!(fetched, created);
    assert_eq!(
        (by_id.id.as_str(), by_id.email.as_str()),
        (created.id.as_str(), "ada@example.com")
    );
    assert_eq!(by_id.phone, created.phone);
    assert_eq!(by_id.created_at.unwrap().seconds, created.created_at.timestamp());
    assert_eq!(by_email.user.as_ref(), Some(&by_id));
    let stored: String = sqlx::query_scalar("SELECT email FROM users")
        .fetch_one(db.pool())
        .await?;
    assert_eq!(stored, "ada@example.com");
    stop_cleanly(running).await
}

// ANCHOR: race
/// Sixteen registrations of one email, spread over two copies of the service that share the
/// database: a check in the service ("is the email free?") cannot decide this race; the database's
/// UNIQUE constraint does, and the loser hears 409.
#[tokio::test]
async fn concurrent_http_registrations_with_one_email_exactly_one_wins() -> anyhow::Result<()> {
    let db = database().await?;
    let copies = [
        app::start(PgUsers::new(db.pool().clone()), &Providers::default()).await?,
        app::start(PgUsers::new(db.pool().clone()), &Providers::default()).await?,
    ];
    let http = reqwest::Client::new();

    let attempts = (0..16).map(|i| {
        let url = format!("{}/users", copies[i % 2].http_url());
        let body = ada_as(if i % 2 == 0 {
            "race@example.com"
        } else {
            " RACE@example.com"
        });
        let http = http.clone();
        async move { http.post(url).json(&body).send().await }
    });
    let responses = join_all(attempts).await;

    let mut statuses = Vec::new();
    for response in responses {
        let response = response?;
        let status = response.status();
        if status == StatusCode::CONFLICT {
            let error: ErrorBody = response.json().await?;
            assert_eq!(
                (error.code.as_str(), error.field.as_deref()),
                ("already_exists", Some("email"))
            );
        }
        statuses.push(status);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::CREATED).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count(),
        15,
        "{statuses:?}"
    );
    assert_eq!(count(&db, "SELECT count(*) FROM users").await, 1);
    for copy in copies {
        copy.stop().await?;
    }
    Ok(())
}
// ANCHOR_END: race

#[tokio::test]
async fn concurrent_grpc_registrations_with_one_email_exactly_one_wins() -> anyhow::Result<()> {
    let db = database().await?;
    let running = app::start(PgUsers::new(db.pool().clone()), &Providers::default()).await?;
    let client = grpc_client(running.grpc_url()).await?;

    let attempts = (0..16).map(|_| {
        let mut client = client.clone();
        async move { client.register_user(grpc_registration("race@navy.mil")).await }
    });
    let outcomes = join_all(attempts).await;

    let codes: Vec<Code> = outcomes
        .iter()
        .map(|o| o.as_ref().map_or_else(tonic::Status::code, |_| Code::Ok))
        .collect();
    assert_eq!(codes.iter().filter(|c| **c == Code::Ok).count(), 1, "{codes:?}");
    assert_eq!(
        codes.iter().filter(|c| **c == Code::AlreadyExists).count(),
        15,
        "{codes:?}"
    );
    assert_eq!(count(&db, "SELECT count(*) FROM users").await, 1);
    stop_cleanly(running).await
}

fn user(email: &str) -> User {
    User {
        id: UserId::new(),
        email: email.into(),
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        date_of_birth: NaiveDate::from_ymd_opt(1990, 12, 10).unwrap(),
        phone: None,
        created_at: now(),
    }
}

#[tokio::test]
async fn the_postgres_repository_stores_loads_and_refuses_a_second_email() -> anyhow::Result<()> {
    let db = database().await?;
    let users = PgUsers::new(db.pool().clone());
    let ada = user("ada@example.com");

    users.insert(&ada).await?;
    let again = users.insert(&user("ada@example.com")).await.unwrap_err();

    assert!(
        matches!(&again, RepositoryError::EmailTaken(email) if email == "ada@example.com"),
        "{again:?}"
    );
    assert_eq!(users.by_id(ada.id).await?, Some(ada.clone()));
    assert_eq!(users.by_email("ada@example.com").await?, Some(ada));
    assert_eq!(users.by_id(UserId::new()).await?, None);
    assert_eq!(users.by_email("nobody@example.com").await?, None);
    Ok(())
}

#[tokio::test]
async fn the_database_refuses_an_email_the_service_did_not_normalise() -> anyhow::Result<()> {
    let db = database().await?;
    let users = PgUsers::new(db.pool().clone());

    let refused = users.insert(&user(" Ada@Example.com")).await.unwrap_err();

    let RepositoryError::Unavailable(sqlx::Error::Database(error)) = refused else {
        panic!("expected the CHECK constraint, got {refused:?}");
    };
    assert_eq!(error.constraint(), Some("users_email_normalised"));
    Ok(())
}
