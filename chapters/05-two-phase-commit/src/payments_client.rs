//! The caller's client of the payments service, over HTTP, and what a call's failure tells the
//! caller: refused for good, not now, or no answer at all (done or not, nobody knows).

use std::future::Future;
use std::time::Duration;

use reqwest::StatusCode;

use crate::remote::payments::{Charge, ChargeRequest};

/// Why a call did not come back with what it asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallFailure {
    /// The remote refused, and will refuse the same request again (a 4xx other than 409).
    #[error("refused ({status}): {message}")]
    Refused { status: u16, message: String },
    /// The remote could not do it now (a 5xx, or 409 while the same key is in flight): the same
    /// request, with the same key, may succeed later.
    #[error("unavailable ({status})")]
    Unavailable { status: u16 },
    /// No answer came: the request may have been done or not. Only asking again with the same
    /// key, or looking the resource up by its key, can tell.
    #[error("no answer: {0}")]
    NoAnswer(String),
}

// ANCHOR: port
/// The payments service, as the caller's use cases call it.
#[cfg_attr(test, mockall::automock)]
pub trait Payments {
    /// Charges `request` under `idempotency_key`.
    fn charge(
        &self,
        idempotency_key: &str,
        request: &ChargeRequest,
    ) -> impl Future<Output = Result<Charge, CallFailure>>;
    /// The charge with the caller's key `object_key`, if there is one.
    fn look_up(&self, object_key: &str) -> impl Future<Output = Result<Option<Charge>, CallFailure>>;
    /// Refunds the charge with the caller's key `object_key`, under `idempotency_key`.
    fn refund(&self, idempotency_key: &str, object_key: &str) -> impl Future<Output = Result<Charge, CallFailure>>;
}
// ANCHOR_END: port

/// A client of one payments service.
#[derive(Debug, Clone)]
pub struct PaymentsClient {
    base: String,
    http: reqwest::Client,
    /// The `X-Fault` header sent with each request, for tests and the tour.
    fault: Option<String>,
}

impl PaymentsClient {
    /// A client of the service at `base` (`http://host:port`, with or without a trailing `/`),
    /// giving up on a call after `timeout`.
    pub fn new(base: &str, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .expect("a reqwest client with a timeout");
        PaymentsClient {
            base: base.trim_end_matches('/').to_owned(),
            http,
            fault: None,
        }
    }

    /// The same client, asking the service for `fault` on each request (`X-Fault`).
    pub fn with_fault(&self, fault: &str) -> Self {
        PaymentsClient {
            fault: Some(fault.to_owned()),
            ..self.clone()
        }
    }
}

impl Payments for PaymentsClient {
    async fn charge(&self, idempotency_key: &str, request: &ChargeRequest) -> Result<Charge, CallFailure> {
        let call = self
            .http
            .post(format!("{}/charges", self.base))
            .header("idempotency-key", idempotency_key)
            .json(request);
        self.charge_from(call).await
    }

    async fn refund(&self, idempotency_key: &str, object_key: &str) -> Result<Charge, CallFailure> {
        let call = self
            .http
            .post(format!("{}/charges/{object_key}/refund", self.base))
            .header("idempotency-key", idempotency_key);
        self.charge_from(call).await
    }

    async fn look_up(&self, object_key: &str) -> Result<Option<Charge>, CallFailure> {
        let answer = self
            .http
            .get(format!("{}/charges/{object_key}", self.base))
            .send()
            .await
            .map_err(no_answer)?;
        match answer.status() {
            StatusCode::NOT_FOUND => Ok(None),
            status if status.is_success() => answer.json().await.map(Some).map_err(no_answer),
            status => Err(failure(status, answer).await),
        }
    }
}

impl PaymentsClient {
    /// Sends `call` with the client's fault, and reads a charge from a successful answer.
    async fn charge_from(&self, mut call: reqwest::RequestBuilder) -> Result<Charge, CallFailure> {
        if let Some(fault) = &self.fault {
            call = call.header("x-fault", fault);
        }
        let answer = call.send().await.map_err(no_answer)?;
        match answer.status() {
            status if status.is_success() => answer.json().await.map_err(no_answer),
            status => Err(failure(status, answer).await),
        }
    }
}

// ANCHOR: retrying
/// `attempt`, up to `attempts` times while it gets no answer or a "not now". A refusal is
/// returned at once; after the last attempt, its failure.
pub async fn retrying<T>(
    attempts: u32,
    mut attempt: impl AsyncFnMut() -> Result<T, CallFailure>,
) -> Result<T, CallFailure> {
    let mut last = CallFailure::NoAnswer("no attempt was made".into());
    for _ in 0..attempts {
        match attempt().await {
            Ok(done) => return Ok(done),
            Err(failure @ (CallFailure::NoAnswer(_) | CallFailure::Unavailable { .. })) => last = failure,
            Err(refused) => return Err(refused),
        }
    }
    Err(last)
}
// ANCHOR_END: retrying

fn no_answer(error: reqwest::Error) -> CallFailure {
    CallFailure::NoAnswer(error.to_string())
}

async fn failure(status: StatusCode, answer: reqwest::Response) -> CallFailure {
    if status.is_server_error() || status == StatusCode::CONFLICT {
        return CallFailure::Unavailable {
            status: status.as_u16(),
        };
    }
    CallFailure::Refused {
        status: status.as_u16(),
        message: answer.text().await.unwrap_or_default(),
    }
}
