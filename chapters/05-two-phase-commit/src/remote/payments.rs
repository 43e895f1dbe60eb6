//! The payments service: charges, each with the key its caller assigned (`object_key`) beside the
//! service's own id, made idempotent by the request's `Idempotency-Key`.
//!
//! `POST /charges` (`{"object_key": ..., "amount_cents": ...}`, an `Idempotency-Key` header)
//! charges once per object key: a repeat of the request is answered from the stored response,
//! and a new request for an object key that was charged already (its key's response expired and
//! swept, say) finds that charge instead of making another. `GET /charges/{object_key}` looks a
//! charge up by the caller's key: how a caller that lost an answer finds out what happened.
//! `POST /charges/{object_key}/refund` (an `Idempotency-Key` header) refunds it, once.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use std::future::Future;

use crate::remote::idempotency::{self, Begun, KeyError, KeyPolicy, RecoveryPoint};
use crate::remote::server::Fault;

/// A charge request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChargeRequest {
    pub object_key: String,
    pub amount_cents: i64,
}

/// A charge as the service answers with it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, sqlx::FromRow)]
pub struct Charge {
    /// The service's own id (`object_id` in the source).
    pub id: i64,
    /// The caller's key.
    pub object_key: String,
    pub amount_cents: i64,
    pub state: String,
}

#[derive(Clone)]
struct Payments {
    pool: PgPool,
    policy: KeyPolicy,
}

/// The service's routes over its database `pool`.
pub fn router(pool: PgPool, policy: KeyPolicy) -> Router {
    Router::new()
        .route("/charges", post(charge))
        .route("/charges/{object_key}", get(look_up))
        .route("/charges/{object_key}/refund", post(refund))
        .with_state(Payments { pool, policy })
}

/// An answer that is not a charge: a status and a message.
fn refused(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (status, Json(serde_json::json!({ "error": message.to_string() }))).into_response()
}

fn storage(error: sqlx::Error) -> Response {
    refused(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("the payments database: {error}"),
    )
}

// ANCHOR: keyed
/// What every request that changes something goes through: the fault it asks for, its key, its
/// fingerprint (`path` and `body`), and the key taken. An answer stored under the key is sent
/// again; otherwise `work` runs, given the pool and the key, to its end in a task of its own, so
/// that a caller hanging up (the handler dropped) cannot leave work done and its key unanswered.
async fn keyed<F>(
    payments: &Payments,
    headers: &HeaderMap,
    path: &str,
    body: &serde_json::Value,
    work: impl FnOnce(PgPool, String) -> F,
) -> Response
where
    F: Future<Output = Response> + Send + 'static,
{
    let fault = Fault::from_headers(headers);
    if let Some(status) = fault.status.and_then(|code| StatusCode::from_u16(code).ok()) {
        return refused(status, "a fault the request asked for");
    }
    let Some(key) = headers.get("idempotency-key").and_then(|value| value.to_str().ok()) else {
        return refused(StatusCode::BAD_REQUEST, "this request needs an Idempotency-Key header");
    };
    let fingerprint = idempotency::fingerprint("POST", path, body);
    let begun = match idempotency::begin(&payments.pool, key, &fingerprint, payments.policy).await {
        Ok(begun) => begun,
        Err(KeyError::Mismatch) => return refused(StatusCode::UNPROCESSABLE_ENTITY, KeyError::Mismatch),
        Err(KeyError::InFlight) => return refused(StatusCode::CONFLICT, KeyError::InFlight),
        Err(KeyError::Storage(error)) => return storage(error),
        Err(error @ KeyError::Corrupt(_)) => return refused(StatusCode::INTERNAL_SERVER_ERROR, error),
    };
    if let Begun::Replay { status, body } = begun {
        return replay(status, body);
    }
    if let Some(delay) = fault.delay {
        tokio::time::sleep(delay).await;
    }
    let answer = match tokio::spawn(work(payments.pool.clone(), key.to_owned())).await {
        Ok(answer) => answer,
        Err(panicked) => refused(StatusCode::INTERNAL_SERVER_ERROR, panicked),
    };
    if let Some(delay) = fault.answer_delay {
        tokio::time::sleep(delay).await;
    }
    answer
}
// ANCHOR_END: keyed

// ANCHOR: charge
async fn charge(State(payments): State<Payments>, headers: HeaderMap, Json(request): Json<ChargeRequest>) -> Response {
    if request.amount_cents <= 0 {
        return refused(StatusCode::UNPROCESSABLE_ENTITY, "the amount must be positive");
    }
    let body = serde_json::to_value(&request).expect("a charge request is JSON");
    keyed(&payments, &headers, "/charges", &body, |pool, key| {
        charge_and_answer(pool, key, request)
    })
    .await
}
// ANCHOR_END: charge

/// Makes the charge and stores the answer under `key`, or refuses a reused object key.
async fn charge_and_answer(pool: PgPool, key: String, request: ChargeRequest) -> Response {
    match create(&pool, &key, &request).await {
        Ok(charge) => {
            let body = serde_json::to_string(&charge).expect("a charge is JSON");
            match idempotency::finish(&pool, &key, StatusCode::CREATED.as_u16(), &body).await {
                Ok(()) => (StatusCode::CREATED, Json(charge)).into_response(),
                Err(error) => storage(error),
            }
        }
        Err(Refusal::NotTheSameCharge(charge)) => {
            let _ = idempotency::release(&pool, &key).await;
            refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "{} was charged {} cents already, not {}",
                    charge.object_key, charge.amount_cents, request.amount_cents
                ),
            )
        }
        Err(Refusal::Storage(error)) => storage(error),
    }
}

fn replay(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [("content-type", "application/json")], body).into_response()
}

enum Refusal {
    /// The object key was charged already, for another amount: the caller reused a key.
    NotTheSameCharge(Charge),
    Storage(sqlx::Error),
}

impl From<sqlx::Error> for Refusal {
    fn from(error: sqlx::Error) -> Self {
        Refusal::Storage(error)
    }
}

// ANCHOR: create
/// The charge of `request`'s object key, made if there is none, in one transaction with the key's
/// move to `charge_created`. An object key charged already is that charge, whatever the request's
/// idempotency key: one charge per object key, for the charge's whole life.
async fn create(pool: &PgPool, key: &str, request: &ChargeRequest) -> Result<Charge, Refusal> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO charges (object_key, amount_cents, state) VALUES ($1, $2, 'charged') \
         ON CONFLICT (object_key) DO NOTHING",
    )
    .bind(&request.object_key)
    .bind(request.amount_cents)
    .execute(&mut *tx)
    .await?;
    let charge: Charge =
        sqlx::query_as("SELECT id, object_key, amount_cents, state FROM charges WHERE object_key = $1")
            .bind(&request.object_key)
            .fetch_one(&mut *tx)
            .await?;
    if charge.amount_cents != request.amount_cents {
        return Err(Refusal::NotTheSameCharge(charge));
    }
    idempotency::reached(&mut tx, key, RecoveryPoint::ChargeCreated).await?;
    tx.commit().await?;
    Ok(charge)
}
// ANCHOR_END: create

// ANCHOR: refund
async fn refund(State(payments): State<Payments>, headers: HeaderMap, Path(object_key): Path<String>) -> Response {
    let path = format!("/charges/{object_key}/refund");
    keyed(&payments, &headers, &path, &serde_json::Value::Null, |pool, key| {
        refund_and_answer(pool, key, object_key)
    })
    .await
}

/// Refunds the charge of `object_key` and stores the answer under `key`: a charge refunded
/// already is answered as it is, and one that does not exist is 404 (its key left free).
async fn refund_and_answer(pool: PgPool, key: String, object_key: String) -> Response {
    let refunded: Result<Option<Charge>, sqlx::Error> = sqlx::query_as(
        "UPDATE charges SET state = 'refunded' WHERE object_key = $1 \
         RETURNING id, object_key, amount_cents, state",
    )
    .bind(&object_key)
    .fetch_optional(&pool)
    .await;
    match refunded {
        Ok(Some(charge)) => {
            let body = serde_json::to_string(&charge).expect("a charge is JSON");
            match idempotency::finish(&pool, &key, StatusCode::OK.as_u16(), &body).await {
                Ok(()) => Json(charge).into_response(),
                Err(error) => storage(error),
            }
        }
        Ok(None) => {
            let _ = idempotency::release(&pool, &key).await;
            refused(StatusCode::NOT_FOUND, format!("no charge has the key {object_key}"))
        }
        Err(error) => storage(error),
    }
}
// ANCHOR_END: refund

async fn look_up(State(payments): State<Payments>, Path(object_key): Path<String>) -> Response {
    let found: Result<Option<Charge>, sqlx::Error> =
        sqlx::query_as("SELECT id, object_key, amount_cents, state FROM charges WHERE object_key = $1")
            .bind(&object_key)
            .fetch_optional(&payments.pool)
            .await;
    match found {
        Ok(Some(charge)) => Json(charge).into_response(),
        Ok(None) => refused(StatusCode::NOT_FOUND, format!("no charge has the key {object_key}")),
        Err(error) => storage(error),
    }
}
