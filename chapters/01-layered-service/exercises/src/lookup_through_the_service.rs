//! Exercise: `GET /users?email=…`, a new route that goes through the service (statement:
//! `statements/lookup_through_the_service.md`, or `workbook hint lookup_through_the_service`).

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use ch01_layered_service::http::{ApiError, UserBody};
use ch01_layered_service::{UserRepository, UserService};
use serde::Deserialize;

/// What the route can reach. It was given the repository too, for the shortcut below.
pub struct Lookup<R> {
    pub service: Arc<UserService<R>>,
    pub users: Arc<R>,
}

impl<R> Clone for Lookup<R> {
    fn clone(&self) -> Self {
        Self {
            service: Arc::clone(&self.service),
            users: Arc::clone(&self.users),
        }
    }
}

/// The query string: `?email=ada@example.com`.
#[derive(Debug, Deserialize)]
pub struct ByEmail {
    pub email: String,
}

pub fn router<R: UserRepository>(service: Arc<UserService<R>>, users: Arc<R>) -> Router {
    Router::new()
        .route("/users", get(find_by_email::<R>))
        .with_state(Lookup { service, users })
}

/// `GET /users?email=…`: the user with this email.
pub async fn find_by_email<R: UserRepository>(
    State(state): State<Lookup<R>>,
    Query(query): Query<ByEmail>,
) -> Result<Json<UserBody>, ApiError> {
    // The gap: straight to the repository, past the service. The email is looked up as typed,
    // and the handler makes up its own answers.
    match state.users.by_email(&query.email).await {
        Ok(Some(user)) => Ok(Json(UserBody::from(&user))),
        Ok(None) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such user",
            Some("email"),
        )),
        Err(error) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            error.to_string(),
            None,
        )),
    }
}
