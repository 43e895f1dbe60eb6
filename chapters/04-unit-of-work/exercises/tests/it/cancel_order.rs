//! Exercise `cancel_order`: the order, its lines and their stock, in one commit.

use ch03_transaction_manager::Ctx;
use ch04_exercises::ExerciseError;
use ch04_exercises::cancel_order::cancel_order;
use ch04_unit_of_work::{SqlProducts, UnitOfWork, commit, place_order};
use uuid::Uuid;

use crate::support::Shop;

#[tokio::test]
async fn a_cancelled_order_is_gone_with_its_lines_and_its_stock_is_back() -> anyhow::Result<()> {
    let shop = Shop::new().await?;
    let (widget, gadget) = (shop.product("widget", 10).await?, shop.product("gadget", 10).await?);
    let mut unit = UnitOfWork::new();
    let products = SqlProducts(shop.db.pool().clone());
    let order = place_order(
        &mut unit,
        &products,
        "ada",
        &[(widget.id, 2), (gadget.id, 3), (widget.id, 1)],
    )
    .await?;
    commit(&mut unit, &shop.tm, &Ctx::new()).await?;

    let written = cancel_order(&shop.tm, order).await;

    let written = written.map_err(|error| anyhow::anyhow!("the cancel failed: {error}"))?;
    assert_eq!(
        (shop.count("orders").await?, shop.count("order_lines").await?),
        (0, 0),
        "the order and its lines are gone"
    );
    assert_eq!(
        (shop.stored(widget.id).await?.stock, shop.stored(gadget.id).await?.stock),
        (10, 10),
        "each line's quantity went back to its product (the widget's two lines to one widget)"
    );
    assert_eq!(
        written.statements, 3,
        "one DELETE of the lines, one of the order, one UPDATE of both products"
    );
    Ok(())
}

#[tokio::test]
async fn an_order_that_does_not_exist_is_not_found() -> anyhow::Result<()> {
    let shop = Shop::new().await?;
    let missing = Uuid::now_v7();

    let refused = cancel_order(&shop.tm, missing).await;

    assert!(
        matches!(refused, Err(ExerciseError::NotFound("order", id)) if id == missing),
        "{refused:?}"
    );
    Ok(())
}
