//! A unit of work commits through chapter 03's transaction manager: inside a use case's
//! transaction it joins it, so two units of work committed in one use case go together, and a use
//! case that fails after them takes both back.

use ch03_transaction_manager::{Ctx, Settings, SqlManager};
use ch04_unit_of_work::shop::Order;
use ch04_unit_of_work::{UnitOfWork, commit};
use rstest::rstest;
use sqlx::{MySql, Postgres, Sqlite};
use uuid::Uuid;

use crate::support::{Store, UseCaseError, product};

// ANCHOR: joined
#[rstest]
#[case::the_use_case_commits(true)]
#[case::the_use_case_fails_after_both(false)]
#[tokio::test]
async fn two_units_committed_in_one_use_case_share_its_transaction<DB: Store>(
    #[values(Postgres, MySql, Sqlite)] _backend: DB,
    #[case] succeeds: bool,
) -> anyhow::Result<()> {
    let db = DB::database().await?;
    let pool = DB::pool(&db);
    let tm = SqlManager::new(pool.clone());

    let outcome = tm
        .run(&Ctx::new(), Settings::default(), async |ctx| {
            let mut stocking = UnitOfWork::new();
            stocking.register_new(product("widget", 5))?;
            commit(&mut stocking, &tm, ctx).await?;
            let mut ordering = UnitOfWork::new();
            ordering.register_new(Order {
                id: Uuid::now_v7(),
                customer: "ada".into(),
            })?;
            commit(&mut ordering, &tm, ctx).await?;
            if succeeds { Ok(()) } else { Err(UseCaseError::Refused) }
        })
        .await;

    let stored = (DB::count(pool, "products").await?, DB::count(pool, "orders").await?);
    if succeeds {
        outcome?;
        assert_eq!(stored, (1, 1), "both units committed with the use case");
    } else {
        assert!(matches!(outcome, Err(UseCaseError::Refused)), "{outcome:?}");
        assert_eq!(stored, (0, 0), "both units' writes went back with the use case");
    }
    Ok(())
}
// ANCHOR_END: joined
