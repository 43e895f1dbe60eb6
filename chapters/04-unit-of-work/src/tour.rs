//! The chapter's tour: a change nobody saved, a line the foreign key refused, two copies of one
//! product, and two editors of one product; each done by hand first, then by the unit of work.

use std::cell::Cell;

use ch03_transaction_manager::{Ctx, SqlManager};
use harness::narrator::Narrator;
use harness::tour::Services;
use harness::{CountRows, PgDatabase, SqliteDatabase};
use sqlx::Pool;
use uuid::Uuid;

use crate::migrations::{POSTGRES, SQLITE};
use crate::shop::{Order, OrderLine, Product};
use crate::sql::SqlProducts;
use crate::steps::step1_saves_by_hand::sql::{HandRows, HandSql};
use crate::steps::step1_saves_by_hand::{self as step1, GIFT_FROM_ITEMS, Saves, ShopRows};
use crate::steps::step2_command_list::{self as step2, Commands};
use crate::{CommitError, Handle, ShopDatabase, UnitOfWork, commit, place_order};

/// A database the tour runs on.
trait TourDb: ShopDatabase + HandSql + CountRows {}
impl<DB: ShopDatabase + HandSql + CountRows> TourDb for DB {}

fn product(name: &str, stock: i64) -> Product {
    Product {
        id: Uuid::now_v7(),
        name: name.into(),
        stock,
        version: 0,
    }
}

async fn stock<DB: TourDb>(pool: &Pool<DB>, id: Uuid) -> anyhow::Result<i64> {
    let product = DB::product(pool, id).await?;
    Ok(product.ok_or_else(|| anyhow::anyhow!("no product {id}"))?.stock)
}

/// The product `id`, loaded through `unit`; `queries` counts the queries it took.
async fn load<DB: TourDb>(
    unit: &mut UnitOfWork,
    pool: &Pool<DB>,
    id: Uuid,
    queries: &Cell<usize>,
) -> anyhow::Result<Handle<Product>> {
    let loaded = unit
        .load(id, |id| async move {
            queries.set(queries.get() + 1);
            DB::product(pool, id).await.map_err(anyhow::Error::from)
        })
        .await?;
    loaded.ok_or_else(|| anyhow::anyhow!("no product {id}"))
}

/// The scenes, written once for every database.
async fn scenes<DB: TourDb>(narrator: &mut Narrator, pool: &Pool<DB>) -> anyhow::Result<()> {
    let tm = SqlManager::new(pool.clone());
    let products = SqlProducts(pool.clone());
    let (widget, gadget, tote) = (product("widget", 50), product("gadget", 50), product("tote bag", 10));
    let mut unit = UnitOfWork::new();
    for stocked in [&widget, &gadget, &tote] {
        unit.register_new(stocked.clone())?;
    }
    commit(&mut unit, &tm, &Ctx::new()).await?;
    narrator.say(
        "A widget and a gadget, 50 of each in stock; orders of three items or more come with a tote bag (10 in stock).",
    );

    narrator.step("Saving by hand: a change that nobody saved");
    let items = [(widget.id, 1), (gadget.id, 1), (widget.id, 1)];
    assert_eq!(items.len(), GIFT_FROM_ITEMS);
    let rows = HandRows::new(pool.clone());
    step1::place_order(&rows, "ada", &items, tote.id, Saves::AsWritten).await?;
    narrator.say(&format!(
        "Ada's order, saved row by row: {} statements, {} of them writes.",
        rows.sent().len(),
        rows.writes()
    ));
    let left = stock(pool, tote.id).await?;
    anyhow::ensure!(left == 10, "the forgotten save stored the tote bag ({left})");
    narrator.broke(&format!(
        "the tote bag went out with her order, and its stock still says {left}: the gift was added to the use case later, without its save"
    ));
    let mut unit = UnitOfWork::new();
    place_order(&mut unit, &products, "bob", &items).await?;
    let queries = Cell::new(0);
    let gift = load(&mut unit, pool, tote.id, &queries).await?;
    gift.lock().stock -= 1;
    let written = commit(&mut unit, &tm, &Ctx::new()).await?;
    let left = stock(pool, tote.id).await?;
    anyhow::ensure!(left == 9, "the unit of work lost the gift ({left})");
    narrator.held(&format!(
        "Bob's order through a unit of work: the gift changed, no save called, and the commit wrote it ({left} left); {} statements for {} rows",
        written.statements, written.rows
    ));

    narrator.step("The foreign keys' order");
    let order = Order {
        id: Uuid::now_v7(),
        customer: "carol".into(),
    };
    let line = OrderLine {
        id: Uuid::now_v7(),
        order_id: order.id,
        product_id: widget.id,
        quantity: 1,
    };
    match rows.insert_line(&line).await {
        Err(error) => narrator.broke(&format!("by hand, the line saved before its order: {error}")),
        Ok(()) => anyhow::bail!("a line went in before its order"),
    }
    let mut unit = UnitOfWork::new();
    unit.register_new(line.clone())?;
    unit.register_new(order.clone())?;
    commit(&mut unit, &tm, &Ctx::new()).await?;
    let lines = DB::count_rows(pool, "order_lines").await?;
    narrator.held(&format!(
        "registered in the same order, line first; the commit inserts orders before their lines ({lines} lines stored)"
    ));

    narrator.step("Two copies of one product");
    let before = stock(pool, gadget.id).await?;
    let twice = [(gadget.id, 2), (gadget.id, 3)];
    let mut commands = Commands::new();
    step2::place_order(&mut commands, &products, "dan", &twice).await?;
    commands.commit(&tm, &Ctx::new()).await?;
    let after = stock(pool, gadget.id).await?;
    anyhow::ensure!(after == before - 3, "the command list kept both reservations ({after})");
    narrator.broke(&format!(
        "Dan's order names the gadget twice (2 and 3); a list of commands, one transaction, loads it twice and each copy is saved: {before} -> {after}, two reserved and never taken off"
    ));
    queries.set(0);
    let mut unit = UnitOfWork::new();
    let first = load(&mut unit, pool, gadget.id, &queries).await?;
    let second = load(&mut unit, pool, gadget.id, &queries).await?;
    anyhow::ensure!(first.same_as(&second) && queries.get() == 1);
    drop(unit);
    let mut unit = UnitOfWork::new();
    place_order(&mut unit, &products, "erin", &twice).await?;
    commit(&mut unit, &tm, &Ctx::new()).await?;
    let last = stock(pool, gadget.id).await?;
    anyhow::ensure!(last == after - 5, "the unit of work lost a reservation ({last})");
    narrator.held(&format!(
        "in a unit of work the second load is one query fewer and the same object (the identity map); Erin's order of the same two items takes five: {after} -> {last}"
    ));

    narrator.step("Two editors of one product");
    let (mut fay, mut gus) = (UnitOfWork::new(), UnitOfWork::new());
    let fay_widget = load(&mut fay, pool, widget.id, &queries).await?;
    let gus_widget = load(&mut gus, pool, widget.id, &queries).await?;
    fay_widget.lock().name = "widget, blue".into();
    gus_widget.lock().stock += 100;
    commit(&mut fay, &tm, &Ctx::new()).await?;
    narrator.say("Fay and Gus load the widget; Fay renames it and commits first.");
    match commit(&mut gus, &tm, &Ctx::new()).await {
        Err(error @ CommitError::Conflict { .. }) => narrator.broke(&format!("Gus's restock: {error}")),
        other => anyhow::bail!("a stale commit was not refused: {other:?}"),
    }
    let now = DB::product(pool, widget.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no widget"))?;
    narrator.held(&format!(
        "the stored widget is Fay's ({:?}, {} in stock, version {}): Gus reloads and tries again, nothing was overwritten",
        now.name, now.stock, now.version
    ));
    Ok(())
}

pub async fn run(services: Services, narrator: &mut Narrator) -> anyhow::Result<()> {
    narrator.title(
        "04 the unit of work: remember what was loaded, write what changed, all at once",
        "Placing an order changes a few rows of three tables. Saved by hand, one row at a time, the \
         saves come in the wrong order, miss a change, or overwrite one; a unit of work tracks each \
         row once and commits what changed, parents first, in one transaction.",
    );
    match services {
        Services::Embedded => {
            let db = SqliteDatabase::new(&SQLITE).await?;
            narrator.say("Storage: SQLite in memory (run with --real for PostgreSQL).");
            scenes(narrator, db.pool()).await
        }
        Services::Real => {
            let db = PgDatabase::new(&POSTGRES).await?;
            narrator.say(&format!(
                "Storage: PostgreSQL database {} (from {}).",
                db.name(),
                db.endpoint().origin
            ));
            scenes(narrator, db.pool()).await
        }
    }
}
