//! The shop's use cases: each atomic on its own, and quick purchase atomic as a whole because
//! its two nested use cases join its transaction.

use std::sync::Arc;

use ch03_transaction_manager::shop::{Shop, ShopError};
use ch03_transaction_manager::{Ctx, Manager};
use harness::{MySqlDatabase, PgDatabase, SqliteDatabase};

use crate::support::{MYSQL, POSTGRES, SQLITE};

/// Counts rows of the shop's tables: (users, messages, orders).
macro_rules! counts {
    ($pool:expr) => {{
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one($pool)
            .await?;
        let messages: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages")
            .fetch_one($pool)
            .await?;
        let orders: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders")
            .fetch_one($pool)
            .await?;
        (users, messages, orders)
    }};
}

/// One test body for the shop on PostgreSQL, MariaDB and SQLite.
macro_rules! shop_test {
    ($name:ident, |$shop:ident, $pool:ident| $body:block) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn postgres() -> anyhow::Result<()> {
                let db = PgDatabase::new(&POSTGRES).await?;
                let $pool = db.pool();
                let $shop = Shop::<sqlx::Postgres>::new(Arc::new(Manager::new($pool.clone())));
                $shop.products().add(&Ctx::new(), 1, "teapot", 3).await?;
                $body
            }

            #[tokio::test]
            async fn mysql() -> anyhow::Result<()> {
                let db = MySqlDatabase::new(&MYSQL).await?;
                let $pool = db.pool();
                let $shop = Shop::<sqlx::MySql>::new(Arc::new(Manager::new($pool.clone())));
                $shop.products().add(&Ctx::new(), 1, "teapot", 3).await?;
                $body
            }

            #[tokio::test]
            async fn sqlite() -> anyhow::Result<()> {
                let db = SqliteDatabase::file(&SQLITE, 3, std::time::Duration::from_secs(5)).await?;
                let $pool = db.pool();
                let $shop = Shop::<sqlx::Sqlite>::new(Arc::new(Manager::new($pool.clone())));
                $shop.products().add(&Ctx::new(), 1, "teapot", 3).await?;
                $body
            }
        }
    };
}

shop_test!(register_saves_the_user_and_its_message_together, |shop, pool| {
    shop.register(&Ctx::new(), "ada@example.com").await?;
    assert_eq!(counts!(pool), (1, 1, 0));

    let taken = shop.register(&Ctx::new(), "ada@example.com").await;
    assert!(matches!(taken, Err(ShopError::EmailTaken(_))), "{taken:?}");
    assert_eq!(counts!(pool), (1, 1, 0), "no message for a registration that failed");
    Ok(())
});

shop_test!(buy_writes_off_the_stock_and_creates_the_order_together, |shop, pool| {
    let user = shop.register(&Ctx::new(), "ada@example.com").await?;
    shop.buy(&Ctx::new(), user, 1, 2).await?;
    assert_eq!(shop.products().stock(&Ctx::new(), 1).await?, 1);

    let short = shop.buy(&Ctx::new(), user, 1, 2).await;
    assert!(
        matches!(short, Err(ShopError::OutOfStock { product: 1, wanted: 2 })),
        "{short:?}"
    );
    assert_eq!(shop.products().stock(&Ctx::new(), 1).await?, 1);
    assert_eq!(counts!(pool), (1, 1, 1));
    Ok(())
});

// ANCHOR: quick_purchase_test
shop_test!(a_quick_purchase_failing_at_the_buy_step_leaves_no_user, |shop, pool| {
    let failed = shop.quick_purchase(&Ctx::new(), "bob@example.com", 1, 5).await;

    assert!(matches!(failed, Err(ShopError::OutOfStock { .. })), "{failed:?}");
    assert_eq!(
        counts!(pool),
        (0, 0, 0),
        "the registration rolled back with the purchase"
    );
    assert_eq!(shop.products().stock(&Ctx::new(), 1).await?, 3);

    let (user, order) = shop.quick_purchase(&Ctx::new(), "bob@example.com", 1, 3).await?;
    assert!(user > 0 && order > 0);
    assert_eq!(counts!(pool), (1, 1, 1));
    assert_eq!(shop.products().stock(&Ctx::new(), 1).await?, 0);
    Ok(())
});
// ANCHOR_END: quick_purchase_test
