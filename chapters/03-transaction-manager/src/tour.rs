//! The chapter's tour: a quick purchase committed, the same purchase failing and taking the
//! registration with it, a swallowed failure caught by rollback-only, and a savepoint that keeps
//! the outer work.

use std::sync::Arc;

use harness::narrator::Narrator;
use harness::tour::Services;
use harness::{CountRows, PgDatabase, SqliteDatabase};

use crate::migrations::{POSTGRES, SQLITE};
use sqlx::Pool;

use crate::shop::{Shop, ShopError, ShopSql};
use crate::{Ctx, Propagation, Settings, SqlManager};

/// The scenes, written once for every database.
async fn scenes<DB: ShopSql + CountRows>(narrator: &mut Narrator, pool: &Pool<DB>) -> anyhow::Result<()> {
    let tm = Arc::new(SqlManager::<DB>::new(pool.clone()));
    let shop = Shop::<DB>::new(tm.clone());
    let rows = |expected: &'static [(&'static str, i64)]| expect_rows(pool, expected);
    shop.products().add(&Ctx::new(), 1, "teapot", 2).await?;
    narrator.say("A product, a teapot, with 2 in stock.");

    narrator.step("Quick purchase: register and buy, one transaction");
    let (user, order) = shop.quick_purchase(&Ctx::new(), "ada@example.com", 1, 1).await?;
    let counted = rows(&[("users", 1), ("messages", 1), ("orders", 1)]).await?;
    narrator.held(&format!("user {user} and order {order} committed together; {counted}"));

    narrator.step("Quick purchase, and the buy step fails");
    match shop.quick_purchase(&Ctx::new(), "bob@example.com", 1, 5).await {
        Err(error @ ShopError::OutOfStock { .. }) => narrator.broke(&format!("buy failed: {error}")),
        other => anyhow::bail!("expected OutOfStock, got {other:?}"),
    }
    let counted = rows(&[("users", 1), ("messages", 1)]).await?;
    narrator.held(&format!("Bob's registration rolled back with it: {counted}"));

    narrator.step("An inner failure, swallowed by the outer code");
    let swallowed = tm
        .run(&Ctx::new(), Settings::default(), async |ctx| {
            shop.register(ctx, "carol@example.com").await?;
            if let Err(error) = shop.buy(ctx, 1, 1, 99).await {
                narrator.say(&format!(
                    "the outer code ignores the failed buy ({error}) and returns Ok"
                ));
            }
            Ok::<_, ShopError>(())
        })
        .await;
    match swallowed {
        Err(error) => narrator.broke(&format!("the commit refuses: {error}")),
        Ok(()) => anyhow::bail!("a rollback-only transaction committed"),
    }
    let counted = rows(&[("users", 1)]).await?;
    narrator.held(&format!("Carol is not half-registered: {counted}"));

    narrator.step("A savepoint keeps the outer work");
    let nested = tm
        .run(&Ctx::new(), Settings::default(), async |ctx| {
            shop.register(ctx, "dan@example.com").await?;
            let nested = tm
                .run(ctx, Settings::new(Propagation::Nested), async |ctx| {
                    shop.buy(ctx, 1, 1, 99).await
                })
                .await;
            Ok::<_, ShopError>(nested)
        })
        .await?;
    match nested {
        Err(error) => narrator.broke(&format!(
            "the nested buy fails and rolls back to its savepoint: {error}"
        )),
        Ok(order) => anyhow::bail!("a buy of 99 from a stock of 1 made order {order}"),
    }
    let counted = rows(&[("users", 2), ("orders", 1)]).await?;
    narrator.held(&format!("Dan's registration committed: {counted}"));
    Ok(())
}

/// The rows of each table, checked against what the scene says they are, as "users 1, orders 1":
/// a tour that would narrate a wrong number fails instead.
async fn expect_rows<DB: CountRows>(pool: &Pool<DB>, expected: &[(&'static str, i64)]) -> anyhow::Result<String> {
    let mut said = Vec::new();
    for &(table, wanted) in expected {
        let found = DB::count_rows(pool, table).await?;
        anyhow::ensure!(
            found == wanted,
            "{table}: the scene expects {wanted} rows, the database has {found}"
        );
        said.push(format!("{table} {found}"));
    }
    Ok(said.join(", "))
}

pub async fn run(services: Services, narrator: &mut Narrator) -> anyhow::Result<()> {
    narrator.title(
        "03 the transaction manager: use cases say what, repositories find the transaction",
        "Register saves a user and its message; buy writes off stock and creates an order. A quick \
         purchase calls both, unchanged, and the manager makes the three one transaction.",
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
