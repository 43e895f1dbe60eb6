//! Each propagation mode: what it commits and what it rolls back, when it fails and when the code
//! around it swallows the failure.

use ch03_transaction_manager::{Ctx, Propagation, Settings, TxError};

use rstest::rstest;
use sqlx::{MySql, Postgres, Sqlite};

use crate::support::{Failure, Store, TestDb};

fn with(propagation: Propagation) -> Settings {
    Settings::new(propagation)
}

/// Required inside Required: one transaction, committed once, with both writes.
#[rstest]
#[tokio::test]
async fn required_joins_the_outer_transaction<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let store = &Store::new(backend).await?;
    let tm = &store.manager;
    tm.run(&Ctx::new(), with(Propagation::Required), async |ctx| {
        store.insert(ctx, "outer").await?;
        tm.run(ctx, with(Propagation::Required), async |ctx| {
            store.insert(ctx, "inner").await
        })
        .await?;
        assert_eq!(
            store.committed().await.unwrap(),
            Vec::<String>::new(),
            "nothing is visible before the commit"
        );
        Ok::<_, Failure>(())
    })
    .await?;
    assert_eq!(store.committed().await?, ["outer", "inner"]);
    Ok(())
}

/// An inner failure that the outer code passes on rolls back both writes.
#[rstest]
#[tokio::test]
async fn an_inner_failure_passed_on_rolls_back_everything<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let store = &Store::new(backend).await?;
    let tm = &store.manager;
    let result = tm
        .run(&Ctx::new(), with(Propagation::Required), async |ctx| {
            store.insert(ctx, "outer").await?;
            tm.run(ctx, with(Propagation::Required), async |ctx| {
                store.insert(ctx, "inner").await?;
                Err::<(), _>(Failure::Boom("inner"))
            })
            .await?;
            Ok::<_, Failure>(())
        })
        .await;
    assert!(matches!(result, Err(Failure::Boom("inner"))), "{result:?}");
    assert_eq!(store.committed().await?, Vec::<String>::new());
    Ok(())
}

/// The outer code swallows an inner Required failure and carries on: the commit would save
/// half a use case, so the manager rolls back and says so.
#[rstest]
#[tokio::test]
async fn a_swallowed_inner_failure_makes_the_commit_fail_with_unexpected_rollback<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let store = &Store::new(backend).await?;
    let tm = &store.manager;
    let result = tm
        .run(&Ctx::new(), with(Propagation::Required), async |ctx| {
            store.insert(ctx, "outer").await?;
            let inner = tm
                .run(ctx, with(Propagation::Required), async |ctx| {
                    store.insert(ctx, "inner").await?;
                    Err::<(), _>(Failure::Boom("inner"))
                })
                .await;
            assert!(inner.is_err());
            store.insert(ctx, "after the swallowed failure").await?;
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

/// Nested: a savepoint. The inner failure rolls back to it; the outer work commits.
#[rstest]
#[tokio::test]
async fn nested_failure_rolls_back_to_its_savepoint_and_the_outer_commits<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let store = &Store::new(backend).await?;
    let tm = &store.manager;
    tm.run(&Ctx::new(), with(Propagation::Required), async |ctx| {
        store.insert(ctx, "outer").await?;
        let inner = tm
            .run(ctx, with(Propagation::Nested), async |ctx| {
                store.insert(ctx, "inner").await?;
                Err::<(), _>(Failure::Boom("inner"))
            })
            .await;
        assert!(matches!(inner, Err(Failure::Boom("inner"))));
        assert_eq!(
            store.visible(ctx).await?,
            ["outer"],
            "the savepoint took the inner write back"
        );
        store.insert(ctx, "outer again").await?;
        Ok::<_, Failure>(())
    })
    .await?;
    assert_eq!(store.committed().await?, ["outer", "outer again"]);
    Ok(())
}

/// A Nested scope that succeeds is part of the outer transaction: it commits with it, and
/// rolls back with it.
#[rstest]
#[tokio::test]
async fn nested_success_commits_and_rolls_back_with_the_outer<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let store = &Store::new(backend).await?;
    let tm = &store.manager;
    tm.run(&Ctx::new(), with(Propagation::Required), async |ctx| {
        store.insert(ctx, "outer").await?;
        tm.run(ctx, with(Propagation::Nested), async |ctx| {
            store.insert(ctx, "inner").await
        })
        .await?;
        Ok::<_, Failure>(())
    })
    .await?;
    assert_eq!(store.committed().await?, ["outer", "inner"]);

    let failed = tm
        .run(&Ctx::new(), with(Propagation::Required), async |ctx| {
            tm.run(ctx, with(Propagation::Nested), async |ctx| {
                store.insert(ctx, "released").await
            })
            .await?;
            Err::<(), _>(Failure::Boom("outer"))
        })
        .await;
    assert!(failed.is_err());
    assert_eq!(
        store.committed().await?,
        ["outer", "inner"],
        "the released savepoint rolled back with its transaction"
    );
    Ok(())
}

/// RequiresNew: a transaction of its own, on another connection, committed whatever the outer
/// one does. SQLite has a single writer: while the outer transaction holds the write lock, the
/// inner one could never begin, and is refused at once rather than after the busy timeout.
#[rstest]
#[tokio::test]
async fn requires_new_commits_independently_of_the_outer<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let store = &Store::new(backend).await?;
    let sqlite = DB::IS_SQLITE;
    let tm = &store.manager;
    if sqlite {
        let result = tm
            .run(&Ctx::new(), Settings::new(Propagation::Required), async |ctx| {
                tm.run(ctx, with(Propagation::RequiresNew), async |ctx| {
                    store.insert(ctx, "inner").await
                })
                .await
            })
            .await;
        assert!(matches!(result, Err(Failure::Tx(TxError::SecondWriter))), "{result:?}");
        assert_eq!(store.committed().await?, Vec::<String>::new());
        return Ok(());
    }
    let result = tm
        .run(&Ctx::new(), with(Propagation::Required), async |ctx| {
            store.insert(ctx, "outer").await?;
            tm.run(ctx, with(Propagation::RequiresNew), async |ctx| {
                assert_eq!(
                    store.visible(ctx).await?,
                    Vec::<String>::new(),
                    "the outer write is not visible to it"
                );
                store.insert(ctx, "inner").await
            })
            .await?;
            assert_eq!(
                store.committed().await.unwrap(),
                ["inner"],
                "committed before the outer ends"
            );
            Err::<(), _>(Failure::Boom("outer"))
        })
        .await;
    assert!(matches!(result, Err(Failure::Boom("outer"))));
    assert_eq!(store.committed().await?, ["inner"]);
    Ok(())
}

/// Supports: joins a transaction if there is one, else runs without (each statement commits).
#[rstest]
#[tokio::test]
async fn supports_joins_if_it_can_and_otherwise_runs_without<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let store = &Store::new(backend).await?;
    let tm = &store.manager;
    let alone = tm
        .run(&Ctx::new(), with(Propagation::Supports), async |ctx| {
            assert!(!tm.in_transaction(ctx));
            store.insert(ctx, "alone").await?;
            Err::<(), _>(Failure::Boom("after the write"))
        })
        .await;
    assert!(alone.is_err());
    assert_eq!(
        store.committed().await?,
        ["alone"],
        "no transaction, nothing to roll back"
    );

    let joined = tm
        .run(&Ctx::new(), with(Propagation::Required), async |ctx| {
            tm.run(ctx, with(Propagation::Supports), async |ctx| {
                store.insert(ctx, "joined").await
            })
            .await?;
            Err::<(), _>(Failure::Boom("outer"))
        })
        .await;
    assert!(joined.is_err());
    assert_eq!(
        store.committed().await?,
        ["alone"],
        "the joined write rolled back with the outer"
    );
    Ok(())
}

/// Mandatory needs a transaction; Never refuses one.
#[rstest]
#[tokio::test]
async fn mandatory_needs_a_transaction_and_never_refuses_one<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let store = &Store::new(backend).await?;
    let tm = &store.manager;
    let mandatory = tm
        .run(&Ctx::new(), with(Propagation::Mandatory), async |ctx| {
            store.insert(ctx, "m").await
        })
        .await;
    assert!(
        matches!(
            mandatory,
            Err(Failure::Tx(TxError::NoTransaction(Propagation::Mandatory)))
        ),
        "{mandatory:?}"
    );

    let never = tm
        .run(&Ctx::new(), with(Propagation::Required), async |ctx| {
            tm.run(ctx, with(Propagation::Never), async |ctx| store.insert(ctx, "n").await)
                .await
        })
        .await;
    assert!(
        matches!(never, Err(Failure::Tx(TxError::ExistingTransaction))),
        "{never:?}"
    );

    tm.run(&Ctx::new(), with(Propagation::Required), async |ctx| {
        tm.run(ctx, with(Propagation::Mandatory), async |ctx| {
            store.insert(ctx, "joined").await
        })
        .await
    })
    .await?;
    tm.run(&Ctx::new(), with(Propagation::Never), async |ctx| {
        store.insert(ctx, "without").await
    })
    .await?;
    assert_eq!(store.committed().await?, ["joined", "without"]);
    Ok(())
}

/// NotSupported suspends the outer transaction: the code inside runs on another connection,
/// outside it, does not see its uncommitted writes, and what it writes stays written when the
/// outer transaction rolls back.
#[rstest]
#[tokio::test]
async fn not_supported_runs_outside_the_open_transaction<DB: TestDb>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let store = &Store::new(backend).await?;
    let tm = &store.manager;
    // SQLite has one writer: the outer transaction reads, so that the suspended scope can write.
    let outer = if DB::IS_SQLITE {
        Settings::default().read_only()
    } else {
        with(Propagation::Required)
    };
    let result = tm
        .run(&Ctx::new(), outer, async |ctx| {
            if !DB::IS_SQLITE {
                store.insert(ctx, "outer").await?;
            }
            let seen = tm
                .run(ctx, with(Propagation::NotSupported), async |ctx| {
                    assert!(!tm.in_transaction(ctx));
                    let seen = store.visible(ctx).await?;
                    store.insert(ctx, "suspended").await?;
                    Ok::<_, Failure>(seen)
                })
                .await?;
            assert_eq!(seen, Vec::<String>::new(), "the outer write is not visible outside it");
            assert!(
                tm.in_transaction(ctx),
                "the outer transaction is back after the inner scope"
            );
            Err::<(), _>(Failure::Boom("the outer transaction fails"))
        })
        .await;
    assert!(matches!(result, Err(Failure::Boom(_))), "{result:?}");
    assert_eq!(
        store.committed().await?,
        ["suspended"],
        "the write outside the transaction survives its rollback"
    );
    Ok(())
}

/// Two managers for two databases, side by side in one context: each repository finds its own
/// transaction, and each transaction commits or rolls back on its own.
#[tokio::test]
async fn two_managers_for_two_databases_keep_their_transactions_apart() -> anyhow::Result<()> {
    let postgres = Store::new(Postgres).await?;
    let mysql = Store::new(MySql).await?;
    let (pg, my) = (&postgres.manager, &mysql.manager);

    let result = pg
        .run(&Ctx::new(), with(Propagation::Required), async |ctx| {
            postgres.insert(ctx, "pg").await?;
            my.run(ctx, with(Propagation::Required), async |ctx| {
                assert!(
                    pg.in_transaction(ctx) && my.in_transaction(ctx),
                    "both transactions are in the context"
                );
                mysql.insert(ctx, "mysql").await
            })
            .await?;
            Err::<(), _>(Failure::Boom("after the MySQL transaction committed"))
        })
        .await;

    assert!(matches!(result, Err(Failure::Boom(_))));
    assert_eq!(
        postgres.committed().await?,
        Vec::<String>::new(),
        "PostgreSQL's transaction rolled back"
    );
    assert_eq!(
        mysql.committed().await?,
        ["mysql"],
        "MySQL's committed on its own: two databases, no 2PC (see chapter 05)"
    );
    Ok(())
}
