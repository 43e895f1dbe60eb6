//! Exercise: `GET /users?email=…`, a new route that goes through the service (statement:
//! `statements/lookup_through_the_service.md`, or `workbook hint lookup_through_the_service`).

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use ch01_layered_service::http::{ApiError, UserBody};
use ch01_layered_service::{UserRepository, UserService};
use serde::Deserialize;

/// What the route can reach. The repository is still handed in (the checks build the route that
/// way), but a handler has no use for it: the service is its only door to the users.
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
    // Translation only: the service normalises and checks the email as registration does, and
    // its errors become answers in the one place every route shares (`From<ServiceError>`).
    let user = state.service.find_by_email(&query.email).await?;
    Ok(Json(UserBody::from(&user)))
}
