//! Settings: read-only, isolation and timeout, and joining a transaction that cannot honour them.

use std::time::Duration;

use ch03_transaction_manager::{Ctx, Isolation, Propagation, Settings, TxError};

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

/// An isolation level is applied when the transaction begins (SQLite offers only SERIALIZABLE).
#[rstest]
#[tokio::test]
async fn isolation_is_set_when_the_transaction_begins<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let store = &Store::new(backend).await?;
    let sqlite = DB::IS_SQLITE;
    let tm = &store.manager;
    let asked = if sqlite {
        Isolation::Serializable
    } else {
        Isolation::RepeatableRead
    };
    tm.run(
        &Ctx::new(),
        Settings::new(Propagation::Required).isolation(asked),
        async |ctx| store.insert(ctx, "isolated").await,
    )
    .await?;
    assert_eq!(store.committed().await?, ["isolated"]);
    if sqlite {
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
    }
    Ok(())
}
