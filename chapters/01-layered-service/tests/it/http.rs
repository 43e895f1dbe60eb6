//! The HTTP handlers, called in-process through `tower::ServiceExt::oneshot`: no port, no client,
//! but the full router with its middleware, extractors and error mapping.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use ch01_layered_service::http::{BODY_LIMIT, ErrorBody, Fields, IGNORED_FIELDS, RegisterBody, UserBody, router};
use ch01_layered_service::{InMemoryUsers, Metrics, Notifications, UserRepository, UserService};
use rstest::rstest;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::*;

fn app_on(users: impl UserRepository) -> Router {
    let metrics = Metrics::new();
    let service = UserService::new(users, Notifications::new(Duration::from_secs(1), metrics.clone()));
    router(Arc::new(service), metrics)
}

fn app() -> Router {
    app_on(InMemoryUsers::new())
}

#[tokio::test]
async fn register_answers_201_with_the_normalised_user_and_where_to_find_it() {
    let app = app();

    let response = app
        .clone()
        .oneshot(post_json("/users", ada().to_string()))
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()[header::LOCATION].to_str().unwrap().to_owned();
    let created: UserBody = body_json(response).await;
    assert_eq!(location, format!("/users/{}", created.id));
    assert_eq!(created.email, "ada@example.com");
    assert_eq!(created.phone.as_deref(), Some("+447700900123"));
    let fetched = app.oneshot(get(&location)).await.unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(body_json::<UserBody>(fetched).await, created);
}

fn with_field(name: &str, value: Value) -> String {
    let mut body = ada();
    body[name] = value;
    body.to_string()
}

fn without_field(name: &str) -> String {
    let mut body = ada();
    body.as_object_mut().unwrap().remove(name);
    body.to_string()
}

// ANCHOR: bad_requests
/// Everything a client can get wrong, answered in one shape: status, code, field, and a message
/// that names the problem.
#[rstest]
#[case::missing_field(
    without_field("last_name"),
    "application/json",
    400,
    "invalid_argument",
    Some("last_name"),
    "missing field `last_name`"
)]
#[case::wrong_type(with_field("phone", json!(447700900123u64)), "application/json", 400, "invalid_argument", Some("phone"), "invalid type: integer")]
#[case::malformed(r#"{"email": "ada@example.com","#.to_owned(), "application/json", 400, "invalid_argument", None, "malformed JSON")]
#[case::trailing_garbage(format!("{} {{}}", ada()), "application/json", 400, "invalid_argument", None, "trailing characters")]
#[case::invalid_value(with_field("date_of_birth", json!("2015-05-05")), "application/json", 400, "invalid_argument", Some("date_of_birth"), "under 18")]
#[case::not_json(ada().to_string(), "text/plain", 415, "unsupported_media_type", None, "application/json")]
#[case::too_large(with_field("last_name", json!("x".repeat(BODY_LIMIT))), "application/json", 413, "payload_too_large", None, "16384 bytes")]
#[case::null_body("null".to_owned(), "application/json", 400, "invalid_argument", None, "must be a JSON object")]
#[case::array_body("[]".to_owned(), "application/json", 400, "invalid_argument", None, "must be a JSON object")]
#[tokio::test]
async fn bad_requests_get_one_error_shape(
    #[case] body: String,
    #[case] content_type: &str,
    #[case] status: u16,
    #[case] code: &str,
    #[case] field: Option<&str>,
    #[case] says: &str,
) {
    let request = Request::post("/users")
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap();

    let response = app().oneshot(request).await.unwrap();

    assert_eq!(response.status().as_u16(), status);
    let error: ErrorBody = body_json(response).await;
    assert_eq!(
        (error.code.as_str(), error.field.as_deref()),
        (code, field),
        "{error:?}"
    );
    assert!(error.message.contains(says), "{:?} should say {says:?}", error.message);
    assert!(
        !error.message.contains("RegisterBody"),
        "names a Rust type: {:?}",
        error.message
    );
}
// ANCHOR_END: bad_requests

/// A path that is not UTF-8 gets the API's error shape, not axum's plain-text rejection.
#[tokio::test]
async fn a_path_that_is_not_utf8_gets_the_error_shape() {
    let response = app().oneshot(get("/users/%FF")).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE].to_str().unwrap(),
        "application/json"
    );
    let error: ErrorBody = body_json(response).await;
    assert_eq!(
        (error.code.as_str(), error.field.as_deref()),
        ("invalid_argument", Some("id"))
    );
}

/// A body that breaks off while it is read (a client that sent less than its Content-Length, a
/// dropped connection) is a 400 in the error shape, without hyper's internal words.
#[tokio::test]
async fn a_body_that_breaks_off_gets_the_error_shape() {
    let chunks: Vec<Result<&'static str, std::io::Error>> = vec![
        Ok(r#"{"email": "ada@exa"#),
        Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the client went away",
        )),
    ];
    let request = Request::post("/users")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(futures::stream::iter(chunks)))
        .unwrap();
    let response = app().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let error: ErrorBody = body_json(response).await;
    assert_eq!(error.code, "invalid_argument");
    assert!(error.message.contains("could not be read in full"), "{error:?}");
    assert!(
        !error.message.contains("went away") && !error.message.contains("buffer"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_taken_email_is_409_whatever_its_case() {
    let app = app();
    let first = app
        .clone()
        .oneshot(post_json("/users", ada_as("ada@example.com").to_string()))
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);

    let second = app
        .oneshot(post_json("/users", ada_as("ADA@example.com").to_string()))
        .await
        .unwrap();

    assert_eq!(second.status(), StatusCode::CONFLICT);
    let error: ErrorBody = body_json(second).await;
    assert_eq!(
        (error.code.as_str(), error.field.as_deref()),
        ("already_exists", Some("email"))
    );
}

#[tokio::test]
async fn an_unknown_id_is_404_and_a_malformed_one_400() {
    let app = app();

    let missing = app
        .clone()
        .oneshot(get(&format!("/users/{}", uuid::Uuid::now_v7())))
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let error: ErrorBody = body_json(missing).await;
    assert_eq!((error.code.as_str(), error.field.as_deref()), ("not_found", Some("id")));

    let malformed = app.oneshot(get("/users/42")).await.unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let error: ErrorBody = body_json(malformed).await;
    assert_eq!(
        (error.code.as_str(), error.field.as_deref()),
        ("invalid_argument", Some("id"))
    );
}

#[tokio::test]
async fn an_internal_error_is_500_and_tells_the_client_nothing_of_its_cause() {
    let app = app_on(unreachable_users());

    let response = app.oneshot(post_json("/users", ada().to_string())).await.unwrap();

    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let request_id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    let text = body_text(response).await;
    let error: ErrorBody = serde_json::from_str(&text).unwrap();
    assert_eq!((error.code.as_str(), error.field), ("internal", None));
    assert!(error.message.contains("x-request-id"), "{text}");
    for secret in ["127.0.0.1", "nobody", "pool", "timed out"] {
        assert!(
            !text.contains(secret),
            "the body leaks {secret:?}: {text} (request {request_id})"
        );
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_same_shape() {
    let app = app();

    let response = app.clone().oneshot(get("/people")).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(body_json::<ErrorBody>(response).await.code, "not_found");

    let response = app
        .oneshot(Request::delete("/users").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body_json::<ErrorBody>(response).await.code, "method_not_allowed");
}

#[rstest]
#[case::kept(Some("checkout-7f3a"), true)]
#[case::replaced_when_absurd(Some("x\"; DROP TABLE users"), false)]
#[case::made_when_absent(None, false)]
#[tokio::test]
async fn every_response_carries_a_request_id(#[case] sent: Option<&str>, #[case] kept: bool) {
    let mut request = get("/users/42");
    if let Some(id) = sent {
        request.headers_mut().insert("x-request-id", id.parse().unwrap());
    }

    let response = app().oneshot(request).await.unwrap();

    let id = response.headers()["x-request-id"].to_str().unwrap();
    if kept {
        assert_eq!(Some(id), sent);
    } else {
        assert!(uuid::Uuid::parse_str(id).is_ok(), "a generated id is a UUID: {id}");
    }
}

/// The log lines of the service layer carry the id of the request that caused them.
#[tokio::test(flavor = "current_thread")]
async fn the_request_id_reaches_the_service_layer_logs() {
    let logs = Arc::new(Mutex::new(Vec::new()));
    let writer = {
        let logs = Arc::clone(&logs);
        move || Capture(Arc::clone(&logs))
    };
    let subscriber = tracing_subscriber::fmt().with_writer(writer).with_ansi(false).finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let mut request = post_json("/users", ada().to_string());
    request
        .headers_mut()
        .insert("x-request-id", "trace-me-42".parse().unwrap());

    let response = app().oneshot(request).await.unwrap();

    assert_eq!(response.status(), StatusCode::CREATED);
    let logs = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    let line = logs
        .lines()
        .find(|line| line.contains("registered"))
        .unwrap_or_else(|| panic!("no registration logged:\n{logs}"));
    assert!(
        line.contains("request_id=trace-me-42") && line.contains("service.register"),
        "{line}"
    );
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_outcome() {
    let app = app();
    let created: UserBody = body_json(
        app.clone()
            .oneshot(post_json("/users", ada().to_string()))
            .await
            .unwrap(),
    )
    .await;
    app.clone()
        .oneshot(get(&format!("/users/{}", created.id)))
        .await
        .unwrap();
    app.clone()
        .oneshot(get(&format!("/users/{}", uuid::Uuid::now_v7())))
        .await
        .unwrap();
    app.clone().oneshot(get("/nowhere")).await.unwrap();

    let response = app.oneshot(get("/metrics")).await.unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = body_text(response).await;
    for line in [
        r#"users_requests_total{protocol="http",route="POST /users",outcome="201"} 1"#,
        r#"users_requests_total{protocol="http",route="GET /users/{id}",outcome="200"} 1"#,
        r#"users_requests_total{protocol="http",route="GET /users/{id}",outcome="404"} 1"#,
        r#"users_requests_total{protocol="http",route="unmatched",outcome="404"} 1"#,
        r#"users_request_duration_seconds_count{protocol="http",route="GET /users/{id}"} 2"#,
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
    }
    assert!(!text.contains(&created.id), "a user id became a label value");
}

// ANCHOR: rollout
/// A newer client meets an older server (this one): the field the server does not know is
/// ignored, the registration succeeds, and the response names what was ignored, so that a typo
/// is still visible. An older client meets a newer server: it leaves out the optional field that
/// came later (`phone`), and succeeds too.
#[rstest]
#[case::newer_client(with_field("nickname", json!("ada")), Some("nickname"))]
#[case::newer_client_two_fields(
    {
        let mut body = ada();
        body["nickname"] = json!("ada");
        body["pronouns"] = json!("she/her");
        body.to_string()
    },
    Some("nickname, pronouns")
)]
#[case::older_client(without_field("phone"), None)]
#[tokio::test]
async fn clients_older_and_newer_than_the_server_both_register(#[case] body: String, #[case] ignored: Option<&str>) {
    let response = app().oneshot(post_json("/users", body)).await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let named = response
        .headers()
        .get(IGNORED_FIELDS)
        .map(|value| value.to_str().unwrap().to_owned());
    assert_eq!(named.as_deref(), ignored);
}
// ANCHOR_END: rollout

/// The list of fields the server knows is the body's own: every field of a full body is in it,
/// and nothing else.
#[test]
fn the_known_fields_are_exactly_the_bodys() {
    let full: RegisterBody = serde_json::from_value(ada()).unwrap();
    let mut full = serde_json::to_value(full).unwrap();
    full["phone"] = json!("+447700900123");
    let mut sent: Vec<&str> = full.as_object().unwrap().keys().map(String::as_str).collect();
    let mut known = RegisterBody::FIELDS.to_vec();
    sent.sort_unstable();
    known.sort_unstable();
    assert_eq!(sent, known);
}
