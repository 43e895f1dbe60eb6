//! Exercise `optional_gift_wrap`: an optional step's failure rolls back to a savepoint only.

use ch03_exercises::optional_gift_wrap::{GiftShop, WRAPPING_PAPER};
use ch03_transaction_manager::Ctx;

use crate::support::Shop;

/// A shop with three lamps (product 7), `sheets` of wrapping paper, and a buyer.
async fn shop_with_paper(sheets: i32) -> anyhow::Result<(Shop, i64)> {
    let (shop, user) = Shop::with_lamps_and_a_buyer(3).await?;
    shop.products
        .add(&Ctx::new(), WRAPPING_PAPER, "wrapping paper", sheets)
        .await?;
    Ok((shop, user))
}

fn gifts(shop: &Shop) -> GiftShop<'_, sqlx::Postgres> {
    GiftShop {
        tm: &shop.tm,
        products: &shop.products,
        orders: &shop.orders,
    }
}

#[tokio::test]
async fn without_paper_the_purchase_still_commits_unwrapped() -> anyhow::Result<()> {
    let (shop, user) = shop_with_paper(0).await?;
    let bought = gifts(&shop).buy_with_gift_wrap(&Ctx::new(), user, 7, 1).await;

    let (_, wrapped) =
        bought.map_err(|error| anyhow::anyhow!("the purchase failed because the optional wrapping did: {error}"))?;
    assert!(!wrapped, "there was no paper to wrap with");
    assert_eq!(shop.products.stock(&Ctx::new(), 7).await?, 2, "the lamp is written off");
    assert_eq!(
        shop.count("SELECT count(*) FROM orders").await?,
        1,
        "the order is there"
    );
    assert_eq!(shop.products.stock(&Ctx::new(), WRAPPING_PAPER).await?, 0);
    Ok(())
}

#[tokio::test]
async fn with_paper_the_purchase_takes_a_sheet() -> anyhow::Result<()> {
    let (shop, user) = shop_with_paper(5).await?;
    let (_, wrapped) = gifts(&shop).buy_with_gift_wrap(&Ctx::new(), user, 7, 1).await?;

    assert!(wrapped);
    assert_eq!(shop.products.stock(&Ctx::new(), WRAPPING_PAPER).await?, 4);
    assert_eq!(shop.products.stock(&Ctx::new(), 7).await?, 2);
    Ok(())
}
