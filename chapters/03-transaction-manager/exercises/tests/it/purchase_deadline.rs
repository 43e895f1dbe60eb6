//! Exercise `purchase_deadline`: a purchase blocked on a held row gives up at its deadline.

use std::time::{Duration, Instant};

use ch03_exercises::purchase_deadline::{DEADLINE, buy_within_deadline};
use ch03_transaction_manager::shop::ShopError;
use ch03_transaction_manager::{Ctx, TxError};

use crate::support::Shop;

/// How long the check waits before it calls the purchase one without a deadline.
const PATIENCE: Duration = Duration::from_secs(3);

#[tokio::test]
async fn a_purchase_blocked_on_a_held_row_gives_up_at_its_deadline() -> anyhow::Result<()> {
    let (shop, user) = Shop::with_lamps_and_a_buyer(3).await?;
    // Another transaction holds the lamp's row, and does not let go while the purchase runs.
    let mut holder = shop.db.pool().begin().await?;
    sqlx::query("SELECT stock FROM products WHERE id = 7 FOR UPDATE")
        .execute(&mut *holder)
        .await?;

    let started = Instant::now();
    let bought = tokio::time::timeout(
        PATIENCE,
        buy_within_deadline(&shop.tm, &shop.products, &shop.orders, &Ctx::new(), (user, 7, 1)),
    )
    .await;
    let took = started.elapsed();
    holder.rollback().await?;

    let Ok(bought) = bought else {
        panic!("the purchase still waited for the held row after {PATIENCE:?}: it has no deadline");
    };
    assert!(
        matches!(bought, Err(ShopError::Tx(TxError::Timeout(limit))) if limit == DEADLINE),
        "expected the manager's timeout at {DEADLINE:?}, got {bought:?}"
    );
    assert!(
        took < Duration::from_secs(2),
        "it gave up after {took:?}, long past the deadline"
    );
    assert_eq!(shop.products.stock(&Ctx::new(), 7).await?, 3, "the stock is as it was");
    assert_eq!(shop.count("SELECT count(*) FROM orders").await?, 0, "no order");
    Ok(())
}

#[tokio::test]
async fn with_nobody_holding_the_row_the_purchase_goes_through() -> anyhow::Result<()> {
    let (shop, user) = Shop::with_lamps_and_a_buyer(3).await?;

    buy_within_deadline(&shop.tm, &shop.products, &shop.orders, &Ctx::new(), (user, 7, 2)).await?;

    assert_eq!(shop.products.stock(&Ctx::new(), 7).await?, 1);
    assert_eq!(shop.count("SELECT count(*) FROM orders").await?, 1);
    Ok(())
}
