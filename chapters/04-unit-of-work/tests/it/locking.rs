//! Optimistic locking: a commit that finds a product changed since its unit of work loaded it is
//! refused, names the product, and writes nothing at all; fifty buyers racing on one product,
//! each retrying on conflict, lose no update. Beside it, the same race locked pessimistically.

use ch03_transaction_manager::SqlManager;
use ch04_unit_of_work::shop::{Order, Product};
use ch04_unit_of_work::{BuyError, CommitError, OrderError, UnitOfWork, buy_optimistically, buy_pessimistically};
use rstest::rstest;
use sqlx::{MySql, Pool, Postgres, Sqlite};
use uuid::Uuid;

use crate::support::{Store, load, product, stored};

/// A widget of stock `stock`, stored.
async fn widget<DB: Store>(pool: &Pool<DB>, stock: i64) -> anyhow::Result<Product> {
    let widget = product("widget", stock);
    stored(pool, std::slice::from_ref(&widget)).await?;
    Ok(widget)
}

// ANCHOR: two_editors
#[rstest]
#[tokio::test]
async fn the_second_of_two_editors_is_refused_by_name_and_writes_nothing<DB: Store>(
    #[values(Postgres, MySql, Sqlite)] _backend: DB,
) -> anyhow::Result<()> {
    let db = DB::database().await?;
    let pool = DB::pool(&db);
    let stored = widget(pool, 5).await?;
    let (mut first, mut second) = (UnitOfWork::new(), UnitOfWork::new());
    let (mine, theirs) = (
        load(&mut first, pool, stored.id).await?,
        load(&mut second, pool, stored.id).await?,
    );

    mine.lock().stock -= 1;
    DB::commit_unit(&mut first, pool).await?;
    theirs.lock().name = "blue widget".into();
    second.register_new(Order {
        id: Uuid::now_v7(),
        customer: "grace".into(),
    })?;
    let refused = DB::commit_unit(&mut second, pool).await;

    match refused {
        Err(CommitError::Conflict { table: "products", id }) => assert_eq!(id, stored.id),
        other => panic!("the second editor saved over a product that had changed: {other:?}"),
    }
    let now = DB::product(pool, stored.id).await?.expect("the widget");
    assert_eq!(
        (now.name.as_str(), now.stock, now.version),
        ("widget", 4, 1),
        "the first editor's change stands"
    );
    assert_eq!(
        DB::count(pool, "orders").await?,
        0,
        "the refused commit's order went with it"
    );
    Ok(())
}
// ANCHOR_END: two_editors

// ANCHOR: fifty_buyers
#[rstest]
#[tokio::test]
async fn fifty_buyers_racing_on_one_product_each_retrying_on_conflict_lose_no_update<DB: Store>(
    #[values(Postgres, MySql, Sqlite)] _backend: DB,
) -> anyhow::Result<()> {
    let db = DB::database().await?;
    let pool = DB::pool(&db);
    let stored = widget(pool, 100).await?;

    let tm = SqlManager::new(pool.clone());
    let buyer = || buy_optimistically(&tm, stored.id, 1, 100);
    let attempts: Vec<u32> = futures::future::try_join_all((0..50).map(|_| buyer())).await?;

    let now = DB::product(pool, stored.id).await?.expect("the widget");
    assert_eq!((now.stock, now.version), (50, 50), "one update per buyer, none lost");
    assert!(
        attempts.iter().any(|tries| *tries > 1),
        "no buyer ever met a conflict, so this proved nothing about one: {attempts:?}"
    );
    Ok(())
}
// ANCHOR_END: fifty_buyers

// ANCHOR: pessimistic
/// The same race, locked pessimistically: each buyer loads the product with `SELECT ... FOR
/// UPDATE` in its transaction, which the unit of work's commit then joins. The next buyer waits at
/// its load for the lock instead of failing at its commit: every buyer succeeds at the first
/// attempt, and no update is lost. (SQLite has no `FOR UPDATE`.)
#[rstest]
#[tokio::test]
async fn fifty_buyers_locking_the_row_at_load_wait_for_each_other_and_none_retries<DB: Store>(
    #[values(Postgres, MySql)] _backend: DB,
) -> anyhow::Result<()> {
    let db = DB::database().await?;
    let pool = DB::pool(&db);
    let stored = widget(pool, 100).await?;
    let tm = SqlManager::new(pool.clone());

    let buyer = || buy_pessimistically(&tm, stored.id, 1);
    futures::future::try_join_all((0..50).map(|_| buyer())).await?;

    let now = DB::product(pool, stored.id).await?.expect("the widget");
    assert_eq!(
        (now.stock, now.version),
        (50, 50),
        "one update per buyer, none lost, none retried"
    );
    Ok(())
}
// ANCHOR_END: pessimistic

// ANCHOR: offline
/// A business transaction longer than one request: the form is read in one (it carries the
/// product's version), and saved in a later one, by a unit of work of its own. With no one else
/// saving in between, the save goes through; with another save in between, it is refused,
/// although this unit of work loaded the product after that save.
#[rstest]
#[case::nobody_saved_in_between(false)]
#[case::someone_saved_in_between(true)]
#[tokio::test]
async fn a_form_saved_in_a_later_request_is_refused_if_the_product_changed_since_it_was_read<DB: Store>(
    #[values(Postgres, MySql, Sqlite)] _backend: DB,
    #[case] saved_in_between: bool,
) -> anyhow::Result<()> {
    let db = DB::database().await?;
    let pool = DB::pool(&db);
    let stored = widget(pool, 5).await?;

    // Request 1: the form shows the product and keeps its version.
    let form_version = DB::product(pool, stored.id).await?.expect("the widget").version;
    if saved_in_between {
        let mut other = UnitOfWork::new();
        load(&mut other, pool, stored.id).await?.lock().stock = 4;
        DB::commit_unit(&mut other, pool).await?;
    }
    // Request 2: the edited form comes back.
    let mut unit = UnitOfWork::new();
    let product = load(&mut unit, pool, stored.id).await?;
    unit.read_at(&product, form_version)?;
    product.lock().name = "blue widget".into();
    let saved = DB::commit_unit(&mut unit, pool).await;

    let now = DB::product(pool, stored.id).await?.expect("the widget");
    if saved_in_between {
        assert!(
            matches!(saved, Err(CommitError::Conflict { table: "products", .. })),
            "the form was saved over a change it never saw: {saved:?}"
        );
        assert_eq!(
            (now.name.as_str(), now.stock),
            ("widget", 4),
            "the change in between stands"
        );
    } else {
        saved?;
        assert_eq!((now.name.as_str(), now.version), ("blue widget", 1));
    }
    Ok(())
}
// ANCHOR_END: offline

/// A purchase of a product there is none of is refused by name, both ways; and an optimistic
/// buyer given no attempts gives up without writing.
#[rstest]
#[tokio::test]
async fn a_buyer_of_an_unknown_product_is_refused_and_one_without_attempts_gives_up<DB: Store>(
    #[values(Postgres, MySql)] _backend: DB,
) -> anyhow::Result<()> {
    let db = DB::database().await?;
    let pool = DB::pool(&db);
    let tm = SqlManager::new(pool.clone());
    let stored = widget(pool, 5).await?;
    let unknown = Uuid::now_v7();

    let optimistic = buy_optimistically(&tm, unknown, 1, 3).await;
    let pessimistic = buy_pessimistically(&tm, unknown, 1).await;
    let without_attempts = buy_optimistically(&tm, stored.id, 1, 0).await;

    for refused in [&optimistic.map(drop), &pessimistic] {
        assert!(
            matches!(refused, Err(BuyError::Order(OrderError::NoSuchProduct(id))) if *id == unknown),
            "{refused:?}"
        );
    }
    assert!(
        matches!(without_attempts, Err(BuyError::GaveUp(0))),
        "{without_attempts:?}"
    );
    assert_eq!(DB::product(pool, stored.id).await?.map(|p| p.stock), Some(5));
    Ok(())
}
