//! What wraps every HTTP request: its request id, its span, its metrics.
//!
//! The request runs inside its [`Observed`] span, so every log line of the request carries
//! `request_id`. The route recorded is axum's matched template (`GET /users/{id}`), or `unmatched`,
//! never the raw path.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use super::HttpState;
use crate::metrics::Metrics;
use crate::observed::Observed;
use crate::request_id;

// ANCHOR: observe
pub async fn observe(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let sent = request
        .headers()
        .get(request_id::HEADER)
        .and_then(|value| value.to_str().ok());
    let route = match request.extensions().get::<MatchedPath>() {
        Some(path) => format!("{} {}", request.method(), path.as_str()),
        None => "unmatched".to_owned(),
    };
    let observed = Observed::start("http", route, sent);

    let mut response = next.run(request).instrument(observed.span()).await;

    let request_id = observed.finish(&metrics, response.status().as_str());
    let id = HeaderValue::from_str(request_id.as_str()).expect("a request id is ASCII");
    response.headers_mut().insert(request_id::HEADER, id);
    response
}
// ANCHOR_END: observe

pub async fn serve_metrics<R>(State(state): State<HttpState<R>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
