//! Every way a scope can end. An inner scope that does not return `Ok` (it fails, panics, or its
//! future is dropped at an `.await`) dooms a transaction it joined, or rolls back to its own
//! savepoint; the code around it cannot commit its partial writes. And the waits a scope could
//! never come out of (its own caller holding the connection, the pool held by the transactions it
//! suspended) fail at once, saying why.

use std::time::{Duration, Instant};

use ch03_transaction_manager::{Ctx, Propagation, Settings, TxError};
use rstest::rstest;
use sqlx::{MySql, Postgres, Sqlite};

use crate::support::{Failure, Store, TestDb};

fn with(propagation: Propagation) -> Settings {
    Settings::new(propagation)
}

/// Bounds a step that would hang on the code before this issue: a hang fails the test, soon.
async fn within<T>(limit: Duration, step: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, step)
        .await
        .unwrap_or_else(|_| panic!("still waiting after {limit:?}: the wait cannot end"))
}

// ANCHOR: dropped_join
/// A joined scope whose future is dropped after it wrote (here by a timeout around it, as a
/// `select!` or a cancelled request would) dooms the transaction: the outer scope carries on and
/// returns `Ok`, and its commit fails with `UnexpectedRollback`, writing nothing.
#[rstest]
#[tokio::test]
async fn a_joined_scope_dropped_after_it_wrote_dooms_the_transaction<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let store = &Store::new(backend).await?;
    let tm = &store.manager;
    let result = tm
        .run(&Ctx::new(), with(Propagation::Required), async |ctx| {
            store.insert(ctx, "outer").await?;
            let inner = tm.run(ctx, with(Propagation::Required), async |ctx| {
                store.insert(ctx, "inner, half done").await?;
                std::future::pending::<()>().await;
                store.insert(ctx, "inner, never written").await
            });
            let gave_up = tokio::time::timeout(Duration::from_millis(200), inner).await;
            assert!(gave_up.is_err(), "the inner scope is still running when it is dropped");
            Ok::<_, Failure>(())
        })
        .await;
    assert!(
        matches!(result, Err(Failure::Tx(TxError::UnexpectedRollback))),
        "{result:?}"
    );
    assert_eq!(store.committed().await?, Vec::<String>::new());
    store.every_connection_returns().await;
    Ok(())
}
// ANCHOR_END: dropped_join

/// A joined scope that panics in a task spawned with the shared context dooms the transaction,
/// even though the outer scope catches the panic (through the task's handle) and returns `Ok`.
#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joined_scope_that_panics_in_a_spawned_task_dooms_the_transaction<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let store = std::sync::Arc::new(Store::new(backend).await?);
    let tm = &store.manager;
    let result = tm
        .run(&Ctx::new(), with(Propagation::Required), async |ctx| {
            store.insert(ctx, "outer").await?;
            let (store, ctx) = (store.clone(), ctx.clone());
            let task = tokio::spawn(async move {
                let tm = &store.manager;
                tm.run(&ctx, with(Propagation::Required), async |ctx| {
                    store.insert(ctx, "in the task").await?;
                    panic!("a bug in the task");
                    #[allow(unreachable_code)]
                    Ok::<_, Failure>(())
                })
                .await
            });
            assert!(task.await.is_err(), "the task panicked");
            Ok::<_, Failure>(())
        })
        .await;
    assert!(
        matches!(result, Err(Failure::Tx(TxError::UnexpectedRollback))),
        "{result:?}"
    );
    assert_eq!(store.committed().await?, Vec::<String>::new());
    Ok(())
}

/// A `Nested` scope dropped mid-body rolls back to its savepoint: its partial write is undone,
/// the outer work before and after it commits.
#[rstest]
#[tokio::test]
async fn a_nested_scope_dropped_mid_body_rolls_back_to_its_savepoint<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let store = &Store::new(backend).await?;
    let tm = &store.manager;
    tm.run(&Ctx::new(), with(Propagation::Required), async |ctx| {
        store.insert(ctx, "before").await?;
        let nested = tm.run(ctx, with(Propagation::Nested), async |ctx| {
            store.insert(ctx, "nested, half done").await?;
            std::future::pending::<()>().await;
            Ok::<_, Failure>(())
        });
        assert!(tokio::time::timeout(Duration::from_millis(200), nested).await.is_err());
        assert_eq!(
            store.visible(ctx).await?,
            ["before"],
            "the next statement sees the savepoint rolled back"
        );
        store.insert(ctx, "after").await
    })
    .await?;
    assert_eq!(store.committed().await?, ["before", "after"]);
    Ok(())
}

/// A `Nested` scope that panics rolls back to its savepoint as well; the outer scope, which
/// caught the panic, commits its own work.
#[rstest]
#[tokio::test]
async fn a_nested_scope_that_panics_rolls_back_to_its_savepoint<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let store = &Store::new(backend).await?;
    let tm = &store.manager;
    tm.run(&Ctx::new(), with(Propagation::Required), async |ctx| {
        store.insert(ctx, "before").await?;
        let nested = tm.run(ctx, with(Propagation::Nested), async |ctx| {
            store.insert(ctx, "nested, half done").await?;
            panic!("a bug in the nested scope");
            #[allow(unreachable_code)]
            Ok::<_, Failure>(())
        });
        let caught = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(nested)).await;
        assert!(caught.is_err(), "the panic reaches the outer scope");
        store.insert(ctx, "after").await
    })
    .await?;
    assert_eq!(store.committed().await?, ["before", "after"]);
    Ok(())
}

// ANCHOR: connection_held
/// Entering a scope of the same transaction while holding the connection from
/// `connection(ctx)` used to wait forever: the inner scope needs that connection. It fails at
/// once, with an error that says what to change, for a joined scope and for a savepoint.
#[rstest]
#[tokio::test]
async fn entering_a_scope_while_holding_the_connection_fails_at_once<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let store = &Store::new(backend).await?;
    let tm = &store.manager;
    let result = within(
        Duration::from_secs(5),
        tm.run(&Ctx::new(), with(Propagation::Required), async |ctx| {
            let held = tm.connection(ctx).await?;
            let joined = tm
                .run(ctx, with(Propagation::Required), async |ctx| {
                    store.insert(ctx, "joined").await
                })
                .await;
            assert!(
                matches!(joined, Err(Failure::Tx(TxError::ConnectionHeld))),
                "{joined:?}"
            );
            let nested = tm
                .run(ctx, with(Propagation::Nested), async |ctx| {
                    store.insert(ctx, "nested").await
                })
                .await;
            assert!(
                matches!(nested, Err(Failure::Tx(TxError::ConnectionHeld))),
                "{nested:?}"
            );
            drop(held);
            Ok::<_, Failure>(())
        }),
    )
    .await;
    // The joined scope failed, so the transaction is rollback-only, as for any failed scope.
    assert!(
        matches!(result, Err(Failure::Tx(TxError::UnexpectedRollback))),
        "{result:?}"
    );
    assert_eq!(store.committed().await?, Vec::<String>::new());
    Ok(())
}
// ANCHOR_END: connection_held

/// Two statements of one scope that wait their turn for its connection (futures joined in one
/// task) are not mistaken for that deadlock: both run, one after the other.
#[rstest]
#[tokio::test]
async fn statements_joined_in_one_task_take_turns_on_the_connection<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let store = &Store::new(backend).await?;
    let tm = &store.manager;
    within(
        Duration::from_secs(10),
        tm.run(&Ctx::new(), with(Propagation::Required), async |ctx| {
            let (first, second) = futures::join!(store.insert(ctx, "first"), store.insert(ctx, "second"));
            first.and(second)
        }),
    )
    .await?;
    let mut committed = store.committed().await?;
    committed.sort();
    assert_eq!(committed, ["first", "second"]);
    Ok(())
}

// ANCHOR: pool_held
/// With a pool of one connection held by the open transaction, a scope that needs a connection
/// of its own (a `RequiresNew`, a `NotSupported`) can never get one. It fails at once with
/// `PoolHeld`, not after the pool's acquire timeout with a `PoolTimedOut` that says nothing.
#[rstest]
#[tokio::test]
async fn a_scope_that_needs_a_second_connection_of_a_held_pool_fails_at_once<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let store = &Store::with_connections(backend, 1).await?;
    let tm = &store.manager;
    let started = Instant::now();
    let (requires_new, not_supported) = within(
        Duration::from_secs(10),
        tm.run(&Ctx::new(), with(Propagation::Required), async |ctx| {
            store.insert(ctx, "outer").await?;
            // Read-only, so that SQLite's one-writer rule is not what refuses it.
            let requires_new = tm
                .run(ctx, with(Propagation::RequiresNew).read_only(), async |ctx| {
                    store.visible(ctx).await
                })
                .await;
            let not_supported = tm
                .run(ctx, with(Propagation::NotSupported), async |ctx| {
                    store.visible(ctx).await
                })
                .await;
            Ok::<_, Failure>((requires_new, not_supported))
        }),
    )
    .await?;
    for refused in [requires_new, not_supported] {
        assert!(
            matches!(refused, Err(Failure::Tx(TxError::PoolHeld { held: 1, max: 1 }))),
            "{refused:?}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused at once, not after a timeout"
    );
    assert_eq!(
        store.committed().await?,
        ["outer"],
        "the outer scope carried on and committed"
    );
    Ok(())
}
// ANCHOR_END: pool_held
