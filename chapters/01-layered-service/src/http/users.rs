//! The `/users` routes: register, fetch. Translation only; the rules are in the service.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ApiError, HttpState, ValidJson};
use crate::repository::UserRepository;
use crate::user::{Registration, User};

// ANCHOR: register_body
/// `POST /users`. A field the contract does not know is refused rather than ignored: a client that
/// sends `"nickname"` believes it is stored, and should learn otherwise now.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub date_of_birth: String,
    #[serde(default)]
    pub phone: Option<String>,
}
// ANCHOR_END: register_body

impl From<RegisterBody> for Registration {
    fn from(body: RegisterBody) -> Self {
        let RegisterBody {
            email,
            first_name,
            last_name,
            date_of_birth,
            phone,
        } = body;
        Registration {
            email,
            first_name,
            last_name,
            date_of_birth,
            phone,
        }
    }
}

/// A user as the HTTP API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserBody {
    pub id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub date_of_birth: String,
    pub phone: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<&User> for UserBody {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            date_of_birth: user.date_of_birth.to_string(),
            phone: user.phone.clone(),
            created_at: user.created_at,
        }
    }
}

// ANCHOR: handlers
pub async fn register<R: UserRepository>(
    State(state): State<HttpState<R>>,
    ValidJson(body): ValidJson<RegisterBody>,
) -> Result<(StatusCode, [(header::HeaderName, String); 1], Json<UserBody>), ApiError> {
    let user = state.service.register(body.into()).await?;
    let location = [(header::LOCATION, format!("/users/{}", user.id))];
    Ok((StatusCode::CREATED, location, Json(UserBody::from(&user))))
}

pub async fn get<R: UserRepository>(
    State(state): State<HttpState<R>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<UserBody>, ApiError> {
    // A path axum cannot decode (`/users/%FF`, not UTF-8) is answered in the API's own shape.
    let Path(id) = id.map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_argument",
            "the id in the path is not valid UTF-8",
            Some("id"),
        )
    })?;
    let user = state.service.get(&id).await?;
    Ok(Json(UserBody::from(&user)))
}
// ANCHOR_END: handlers
