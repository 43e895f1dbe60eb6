//! Settings: read-only, isolation and timeout, and joining a transaction that cannot honour them.

use std::time::{Duration, Instant};

use ch03_transaction_manager::{Ctx, Isolation, Settings, TxError};

use rstest::rstest;
use sqlx::{MySql, Postgres, Sqlite};

use crate::support::{Failure, Store, TestDb};

/// A read-only transaction refuses a write, in the database's own words.
#[rstest]
#[tokio::test]
async fn a_read_only_transaction_refuses_a_write<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let store = &Store::new(backend).await?;
    let tm = &store.manager;
    let result = tm
        .run(&Ctx::new(), Settings::default().read_only(), async |ctx| {
            store.insert(ctx, "nope").await
        })
        .await;
    let message = format!("{result:?}");
    assert!(
        message.contains("read-only") || message.contains("READ ONLY") || message.contains("readonly"),
        "{message}"
    );
    assert_eq!(store.committed().await?, Vec::<String>::new());

    // The connection is not left read-only for the next transaction.
    tm.run(&Ctx::new(), Settings::default(), async |ctx| {
        store.insert(ctx, "later").await
    })
    .await?;
    assert_eq!(store.committed().await?, ["later"]);
    Ok(())
}

/// Joining is refused, not silently accepted, when the open transaction cannot give what the
/// inner scope asks for. A refused scope did nothing, so the outer work can still commit.
#[rstest]
#[tokio::test]
async fn joining_a_transaction_that_cannot_honour_the_settings_is_refused<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let store = &Store::new(backend).await?;
    let tm = &store.manager;
    let outer = Settings::default().timeout(Duration::from_secs(20));
    let (read_only, serializable, longer) = tm
        .run(&Ctx::new(), outer, async |ctx| {
            store.insert(ctx, "outer").await?;
            let nothing = async |_: &Ctx| Ok::<_, Failure>(());
            let read_only = tm.run(ctx, Settings::default().read_only(), nothing).await;
            let serializable = tm
                .run(ctx, Settings::default().isolation(Isolation::Serializable), nothing)
                .await;
            let longer = tm
                .run(ctx, Settings::default().timeout(Duration::from_secs(60)), nothing)
                .await;
            Ok::<_, Failure>((read_only, serializable, longer))
        })
        .await?;
    assert!(
        matches!(&read_only, Err(Failure::Tx(TxError::Incompatible(m))) if m.contains("read-only")),
        "{read_only:?}"
    );
    assert!(
        matches!(&serializable, Err(Failure::Tx(TxError::Incompatible(m))) if m.contains("Serializable")),
        "{serializable:?}"
    );
    assert!(
        matches!(&longer, Err(Failure::Tx(TxError::Incompatible(m))) if m.contains("sooner")),
        "{longer:?}"
    );
    assert_eq!(store.committed().await?, ["outer"]);
    Ok(())
}

/// A scope that outlives its timeout is cut off and its transaction rolled back.
#[rstest]
#[tokio::test]
async fn a_transaction_over_its_timeout_rolls_back<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let store = &Store::new(backend).await?;
    let tm = &store.manager;
    let limit = Duration::from_millis(300);
    let result = tm
        .run(&Ctx::new(), Settings::default().timeout(limit), async |ctx| {
            store.insert(ctx, "slow").await?;
            // The slow part of a use case: a call that takes longer than the transaction may.
            tokio::time::sleep(Duration::from_secs(5)).await;
            store.insert(ctx, "never").await
        })
        .await;
    assert!(
        matches!(result, Err(Failure::Tx(TxError::Timeout(l))) if l == limit),
        "{result:?}"
    );
    assert_eq!(store.committed().await?, Vec::<String>::new());
    Ok(())
}

// ANCHOR: deadline
/// The timeout bounds the statement in progress, not only the code between statements: a body
/// blocked on a row lock that another transaction holds for 3 s gets its `Timeout` at the
/// deadline. The manager cancels the statement on the server, rolls back, and the connection
/// serves the next transaction. (SQLite has no row locks to wait on.)
#[rstest]
#[tokio::test]
async fn the_deadline_cancels_a_statement_blocked_on_a_lock<DB: TestDb>(
    #[values(Postgres, MySql)] backend: DB,
) -> anyhow::Result<()> {
    let store = &Store::new(backend).await?;
    let tm = &store.manager;
    tm.run(&Ctx::new(), Settings::default(), async |ctx| {
        store.insert(ctx, "row").await
    })
    .await?;
    let mut locker = tm.pool().begin().await?;
    DB::relabel(&mut locker, "row", "locked by another transaction").await?;

    let limit = Duration::from_millis(300);
    let started = Instant::now();
    let result = tm
        .run(&Ctx::new(), Settings::default().timeout(limit), async |ctx| {
            store.insert(ctx, "before the lock").await?;
            let mut conn = tm.connection(ctx).await?;
            Ok::<_, Failure>(DB::relabel(&mut conn, "row", "mine").await?)
        })
        .await;
    let took = started.elapsed();
    assert!(
        matches!(result, Err(Failure::Tx(TxError::Timeout(l))) if l == limit),
        "{result:?}"
    );
    assert!(
        took < Duration::from_secs(2),
        "the timeout came after {took:?}, not at the deadline"
    );

    tokio::time::sleep(Duration::from_secs(3).saturating_sub(took)).await;
    locker.rollback().await?;
    tm.run(&Ctx::new(), Settings::default(), async |ctx| {
        store.insert(ctx, "after").await
    })
    .await?;
    let mut committed = store.committed().await?;
    committed.sort();
    assert_eq!(
        committed,
        ["after", "row"],
        "nothing of the timed-out scope, and the pool still serves"
    );
    store.every_connection_returns().await;
    Ok(())
}
// ANCHOR_END: deadline

// ANCHOR: isolation
/// An isolation level is in force, as seen from inside: a row that another transaction changes
/// and commits between two reads reads the same twice at `REPEATABLE READ`, and changed at
/// `READ COMMITTED` (a non-repeatable read).
#[rstest]
#[tokio::test]
async fn the_isolation_asked_for_is_the_one_in_force<DB: TestDb>(
    #[values(Postgres, MySql)] backend: DB,
    #[values(Isolation::RepeatableRead, Isolation::ReadCommitted)] isolation: Isolation,
) -> anyhow::Result<()> {
    let store = &Store::new(backend).await?;
    let tm = &store.manager;
    tm.run(&Ctx::new(), Settings::default(), async |ctx| {
        store.insert(ctx, "first").await
    })
    .await?;
    let (before, after) = tm
        .run(&Ctx::new(), Settings::default().isolation(isolation), async |ctx| {
            let before = store.visible(ctx).await?;
            let mut other = tm.pool().acquire().await?;
            DB::relabel(&mut other, "first", "changed by another transaction").await?;
            Ok::<_, Failure>((before, store.visible(ctx).await?))
        })
        .await?;
    assert_eq!(before, ["first"]);
    let expected = match isolation {
        Isolation::ReadCommitted => "changed by another transaction",
        _ => "first",
    };
    assert_eq!(after, [expected], "at {isolation:?}");
    Ok(())
}
// ANCHOR_END: isolation

/// SQLite offers only SERIALIZABLE, and refuses any other level rather than ignore it.
#[tokio::test]
async fn sqlite_refuses_an_isolation_it_does_not_have() -> anyhow::Result<()> {
    let store = &Store::new(Sqlite).await?;
    let tm = &store.manager;
    tm.run(
        &Ctx::new(),
        Settings::default().isolation(Isolation::Serializable),
        async |ctx| store.insert(ctx, "isolated").await,
    )
    .await?;
    assert_eq!(store.committed().await?, ["isolated"]);
    let refused = tm
        .run(
            &Ctx::new(),
            Settings::default().isolation(Isolation::ReadCommitted),
            async |ctx| store.insert(ctx, "x").await,
        )
        .await;
    assert!(
        matches!(
            refused,
            Err(Failure::Tx(TxError::IsolationUnsupported(Isolation::ReadCommitted)))
        ),
        "{refused:?}"
    );
    Ok(())
}
