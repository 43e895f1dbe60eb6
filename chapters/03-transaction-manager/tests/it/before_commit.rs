//! Before-commit hooks: work that runs inside the transaction, just before `COMMIT`, and can still
//! fail it (Spring's `beforeCommit`). A natural home for writing an outbox's events or deciding a
//! cache invalidation from everything a use case did.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ch03_transaction_manager::{Ctx, Propagation, Settings, TxError};
use rstest::rstest;
use sqlx::{MySql, Postgres, Sqlite};

use crate::support::{Failure, Store, TestDb};

/// A hook writes in the transaction: its row commits with the body's.
#[rstest]
#[tokio::test]
async fn a_before_commit_hook_writes_inside_the_transaction<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let store = Arc::new(Store::new(backend).await?);
    let tm = &store.manager;
    tm.run(&Ctx::new(), Settings::default(), async |ctx| {
        store.insert(ctx, "body").await?;
        let hook_store = store.clone();
        tm.before_commit(ctx, move |ctx| async move {
            assert!(
                hook_store.manager.in_transaction(&ctx),
                "the hook runs inside the transaction"
            );
            let seen = hook_store.visible(&ctx).await?;
            assert_eq!(seen, ["body"], "and sees the body's uncommitted writes");
            hook_store.insert(&ctx, "hook").await
        })?;
        assert_eq!(store.visible(ctx).await?, ["body"], "hooks wait for the commit");
        Ok::<_, Failure>(())
    })
    .await?;
    assert_eq!(store.committed().await?, ["body", "hook"]);
    Ok(())
}

/// A hook that fails rolls the whole transaction back; the scope returns the hook's error, and
/// after-rollback hooks run, not after-commit ones.
#[rstest]
#[tokio::test]
async fn a_failing_before_commit_hook_rolls_the_transaction_back<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let store = &Store::new(backend).await?;
    let tm = &store.manager;
    let (committed, rolled_back) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    let result = tm
        .run(&Ctx::new(), Settings::default(), async |ctx| {
            store.insert(ctx, "body").await?;
            tm.before_commit(ctx, |_| async { Err::<(), _>(Failure::Boom("the hook refuses")) })?;
            let flag = committed.clone();
            tm.after_commit(ctx, async move { flag.store(true, Ordering::SeqCst) })?;
            let flag = rolled_back.clone();
            tm.after_rollback(ctx, async move { flag.store(true, Ordering::SeqCst) })?;
            Ok::<_, Failure>(())
        })
        .await;
    match result {
        Err(Failure::Tx(TxError::BeforeCommit(error))) => assert!(error.to_string().contains("the hook refuses")),
        other => panic!("expected the hook's error, got {other:?}"),
    }
    assert_eq!(store.committed().await?, Vec::<String>::new());
    assert!(!committed.load(Ordering::SeqCst) && rolled_back.load(Ordering::SeqCst));
    Ok(())
}

/// A hook added by a `Nested` scope that rolled back to its savepoint never runs: the work it
/// was about is undone.
#[rstest]
#[tokio::test]
async fn a_rolled_back_savepoint_takes_its_before_commit_hooks_with_it<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let store = &Store::new(backend).await?;
    let tm = &store.manager;
    let ran = Arc::new(AtomicBool::new(false));
    tm.run(&Ctx::new(), Settings::default(), async |ctx| {
        let nested = tm
            .run(ctx, Settings::new(Propagation::Nested), async |ctx| {
                let ran = ran.clone();
                tm.before_commit(ctx, move |_| async move {
                    ran.store(true, Ordering::SeqCst);
                    Ok::<_, TxError>(())
                })?;
                Err::<(), _>(Failure::Boom("nested"))
            })
            .await;
        assert!(matches!(nested, Err(Failure::Boom(_))));
        store.insert(ctx, "outer").await
    })
    .await?;
    assert!(!ran.load(Ordering::SeqCst), "the savepoint's hook was dropped with it");
    assert_eq!(store.committed().await?, ["outer"]);
    Ok(())
}
