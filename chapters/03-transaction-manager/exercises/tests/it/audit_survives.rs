//! Exercise `audit_survives`: the record of an attempt outlives the purchase's rollback.

use ch03_exercises::audit_survives::Purchase;
use ch03_transaction_manager::Ctx;
use ch03_transaction_manager::shop::ShopError;

use crate::support::Shop;

const ATTEMPTS: &str = "SELECT count(*) FROM messages WHERE kind = 'purchase_attempted'";

fn purchase(shop: &Shop) -> Purchase<'_, sqlx::Postgres> {
    Purchase {
        tm: &shop.tm,
        products: &shop.products,
        orders: &shop.orders,
        messages: &shop.messages,
    }
}

#[tokio::test]
async fn a_purchase_that_fails_still_leaves_its_attempt_recorded() -> anyhow::Result<()> {
    let (shop, user) = Shop::with_lamps_and_a_buyer(3).await?;

    let bought = purchase(&shop).buy_with_audit(&Ctx::new(), user, 7, 5).await;

    assert!(
        matches!(bought, Err(ShopError::OutOfStock { product: 7, wanted: 5 })),
        "five of three in stock: {bought:?}"
    );
    assert_eq!(shop.products.stock(&Ctx::new(), 7).await?, 3, "the stock is as it was");
    assert_eq!(shop.count("SELECT count(*) FROM orders").await?, 0, "no order");
    assert_eq!(
        shop.count(ATTEMPTS).await?,
        1,
        "the attempt was rolled back with the purchase: its scope joined the purchase's transaction"
    );
    Ok(())
}

#[tokio::test]
async fn a_purchase_that_succeeds_is_recorded_once_with_its_order() -> anyhow::Result<()> {
    let (shop, user) = Shop::with_lamps_and_a_buyer(3).await?;

    purchase(&shop).buy_with_audit(&Ctx::new(), user, 7, 2).await?;

    assert_eq!(shop.products.stock(&Ctx::new(), 7).await?, 1);
    assert_eq!(shop.count("SELECT count(*) FROM orders").await?, 1);
    assert_eq!(shop.count(ATTEMPTS).await?, 1);
    Ok(())
}
