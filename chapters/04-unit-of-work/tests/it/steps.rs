//! The lesson's first two steps on the real databases: what saving by hand gets wrong (step 1),
//! what the talk's list of commands fixes and what it still gets wrong (step 2), each beside the
//! unit of work doing the same.

use ch03_transaction_manager::{Ctx, SqlManager};
use ch04_unit_of_work::shop::{Order, OrderLine};
use ch04_unit_of_work::steps::step1_saves_by_hand::sql::HandRows;
use ch04_unit_of_work::steps::step1_saves_by_hand::{self as step1, GIFT_FROM_ITEMS, Saves, ShopRows};
use ch04_unit_of_work::steps::step2_command_list::{self as step2, Commands};
use ch04_unit_of_work::{CommitError, OrderError, SqlProducts, UnitOfWork, Write, place_order, plan};
use rstest::rstest;
use sqlx::{MySql, Postgres, Sqlite};
use uuid::Uuid;

use crate::support::{Store, load, product, stock, stored};

// ANCHOR: half_an_order
#[rstest]
#[tokio::test]
async fn by_hand_a_failure_halfway_leaves_half_an_order_and_a_unit_of_work_leaves_none<DB: Store>(
    #[values(Postgres, MySql, Sqlite)] _backend: DB,
) -> anyhow::Result<()> {
    let db = DB::database().await?;
    let pool = DB::pool(&db);
    let (widget, gadget, gift) = (product("widget", 5), product("gadget", 1), product("tote bag", 10));
    stored(pool, &[widget.clone(), gadget.clone(), gift.clone()]).await?;
    let items = [(widget.id, 2), (gadget.id, 3)];

    let rows = HandRows::new(pool.clone());
    let by_hand = step1::place_order(&rows, "ada", &items, gift.id, Saves::AsWritten).await;
    assert!(
        matches!(by_hand, Err(OrderError::OutOfStock { wanted: 3, .. })),
        "{by_hand:?}"
    );
    assert_eq!(
        (DB::count(pool, "orders").await?, DB::count(pool, "order_lines").await?),
        (1, 1),
        "the order and its first line stay"
    );
    assert_eq!(stock(pool, widget.id).await?, 3, "and so does the widget's reservation");

    let mut unit = UnitOfWork::new();
    let refused = place_order(&mut unit, &SqlProducts(pool.clone()), "bob", &items).await;
    assert!(
        matches!(refused, Err(OrderError::OutOfStock { wanted: 3, .. })),
        "{refused:?}"
    );
    drop(unit);
    assert_eq!(
        (DB::count(pool, "orders").await?, stock(pool, widget.id).await?),
        (1, 3),
        "Bob's order, which failed in the same place, left nothing"
    );
    Ok(())
}
// ANCHOR_END: half_an_order

#[rstest]
#[tokio::test]
async fn by_hand_a_line_saved_before_its_order_is_refused_by_the_foreign_key<DB: Store>(
    #[values(Postgres, MySql, Sqlite)] _backend: DB,
) -> anyhow::Result<()> {
    let db = DB::database().await?;
    let pool = DB::pool(&db);
    let widget = product("widget", 5);
    stored(pool, std::slice::from_ref(&widget)).await?;
    let order = Order {
        id: Uuid::now_v7(),
        customer: "ada".into(),
    };
    let line = OrderLine {
        id: Uuid::now_v7(),
        order_id: order.id,
        product_id: widget.id,
        quantity: 1,
    };

    let rows = HandRows::new(pool.clone());
    let refused = rows.insert_line(&line).await;

    match refused {
        Err(sqlx::Error::Database(error)) => assert!(error.is_foreign_key_violation(), "{error}"),
        other => panic!("a line before its order was not refused by its foreign key: {other:?}"),
    }
    rows.insert_order(&order).await?;
    rows.insert_line(&line).await?;
    assert_eq!(
        DB::count(pool, "order_lines").await?,
        1,
        "after its order, the same line goes in"
    );
    Ok(())
}

// ANCHOR: forgotten_save
#[rstest]
#[tokio::test]
async fn by_hand_a_change_nobody_saves_is_lost_and_a_unit_of_work_saves_what_changed<DB: Store>(
    #[values(Postgres, MySql, Sqlite)] _backend: DB,
) -> anyhow::Result<()> {
    let db = DB::database().await?;
    let pool = DB::pool(&db);
    let (widget, gift) = (product("widget", 50), product("tote bag", 10));
    stored(pool, &[widget.clone(), gift.clone()]).await?;
    let items = vec![(widget.id, 1); GIFT_FROM_ITEMS];

    let rows = HandRows::new(pool.clone());
    step1::place_order(&rows, "ada", &items, gift.id, Saves::AsWritten).await?;
    assert_eq!(stock(pool, widget.id).await?, 47, "each item's save is there");
    assert_eq!(
        stock(pool, gift.id).await?,
        10,
        "the gift went out and its stock says it did not"
    );

    let mut unit = UnitOfWork::new();
    place_order(&mut unit, &SqlProducts(pool.clone()), "bob", &items).await?;
    load(&mut unit, pool, gift.id).await?.lock().stock -= 1;
    DB::commit_unit(&mut unit, pool).await?;
    assert_eq!(
        stock(pool, gift.id).await?,
        9,
        "changed through the unit of work, saved by it"
    );
    Ok(())
}
// ANCHOR_END: forgotten_save

#[rstest]
#[tokio::test]
async fn by_hand_saving_everything_loaded_writes_the_unchanged_gift_whole_and_a_unit_of_work_skips_it<DB: Store>(
    #[values(Postgres, MySql, Sqlite)] _backend: DB,
) -> anyhow::Result<()> {
    let db = DB::database().await?;
    let pool = DB::pool(&db);
    let (widget, gadget, gift) = (product("widget", 5), product("gadget", 5), product("tote bag", 10));
    stored(pool, &[widget.clone(), gadget.clone(), gift.clone()]).await?;
    let items = [(widget.id, 1), (gadget.id, 1)];

    let rows = HandRows::new(pool.clone());
    step1::place_order(&rows, "ada", &items, gift.id, Saves::EverythingLoaded).await?;
    let sent = rows.sent();
    assert_eq!(
        rows.writes(),
        6,
        "the order, two product saves, two lines and the unchanged gift: {sent:#?}"
    );
    let last = sent.last().expect("statements were sent");
    assert!(
        last.starts_with("UPDATE products SET name = ") && last.contains(", stock = ") && last.contains(", version = "),
        "the gift, unchanged, is written in every column: {last}"
    );
    assert_eq!(stock(pool, gift.id).await?, 10);

    let mut unit = UnitOfWork::new();
    place_order(&mut unit, &SqlProducts(pool.clone()), "bob", &items).await?;
    load(&mut unit, pool, gift.id).await?;
    let writes = plan(&unit.tracked())?;
    assert!(
        writes
            .iter()
            .all(|write| !matches!(write, Write::Update { id, .. } if *id == gift.id)),
        "the unchanged gift is not in the plan: {writes:#?}"
    );
    let written = DB::commit_unit(&mut unit, pool).await?;
    assert_eq!(
        (written.statements, written.rows),
        (3, 5),
        "one INSERT of the order, one of both lines, one UPDATE of both products' stock"
    );
    Ok(())
}

// ANCHOR: numbered
#[rstest]
#[tokio::test]
async fn a_number_the_database_assigns_is_known_after_the_insert_and_a_guessed_one_lands_lines_on_another_order<
    DB: Store,
>(
    #[values(Postgres, MySql, Sqlite)] _backend: DB,
) -> anyhow::Result<()> {
    let db = DB::database().await?;
    let pool = DB::pool(&db);
    let widget = product("widget", 5);
    stored(pool, std::slice::from_ref(&widget)).await?;
    let (ada, bob) = (HandRows::new(pool.clone()), HandRows::new(pool.clone()));

    // Both prepare their lines before inserting their orders, on a guessed number.
    let (ada_guess, bob_guess) = (ada.guess_next_number().await?, bob.guess_next_number().await?);
    let ada_order = ada.insert_numbered_order("ada").await?;
    ada.insert_numbered_line(ada_guess, widget.id, 1).await?;
    let bob_order = bob.insert_numbered_order("bob").await?;
    bob.insert_numbered_line(bob_guess, widget.id, 2).await?;

    assert_eq!(ada_guess, ada_order, "Ada's guess held");
    assert_ne!(bob_guess, bob_order, "Ada's order took the number Bob guessed");
    assert_eq!(
        (
            ada.numbered_lines(ada_order).await?,
            bob.numbered_lines(bob_order).await?
        ),
        (2, 0),
        "Bob's line is on Ada's order, and his own has none"
    );

    // The right way waits for each insert before it can make the order's lines: a round trip
    // per parent, where keys made by the application (UUIDv7) let a unit of work make every row
    // first and send them together.
    let carol_order = bob.insert_numbered_order("carol").await?;
    bob.insert_numbered_line(carol_order, widget.id, 1).await?;
    assert_eq!(bob.numbered_lines(carol_order).await?, 1);
    Ok(())
}
// ANCHOR_END: numbered

// ANCHOR: step2_atomic
#[rstest]
#[tokio::test]
async fn a_command_list_runs_parents_first_and_writes_nothing_when_a_command_is_refused<DB: Store>(
    #[values(Postgres, MySql, Sqlite)] _backend: DB,
) -> anyhow::Result<()> {
    let db = DB::database().await?;
    let pool = DB::pool(&db);
    let tm = SqlManager::new(pool.clone());
    let widget = product("widget", 5);
    stored(pool, std::slice::from_ref(&widget)).await?;

    let mut commands = Commands::new();
    step2::place_order(&mut commands, &SqlProducts(pool.clone()), "ada", &[(widget.id, 2)]).await?;
    let written = commands.commit(&tm, &Ctx::new()).await?;
    assert_eq!(
        (written.statements, DB::count(pool, "order_lines").await?),
        (3, 1),
        "the order registered last went in first"
    );

    let mut commands = Commands::new();
    step2::place_order(&mut commands, &SqlProducts(pool.clone()), "bob", &[(widget.id, 1)]).await?;
    // A line of Bob's order for a product that is not stored: its foreign key refuses it, after
    // the order and the widget's update were sent.
    let unknown = product("nothing", 0);
    commands.register_new(&OrderLine {
        id: Uuid::now_v7(),
        order_id: Uuid::now_v7(),
        product_id: unknown.id,
        quantity: 1,
    });
    let refused = commands.commit(&tm, &Ctx::new()).await;

    assert!(matches!(refused, Err(CommitError::Storage(_))), "{refused:?}");
    assert_eq!(
        (DB::count(pool, "orders").await?, stock(pool, widget.id).await?),
        (1, 3),
        "none of Bob's commands stayed"
    );
    Ok(())
}
// ANCHOR_END: step2_atomic

// ANCHOR: step2_copies
#[rstest]
#[tokio::test]
async fn a_command_list_holds_two_copies_of_a_product_and_the_later_overwrites_the_earlier<DB: Store>(
    #[values(Postgres, MySql, Sqlite)] _backend: DB,
) -> anyhow::Result<()> {
    let db = DB::database().await?;
    let pool = DB::pool(&db);
    let tm = SqlManager::new(pool.clone());
    let widget = product("widget", 10);
    stored(pool, std::slice::from_ref(&widget)).await?;
    let items = [(widget.id, 2), (widget.id, 3)];

    let mut commands = Commands::new();
    step2::place_order(&mut commands, &SqlProducts(pool.clone()), "ada", &items).await?;
    let written = commands.commit(&tm, &Ctx::new()).await?;
    assert_eq!(written.statements, 5, "the order, two lines, two updates of one widget");
    assert_eq!(
        stock(pool, widget.id).await?,
        7,
        "five reserved, three taken off: the second copy's update overwrote the first's"
    );

    let mut unit = UnitOfWork::new();
    place_order(&mut unit, &SqlProducts(pool.clone()), "bob", &items).await?;
    let written = DB::commit_unit(&mut unit, pool).await?;
    assert_eq!(
        (written.statements, stock(pool, widget.id).await?),
        (3, 2),
        "one widget, loaded once, both reservations on it, one UPDATE"
    );
    Ok(())
}
// ANCHOR_END: step2_copies

#[rstest]
#[tokio::test]
async fn a_command_list_writes_each_registered_row_whole_and_a_unit_of_work_only_what_changed<DB: Store>(
    #[values(Postgres, MySql, Sqlite)] _backend: DB,
) -> anyhow::Result<()> {
    let db = DB::database().await?;
    let pool = DB::pool(&db);
    let tm = SqlManager::new(pool.clone());
    let mut widget = product("widget", 10);
    stored(pool, std::slice::from_ref(&widget)).await?;

    let mut commands = Commands::new();
    commands.register_dirty(&widget);
    for _ in 0..3 {
        widget.stock -= 1;
        commands.register_dirty(&widget);
    }
    let written = commands.commit(&tm, &Ctx::new()).await?;
    assert_eq!(
        written.statements, 4,
        "a statement for the unchanged registration, and one for each of three changes"
    );
    assert_eq!(stock(pool, widget.id).await?, 7);

    let mut unit = UnitOfWork::new();
    let tracked = load(&mut unit, pool, widget.id).await?;
    assert_eq!(plan(&unit.tracked())?, [], "loaded and unchanged: nothing to write");
    for _ in 0..3 {
        tracked.lock().stock -= 1;
    }
    let written = DB::commit_unit(&mut unit, pool).await?;
    assert_eq!(
        (written.statements, stock(pool, widget.id).await?),
        (1, 4),
        "three changes, one UPDATE"
    );
    Ok(())
}
