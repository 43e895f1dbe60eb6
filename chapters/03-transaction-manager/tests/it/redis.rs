//! The Redis manager: writes to several keys land together or not at all, and `WATCH` catches a
//! key changed by someone else between a read and the write it decided.

use ch03_transaction_manager::{Ctx, Propagation, RedisManager, Settings, TxError};
use harness::RedisNamespace;
use redis::AsyncCommands;

use crate::support::Failure;

fn set(key: &str, value: i64) -> redis::Cmd {
    redis::cmd("SET").arg(key).arg(value).to_owned()
}

#[tokio::test]
async fn writes_to_several_keys_land_together_or_not_at_all() -> anyhow::Result<()> {
    let keys = RedisNamespace::new().await?;
    let tm = RedisManager::new(keys.client().clone());
    let (balance, order) = (keys.key("balance"), keys.key("order"));

    let failed = tm
        .run(&Ctx::new(), Settings::default(), async |ctx| {
            tm.write(ctx, set(&balance, 90)).await?;
            tm.write(ctx, set(&order, 1)).await?;
            Err::<(), _>(Failure::Boom("after both writes"))
        })
        .await;
    assert!(matches!(failed, Err(Failure::Boom(_))));
    assert!(keys.keys().await?.is_empty(), "a failed scope sends nothing");

    tm.run(&Ctx::new(), Settings::default(), async |ctx| {
        tm.write(ctx, set(&balance, 90)).await?;
        let seen_meanwhile: Option<i64> = keys.connection().get(&balance).await.map_err(test_command_failed)?;
        assert_eq!(seen_meanwhile, None, "queued writes are invisible until EXEC");
        tm.write(ctx, set(&order, 1)).await?;
        Ok::<_, Failure>(())
    })
    .await?;
    let mut connection = keys.connection();
    assert_eq!(connection.mget::<_, (i64, i64)>(&[&balance, &order]).await?, (90, 1));
    Ok(())
}

// ANCHOR: watch_conflict
#[tokio::test]
async fn a_watched_key_changed_meanwhile_is_a_conflict_and_nothing_is_written() -> anyhow::Result<()> {
    let keys = RedisNamespace::new().await?;
    let tm = RedisManager::new(keys.client().clone());
    let (stock, order) = (keys.key("stock"), keys.key("order"));
    let mut someone_else = keys.connection();
    let _: () = someone_else.set(&stock, 1).await?;

    let result = tm
        .run_watching(&Ctx::new(), Settings::default(), &[&stock], async |ctx| {
            let left: i64 = tm.read(ctx, redis::cmd("GET").arg(&stock).to_owned()).await?;
            // Between our read and our EXEC, another client takes the last one.
            let _: () = someone_else.set(&stock, 0).await.map_err(test_command_failed)?;
            tm.write(ctx, set(&stock, left - 1)).await?;
            tm.write(ctx, set(&order, 1)).await?;
            Ok::<_, Failure>(())
        })
        .await;

    assert!(matches!(result, Err(Failure::Tx(TxError::WatchConflict))), "{result:?}");
    let mut connection = keys.connection();
    assert_eq!(
        connection.get::<_, i64>(&stock).await?,
        0,
        "the other client's write stands"
    );
    assert_eq!(
        connection.get::<_, Option<i64>>(&order).await?,
        None,
        "no order for a stock we did not get"
    );
    Ok(())
}
// ANCHOR_END: watch_conflict

#[tokio::test]
async fn an_inner_required_scope_joins_and_nested_is_refused() -> anyhow::Result<()> {
    let keys = RedisNamespace::new().await?;
    let tm = RedisManager::new(keys.client().clone());
    let (a, b) = (keys.key("a"), keys.key("b"));

    tm.run(&Ctx::new(), Settings::default(), async |ctx| {
        tm.write(ctx, set(&a, 1)).await?;
        tm.run(ctx, Settings::default(), async |ctx| tm.write(ctx, set(&b, 2)).await)
            .await?;
        let nested = tm
            .run(ctx, Settings::new(Propagation::Nested), async |_| Ok::<_, Failure>(()))
            .await;
        assert!(
            matches!(nested, Err(Failure::Tx(TxError::NestedUnsupported))),
            "{nested:?}"
        );
        assert!(keys.keys().await.unwrap().is_empty(), "nothing before the outer EXEC");
        Ok::<_, Failure>(())
    })
    .await?;
    let mut connection = keys.connection();
    assert_eq!(connection.mget::<_, (i64, i64)>(&[&a, &b]).await?, (1, 2));
    Ok(())
}

// ANCHOR: redis_rollback_only
/// As on SQL, an inner `Required` scope that fails marks the transaction rollback-only: the
/// outer scope swallows the error and returns `Ok`, and still nothing is sent at `EXEC`; the
/// scope fails with `UnexpectedRollback`. So does an inner scope whose future is dropped.
#[tokio::test]
async fn a_swallowed_inner_failure_sends_nothing_and_fails_with_unexpected_rollback() -> anyhow::Result<()> {
    let keys = RedisNamespace::new().await?;
    let tm = RedisManager::new(keys.client().clone());
    let (a, b) = (keys.key("a"), keys.key("b"));

    let swallowed = tm
        .run(&Ctx::new(), Settings::default(), async |ctx| {
            tm.write(ctx, set(&a, 1)).await?;
            let inner = tm
                .run(ctx, Settings::default(), async |ctx| {
                    tm.write(ctx, set(&b, 2)).await?;
                    Err::<(), _>(Failure::Boom("inner"))
                })
                .await;
            assert!(matches!(inner, Err(Failure::Boom(_))));
            Ok::<_, Failure>(())
        })
        .await;
    assert!(
        matches!(swallowed, Err(Failure::Tx(TxError::UnexpectedRollback))),
        "{swallowed:?}"
    );
    assert!(keys.keys().await?.is_empty(), "nothing was sent");

    let dropped = tm
        .run(&Ctx::new(), Settings::default(), async |ctx| {
            tm.write(ctx, set(&a, 1)).await?;
            let inner = tm.run(ctx, Settings::default(), async |ctx| {
                tm.write(ctx, set(&b, 2)).await?;
                std::future::pending::<()>().await;
                Ok::<_, Failure>(())
            });
            assert!(
                tokio::time::timeout(std::time::Duration::from_millis(100), inner)
                    .await
                    .is_err()
            );
            Ok::<_, Failure>(())
        })
        .await;
    assert!(
        matches!(dropped, Err(Failure::Tx(TxError::UnexpectedRollback))),
        "{dropped:?}"
    );
    assert!(keys.keys().await?.is_empty(), "nothing was sent");
    Ok(())
}
// ANCHOR_END: redis_rollback_only

/// A Redis client error as the tests' failure type.
fn test_command_failed(error: redis::RedisError) -> Failure {
    Failure::Tx(TxError::Redis {
        doing: "the test's own command",
        source: error,
    })
}

/// Through the mockable trait, the Redis manager behaves as it does called directly.
#[tokio::test]
async fn through_the_transaction_manager_trait_writes_still_land_together() -> anyhow::Result<()> {
    use ch03_transaction_manager::{TransactionManager, body};

    let keys = RedisNamespace::new().await?;
    let tm = std::sync::Arc::new(RedisManager::new(keys.client().clone()));
    let (balance, order) = (keys.key("balance"), keys.key("order"));

    let scope = |fail: bool| {
        let (tm, balance, order) = (tm.clone(), balance.clone(), order.clone());
        body(move |ctx| async move {
            tm.write(&ctx, set(&balance, 90)).await?;
            tm.write(&ctx, set(&order, 1)).await?;
            if fail {
                return Err(Failure::Boom("after both writes"));
            }
            Ok(())
        })
    };
    // The trait's `run`, named in full: on the concrete type, `tm.run` is the inherent method.
    let failed = TransactionManager::run(&*tm, &Ctx::new(), Settings::default(), scope(true)).await;
    assert!(matches!(failed, Err(Failure::Boom(_))));
    assert!(keys.keys().await?.is_empty(), "a failed scope sends nothing");

    TransactionManager::run(&*tm, &Ctx::new(), Settings::default(), scope(false)).await?;
    assert_eq!(
        keys.connection().mget::<_, (i64, i64)>(&[&balance, &order]).await?,
        (90, 1)
    );
    Ok(())
}
