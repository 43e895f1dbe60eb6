//! The caller's record of its remote calls, written through chapter 03's transaction manager, so
//! that a use case records a call in the transaction of its own writes (the order and its call go
//! together, or not at all).
//!
//! A call is recorded `..._requested` before it is made ([`Calls::request`]), and settled after
//! ([`Calls::settle`]); an attempt that got no answer moves its next attempt on
//! ([`Calls::attempted`]). Recovery workers [`Calls::claim_due`] the calls left requested: each
//! claim is a short transaction that takes rows no other worker holds (`FOR UPDATE SKIP LOCKED`)
//! and leases them, so that the worker makes its calls with no transaction open, and a worker
//! that dies leaves its rows to come due again when the lease ends.

use std::time::Duration;

use ch03_transaction_manager::{Ctx, Settings, SqlManager, TxError};
use sqlx::Postgres;

use crate::calls::state::{Event, Operation, State, StateError};

/// One recorded call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub key: String,
    pub kind: String,
    pub state: State,
    pub attempts: i32,
    pub last_error: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("there is no {kind} call with the key {key}")]
    NotFound { key: String, kind: String },
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Tx(#[from] TxError),
    #[error("the caller's database: {0}")]
    Storage(#[from] sqlx::Error),
}

type Row = (String, String, String, i32, Option<String>);

fn call(row: Row) -> Result<Call, CallError> {
    let (key, kind, state, attempts, last_error) = row;
    Ok(Call {
        key,
        kind,
        state: State::parse(&state)?,
        attempts,
        last_error,
    })
}

/// The record, over the caller's database.
#[derive(Clone)]
pub struct Calls {
    tm: SqlManager<Postgres>,
}

impl Calls {
    pub fn new(tm: SqlManager<Postgres>) -> Self {
        Calls { tm }
    }

    // ANCHOR: request
    /// Records that `operation` is about to be asked of the `kind` resource `key`: a new row for
    /// a create, the next state for the rest, refused if the table has no such move. Runs in the
    /// transaction of `ctx`, or in one of its own.
    pub async fn request(&self, ctx: &Ctx, key: &str, kind: &str, operation: Operation) -> Result<Call, CallError> {
        self.tm
            .run(ctx, Settings::default(), async |ctx| {
                let mut conn = self.tm.connection(ctx).await?;
                let now: Option<(String, i32)> =
                    sqlx::query_as("SELECT state, attempts FROM remote_calls WHERE key = $1 AND kind = $2 FOR UPDATE")
                        .bind(key)
                        .bind(kind)
                        .fetch_optional(&mut *conn)
                        .await?;
                let (state, attempts) = match now {
                    None => (State::first(operation)?, 0),
                    Some((state, attempts)) => {
                        let state = State::parse(&state)?;
                        let next = state.then(Event::Request(operation))?;
                        // A retry of the call in flight keeps its count; a new operation starts one.
                        (next, if next == state { attempts } else { 0 })
                    }
                };
                let row: Row = sqlx::query_as(
                    "INSERT INTO remote_calls (key, kind, state, attempts) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (key, kind) DO UPDATE SET state = EXCLUDED.state, attempts = EXCLUDED.attempts, \
                     next_attempt_at = now(), last_error = NULL, updated_at = now() \
                     RETURNING key, kind, state, attempts, last_error",
                )
                .bind(key)
                .bind(kind)
                .bind(state.as_str())
                .bind(attempts)
                .fetch_one(&mut *conn)
                .await?;
                call(row)
            })
            .await
    }
    // ANCHOR_END: request

    /// Records the outcome of the call in flight for `key`: `Succeeded` or `Failed`.
    pub async fn settle(&self, ctx: &Ctx, key: &str, kind: &str, outcome: Event) -> Result<Call, CallError> {
        self.tm
            .run(ctx, Settings::default(), async |ctx| {
                let mut conn = self.tm.connection(ctx).await?;
                let state = self.state_for_update(&mut conn, key, kind).await?;
                let next = state.then(outcome)?;
                let row: Row = sqlx::query_as(
                    "UPDATE remote_calls SET state = $3, updated_at = now() WHERE key = $1 AND kind = $2 \
                     RETURNING key, kind, state, attempts, last_error",
                )
                .bind(key)
                .bind(kind)
                .bind(next.as_str())
                .fetch_one(&mut *conn)
                .await?;
                call(row)
            })
            .await
    }

    /// Records an attempt that got no answer (or one that says "try later"): one more attempt,
    /// the error, and the next attempt `retry_in` from now.
    pub async fn attempted(
        &self,
        ctx: &Ctx,
        key: &str,
        kind: &str,
        error: &str,
        retry_in: Duration,
    ) -> Result<Call, CallError> {
        let mut conn = self.tm.connection(ctx).await?;
        let row: Option<Row> = sqlx::query_as(
            "UPDATE remote_calls SET attempts = attempts + 1, last_error = $3, \
             next_attempt_at = now() + make_interval(secs => $4), updated_at = now() \
             WHERE key = $1 AND kind = $2 AND state LIKE '%\\_requested' \
             RETURNING key, kind, state, attempts, last_error",
        )
        .bind(key)
        .bind(kind)
        .bind(error)
        .bind(retry_in.as_secs_f64())
        .fetch_optional(&mut *conn)
        .await?;
        call(row.ok_or_else(|| CallError::NotFound {
            key: key.into(),
            kind: kind.into(),
        })?)
    }

    // ANCHOR: claim_due
    /// Takes up to `limit` requested calls that are due and that no other worker holds, and
    /// leases them for `lease`: they are not due again until it ends. One short transaction of
    /// its own, so that the worker calls the remotes with none open.
    pub async fn claim_due(&self, limit: i64, lease: Duration) -> Result<Vec<Call>, CallError> {
        let rows: Vec<Row> = sqlx::query_as(
            "UPDATE remote_calls SET next_attempt_at = now() + make_interval(secs => $2) \
             WHERE (key, kind) IN ( \
                 SELECT key, kind FROM remote_calls \
                 WHERE state LIKE '%\\_requested' AND next_attempt_at <= now() \
                 ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED) \
             RETURNING key, kind, state, attempts, last_error",
        )
        .bind(limit)
        .bind(lease.as_secs_f64())
        .fetch_all(self.tm.pool())
        .await?;
        rows.into_iter().map(call).collect()
    }
    // ANCHOR_END: claim_due

    /// The call for `key`, if one is recorded.
    pub async fn get(&self, ctx: &Ctx, key: &str, kind: &str) -> Result<Option<Call>, CallError> {
        let mut conn = self.tm.connection(ctx).await?;
        let row: Option<Row> = sqlx::query_as(
            "SELECT key, kind, state, attempts, last_error FROM remote_calls WHERE key = $1 AND kind = $2",
        )
        .bind(key)
        .bind(kind)
        .fetch_optional(&mut *conn)
        .await?;
        row.map(call).transpose()
    }

    async fn state_for_update(&self, conn: &mut sqlx::PgConnection, key: &str, kind: &str) -> Result<State, CallError> {
        let state: Option<(String,)> =
            sqlx::query_as("SELECT state FROM remote_calls WHERE key = $1 AND kind = $2 FOR UPDATE")
                .bind(key)
                .bind(kind)
                .fetch_optional(conn)
                .await?;
        let (state,) = state.ok_or_else(|| CallError::NotFound {
            key: key.into(),
            kind: kind.into(),
        })?;
        Ok(State::parse(&state)?)
    }
}
