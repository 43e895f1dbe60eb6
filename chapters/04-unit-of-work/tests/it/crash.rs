//! A crash in the middle of a commit: the process that runs it killed between two of its
//! statements, with the first sent and the transaction open. Nothing of it is left; the database
//! rolls the transaction back when the connection drops. (SQLite's test databases live in the
//! test's memory, so there is no database left to look at; the proxy and killed-session faults
//! in `commit` cover it.)

use harness::crash::ChildTest;
use rstest::rstest;
use sqlx::{MySql, Pool, Postgres};
use uuid::Uuid;

use ch04_unit_of_work::{SqlProducts, UnitOfWork, place_order};

use crate::support::{Store, product, stock, stored};

/// Where the child commits, and the product it orders; unset, the test runs on its own.
const DATABASE_URL: &str = "CH04_DATABASE_URL";
const WIDGET: &str = "CH04_WIDGET";

/// An order of two widgets committed: three statements (the order, its line, the widget). On its
/// own it stocks a widget of its own and checks the order is stored; run by the test below as a
/// child, it orders the parent's widget and dies at the armed point.
#[rstest]
#[tokio::test]
async fn an_order_committed<DB: Store>(#[values(Postgres, MySql)] _backend: DB) -> anyhow::Result<()> {
    harness::crash::arm_from_env();
    let (own, pool, widget) = match (std::env::var(DATABASE_URL), std::env::var(WIDGET)) {
        (Ok(url), Ok(widget)) => (None, Pool::<DB>::connect(&url).await?, widget.parse::<Uuid>()?),
        _ => {
            let own = DB::database().await?;
            let pool = DB::pool(&own).clone();
            let widget = product("widget", 5);
            stored(&pool, std::slice::from_ref(&widget)).await?;
            (Some(own), pool, widget.id)
        }
    };
    let mut unit = UnitOfWork::new();
    place_order(&mut unit, &SqlProducts(pool.clone()), "ada", &[(widget, 2)]).await?;
    let written = DB::commit_unit(&mut unit, &pool).await?;
    assert_eq!(written.statements, 3);
    assert_eq!(stock(&pool, widget).await?, 3);
    drop(own);
    Ok(())
}

// ANCHOR: crash
#[rstest]
#[case::postgres(Postgres, "_backend_1_Postgres")]
#[case::mariadb(MySql, "_backend_2_MySql")]
#[tokio::test]
async fn a_process_killed_between_two_statements_of_a_commit_leaves_none_of_it<DB: Store>(
    #[case] _backend: DB,
    #[case] child_case: &str,
) -> anyhow::Result<()> {
    let db = DB::database().await?;
    let pool = DB::pool(&db);
    let widget = product("widget", 5);
    stored(pool, std::slice::from_ref(&widget)).await?;

    let child = ChildTest::new(format!("crash::an_order_committed::{child_case}"))
        .crash_at("commit::between_batches")
        .env(DATABASE_URL, DB::url(&db).expect("a database a child can reach"))
        .env(WIDGET, widget.id.to_string())
        .run()
        .await?;

    assert!(child.crashed_at("commit::between_batches"), "{}", child.output());
    assert_eq!(
        (
            DB::count(pool, "orders").await?,
            DB::count(pool, "order_lines").await?,
            stock(pool, widget.id).await?
        ),
        (0, 0, 5),
        "the order's insert was sent before the crash, and is not there"
    );
    Ok(())
}
// ANCHOR_END: crash
