//! What a commit writes: parents before children on foreign keys that are checked at each
//! statement, only the rows that changed, a statement per table and kind (cut at the database's
//! parameter limit), and nothing at all when a statement fails.

use ch04_unit_of_work::shop::{Order, OrderLine, Product};
use ch04_unit_of_work::{CommitError, SqlProducts, UnitOfWork, place_order};
use rstest::rstest;
use sqlx::{MySql, Postgres, Sqlite};
use uuid::Uuid;

use crate::support::{Provisioned, Store, load, product};

/// A widget (stock 5) and a gadget (stock 7), stored by a unit of work of their own.
async fn stocked<DB: Store>(pool: &sqlx::Pool<DB>) -> anyhow::Result<(Product, Product)> {
    let (widget, gadget) = (product("widget", 5), product("gadget", 7));
    let mut unit = UnitOfWork::new();
    unit.register_new(widget.clone())?;
    unit.register_new(gadget.clone())?;
    let written = DB::commit_unit(&mut unit, pool).await?;
    assert_eq!((written.statements, written.rows), (1, 2), "two products, one INSERT");
    Ok((widget, gadget))
}

/// Ada's new order of `lines` lines of `product_id`, registered in `unit`: its id, and the lines.
fn place(unit: &mut UnitOfWork, product_id: Uuid, lines: i64) -> anyhow::Result<(Uuid, Vec<OrderLine>)> {
    let order = Order {
        id: Uuid::now_v7(),
        customer: "ada".into(),
    };
    let lines: Vec<OrderLine> = (1..=lines)
        .map(|quantity| OrderLine {
            id: Uuid::now_v7(),
            order_id: order.id,
            product_id,
            quantity,
        })
        .collect();
    for line in &lines {
        unit.register_new(line.clone())?;
    }
    let id = order.id;
    unit.register_new(order)?;
    Ok((id, lines))
}

// ANCHOR: place_order
#[rstest]
#[tokio::test]
async fn an_order_is_written_parents_first_and_only_the_changed_product_is_updated<DB: Store>(
    #[values(Postgres, MySql, Sqlite)] _backend: DB,
) -> anyhow::Result<()> {
    let db = DB::database().await?;
    let pool = DB::pool(&db);
    let (widget, gadget) = stocked(pool).await?;

    let mut unit = UnitOfWork::new();
    let (w, g) = (
        load(&mut unit, pool, widget.id).await?,
        load(&mut unit, pool, gadget.id).await?,
    );
    let order = Order {
        id: Uuid::now_v7(),
        customer: "ada".into(),
    };
    // The lines are registered before their order: the commit puts the order first.
    for (product, quantity) in [(&w, 2), (&g, 0)] {
        let product_id = product.lock().id;
        unit.register_new(OrderLine {
            id: Uuid::now_v7(),
            order_id: order.id,
            product_id,
            quantity,
        })?;
    }
    unit.register_new(order.clone())?;
    w.lock().stock -= 2;

    let written = DB::commit_unit(&mut unit, pool).await?;

    assert_eq!(
        (written.statements, written.rows),
        (3, 4),
        "an INSERT of the order, one of both lines, an UPDATE of the widget alone"
    );
    assert_eq!(DB::product(pool, widget.id).await?.map(|p| p.stock), Some(3));
    assert_eq!(
        DB::product(pool, gadget.id).await?,
        Some(gadget),
        "the gadget is as it was"
    );
    assert_eq!(
        (DB::count(pool, "orders").await?, DB::count(pool, "order_lines").await?),
        (1, 2)
    );
    Ok(())
}
// ANCHOR_END: place_order

#[rstest]
#[tokio::test]
async fn a_removed_order_takes_its_lines_first_and_a_commit_happens_once<DB: Store>(
    #[values(Postgres, MySql, Sqlite)] _backend: DB,
) -> anyhow::Result<()> {
    let db = DB::database().await?;
    let pool = DB::pool(&db);
    let (widget, _) = stocked(pool).await?;
    let mut placing = UnitOfWork::new();
    let (order_id, lines) = place(&mut placing, widget.id, 2)?;
    DB::commit_unit(&mut placing, pool).await?;
    assert!(matches!(
        DB::commit_unit(&mut placing, pool).await,
        Err(CommitError::Unit(_))
    ));

    let mut cancelling = UnitOfWork::new();
    // Removed in the order that the foreign keys refuse: the order first.
    let order = cancelling.loaded(Order {
        id: order_id,
        customer: "ada".into(),
    })?;
    cancelling.register_removed(&order)?;
    for line in lines {
        let line = cancelling.loaded(line)?;
        cancelling.register_removed(&line)?;
    }
    let written = DB::commit_unit(&mut cancelling, pool).await?;

    assert_eq!(
        (written.statements, written.rows),
        (2, 3),
        "one DELETE of the lines, then one of the order"
    );
    assert_eq!(
        (DB::count(pool, "orders").await?, DB::count(pool, "order_lines").await?),
        (0, 0)
    );
    Ok(())
}

#[rstest]
#[tokio::test]
async fn a_commit_whose_second_statement_fails_leaves_nothing_of_the_first<DB: Store>(
    #[values(Postgres, MySql, Sqlite)] _backend: DB,
) -> anyhow::Result<()> {
    let db = DB::database().await?;
    let pool = DB::pool(&db);
    let mut unit = UnitOfWork::new();
    let order = unit.register_new(Order {
        id: Uuid::now_v7(),
        customer: "ada".into(),
    })?;
    let order_id = order.lock().id;
    unit.register_new(OrderLine {
        id: Uuid::now_v7(),
        order_id,
        // No such product: the foreign key refuses the line, after the order went in.
        product_id: Uuid::now_v7(),
        quantity: 1,
    })?;

    let refused = DB::commit_unit(&mut unit, pool).await;

    assert!(matches!(refused, Err(CommitError::Storage(_))), "{refused:?}");
    assert_eq!(
        DB::count(pool, "orders").await?,
        0,
        "the order went with the rolled-back transaction"
    );
    Ok(())
}

#[rstest]
#[case::postgres(Postgres, 1)]
#[case::mariadb(MySql, 1)]
#[case::sqlite(Sqlite, 2)]
#[tokio::test]
async fn a_batch_past_the_parameter_limit_is_cut_into_statements<DB: Store>(
    #[case] _backend: DB,
    #[case] statements: usize,
) -> anyhow::Result<()> {
    let db = DB::database().await?;
    let pool = DB::pool(&db);
    // Three parameters a product: 36,000, past SQLite's 32,766 and within the others' 65,535.
    let mut unit = UnitOfWork::new();
    for n in 0..12_000 {
        unit.register_new(product(&format!("part {n}"), n))?;
    }

    let written = DB::commit_unit(&mut unit, pool).await?;

    assert_eq!((written.statements, written.rows), (statements, 12_000));
    assert_eq!(DB::count(pool, "products").await?, 12_000);
    Ok(())
}

/// The session killed between two of the commit's statements (the harness's server-side fault, at
/// the first write to `order_lines`, after the orders went in): the commit fails with a typed
/// error, and not one of its rows is left, on PostgreSQL.
#[tokio::test]
async fn a_session_killed_between_two_batches_leaves_none_of_the_commit() -> anyhow::Result<()> {
    let db = Postgres::database().await?;
    let pool = Postgres::pool(&db);
    let (widget, _) = stocked(pool).await?;
    harness::killed_session::on_first_write(pool, "order_lines").await?;
    let mut unit = UnitOfWork::new();
    place(&mut unit, widget.id, 3)?;

    let killed = Postgres::commit_unit(&mut unit, pool).await;

    assert!(
        matches!(killed, Err(CommitError::Storage(_) | CommitError::Tx(_))),
        "a lost session is a storage failure: {killed:?}"
    );
    assert_eq!(
        (
            Postgres::count(pool, "orders").await?,
            Postgres::count(pool, "order_lines").await?
        ),
        (0, 0),
        "the order written before the kill went with the transaction"
    );
    Ok(())
}

/// The chapter's use case on a real database: a product named by two items is read once, and its
/// stock written once, with both reservations taken off.
#[rstest]
#[tokio::test]
async fn placing_an_order_naming_one_product_twice_reserves_both_quantities<DB: Store>(
    #[values(Postgres, MySql, Sqlite)] _backend: DB,
) -> anyhow::Result<()> {
    let db = DB::database().await?;
    let pool = DB::pool(&db);
    let (widget, _) = stocked(pool).await?;
    let mut unit = UnitOfWork::new();

    place_order(
        &mut unit,
        &SqlProducts(pool.clone()),
        "ada",
        &[(widget.id, 2), (widget.id, 3)],
    )
    .await?;
    let written = DB::commit_unit(&mut unit, pool).await?;

    assert_eq!(
        DB::product(pool, widget.id).await?.map(|p| p.stock),
        Some(0),
        "5 - 2 - 3"
    );
    assert_eq!(
        (written.statements, written.rows),
        (3, 4),
        "the order, both lines, the widget once"
    );
    Ok(())
}

/// The database cut off in the middle of a commit (the fault proxy, between the commit's own
/// statements: each round trip is slowed to 400 ms, and the cut comes 1 s in): the commit fails
/// with a typed error, and what the server received of it is rolled back with the connection, on
/// PostgreSQL.
#[tokio::test]
async fn a_database_cut_off_mid_commit_leaves_none_of_it() -> anyhow::Result<()> {
    let db = Postgres::database().await?;
    let (widget, _) = stocked(Postgres::pool(&db)).await?;
    let (proxy, through_proxy) = harness::fault::FaultProxy::route(db.url()).await?;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_secs(2))
        .connect(&through_proxy)
        .await?;
    let mut unit = UnitOfWork::new();
    place(&mut unit, widget.id, 3)?;
    proxy.latency(std::time::Duration::from_millis(200));

    let ((), committed) = tokio::join!(
        async {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            proxy.cut().await;
        },
        Postgres::commit_unit(&mut unit, &pool)
    );

    assert!(
        matches!(committed, Err(CommitError::Storage(_) | CommitError::Tx(_))),
        "a commit whose database went away is a storage failure: {committed:?}"
    );
    let direct = Postgres::pool(&db);
    assert_eq!(
        (
            Postgres::count(direct, "orders").await?,
            Postgres::count(direct, "order_lines").await?
        ),
        (0, 0),
        "nothing of the cut commit is left"
    );
    Ok(())
}

/// A change *to* a zero value is a change: the stock to 0, the name to an empty string, each
/// saved. (gorm's `Updates` with a struct skips such fields without a word. The shop has no
/// nullable column; a change to `NULL` is detected the same way, `changes`' unit tests show.)
#[rstest]
#[tokio::test]
async fn a_change_to_a_zero_value_is_saved<DB: Store>(
    #[values(Postgres, MySql, Sqlite)] _backend: DB,
    #[values("stock", "name")] field: &str,
) -> anyhow::Result<()> {
    let db = DB::database().await?;
    let pool = DB::pool(&db);
    let (widget, _) = stocked(pool).await?;

    let mut unit = UnitOfWork::new();
    let tracked = load(&mut unit, pool, widget.id).await?;
    match field {
        "stock" => tracked.lock().stock = 0,
        _ => tracked.lock().name = String::new(),
    }
    let written = DB::commit_unit(&mut unit, pool).await?;

    assert_eq!((written.statements, written.rows), (1, 1));
    let stored = DB::product(pool, widget.id).await?.expect("the widget");
    let expected = tracked.lock().clone();
    assert_eq!((stored.name, stored.stock), (expected.name, expected.stock));
    Ok(())
}
