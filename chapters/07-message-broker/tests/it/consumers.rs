//! Consumers: each group gets every event, each works at its own pace, a redelivery changes
//! nothing, and a poison event is parked instead of blocking everything behind it.

use std::sync::atomic::Ordering;
use std::time::Duration;

use ch03_transaction_manager::Ctx;
use ch07_message_broker::consumer::{ATTEMPTS_HEADER, ERROR_HEADER};
use ch07_message_broker::event::{ID_HEADER, header_of};
use ch07_message_broker::{CountByType, Event, Publisher, Relay, Welcome};
use harness::{KafkaScope, eventually};
use rdkafka::Message;
use tokio::sync::oneshot;

use crate::support::{Consuming, Publishing, consumer, publisher, read_raw};

/// The analytics service's count of `user_registered`.
async fn registrations_counted(consuming: &Consuming) -> anyhow::Result<i64> {
    let seen: Option<i64> = sqlx::query_scalar("SELECT seen FROM event_counts WHERE kind = 'user_registered'")
        .fetch_optional(consuming.db.pool())
        .await?;
    Ok(seen.unwrap_or(0))
}

// ANCHOR: decoupling
#[tokio::test]
async fn two_groups_each_get_every_event_and_a_stopped_one_catches_up_where_it_left() -> anyhow::Result<()> {
    let kafka = KafkaScope::new().await?;
    let topic = kafka.create_topic("users", 2).await?;
    let users = Publishing::postgres().await?;
    let relay = Relay::new(users.outbox(), publisher(&kafka, &topic)?, Default::default());
    let (welcome_db, analytics_db) = (Consuming::postgres().await?, Consuming::postgres().await?);

    let welcome = consumer(&kafka, &topic, "welcome", &welcome_db.tm, Welcome)?;
    let (stop_welcome, welcome_stopped) = oneshot::channel::<()>();
    let welcome_task = async { welcome.run_until(async { welcome_stopped.await.unwrap_or(()) }).await };

    let scenario = async {
        // Analytics runs for the first five registrations, then stops.
        let analytics = consumer(&kafka, &topic, "analytics", &analytics_db.tm, CountByType)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let first_five = async {
            for n in 0..5 {
                users.users.register(&Ctx::new(), &format!("user{n}@example.com")).await?;
            }
            relay.drain().await?;
            eventually(Duration::from_secs(30), || async {
                let seen = registrations_counted(&analytics_db).await.map_err(|e| e.to_string())?;
                if seen == 5 { Ok(()) } else { Err(format!("analytics saw {seen} of 5")) }
            })
            .await;
            let _ = stop.send(());
            anyhow::Ok(())
        };
        let (ran, first) = tokio::join!(analytics.run_until(async { stopped.await.unwrap_or(()) }), first_five);
        ran?;
        first?;
        drop(analytics);

        // With analytics down, the publisher and the welcome service carry on.
        for n in 5..10 {
            users.users.register(&Ctx::new(), &format!("user{n}@example.com")).await?;
        }
        relay.drain().await?;
        eventually(Duration::from_secs(30), || async {
            let (welcomes, _) = welcome_db.welcomes().await.map_err(|e| e.to_string())?;
            if welcomes == 10 { Ok(()) } else { Err(format!("{welcomes} of 10 welcomed")) }
        })
        .await;
        assert_eq!(registrations_counted(&analytics_db).await?, 5, "analytics is down");

        // Restarted, analytics resumes from its committed offsets: it reads the five it missed,
        // not all ten again.
        let analytics = consumer(&kafka, &topic, "analytics", &analytics_db.tm, CountByType)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let catch_up = async {
            eventually(Duration::from_secs(30), || async {
                let seen = registrations_counted(&analytics_db).await.map_err(|e| e.to_string())?;
                if seen == 10 { Ok(()) } else { Err(format!("analytics saw {seen} of 10")) }
            })
            .await;
            let _ = stop.send(());
        };
        let (ran, ()) = tokio::join!(analytics.run_until(async { stopped.await.unwrap_or(()) }), catch_up);
        ran?;
        assert_eq!(analytics.counters().applied.load(Ordering::Relaxed), 5);
        assert_eq!(analytics.counters().duplicates.load(Ordering::Relaxed), 0, "nothing read twice");
        let _ = stop_welcome.send(());
        anyhow::Ok(())
    };
    let (welcomed, scenario) = tokio::join!(welcome_task, scenario);
    scenario?;
    welcomed?;
    assert_eq!(welcome_db.welcomes().await?, (10, 10));
    Ok(())
}
// ANCHOR_END: decoupling

#[tokio::test]
async fn a_consumer_added_later_reads_every_event_without_any_change_to_the_publisher() -> anyhow::Result<()> {
    let kafka = KafkaScope::new().await?;
    let topic = kafka.create_topic("users", 2).await?;
    let users = Publishing::postgres().await?;
    let relay = Relay::new(users.outbox(), publisher(&kafka, &topic)?, Default::default());
    for n in 0..4 {
        users.users.register(&Ctx::new(), &format!("user{n}@example.com")).await?;
    }
    relay.drain().await?;

    // A new service subscribes, with a group of its own, after the fact.
    let late = Consuming::postgres().await?;
    let newcomer = consumer(&kafka, &topic, "newcomer", &late.tm, Welcome)?;
    let (stop, stopped) = oneshot::channel::<()>();
    let check = async {
        eventually(Duration::from_secs(30), || async {
            let (welcomes, _) = late.welcomes().await.map_err(|e| e.to_string())?;
            if welcomes == 4 { Ok(()) } else { Err(format!("{welcomes} of 4")) }
        })
        .await;
        let _ = stop.send(());
    };
    let (ran, ()) = tokio::join!(newcomer.run_until(async { stopped.await.unwrap_or(()) }), check);
    ran?;
    Ok(())
}

// ANCHOR: redelivery
#[tokio::test]
async fn a_redelivered_event_changes_nothing() -> anyhow::Result<()> {
    let kafka = KafkaScope::new().await?;
    let topic = kafka.create_topic("users", 1).await?;
    let publisher = publisher(&kafka, &topic)?;
    let event = ch07_message_broker::users::user_registered(uuid::Uuid::now_v7(), "ada@example.com");
    // The same event twice, as a relay that died before deleting it would send it.
    publisher.publish(std::slice::from_ref(&event)).await?;
    publisher.publish(std::slice::from_ref(&event)).await?;

    let consuming = Consuming::postgres().await?;
    let welcome = consumer(&kafka, &topic, "welcome", &consuming.tm, Welcome)?;
    let (stop, stopped) = oneshot::channel::<()>();
    let check = async {
        eventually(Duration::from_secs(30), || async {
            let done = welcome.counters().applied.load(Ordering::Relaxed) + welcome.counters().duplicates.load(Ordering::Relaxed);
            if done == 2 { Ok(()) } else { Err(format!("{done} of 2 deliveries processed")) }
        })
        .await;
        let _ = stop.send(());
    };
    let (ran, ()) = tokio::join!(welcome.run_until(async { stopped.await.unwrap_or(()) }), check);
    ran?;
    assert_eq!(consuming.welcomes().await?, (1, 1), "one welcome");
    assert_eq!(welcome.counters().duplicates.load(Ordering::Relaxed), 1, "one delivery recognised");
    Ok(())
}
// ANCHOR_END: redelivery

// ANCHOR: poison
#[tokio::test]
async fn a_poison_event_is_parked_in_the_dead_letter_topic_and_the_consumer_moves_on() -> anyhow::Result<()> {
    let kafka = KafkaScope::new().await?;
    let topic = kafka.create_topic("users", 1).await?;
    let dead_letters = kafka.create_topic("users.dead-letter", 1).await?;
    let publisher = publisher(&kafka, &topic)?;
    let poison = Event::new("user_registered", "user-1", serde_json::json!({ "user_id": "user-1" }));
    let good = ch07_message_broker::users::user_registered(uuid::Uuid::now_v7(), "bob@example.com");
    publisher.publish(&[poison.clone(), good]).await?;

    let consuming = Consuming::postgres().await?;
    let welcome = consumer(&kafka, &topic, "welcome", &consuming.tm, Welcome)?;
    let (stop, stopped) = oneshot::channel::<()>();
    let check = async {
        eventually(Duration::from_secs(30), || async {
            let (welcomes, _) = consuming.welcomes().await.map_err(|e| e.to_string())?;
            if welcomes == 1 { Ok(()) } else { Err(format!("{welcomes} of 1")) }
        })
        .await;
        let _ = stop.send(());
    };
    let (ran, ()) = tokio::join!(welcome.run_until(async { stopped.await.unwrap_or(()) }), check);
    ran?;

    let parked = read_raw(&kafka, &dead_letters, 1, Duration::from_secs(20)).await?;
    let letter = &parked[0];
    assert_eq!(header_of(letter, ID_HEADER).as_deref(), Some(poison.id.to_string().as_str()));
    assert_eq!(header_of(letter, ATTEMPTS_HEADER).as_deref(), Some("3"));
    let error = header_of(letter, ERROR_HEADER).unwrap_or_default();
    assert!(error.contains("has no email"), "{error}");
    assert_eq!(letter.payload(), Some(poison.body().as_slice()), "parked as it came");
    Ok(())
}
// ANCHOR_END: poison

#[tokio::test]
async fn a_message_that_is_not_an_event_is_parked_at_once() -> anyhow::Result<()> {
    let kafka = KafkaScope::new().await?;
    let topic = kafka.create_topic("users", 1).await?;
    let dead_letters = kafka.create_topic("users.dead-letter", 1).await?;
    let producer: rdkafka::producer::FutureProducer = kafka.producer_config().create()?;
    producer
        .send(
            rdkafka::producer::FutureRecord::to(&topic).key("k").payload("{not json"),
            Duration::from_secs(5),
        )
        .await
        .map_err(|(error, _)| error)?;

    let consuming = Consuming::postgres().await?;
    let welcome = consumer(&kafka, &topic, "welcome", &consuming.tm, Welcome)?;
    let (stop, stopped) = oneshot::channel::<()>();
    let parked = async {
        let parked = read_raw(&kafka, &dead_letters, 1, Duration::from_secs(20)).await;
        let _ = stop.send(());
        parked
    };
    let (ran, parked) = tokio::join!(welcome.run_until(async { stopped.await.unwrap_or(()) }), parked);
    ran?;
    let parked = parked?;
    let error = header_of(&parked[0], ERROR_HEADER).unwrap_or_default();
    assert!(error.contains("not an event"), "{error}");
    assert_eq!(header_of(&parked[0], ATTEMPTS_HEADER).as_deref(), Some("1"));
    assert_eq!(consuming.welcomes().await?, (0, 0));
    Ok(())
}
