//! The HTTP handler layer: JSON over HTTP for clients (apps, browsers, partners' scripts).
//!
//! A handler's job is translation only: request → service call → response, and `ServiceError` →
//! status code and error body (`error.rs`). It holds no business rule, so it rarely changes.
//! Around every route sit the request id, the span and the metrics (`observe.rs`), a body size
//! limit, and a JSON extractor that ignores, and names, the fields of a newer client (`json.rs`).
//! The server loop (`serve.rs`) bounds what a slow or stalled client can hold (`limits.rs`).

mod error;
mod json;
mod limits;
mod observe;
mod serve;
mod users;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};

pub use error::{ApiError, ErrorBody};
pub use json::{Fields, ValidJson};
pub use limits::Limits;
pub use serve::{Stopped, serve};
pub use users::{IGNORED_FIELDS, RegisterBody, UserBody};

use crate::metrics::Metrics;
use crate::repository::UserRepository;
use crate::service::UserService;

/// The largest request body accepted; a registration is a few hundred bytes.
pub const BODY_LIMIT: usize = 16 * 1024;

/// What every handler can reach.
pub struct HttpState<R> {
    pub service: Arc<UserService<R>>,
    pub metrics: Metrics,
}

impl<R> Clone for HttpState<R> {
    fn clone(&self) -> Self {
        Self {
            service: Arc::clone(&self.service),
            metrics: self.metrics.clone(),
        }
    }
}

// ANCHOR: router
pub fn router<R: UserRepository>(service: Arc<UserService<R>>, metrics: Metrics) -> Router {
    Router::new()
        .route("/users", post(users::register::<R>))
        .route("/users/{id}", get(users::get::<R>))
        .route("/metrics", get(observe::serve_metrics))
        .fallback(error::no_such_route)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(metrics.clone(), observe::observe))
        .with_state(HttpState { service, metrics })
}
// ANCHOR_END: router
