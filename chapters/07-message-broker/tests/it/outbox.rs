//! The outbox on PostgreSQL, MariaDB and SQLite: the event commits with the user or not at all,
//! and the relay publishes what committed, in order per user, then empties the outbox.

use std::collections::HashMap;
use std::time::Duration;

use ch03_transaction_manager::{Ctx, Settings};
use ch07_message_broker::users::USER_REGISTERED;
use ch07_message_broker::{Event, OutboxStore, Relay, RelayConfig, UsersError};
use harness::KafkaScope;

use ch07_message_broker::Outbox;
use ch07_message_broker::sql::EventDb;
use rstest::rstest;
use sqlx::{MySql, Postgres, Sqlite};

use crate::support::{NUDGE, Publishing, TestDb, nudge, publisher, read_all};

/// A registration commits the user and its event together; a refused one commits neither.
#[rstest]
#[tokio::test]
async fn register_writes_the_user_and_its_event_together<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let publishing = Publishing::new(backend).await?;
    let user = publishing.users.register(&Ctx::new(), "ada@example.com").await?;
    let taken = publishing.users.register(&Ctx::new(), "ada@example.com").await;
    assert!(matches!(taken, Err(UsersError::EmailTaken(_))), "{taken:?}");

    let lag = publishing.outbox().lag().await?;
    assert_eq!(lag.backlog, 1, "one event, for the registration that committed");
    assert_eq!(publishing.users_count().await?, 1);
    let (aggregate, kind) = DB::only_event(&mut *publishing.tm.pool().acquire().await?).await?;
    assert_eq!((aggregate, kind.as_str()), (user.to_string(), USER_REGISTERED));
    Ok(())
}

/// Writes `per_user` numbered events for each of `users` aggregates, interleaved, each in a
/// transaction of its own; returns them in the order written.
async fn interleaved_events<DB: EventDb>(
    outbox: &Outbox<DB>,
    users: usize,
    per_user: usize,
) -> anyhow::Result<Vec<Event>> {
    let mut written = Vec::new();
    for n in 0..per_user {
        for user in 0..users {
            let event = Event::new(
                "profile_changed",
                format!("user-{user}"),
                serde_json::json!({ "version": n }),
            );
            outbox.add(&Ctx::new(), &event).await?;
            written.push(event);
        }
    }
    Ok(written)
}

/// The versions each user's events arrived in.
fn versions_by_user(events: &[Event]) -> HashMap<String, Vec<i64>> {
    let mut by_user: HashMap<String, Vec<i64>> = HashMap::new();
    for event in events {
        by_user
            .entry(event.aggregate_id.clone())
            .or_default()
            .push(event.payload["version"].as_i64().expect("a version"));
    }
    by_user
}

/// The relay publishes every event once, each user's in the order they happened, keyed by
/// user, and leaves the outbox empty.
#[rstest]
#[tokio::test]
async fn the_relay_publishes_in_order_per_user_and_empties_the_outbox<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let publishing = Publishing::new(backend).await?;
    let kafka = KafkaScope::new().await?;
    let topic = kafka.create_topic("users", 3).await?;
    let written = interleaved_events(&publishing.outbox(), 5, 6).await?;

    let relay = Relay::new(
        publishing.outbox(),
        publisher(&kafka, &topic)?,
        RelayConfig {
            batch: 7,
            ..RelayConfig::default()
        },
    );
    assert_eq!(relay.drain().await?, written.len());
    assert_eq!(relay.store().lag().await?.backlog, 0);

    // The last event of the relay's last batch becomes visible on tansu only with a next request.
    nudge(&kafka, &topic, 3).await?;
    let mut published = read_all(&kafka, &topic, written.len() + 3, Duration::from_secs(30)).await?;
    published.retain(|event| event.kind != NUDGE);
    let mut ids: Vec<_> = published.iter().map(|event| event.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), written.len(), "every event exactly once");
    for (user, versions) in versions_by_user(&published) {
        assert_eq!(versions, (0..6).collect::<Vec<_>>(), "{user}'s events in order");
    }
    Ok(())
}

/// Four relays on one outbox: `FOR UPDATE SKIP LOCKED` gives each a different shard, so they
/// work at once, never publish the same batch twice, and never reorder a user's events. (Not on
/// SQLite, which has no row locks and allows one relay.)
#[rstest]
#[tokio::test]
async fn relays_side_by_side_share_the_shards_and_keep_each_users_order<DB: TestDb>(
    #[values(Postgres, MySql)] backend: DB,
) -> anyhow::Result<()> {
    let publishing = Publishing::new(backend).await?;
    let kafka = KafkaScope::new().await?;
    let topic = kafka.create_topic("users", 4).await?;
    let written = interleaved_events(&publishing.outbox(), 40, 5).await?;

    let relays: Vec<_> = (0..4)
        .map(|_| -> anyhow::Result<_> {
            Ok(Relay::new(
                publishing.outbox(),
                publisher(&kafka, &topic)?,
                RelayConfig {
                    batch: 10,
                    ..RelayConfig::default()
                },
            ))
        })
        .collect::<Result<_, _>>()?;
    let drained = futures::future::try_join_all(relays.iter().map(ch07_message_broker::Relay::drain)).await?;
    assert_eq!(drained.iter().sum::<usize>(), written.len(), "{drained:?}");
    assert!(
        drained.iter().filter(|&&n| n > 0).count() >= 2,
        "the work was shared: {drained:?}"
    );

    // The last event of each relay's last batch becomes visible on tansu only with a next request.
    nudge(&kafka, &topic, 4).await?;
    let mut published = read_all(&kafka, &topic, written.len() + 4, Duration::from_secs(30)).await?;
    published.retain(|event| event.kind != NUDGE);
    assert_eq!(published.len(), written.len());
    for (user, versions) in versions_by_user(&published) {
        assert_eq!(versions, (0..5).collect::<Vec<_>>(), "{user}'s events in order");
    }
    Ok(())
}

/// The relay's lag is visible as metrics: the backlog and the age of the oldest event.
#[rstest]
#[tokio::test]
async fn the_relay_exposes_its_lag_as_metrics<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let publishing = Publishing::new(backend).await?;
    let kafka = KafkaScope::new().await?;
    let topic = kafka.create_topic("users", 1).await?;
    for email in ["a@example.com", "b@example.com", "c@example.com"] {
        publishing.users.register(&Ctx::new(), email).await?;
    }
    let relay = Relay::new(publishing.outbox(), publisher(&kafka, &topic)?, RelayConfig::default());
    let before = relay.metrics().await?;
    assert!(before.contains("\noutbox_backlog 3\n"), "{before}");
    assert!(!before.contains("outbox_oldest_unsent_age_seconds 0.000"), "{before}");

    relay.drain().await?;
    let after = relay.metrics().await?;
    assert!(after.contains("\noutbox_backlog 0\n"), "{after}");
    assert!(after.contains("\noutbox_oldest_unsent_age_seconds 0.000\n"), "{after}");
    Ok(())
}

/// The outbox row is part of the caller's transaction: when the caller rolls back, the
/// event goes with it.
#[rstest]
#[tokio::test]
async fn an_event_written_in_a_rolled_back_transaction_is_never_published<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let publishing = Publishing::new(backend).await?;
    let outbox = publishing.outbox();
    let result = publishing
        .tm
        .run(&Ctx::new(), Settings::default(), async |ctx| {
            outbox
                .add(ctx, &Event::new("order_placed", "order-1", serde_json::json!({})))
                .await?;
            Err::<(), anyhow::Error>(anyhow::anyhow!("the order failed after its event was written"))
        })
        .await;
    assert!(result.is_err());
    assert_eq!(outbox.lag().await?.backlog, 0);
    Ok(())
}
