//! The `workbook` binary, run as a reader runs it.

use std::process::{Command, Output};

fn workbook(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_workbook"))
        .args(args)
        .output()
        .expect("the workbook binary runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn the_tour_runs_on_embedded_defaults_and_narrates_the_cut_and_the_restore() {
    // No service variables: the embedded tour must not need any.
    let output = Command::new(env!("CARGO_BIN_EXE_workbook"))
        .arg("tour")
        .env_remove("WORKBOOK_POSTGRES_URL")
        .env_remove("WORKBOOK_MYSQL_URL")
        .env_remove("WORKBOOK_REDIS_URL")
        .env_remove("WORKBOOK_KAFKA_BROKERS")
        .output()
        .expect("the workbook binary runs");
    let said = text(&output);
    assert!(output.status.success(), "{said}");
    for expected in [
        "[1] Two tests ask for a database at the same time",
        "SQLite in memory",
        r#"ok the first test sees ["first test"]; the second sees ["second test"]"#,
        "!! broker down: the send gives up",
        "ok broker up: the next event is delivered",
        "[4] The tests end",
    ] {
        assert!(said.contains(expected), "missing {expected:?} in:\n{said}");
    }
}

#[test]
fn the_real_tour_clones_databases_and_cuts_a_postgres_connection() {
    let output = workbook(&["tour", "harness", "--real"]);
    let said = text(&output);
    assert!(output.status.success(), "{said}");
    for expected in [
        "PostgreSQL database wbt_",
        "!! proxy cut: the query fails",
        "ok proxy restored",
        "nothing is left for the next run",
    ] {
        assert!(said.contains(expected), "missing {expected:?} in:\n{said}");
    }
}

#[test]
fn a_tour_of_an_unknown_or_unwritten_chapter_fails_and_says_why() {
    let unknown = workbook(&["tour", "no-such-chapter"]);
    assert!(!unknown.status.success());
    assert!(
        text(&unknown).contains("the chapters are: harness, 01-layered-service"),
        "{}",
        text(&unknown)
    );

    let planned = workbook(&["tour", "8"]);
    assert!(!planned.status.success());
    assert!(
        text(&planned).contains("chapter 08-publishing is not written yet"),
        "{}",
        text(&planned)
    );
}

#[test]
fn doctor_reports_every_service_answering() {
    let output = workbook(&["doctor"]);
    let said = text(&output);
    assert!(output.status.success(), "{said}");
    assert_eq!(said.matches("  answers: ").count(), 4, "{said}");
    // Both database servers say what their durability costs a test run, whichever they are.
    assert!(said.contains("  runs:    fsync="), "{said}");
    assert!(said.contains("  runs:    innodb_flush_log_at_trx_commit="), "{said}");
}

/// Passwords in the service URLs never reach the output: not where a server answers (the first
/// two: trust authentication ignores the password), not where it does not (the last two, on a
/// port where nothing listens).
#[test]
fn doctor_masks_the_passwords_in_service_urls() {
    let output = Command::new(env!("CARGO_BIN_EXE_workbook"))
        .arg("doctor")
        .env(
            "WORKBOOK_POSTGRES_URL",
            "postgres://postgres:hunter2@127.0.0.1:5432/postgres",
        )
        .env("WORKBOOK_MYSQL_URL", "mysql://root:hunter2@127.0.0.1:1/mysql")
        .env("WORKBOOK_REDIS_URL", "redis://:hunter2@127.0.0.1:1")
        .env("WORKBOOK_READY_SECS", "1")
        .output()
        .expect("the workbook binary runs");
    let said = text(&output);
    assert!(!said.contains("hunter2"), "a password was printed:\n{said}");
    assert!(
        said.contains("postgres://postgres:***@127.0.0.1:5432/postgres"),
        "{said}"
    );
    assert!(said.contains("mysql://root:***@127.0.0.1:1/mysql"), "{said}");
    assert!(said.contains("redis://:***@127.0.0.1:1"), "{said}");
}

/// A tour narrates; the adapters' logs of the failures it provokes stay out of the story unless
/// asked for, and colour codes never reach a file.
#[test]
fn tours_print_no_logs_unless_asked_and_no_colour_to_a_file() {
    let quiet = workbook(&["tour", "2"]);
    let said = text(&quiet);
    assert!(quiet.status.success(), "{said}");
    assert!(
        !said.contains("ERROR") && !said.contains(" WARN "),
        "a log line in the narration:\n{said}"
    );
    assert!(!said.contains('\u{1b}'), "colour codes in a file:\n{said:?}");

    let asked = Command::new(env!("CARGO_BIN_EXE_workbook"))
        .args(["tour", "2"])
        .env("WORKBOOK_LOG", "error")
        .output()
        .expect("the workbook binary runs");
    let said = text(&asked);
    assert!(
        said.contains("ERROR"),
        "WORKBOOK_LOG=error shows the adapters' errors:\n{said}"
    );
    assert!(!said.contains('\u{1b}'), "colour codes in a file:\n{said:?}");
}

#[test]
fn list_shows_every_chapter_in_order() {
    let output = workbook(&["list"]);
    let said = text(&output);
    assert!(output.status.success(), "{said}");
    let ids: Vec<&str> = said.lines().filter_map(|line| line.split_whitespace().next()).collect();
    assert_eq!(
        ids,
        [
            "harness",
            "01-layered-service",
            "02-repository",
            "03-transaction-manager",
            "04-unit-of-work",
            "05-two-phase-commit",
            "06-cache-strategies",
            "07-message-broker",
            "08-publishing"
        ]
    );
}

/// Chapter 02's tour, embedded (SQLite) and real (PostgreSQL). The tour checks the rows it
/// narrates and fails when one is wrong; this test checks that it ran to the end and said so.
#[test]
fn the_repository_tour_shows_two_rows_a_conflict_and_a_rolled_back_half_write() {
    for args in [&["tour", "02-repository"][..], &["tour", "02-repository", "--real"]] {
        let output = workbook(args);
        let said = text(&output);
        assert!(output.status.success(), "{args:?}: {said}");
        for expected in [
            r#"email_normalized = "ada@example.com""#,
            "ok found Ada Lovelace <Ada@Example.com>, equal to what was saved",
            r#"!! rejected: Conflict { field: "email" }"#,
            "ok the first user is untouched",
            "!! rejected before any SQL ran: bio cannot be stored: 1001 characters, at most 1000",
            "!! save failed: storage failed while saving a profile",
            "ok users in the table: 1: Mallory's users row was rolled back",
        ] {
            assert!(said.contains(expected), "{args:?}: missing {expected:?} in:\n{said}");
        }
    }
}

#[test]
fn the_transaction_manager_tour_shows_the_four_scenes() {
    for args in [&["tour", "3"][..], &["tour", "3", "--real"]] {
        let output = workbook(args);
        let said = text(&output);
        assert!(output.status.success(), "{args:?}: {said}");
        for expected in [
            "ok user 1 and order 1 committed together; users 1, messages 1, orders 1",
            "ok Bob's registration rolled back with it: users 1, messages 1",
            "!! the commit refuses: the transaction was marked rollback-only",
            "!! the nested buy fails and rolls back to its savepoint",
            "ok Dan's registration committed: users 2, orders 1",
        ] {
            assert!(said.contains(expected), "{args:?}: missing {expected:?} in:\n{said}");
        }
    }
}

/// Chapter 04's tour, embedded (SQLite) and real (PostgreSQL): each scene by hand, then by the
/// unit of work. The tour checks the stock and rows it narrates and fails when one is wrong.
#[test]
fn the_unit_of_work_tour_shows_a_forgotten_save_the_key_order_two_copies_and_two_editors() {
    for args in [&["tour", "4"][..], &["tour", "04-unit-of-work", "--real"]] {
        let output = workbook(args);
        let said = text(&output);
        assert!(output.status.success(), "{args:?}: {said}");
        for expected in [
            "!! the tote bag went out with her order, and its stock still says 10",
            "ok Bob's order through a unit of work: the gift changed, no save called, and the commit wrote it (9 left)",
            "!! by hand, the line saved before its order:",
            "ok registered in the same order, line first; the commit inserts orders before their lines (7 lines stored)",
            "each copy is saved: 48 -> 45, two reserved and never taken off",
            "Erin's order of the same two items takes five: 45 -> 40",
            "was changed by someone else since it was loaded; nothing was written",
            "ok the stored widget is Fay's (\"widget, blue\", 46 in stock, version 2)",
        ] {
            assert!(said.contains(expected), "{args:?}: missing {expected:?} in:\n{said}");
        }
    }
}

/// Chapter 07's tour, embedded (librdkafka's mock cluster, SQLite) and real (a broker of its own,
/// PostgreSQL). The tour checks its own outcomes and fails when one is wrong; this test checks
/// that it ran to the end and said so.
#[test]
fn the_message_broker_tour_loses_an_event_keeps_the_next_absorbs_a_duplicate_and_parks_a_poison() {
    for args in [&["tour", "7"][..], &["tour", "7", "--real"]] {
        let output = workbook(args);
        let said = text(&output);
        assert!(output.status.success(), "{args:?}: {said}");
        for expected in [
            "!! Ada is registered (1 user), and with the broker back, the topic holds 0 events",
            "ok Bob is registered and his event waits in the outbox (backlog 1)",
            "ok broker back: the relay published 1 event; the topic holds 1; backlog 0",
            "ok the welcome service processed 2 deliveries: 1 applied, 1 recognised as seen; Bob has 1 welcome",
            "ok after 3 attempts it is parked in users.dead-letter",
        ] {
            assert!(said.contains(expected), "{args:?}: missing {expected:?} in:\n{said}");
        }
    }
}

#[test]
fn the_layered_service_tour_registers_refuses_looks_up_and_survives_a_provider_down() {
    for args in [&["tour", "1"][..], &["tour", "1", "--real"]] {
        let output = workbook(args);
        let said = text(&output);
        assert!(output.status.success(), "{said}");
        for expected in [
            r#"ok 201 Created: id "#,
            r#"email "ada@example.com", phone Some("+447700900123")"#,
            r#"ok 400 Bad Request: {"code":"invalid_argument","message":"date_of_birth: says the user is under 18","field":"date_of_birth"}"#,
            "ok 201 Created, and the response names what the server ignored: ignored-fields: nickname",
            r#"ok FindUserByEmail: Ada Lovelace"#,
            r#"request id Some("tour-2")"#,
            // Two registrations went through: Ada's, and the newer app's.
            "!! sms: failed 2",
            "ok email: sent 2",
            r#"users_notifications_total{provider="sms",outcome="failed"} 2"#,
            r#"users_requests_total{protocol="http",route="POST /users",outcome="201"} 2"#,
            r#"users_requests_total{protocol="http",route="POST /users",outcome="400"} 1"#,
        ] {
            assert!(said.contains(expected), "{args:?}: missing {expected:?} in:\n{said}");
        }
        assert_eq!(said.contains("ok in_app: sent 2"), args.contains(&"--real"), "{said}");
    }
}

/// `workbook kafka`: a reader's look at the broker, with the client the workbook links (Debian's
/// kcat cannot talk to tansu). A topic of the test's own, two messages sent one request each.
#[tokio::test]
async fn kafka_lists_topics_and_shows_a_topics_messages_with_their_headers() -> anyhow::Result<()> {
    use rdkafka::message::{Header, OwnedHeaders};
    use rdkafka::producer::{FutureProducer, FutureRecord};

    let kafka = harness::KafkaScope::new().await?;
    let topic = kafka.create_topic("look", 1).await?;
    let producer: FutureProducer = kafka.producer_config().create()?;
    for (key, body) in [("user-1", r#"{"kind":"user_registered"}"#), ("user-2", "second")] {
        let headers = OwnedHeaders::new().insert(Header {
            key: "event-id",
            value: Some(key),
        });
        producer
            .send(
                FutureRecord::to(&topic).key(key).payload(body).headers(headers),
                std::time::Duration::from_secs(10),
            )
            .await
            .map_err(|(error, _)| error)?;
    }

    let listed = text(&workbook(&["kafka", "topics"]));
    assert!(
        listed.contains(&format!("{topic}  partitions 1  messages 2")),
        "{listed}"
    );
    let shown = workbook(&["kafka", "show", &topic]);
    let said = text(&shown);
    assert!(shown.status.success(), "{said}");
    for expected in [
        "2 message(s); showing 2",
        "--- partition 0 offset 0",
        "key:     user-1",
        "header:  event-id = user-1",
        r#"body:    {"kind":"user_registered"}"#,
        "body:    second",
    ] {
        assert!(said.contains(expected), "missing {expected:?} in:\n{said}");
    }
    let limited = text(&workbook(&["kafka", "show", &topic, "--limit", "1"]));
    assert!(
        limited.contains("showing 1") && !limited.contains("body:    second"),
        "{limited}"
    );
    Ok(())
}
