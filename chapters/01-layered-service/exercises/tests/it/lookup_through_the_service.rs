//! Exercise `lookup_through_the_service`: `GET /users?email=` answers as the service's rules say,
//! through a real HTTP server on a real PostgreSQL.

use std::sync::Arc;

use ch01_exercises::lookup_through_the_service::router;
use ch01_layered_service::PgUsers;
use serde_json::Value;
use sqlx::PgPool;

use crate::support::{
    ada_registration, answer_of, assert_says_nothing_of_the_database, behind_a_proxy, database, serve, service,
};

/// Serves the route on `pool`, with Ada registered through the service (stored as
/// `ada@example.com`).
async fn route_with_ada(pool: PgPool) -> anyhow::Result<(String, String)> {
    let service = service(pool.clone());
    let ada = service.register(ada_registration()).await?;
    let url = serve(router(service, Arc::new(PgUsers::new(pool)))).await?;
    Ok((url, ada.id.to_string()))
}

async fn look_up(url: &str, email: &str) -> anyhow::Result<(u16, Value)> {
    let with_query = url::Url::parse_with_params(&format!("{url}/users"), [("email", email)])?;
    answer_of(reqwest::get(with_query).await?).await
}

#[tokio::test]
async fn a_user_is_found_however_the_email_is_cased_and_spaced() -> anyhow::Result<()> {
    let db = database().await?;
    let (url, ada) = route_with_ada(db.pool().clone()).await?;

    let (status, body) = look_up(&url, " Ada@Example.COM ").await?;

    assert_eq!(
        status, 200,
        "Ada registered with this address, in other capitals: {body}"
    );
    assert_eq!(body["id"], ada.as_str(), "{body}");
    assert_eq!(look_up(&url, "ada@example.com").await?.0, 200);
    Ok(())
}

#[tokio::test]
async fn nobody_is_404_and_no_address_is_400_naming_the_field() -> anyhow::Result<()> {
    let db = database().await?;
    let (url, _) = route_with_ada(db.pool().clone()).await?;

    let (status, body) = look_up(&url, "grace@example.com").await?;
    assert_eq!((status, &body["code"]), (404, &"not_found".into()), "{body}");

    let (status, body) = look_up(&url, "ada.example.com").await?;
    assert_eq!(
        status, 400,
        "an address with no @ is the client's to fix, as at registration: {body}"
    );
    assert_eq!(
        (&body["code"], &body["field"]),
        (&"invalid_argument".into(), &"email".into()),
        "{body}"
    );
    Ok(())
}

#[tokio::test]
async fn a_database_gone_is_500_and_says_nothing_of_it() -> anyhow::Result<()> {
    let db = database().await?;
    let (proxy, pool) = behind_a_proxy(&db).await?;
    let (url, _) = route_with_ada(pool).await?;
    proxy.cut().await;

    let (status, body) = look_up(&url, "ada@example.com").await?;

    assert_eq!(
        (status, &body["code"], &body["field"]),
        (500, &"internal".into(), &Value::Null),
        "{body}"
    );
    assert_says_nothing_of_the_database(&body);
    Ok(())
}
