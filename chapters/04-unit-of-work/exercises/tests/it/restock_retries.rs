//! Exercise `restock_retries`: twenty restocks at once, none lost.

use ch04_exercises::ExerciseError;
use ch04_exercises::restock_retries::restock;
use futures::future::join_all;
use uuid::Uuid;

use crate::support::Shop;

#[tokio::test]
async fn twenty_restocks_at_once_all_land() -> anyhow::Result<()> {
    let shop = Shop::new().await?;
    let widget = shop.product("widget", 0).await?;

    let outcomes = join_all((0..20).map(|_| restock(&shop.tm, widget.id, 5))).await;

    let lost = outcomes.iter().filter(|outcome| outcome.is_err()).count();
    assert_eq!(lost, 0, "{lost} of 20 restocks failed: {outcomes:?}");
    let now = shop.stored(widget.id).await?;
    assert_eq!((now.stock, now.version), (100, 20), "every restock added its 5, once");
    let attempts: Vec<u32> = outcomes.into_iter().map(Result::unwrap).collect();
    assert!(
        attempts.iter().any(|&tries| tries > 1),
        "no restock met a conflict, so this proved nothing: {attempts:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_product_that_does_not_exist_is_not_found() -> anyhow::Result<()> {
    let shop = Shop::new().await?;
    let missing = Uuid::now_v7();

    let refused = restock(&shop.tm, missing, 5).await;

    assert!(
        matches!(refused, Err(ExerciseError::NotFound("product", id)) if id == missing),
        "{refused:?}"
    );
    Ok(())
}
