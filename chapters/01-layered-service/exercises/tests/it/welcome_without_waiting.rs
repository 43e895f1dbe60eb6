//! Exercise `welcome_without_waiting`: the welcome goes out beside the registration, never in its
//! way, through the chapter's email and SMS providers against real HTTP servers, with the users on
//! a real PostgreSQL.

use std::sync::Arc;
use std::time::Duration;

use ch01_exercises::welcome_without_waiting::{Welcome, register};
use ch01_layered_service::notify::{Email, Sms};
use ch01_layered_service::{PgUsers, User, UserService};
use harness::PgDatabase;
use tokio::time::{Instant, timeout};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{ada_registration, database, service};

/// How long each provider may take with a welcome.
const DEADLINE: Duration = Duration::from_secs(2);

/// A provider's API at `route`, answering 200 after `delay`.
async fn provider(route: &str, delay: Duration) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(route))
        .respond_with(ResponseTemplate::new(200).set_delay(delay))
        .mount(&server)
        .await;
    server
}

/// Email first, SMS second, as a welcome is usually plugged in.
fn welcome(email: &MockServer, sms: &MockServer) -> Welcome {
    Welcome::new(
        vec![Arc::new(Email::new(&email.uri())), Arc::new(Sms::new(&sms.uri()))],
        DEADLINE,
    )
}

async fn received(server: &MockServer) -> usize {
    server.received_requests().await.unwrap_or_default().len()
}

async fn stored_users(db: &PgDatabase) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(db.pool())
        .await?)
}

/// Ada registered while the mail provider hangs (it would answer in 30 s) and the SMS gateway
/// answers at once; with how long the registration took.
struct HangingMail {
    db: PgDatabase,
    email: MockServer,
    sms: MockServer,
    welcome: Welcome,
    registration_took: Duration,
    user: User,
}

async fn register_while_the_mail_provider_hangs() -> anyhow::Result<HangingMail> {
    let db = database().await?;
    let (email, sms) = (
        provider("/v1/email", Duration::from_secs(30)).await,
        provider("/v1/sms", Duration::ZERO).await,
    );
    let welcome = welcome(&email, &sms);
    let users = service(db.pool().clone());
    let started = Instant::now();
    let user = timeout(Duration::from_secs(5), register(&users, &welcome, ada_registration()))
        .await
        .map_err(|_| anyhow::anyhow!("the registration was still waiting for the mail provider after 5 s"))??;
    Ok(HangingMail {
        db,
        email,
        sms,
        welcome,
        registration_took: started.elapsed(),
        user,
    })
}

#[tokio::test]
async fn a_mail_provider_that_hangs_holds_up_neither_the_registration_nor_the_sms() -> anyhow::Result<()> {
    let hanging = register_while_the_mail_provider_hangs().await?;

    assert!(
        hanging.registration_took < DEADLINE,
        "the registration took {:?}: it waited for a welcome",
        hanging.registration_took
    );
    assert_eq!(hanging.user.email, "ada@example.com");
    assert_eq!(stored_users(&hanging.db).await?, 1);
    timeout(Duration::from_secs(5), hanging.welcome.idle()).await?;
    assert_eq!(
        received(&hanging.sms).await,
        1,
        "the SMS should not wait behind the email"
    );
    Ok(())
}

#[tokio::test]
async fn a_welcome_that_hangs_is_given_up_at_its_deadline() -> anyhow::Result<()> {
    let hanging = register_while_the_mail_provider_hangs().await?;

    let started = Instant::now();
    timeout(DEADLINE * 4, hanging.welcome.idle())
        .await
        .map_err(|_| anyhow::anyhow!("a welcome was still running {:?} after it was sent", DEADLINE * 4))?;

    assert!(
        started.elapsed() < DEADLINE * 2,
        "given up after {:?}",
        started.elapsed()
    );
    assert_eq!(received(&hanging.email).await, 1, "the mail provider was asked once");
    Ok(())
}

#[tokio::test]
async fn a_caller_that_goes_away_once_the_user_is_stored_still_leaves_both_welcomes_sent() -> anyhow::Result<()> {
    let db = database().await?;
    // Healthy, but not instant: the caller hangs up while the email is on its way.
    let (email, sms) = (
        provider("/v1/email", Duration::from_millis(300)).await,
        provider("/v1/sms", Duration::ZERO).await,
    );
    let welcome = Arc::new(welcome(&email, &sms));
    let users: Arc<UserService<PgUsers>> = service(db.pool().clone());

    let request = tokio::spawn({
        let (users, welcome) = (Arc::clone(&users), Arc::clone(&welcome));
        async move { register(&users, &welcome, ada_registration()).await }
    });
    // The client hangs up as soon as the user is stored, the way a dropped HTTP request's
    // handler future is dropped.
    let stored = Instant::now();
    while stored_users(&db).await? == 0 {
        anyhow::ensure!(stored.elapsed() < Duration::from_secs(5), "the user was never stored");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    request.abort();
    let _ = request.await;

    timeout(Duration::from_secs(5), welcome.idle()).await?;
    assert_eq!(received(&email).await, 1, "the email went out");
    assert_eq!(
        received(&sms).await,
        1,
        "the SMS was lost with the request that caused it"
    );
    Ok(())
}
