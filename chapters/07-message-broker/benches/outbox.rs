//! What the outbox costs: on the write path, against the business write alone and against the
//! naive dual write; on the way out, the relay against producing straight to Kafka.
//!
//! Run with `just bench ch07`. Needs PostgreSQL and Kafka (`WORKBOOK_POSTGRES_URL`,
//! `WORKBOOK_KAFKA_BROKERS`, or Docker), like the tests.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ch03_transaction_manager::{Ctx, Settings, SqlManager};
use ch07_message_broker::migrations::POSTGRES;
use ch07_message_broker::users::user_registered;
use ch07_message_broker::{KafkaPublisher, Outbox, Publisher, Relay, RelayConfig, Users};
use criterion::{Criterion, criterion_group, criterion_main};
use harness::{KafkaScope, PgDatabase};

const BATCH: usize = 10_000;

fn outbox(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let postgres = runtime
        .block_on(PgDatabase::new(&POSTGRES))
        .unwrap_or_else(|error| panic!("{error}"));
    let kafka = runtime
        .block_on(KafkaScope::new())
        .unwrap_or_else(|error| panic!("{error}"));
    let topic = runtime
        .block_on(kafka.create_topic("users", 4))
        .unwrap_or_else(|error| panic!("{error}"));
    let publisher = || KafkaPublisher::new(kafka.producer_config(), &topic).expect("a producer");
    let tm = SqlManager::new(postgres.pool().clone());
    let users = Users::new(tm.clone());
    let next = AtomicU64::new(0);
    let email = || format!("user{}@example.com", next.fetch_add(1, Ordering::Relaxed));

    // ANCHOR: write_path
    let mut group = c.benchmark_group("ch07_write_path_postgres");
    group.bench_function("business_insert", |b| {
        b.to_async(&runtime).iter(|| async {
            tm.run(&Ctx::new(), Settings::default(), async |ctx| {
                users.insert(ctx, &email()).await
            })
            .await
            .unwrap()
        });
    });
    group.bench_function("business_insert_plus_outbox", |b| {
        b.to_async(&runtime)
            .iter(|| async { users.register(&Ctx::new(), &email()).await.unwrap() });
    });
    let naive = publisher();
    group.bench_function("commit_then_publish", |b| {
        b.to_async(&runtime)
            .iter(|| async { users.register_then_publish(&email(), &naive).await.unwrap() });
    });
    group.finish();
    // ANCHOR_END: write_path

    // ANCHOR: relay
    let mut group = c.benchmark_group("ch07_relay_postgres");
    group.sample_size(10).measurement_time(Duration::from_secs(30));
    let direct = &publisher();
    let email = &email;
    group.bench_function("direct_produce_10k", |b| {
        b.to_async(&runtime).iter_custom(|iterations| async move {
            let mut spent = Duration::ZERO;
            for _ in 0..iterations {
                let events: Vec<_> = (0..BATCH)
                    .map(|_| user_registered(uuid::Uuid::now_v7(), &email()))
                    .collect();
                let start = Instant::now();
                direct.publish(&events).await.unwrap();
                spent += start.elapsed();
            }
            spent
        });
    });
    // Four relays side by side, as the chapter runs them for throughput: while one waits for the
    // broker's acknowledgements, another reads or deletes its shard.
    let relays = &(0..4)
        .map(|_| Relay::new(Outbox::new(tm.clone()), publisher(), RelayConfig::default()))
        .collect::<Vec<_>>();
    // The write path left its outbox rows behind: start the relay's group from an empty outbox.
    runtime.block_on(relays[0].drain()).expect("the outbox drains");
    let pool = postgres.pool();
    for (function, relays) in [
        ("outbox_relay_10k", &relays[..]),
        ("outbox_relay_10k_one_relay", &relays[..1]),
    ] {
        group.bench_function(function, |b| {
            b.to_async(&runtime).iter_custom(|iterations| async move {
                let mut spent = Duration::ZERO;
                for _ in 0..iterations {
                    fill_outbox(pool).await;
                    let start = Instant::now();
                    let drained = futures::future::try_join_all(relays.iter().map(Relay::drain)).await;
                    spent += start.elapsed();
                    assert_eq!(drained.unwrap().iter().sum::<usize>(), BATCH);
                }
                spent
            });
        });
    }
    group.finish();
    // ANCHOR_END: relay

    // ANCHOR: backlog
    // A backlog after an outage: one relay drains 10k and 100k waiting events. Linear, the second
    // takes ten times the first; the candidate query once made it grow with the square.
    let mut group = c.benchmark_group("ch07_relay_backlog");
    group.sample_size(10).measurement_time(Duration::from_secs(60));
    let relay = &relays[0];
    for (function, backlog) in [("drain_10k", BATCH), ("drain_100k", 10 * BATCH)] {
        group.bench_function(function, |b| {
            b.to_async(&runtime).iter_custom(|iterations| async move {
                let mut spent = Duration::ZERO;
                for _ in 0..iterations {
                    fill_outbox_with(pool, backlog).await;
                    let start = Instant::now();
                    let drained = relay.drain().await.unwrap();
                    spent += start.elapsed();
                    assert_eq!(drained, backlog);
                }
                spent
            });
        });
    }
    group.finish();
    // ANCHOR_END: backlog
}

/// 10,000 `user_registered` rows in the outbox, written in one statement (not timed). First the
/// vacuum that autovacuum would do between bursts: each iteration leaves 10,000 dead rows, and
/// without it the relay slows down run after run (see the chapter's page).
async fn fill_outbox(pool: &sqlx::PgPool) {
    fill_outbox_with(pool, BATCH).await;
}

/// `count` rows in the outbox, as [`fill_outbox`] writes them.
async fn fill_outbox_with(pool: &sqlx::PgPool, count: usize) {
    sqlx::query("VACUUM ANALYZE outbox").execute(pool).await.unwrap();
    sqlx::query(
        "INSERT INTO outbox (event_id, shard, kind, aggregate_id, occurred_at, payload) \
         SELECT gen_random_uuid()::text, n % 16, 'user_registered', 'user-' || n, now(), \
                json_build_object('user_id', 'user-' || n, 'email', 'user' || n || '@example.com')::text \
         FROM generate_series(1, $1) AS n",
    )
    .bind(count as i32)
    .execute(pool)
    .await
    .unwrap();
}

criterion_group!(benches, outbox);
criterion_main!(benches);
