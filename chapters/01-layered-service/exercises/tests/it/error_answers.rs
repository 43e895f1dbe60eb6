//! Exercise `error_answers`: each service error gets the status and body a client can act on,
//! through a real HTTP server whose service runs on a real PostgreSQL.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use ch01_exercises::error_answers::answer;
use ch01_layered_service::http::{ApiError, RegisterBody, UserBody};
use ch01_layered_service::{PgUsers, UserService};
use serde_json::Value;

use crate::support::{ada, answer_of, assert_says_nothing_of_the_database, behind_a_proxy, database, serve, service};

type Service = Arc<UserService<PgUsers>>;

/// Two routes whose every error goes through the learner's `answer`.
fn router(service: Service) -> Router {
    async fn register(
        State(service): State<Service>,
        Json(body): Json<RegisterBody>,
    ) -> Result<(StatusCode, Json<UserBody>), ApiError> {
        let user = service.register(body.into()).await.map_err(answer)?;
        Ok((StatusCode::CREATED, Json(UserBody::from(&user))))
    }
    async fn lookup(State(service): State<Service>, Path(id): Path<String>) -> Result<Json<UserBody>, ApiError> {
        let user = service.get(&id).await.map_err(answer)?;
        Ok(Json(UserBody::from(&user)))
    }
    Router::new()
        .route("/users", post(register))
        .route("/users/{id}", get(lookup))
        .with_state(service)
}

async fn register(url: &str, body: &Value) -> anyhow::Result<(u16, Value)> {
    answer_of(
        reqwest::Client::new()
            .post(format!("{url}/users"))
            .json(body)
            .send()
            .await?,
    )
    .await
}

#[tokio::test]
async fn invalid_input_is_400_invalid_argument_naming_the_field() -> anyhow::Result<()> {
    let db = database().await?;
    let url = serve(router(service(db.pool().clone()))).await?;
    let mut typo = ada();
    typo["email"] = "ada.example.com".into();

    let (status, body) = register(&url, &typo).await?;

    assert_eq!(status, 400, "a typo in the email is the client's to fix: {body}");
    assert_eq!(body["code"], "invalid_argument", "{body}");
    assert_eq!(
        body["field"], "email",
        "the form needs to know which field to point at: {body}"
    );
    assert!(body["message"].as_str().unwrap_or_default().contains('@'), "{body}");
    Ok(())
}

#[tokio::test]
async fn a_second_registration_of_one_email_is_409_already_exists() -> anyhow::Result<()> {
    let db = database().await?;
    let url = serve(router(service(db.pool().clone()))).await?;
    assert_eq!(register(&url, &ada()).await?.0, 201);

    let (status, body) = register(&url, &ada()).await?;

    assert_eq!(status, 409, "the email is taken, which no retry will change: {body}");
    assert_eq!(body["code"], "already_exists", "{body}");
    assert_eq!(body["field"], "email", "{body}");
    Ok(())
}

#[tokio::test]
async fn an_unknown_user_is_404_and_an_id_that_is_no_uuid_400() -> anyhow::Result<()> {
    let db = database().await?;
    let url = serve(router(service(db.pool().clone()))).await?;
    let client = reqwest::Client::new();

    let unknown = format!("{url}/users/0193a4c2-0000-7000-8000-000000000000");
    let (status, body) = answer_of(client.get(unknown).send().await?).await?;
    assert_eq!(
        (status, &body["code"], &body["field"]),
        (404, &"not_found".into(), &"id".into()),
        "{body}"
    );

    let (status, body) = answer_of(client.get(format!("{url}/users/42")).send().await?).await?;
    assert_eq!(
        (status, &body["code"], &body["field"]),
        (400, &"invalid_argument".into(), &"id".into()),
        "{body}"
    );
    Ok(())
}

#[tokio::test]
async fn a_database_gone_is_500_internal_and_the_body_says_nothing_of_it() -> anyhow::Result<()> {
    let db = database().await?;
    let (proxy, pool) = behind_a_proxy(&db).await?;
    let url = serve(router(service(pool))).await?;
    proxy.cut().await;

    let (status, body) = register(&url, &ada()).await?;

    assert_eq!(
        status, 500,
        "the database is gone: ours to fix, not the client's: {body}"
    );
    assert_eq!(body["code"], "internal", "{body}");
    assert_eq!(
        body["field"],
        Value::Null,
        "an internal error is about no field: {body}"
    );
    assert_says_nothing_of_the_database(&body);
    Ok(())
}
