//! The `/users` routes: register, fetch. Translation only; the rules are in the service.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::json::Fields;
use super::{ApiError, HttpState, ValidJson};
use crate::repository::UserRepository;
use crate::user::{Registration, User};

// ANCHOR: register_body
/// `POST /users`. A field the contract does not know is ignored and named back in the
/// `ignored-fields` header (see [`Fields`]); a missing required field is refused.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RegisterBody {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub date_of_birth: String,
    #[serde(default)]
    pub phone: Option<String>,
}
// ANCHOR_END: register_body

impl Fields for RegisterBody {
    const FIELDS: &'static [&'static str] = &["email", "first_name", "last_name", "date_of_birth", "phone"];
}

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
    ValidJson { body, ignored }: ValidJson<RegisterBody>,
) -> Result<(StatusCode, HeaderMap, Json<UserBody>), ApiError> {
    let user = state.service.register(body.into()).await?;
    let mut headers = HeaderMap::new();
    let location = format!("/users/{}", user.id);
    headers.insert(
        header::LOCATION,
        location.parse().expect("an id is a valid header value"),
    );
    if !ignored.is_empty()
        && let Ok(names) = ignored.join(", ").parse()
    {
        headers.insert(IGNORED_FIELDS, names);
    }
    Ok((StatusCode::CREATED, headers, Json(UserBody::from(&user))))
}

/// The response header naming the body's fields this server ignored.
pub const IGNORED_FIELDS: &str = "ignored-fields";

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
