//! The shop's use cases: each atomic on its own, and quick purchase atomic as a whole because
//! its two nested use cases join its transaction.

use std::sync::Arc;

use ch03_transaction_manager::Ctx;
use ch03_transaction_manager::shop::{Shop, ShopError, ShopSql};
use rstest::rstest;
use sqlx::{MySql, Postgres, Sqlite};

use crate::support::{Store, TestDb};

/// A shop on a fresh database of `DB`'s, with a product (id 1, a teapot) 3 in stock.
async fn shop<DB: TestDb + ShopSql>(backend: DB) -> anyhow::Result<(Shop<DB>, Store<DB>)> {
    let store = Store::new(backend).await?;
    let shop = Shop::new(Arc::new(store.manager.clone()));
    shop.products().add(&Ctx::new(), 1, "teapot", 3).await?;
    Ok((shop, store))
}

#[rstest]
#[tokio::test]
async fn register_saves_the_user_and_its_message_together<DB: TestDb + ShopSql>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let (shop, store) = shop(backend).await?;
    shop.register(&Ctx::new(), "ada@example.com").await?;
    assert_eq!(store.shop_counts().await?, (1, 1, 0));

    let taken = shop.register(&Ctx::new(), "ada@example.com").await;
    assert!(matches!(taken, Err(ShopError::EmailTaken(_))), "{taken:?}");
    assert_eq!(
        store.shop_counts().await?,
        (1, 1, 0),
        "no message for a registration that failed"
    );
    Ok(())
}

#[rstest]
#[tokio::test]
async fn buy_writes_off_the_stock_and_creates_the_order_together<DB: TestDb + ShopSql>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let (shop, store) = shop(backend).await?;
    let user = shop.register(&Ctx::new(), "ada@example.com").await?;
    shop.buy(&Ctx::new(), user, 1, 2).await?;
    assert_eq!(shop.products().stock(&Ctx::new(), 1).await?, 1);

    let short = shop.buy(&Ctx::new(), user, 1, 2).await;
    assert!(
        matches!(short, Err(ShopError::OutOfStock { product: 1, wanted: 2 })),
        "{short:?}"
    );
    assert_eq!(shop.products().stock(&Ctx::new(), 1).await?, 1);
    assert_eq!(store.shop_counts().await?, (1, 1, 1));
    Ok(())
}

// ANCHOR: quick_purchase_test
#[rstest]
#[tokio::test]
async fn a_quick_purchase_failing_at_the_buy_step_leaves_no_user<DB: TestDb + ShopSql>(
    #[values(Postgres, MySql, Sqlite)] backend: DB,
) -> anyhow::Result<()> {
    let (shop, store) = shop(backend).await?;
    let failed = shop.quick_purchase(&Ctx::new(), "bob@example.com", 1, 5).await;

    assert!(matches!(failed, Err(ShopError::OutOfStock { .. })), "{failed:?}");
    assert_eq!(
        store.shop_counts().await?,
        (0, 0, 0),
        "the registration rolled back with the purchase"
    );
    assert_eq!(shop.products().stock(&Ctx::new(), 1).await?, 3);

    let (user, order) = shop.quick_purchase(&Ctx::new(), "bob@example.com", 1, 3).await?;
    assert!(user > 0 && order > 0);
    assert_eq!(store.shop_counts().await?, (1, 1, 1));
    assert_eq!(shop.products().stock(&Ctx::new(), 1).await?, 0);
    Ok(())
}
// ANCHOR_END: quick_purchase_test
