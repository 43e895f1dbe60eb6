//! Exercise `review_mapping`: a review after its product, and a missing comment kept missing.

use ch03_transaction_manager::Ctx;
use ch04_exercises::review_mapping::Review;
use ch04_unit_of_work::shop::Product;
use ch04_unit_of_work::{UnitOfWork, commit};
use uuid::Uuid;

use crate::support::Shop;

fn review_of(product: Uuid, comment: Option<&str>) -> Review {
    Review {
        id: Uuid::now_v7(),
        product_id: product,
        stars: 4,
        comment: comment.map(str::to_owned),
    }
}

/// The comment stored for `review`: `None` for `NULL`.
async fn stored_comment(shop: &Shop, review: Uuid) -> anyhow::Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT comment FROM reviews WHERE id = $1")
        .bind(review)
        .fetch_one(shop.db.pool())
        .await?)
}

#[tokio::test]
async fn a_review_registered_before_its_new_product_is_inserted_after_it() -> anyhow::Result<()> {
    let shop = Shop::new().await?;
    let product = Product {
        id: Uuid::now_v7(),
        name: "teapot".into(),
        stock: 3,
        version: 0,
    };
    let mut unit = UnitOfWork::new();
    unit.register_new(review_of(product.id, Some("pours well")))?;
    unit.register_new(product)?;

    let committed = commit(&mut unit, &shop.tm, &Ctx::new()).await;

    committed.map_err(|error| {
        anyhow::anyhow!("the commit inserted the review before its product, and the foreign key refused it: {error}")
    })?;
    assert_eq!((shop.count("products").await?, shop.count("reviews").await?), (1, 1));
    Ok(())
}

#[tokio::test]
async fn a_missing_comment_is_stored_as_null_and_taking_one_out_is_a_change() -> anyhow::Result<()> {
    let shop = Shop::new().await?;
    let teapot = shop.product("teapot", 3).await?;
    let (silent, spoken) = (review_of(teapot.id, None), review_of(teapot.id, Some("pours well")));
    let mut unit = UnitOfWork::new();
    unit.register_new(silent.clone())?;
    unit.register_new(spoken.clone())?;
    commit(&mut unit, &shop.tm, &Ctx::new()).await?;
    assert_eq!(
        stored_comment(&shop, silent.id).await?,
        None,
        "a review without a comment is stored with an empty one, not NULL"
    );

    let mut unit = UnitOfWork::new();
    let taken_back = unit.loaded(spoken.clone())?;
    taken_back.lock().comment = None;
    commit(&mut unit, &shop.tm, &Ctx::new()).await?;

    assert_eq!(
        stored_comment(&shop, spoken.id).await?,
        None,
        "the comment taken out was not saved as NULL"
    );
    Ok(())
}
