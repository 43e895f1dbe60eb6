//! Whatever way a scope ends (an error, a panic, a cancelled future), its writes are rolled back
//! and its connection goes back to the pool; hooks run only for the outcome they were made for;
//! and concurrent use cases never see each other's transactions.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ch03_transaction_manager::{Ctx, Settings};
use harness::eventually;

use rstest::rstest;
use sqlx::{MySql, Postgres, Sqlite};

use crate::support::{Failure, Store, TestDb};

/// A panic inside a transaction rolls it back, and the panic goes on to the caller.
#[rstest]
#[tokio::test]
async fn a_panic_rolls_back_and_continues<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let store = &Store::new(backend).await?;
    let tm = &store.manager;
    let panicked = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(tm.run(
        &Ctx::new(),
        Settings::default(),
        async |ctx| {
            store.insert(ctx, "before the panic").await?;
            panic!("a bug in the use case");
            #[allow(unreachable_code)]
            Ok::<_, Failure>(())
        },
    )))
    .await;
    assert!(panicked.is_err(), "the panic reaches the caller");
    assert_eq!(store.committed().await?, Vec::<String>::new());
    store.every_connection_returns().await;
    Ok(())
}

/// Dropping a use case's future after its first write (a cancelled request) leaves no row and
/// no connection checked out.
#[rstest]
#[tokio::test]
async fn a_cancelled_transaction_leaves_no_row_and_no_connection_out<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let store = &Store::new(backend).await?;
    let tm = &store.manager;
    let (wrote, written) = tokio::sync::oneshot::channel();
    let request = Ctx::new();
    let use_case = tm.run(&request, Settings::default(), async |ctx| {
        store.insert(ctx, "first").await?;
        wrote.send(()).unwrap();
        std::future::pending::<()>().await;
        store.insert(ctx, "second").await
    });
    tokio::select! {
        _ = use_case => panic!("the use case never finishes"),
        _ = written => {} // the first write is done: drop the use case here
    }
    assert_eq!(store.committed().await?, Vec::<String>::new());
    store.every_connection_returns().await;
    // And the connection is usable: the rollback was finished, not forgotten.
    tm.run(&Ctx::new(), Settings::default(), async |ctx| {
        store.insert(ctx, "after").await
    })
    .await?;
    assert_eq!(store.committed().await?, ["after"]);
    Ok(())
}

/// After-commit hooks run after a commit, when the data is visible to everyone; never after a
/// rollback. After-rollback hooks are the reverse. A hook from a savepoint that was rolled back
/// is dropped with it.
#[rstest]
#[tokio::test]
async fn hooks_run_only_for_their_outcome<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let store = &Store::new(backend).await?;
    let tm = &store.manager;
    let seen_by_hook = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let (committed, rolled_back) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));

    tm.run(&Ctx::new(), Settings::default(), async |ctx| {
        store.insert(ctx, "published").await?;
        let (count, seen) = (committed.clone(), seen_by_hook.clone());
        let pool = tm.pool().clone();
        tm.after_commit(ctx, async move {
            count.fetch_add(1, Ordering::SeqCst);
            let mut conn = pool.acquire().await.expect("a connection");
            let labels = DB::labels(&mut conn).await.expect("a read");
            *seen.lock().unwrap() = labels;
        })?;
        let count = rolled_back.clone();
        tm.after_rollback(ctx, async move {
            count.fetch_add(1, Ordering::SeqCst);
        })?;
        let dropped = committed.clone();
        let _ = tm
            .run(
                ctx,
                Settings::new(ch03_transaction_manager::Propagation::Nested),
                async |ctx| {
                    tm.after_commit(ctx, async move {
                        dropped.fetch_add(100, Ordering::SeqCst);
                    })?;
                    Err::<(), _>(Failure::Boom("savepoint"))
                },
            )
            .await;
        Ok::<_, Failure>(())
    })
    .await?;
    assert_eq!(
        committed.load(Ordering::SeqCst),
        1,
        "once, and not the savepoint's hook"
    );
    assert_eq!(rolled_back.load(Ordering::SeqCst), 0);
    assert_eq!(
        *seen_by_hook.lock().unwrap(),
        ["published"],
        "the hook ran after the commit"
    );

    let failed = tm
        .run(&Ctx::new(), Settings::default(), async |ctx| {
            let count = committed.clone();
            tm.after_commit(ctx, async move {
                count.fetch_add(1, Ordering::SeqCst);
            })?;
            let count = rolled_back.clone();
            tm.after_rollback(ctx, async move {
                count.fetch_add(1, Ordering::SeqCst);
            })?;
            Err::<(), _>(Failure::Boom("use case"))
        })
        .await;
    assert!(failed.is_err());
    assert_eq!(committed.load(Ordering::SeqCst), 1, "no commit hook after a rollback");
    assert_eq!(rolled_back.load(Ordering::SeqCst), 1);
    Ok(())
}

/// 200 use cases at once on one pool, each a task of its own on a multi-threaded runtime, half
/// of them failing: none sees another's uncommitted writes, and exactly the successful ones are
/// committed.
#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_use_cases_never_share_a_transaction<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let store = Arc::new(Store::new(backend).await?);
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let tm = &store.manager;
                tm.run(&Ctx::new(), Settings::default(), async |ctx| {
                    let label = format!("use case {i}");
                    store.insert(ctx, &label).await?;
                    tokio::task::yield_now().await;
                    // Others' *committed* rows may be visible (READ COMMITTED); a row that is never
                    // committed (an odd use case's) is visible only inside its own transaction.
                    let visible = store.visible(ctx).await?;
                    assert!(visible.contains(&label), "use case {i} does not see its own write");
                    let leaked: Vec<&String> = visible
                        .iter()
                        .filter(|seen| **seen != label && never_committed(seen))
                        .collect();
                    assert!(leaked.is_empty(), "use case {i} saw uncommitted writes of {leaked:?}");
                    if i % 2 == 0 {
                        Ok(label)
                    } else {
                        Err(Failure::Boom("odd"))
                    }
                })
                .await
            })
        })
        .collect();
    let mut expected = Vec::new();
    for task in tasks {
        if let Ok(label) = task.await? {
            expected.push(label);
        }
    }
    let mut committed = store.committed().await?;
    expected.sort();
    committed.sort();
    assert_eq!(expected.len(), 100);
    assert_eq!(committed, expected);
    Ok(())
}

/// Whether the label is an odd use case's, which always fails and so never commits.
fn never_committed(label: &str) -> bool {
    label
        .strip_prefix("use case ")
        .and_then(|n| n.parse::<u32>().ok())
        .is_some_and(|n| n % 2 == 1)
}

/// SQLite's read-only transactions switch the whole connection to `query_only`. One that is
/// cancelled must not hand that connection back still refusing writes: with a single connection
/// in the pool, the next write outside any transaction gets that very connection.
#[tokio::test]
async fn a_cancelled_read_only_sqlite_transaction_leaves_its_connection_writable() -> anyhow::Result<()> {
    let db = harness::SqliteDatabase::file(&crate::support::SQLITE, 1, Duration::from_secs(5)).await?;
    let tm = ch03_transaction_manager::SqlManager::new(db.pool().clone());
    let (read, was_read) = tokio::sync::oneshot::channel();
    let request = Ctx::new();
    let reader = tm.run(&request, Settings::default().read_only(), async |ctx| {
        let mut conn = tm.connection(ctx).await?;
        let _: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM entries")
            .fetch_one(&mut *conn)
            .await?;
        drop(conn);
        read.send(()).unwrap();
        std::future::pending::<Result<(), Failure>>().await
    });
    tokio::select! {
        _ = reader => panic!("the reader never finishes"),
        _ = was_read => {} // cancel it here, inside its read-only transaction
    }

    let outside = Settings::new(ch03_transaction_manager::Propagation::NotSupported);
    eventually(Duration::from_secs(10), || async {
        tm.run(&Ctx::new(), outside, async |ctx| {
            let mut conn = tm.connection(ctx).await?;
            sqlx::query("INSERT INTO entries (label) VALUES ('written')")
                .execute(&mut *conn)
                .await?;
            Ok::<_, Failure>(())
        })
        .await
    })
    .await;
    let labels: Vec<String> = sqlx::query_scalar("SELECT label FROM entries")
        .fetch_all(db.pool())
        .await?;
    assert_eq!(labels, ["written"]);
    Ok(())
}
