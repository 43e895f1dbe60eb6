//! The service's unit tests: a mocked repository and mocked notifiers, no database, no network.
//! Each test says what the service must call, with what, and what it must answer.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{Datelike, NaiveDate, Utc};
use futures::FutureExt;
use mockall::predicate::eq;

use super::*;
use crate::metrics::{Metrics, NotificationOutcome};
use crate::notify::{Delivery, MockNotifier};
use crate::repository::MockUserRepository;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}

fn registration() -> Registration {
    Registration {
        email: "  Ada@Example.COM ".into(),
        first_name: " Ada ".into(),
        last_name: "Lovelace".into(),
        date_of_birth: "1990-12-10".into(),
        phone: Some("+44 7700 900123".into()),
    }
}

fn stored_ada() -> User {
    User {
        id: UserId::new(),
        email: "ada@example.com".into(),
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        date_of_birth: NaiveDate::from_ymd_opt(1990, 12, 10).unwrap(),
        phone: Some("+447700900123".into()),
        created_at: now(),
    }
}

/// A notifier that records what it was sent.
fn recording_notifier(sent: Arc<Mutex<Vec<Notification>>>) -> MockNotifier {
    let mut notifier = MockNotifier::new();
    notifier.expect_name().return_const("email");
    notifier.expect_send().returning(move |notification| {
        sent.lock().unwrap().push(notification);
        async { Ok(Delivery::Sent) }.boxed()
    });
    notifier
}

/// A notifier that must never be called.
fn silent_notifier() -> MockNotifier {
    let mut notifier = MockNotifier::new();
    notifier.expect_name().return_const("email");
    notifier.expect_send().never();
    notifier
}

fn service(users: MockUserRepository, notifier: MockNotifier) -> UserService<MockUserRepository> {
    let notifications = Notifications::new(Duration::from_secs(1), Metrics::new()).with(notifier);
    UserService::with_today(users, notifications, Arc::new(today))
}

fn unavailable() -> RepositoryError {
    RepositoryError::Unavailable(sqlx::Error::PoolTimedOut)
}

// ANCHOR: register_test
#[tokio::test]
async fn register_stores_the_normalised_user_and_welcomes_them() {
    let inserted = Arc::new(Mutex::new(None));
    let mut users = MockUserRepository::new();
    let keep = Arc::clone(&inserted);
    users.expect_insert().times(1).returning(move |user| {
        *keep.lock().unwrap() = Some(user.clone());
        Box::pin(async { Ok(()) })
    });
    let sent = Arc::new(Mutex::new(Vec::new()));
    let service = service(users, recording_notifier(Arc::clone(&sent)));

    let before = now();
    let user = service.register(registration()).await.unwrap();
    service.notifications().idle().await;

    assert_eq!(
        inserted.lock().unwrap().as_ref(),
        Some(&user),
        "the user returned is the user stored"
    );
    assert_eq!(user.email, "ada@example.com");
    assert_eq!(user.first_name, "Ada");
    assert_eq!(user.phone.as_deref(), Some("+447700900123"));
    assert_eq!(user.date_of_birth, NaiveDate::from_ymd_opt(1990, 12, 10).unwrap());
    assert_eq!(user.id.0.get_version_num(), 7, "ids are UUIDv7");
    assert!(user.created_at >= before && user.created_at <= now());
    assert_eq!(*sent.lock().unwrap(), [Notification::welcome(&user)]);
}
// ANCHOR_END: register_test

#[tokio::test]
async fn invalid_input_reaches_neither_the_repository_nor_the_notifiers() {
    let mut users = MockUserRepository::new();
    users.expect_insert().never();
    let service = service(users, silent_notifier());
    let input = Registration {
        date_of_birth: "2010-01-01".into(),
        ..registration()
    };

    let error = service.register(input).await.unwrap_err();

    assert!(
        matches!(&error, ServiceError::InvalidArgument { field: "date_of_birth", message } if message.contains("under 18")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_taken_email_is_already_exists_and_nobody_is_welcomed() {
    let mut users = MockUserRepository::new();
    users
        .expect_insert()
        .times(1)
        .returning(|user| Box::pin(std::future::ready(Err(RepositoryError::EmailTaken(user.email.clone())))));
    let service = service(users, silent_notifier());

    let error = service.register(registration()).await.unwrap_err();
    service.notifications().idle().await;

    assert!(
        matches!(error, ServiceError::AlreadyExists { field: "email" }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_failing_store_is_internal_and_nobody_is_welcomed() {
    let mut users = MockUserRepository::new();
    users
        .expect_insert()
        .times(1)
        .returning(|_| Box::pin(async { Err(unavailable()) }));
    let service = service(users, silent_notifier());

    let error = service.register(registration()).await.unwrap_err();
    service.notifications().idle().await;

    assert!(
        matches!(error, ServiceError::Internal(RepositoryError::Unavailable(_))),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_failing_notifier_does_not_fail_the_registration() {
    let mut users = MockUserRepository::new();
    users.expect_insert().times(1).returning(|_| Box::pin(async { Ok(()) }));
    let mut notifier = MockNotifier::new();
    notifier.expect_name().return_const("sms");
    notifier
        .expect_send()
        .times(1)
        .returning(|_| async { Err(crate::notify::NotifyError::Rejected { status: 503 }) }.boxed());
    let metrics = Metrics::new();
    let notifications = Notifications::new(Duration::from_secs(1), metrics.clone()).with(notifier);
    let service = UserService::with_today(users, notifications, Arc::new(today));

    assert!(service.register(registration()).await.is_ok());
    service.notifications().idle().await;
    assert_eq!(metrics.notifications("sms", NotificationOutcome::Failed), 1);
}

#[tokio::test]
async fn the_default_clock_is_the_real_date() {
    let mut users = MockUserRepository::new();
    users.expect_insert().times(1).returning(|_| Box::pin(async { Ok(()) }));
    let service = UserService::new(users, Notifications::new(Duration::from_secs(1), Metrics::new()));
    let real_today = Utc::now().date_naive();
    let turns_18_tomorrow = real_today
        .with_year(real_today.year() - 18)
        .unwrap()
        .succ_opt()
        .unwrap();
    let turned_18_today = real_today.with_year(real_today.year() - 18).unwrap();

    let too_young = Registration {
        date_of_birth: turns_18_tomorrow.to_string(),
        ..registration()
    };
    let error = service.register(too_young).await.unwrap_err();
    assert_eq!(error.field(), Some("date_of_birth"), "{error:?}");
    let adult = Registration {
        date_of_birth: turned_18_today.to_string(),
        ..registration()
    };
    assert!(service.register(adult).await.is_ok());
}

#[tokio::test]
async fn get_parses_the_id_and_asks_the_repository_for_it() {
    let ada = stored_ada();
    let mut users = MockUserRepository::new();
    let found = ada.clone();
    users.expect_by_id().with(eq(ada.id)).times(1).returning(move |_| {
        let found = found.clone();
        Box::pin(async move { Ok(Some(found)) })
    });
    let service = service(users, silent_notifier());

    assert_eq!(service.get(&format!(" {} ", ada.id)).await.unwrap(), ada);
}

#[tokio::test]
async fn get_answers_invalid_argument_for_a_malformed_id_without_asking() {
    let mut users = MockUserRepository::new();
    users.expect_by_id().never();
    let service = service(users, silent_notifier());

    let error = service.get("42").await.unwrap_err();

    assert!(
        matches!(error, ServiceError::InvalidArgument { field: "id", .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn get_answers_not_found_and_internal() {
    let mut users = MockUserRepository::new();
    let missing = UserId::new();
    users
        .expect_by_id()
        .with(eq(missing))
        .times(1)
        .returning(|_| Box::pin(async { Ok(None) }));
    let broken = UserId::new();
    users
        .expect_by_id()
        .with(eq(broken))
        .times(1)
        .returning(|_| Box::pin(async { Err(unavailable()) }));
    let service = service(users, silent_notifier());

    let error = service.get(&missing.to_string()).await.unwrap_err();
    assert!(matches!(error, ServiceError::NotFound { field: "id" }), "{error:?}");
    let error = service.get(&broken.to_string()).await.unwrap_err();
    assert!(matches!(error, ServiceError::Internal(_)), "{error:?}");
}

#[tokio::test]
async fn find_by_email_normalises_the_email_before_asking() {
    let ada = stored_ada();
    let mut users = MockUserRepository::new();
    let found = ada.clone();
    users
        .expect_by_email()
        .with(eq("ada@example.com"))
        .times(1)
        .returning(move |_| {
            let found = found.clone();
            Box::pin(async move { Ok(Some(found)) })
        });
    let service = service(users, silent_notifier());

    assert_eq!(service.find_by_email("  ADA@example.com").await.unwrap(), ada);
}

#[tokio::test]
async fn find_by_email_rejects_a_malformed_email_without_asking() {
    let mut users = MockUserRepository::new();
    users.expect_by_email().never();
    let service = service(users, silent_notifier());

    let error = service.find_by_email("not-an-email").await.unwrap_err();

    assert!(
        matches!(error, ServiceError::InvalidArgument { field: "email", .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn find_by_email_answers_not_found_and_internal() {
    let mut users = MockUserRepository::new();
    users
        .expect_by_email()
        .with(eq("nobody@example.com"))
        .times(1)
        .returning(|_| Box::pin(async { Ok(None) }));
    users
        .expect_by_email()
        .with(eq("broken@example.com"))
        .times(1)
        .returning(|_| Box::pin(async { Err(unavailable()) }));
    let service = service(users, silent_notifier());

    let error = service.find_by_email("nobody@example.com").await.unwrap_err();
    assert!(matches!(error, ServiceError::NotFound { field: "email" }), "{error:?}");
    let error = service.find_by_email("broken@example.com").await.unwrap_err();
    assert!(matches!(error, ServiceError::Internal(_)), "{error:?}");
}
