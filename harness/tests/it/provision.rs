//! Every service resolves and answers; one that does not fails the test with a message that says
//! how to provide it.

use harness::ServiceKind;
use harness::crash::ChildTest;
use rstest::rstest;

use crate::support::closed_port;

#[rstest]
#[case::postgres(ServiceKind::Postgres, "PostgreSQL")]
#[case::mysql(ServiceKind::MySql, "MariaDB")]
#[case::redis(ServiceKind::Redis, "Redis")]
#[case::kafka(ServiceKind::Kafka, "brokers")]
#[tokio::test]
async fn every_provider_resolves_and_answers(
    #[case] kind: ServiceKind,
    #[case] described_as: &str,
) -> anyhow::Result<()> {
    let endpoint = harness::endpoint(kind).await?;
    let answer = harness::probe::probe(kind, &endpoint.url)
        .await
        .map_err(anyhow::Error::msg)?;
    println!("{kind} from {}: {answer}", endpoint.origin);
    assert_eq!(endpoint.kind, kind);
    assert!(answer.contains(described_as), "{kind} answered {answer:?}");
    Ok(())
}

/// Each case runs the matching case of the test above in a child process, with the service's
/// variable pointing at a port where nothing listens. The URLs carry a password, which the
/// message masks.
#[rstest]
#[case::postgres(
    ServiceKind::Postgres,
    "case_1_postgres",
    "postgres://postgres:hunter2@127.0.0.1:{port}/postgres"
)]
#[case::mysql(ServiceKind::MySql, "case_2_mysql", "mysql://root:hunter2@127.0.0.1:{port}/mysql")]
#[case::redis(ServiceKind::Redis, "case_3_redis", "redis://:hunter2@127.0.0.1:{port}")]
#[case::kafka(ServiceKind::Kafka, "case_4_kafka", "127.0.0.1:{port}")]
#[tokio::test]
async fn a_service_that_does_not_answer_fails_the_test_and_says_how_to_provide_it(
    #[case] kind: ServiceKind,
    #[case] case: &str,
    #[case] url: &str,
) -> anyhow::Result<()> {
    let url = url.replace("{port}", &closed_port().to_string());
    let child = ChildTest::new(format!("provision::every_provider_resolves_and_answers::{case}"))
        .env(kind.env_var(), &url)
        .env("WORKBOOK_READY_SECS", "1")
        .run()
        .await?;

    assert!(
        !child.status.success(),
        "the child should fail without its service:\n{child}"
    );
    let output = child.output();
    for expected in [
        format!("{kind} is not available to this test"),
        format!(
            "{}={} is set, but that server does not answer",
            kind.env_var(),
            url.replace("hunter2", "***")
        ),
        format!("export {}=", kind.env_var()),
        "start a Docker engine".to_owned(),
    ] {
        assert!(output.contains(&expected), "missing {expected:?} in:\n{child}");
    }
    assert!(!output.contains("hunter2"), "a password was printed:\n{child}");
    Ok(())
}

/// An error about a server the harness could not reach names the server, never its password.
#[tokio::test]
async fn errors_that_name_a_server_mask_its_password() {
    let nobody_listens = [
        harness::database::drop_by_name::<sqlx::Postgres>("postgres://app:hunter2@127.0.0.1:1/postgres", "x")
            .await
            .expect_err("nothing listens on port 1")
            .to_string(),
        harness::database::drop_by_name::<sqlx::MySql>("mysql://app:hunter2@127.0.0.1:1/mysql", "x")
            .await
            .expect_err("nothing listens on port 1")
            .to_string(),
        harness::fault::FaultProxy::route("postgres://app:hunter2@/no-host")
            .await
            .map(|_| ())
            .expect_err("a URL without a host")
            .to_string(),
    ];
    for message in nobody_listens {
        assert!(!message.contains("hunter2"), "a password was printed: {message}");
        assert!(message.contains("app:***@"), "{message}");
    }
}
