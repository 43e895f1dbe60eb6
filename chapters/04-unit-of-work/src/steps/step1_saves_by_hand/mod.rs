//! Step 1: saving by hand. The use case calls a repository save for each row it changes or
//! creates, as soon as the row is ready, each save a statement of its own (and its own
//! transaction).
//!
//! What goes wrong, each shown by a test on the real databases (`tests/it/steps.rs`):
//! - a failure halfway leaves half an order: the order and the lines before it, and their stock;
//! - a line saved before its order is refused by the foreign key: the order of the saves is the
//!   author's to get right, every time;
//! - a change that nobody saves is lost without an error (here: the gift that big orders take
//!   off the stock, added to the use case later, without its save);
//! - saving everything loaded, the usual fix, writes the rows that did not change, every column;
//! - with keys the database assigns (auto-increment), a line cannot even be made before its
//!   order's insert has returned its number, and guessing the number puts lines on someone
//!   else's order (`sql::HandRows::guess_next_number`).

pub mod sql;

use std::future::Future;

use uuid::Uuid;

use crate::place_order::{OrderError, reserve};
use crate::shop::{Order, OrderLine, Product};

// ANCHOR: port
/// The repository the use case saves through, a row per call.
#[cfg_attr(test, mockall::automock)]
pub trait ShopRows {
    fn product(&self, id: Uuid) -> impl Future<Output = sqlx::Result<Option<Product>>>;
    /// Writes every column of `product` (the repository does not know which changed).
    fn save_product(&self, product: &Product) -> impl Future<Output = sqlx::Result<()>>;
    fn insert_order(&self, order: &Order) -> impl Future<Output = sqlx::Result<()>>;
    fn insert_line(&self, line: &OrderLine) -> impl Future<Output = sqlx::Result<()>>;
}
// ANCHOR_END: port

/// Orders of this many items or more come with a gift, taken off the gift product's stock.
pub const GIFT_FROM_ITEMS: usize = 3;

/// Two versions of the use case's last lines: as the gift was first added, and as fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saves {
    /// The gift's stock is taken off, and its save was forgotten.
    AsWritten,
    /// The fix: every product loaded is saved at the end, whether it changed or not.
    EverythingLoaded,
}

// ANCHOR: place_order
/// Places `customer`'s order of `items` (product, quantity), saving each row as it goes; an order
/// of [`GIFT_FROM_ITEMS`] items or more also takes one `gift` off the stock.
pub async fn place_order<R: ShopRows>(
    rows: &R,
    customer: &str,
    items: &[(Uuid, i64)],
    gift: Uuid,
    saves: Saves,
) -> Result<Uuid, OrderError> {
    let order = Order {
        id: Uuid::now_v7(),
        customer: customer.to_owned(),
    };
    // The order first: its lines reference it, and each save is checked as it is sent.
    rows.insert_order(&order).await?;
    for &(product_id, quantity) in items {
        let mut product = rows
            .product(product_id)
            .await?
            .ok_or(OrderError::NoSuchProduct(product_id))?;
        reserve(&mut product, quantity)?;
        rows.save_product(&product).await?;
        let line = OrderLine {
            id: Uuid::now_v7(),
            order_id: order.id,
            product_id,
            quantity,
        };
        rows.insert_line(&line).await?;
    }
    // Added later: big orders come with a gift.
    let mut gift = rows.product(gift).await?.ok_or(OrderError::NoSuchProduct(gift))?;
    if items.len() >= GIFT_FROM_ITEMS {
        gift.stock -= 1;
    }
    if saves == Saves::EverythingLoaded {
        rows.save_product(&gift).await?;
    }
    Ok(order.id)
}
// ANCHOR_END: place_order

#[cfg(test)]
mod tests {
    use mockall::predicate::{always, eq, function};
    use rstest::rstest;

    use super::*;

    fn product(n: u128, stock: i64) -> Product {
        Product {
            id: Uuid::from_u128(n),
            name: format!("product {n}"),
            stock,
            version: 0,
        }
    }

    /// Rows that hold products 1, 2, 3 and the gift (9), each with 10 in stock, and take every
    /// insert; the saves of products are what each case expects.
    fn rows() -> MockShopRows {
        let mut rows = MockShopRows::new();
        rows.expect_product()
            .returning(|id| Box::pin(async move { Ok(Some(product(id.as_u128(), 10))) }));
        rows.expect_insert_order()
            .times(1)
            .returning(|_| Box::pin(async { Ok(()) }));
        rows.expect_insert_line().returning(|_| Box::pin(async { Ok(()) }));
        rows
    }

    fn items(count: u128) -> Vec<(Uuid, i64)> {
        (1..=count).map(|n| (Uuid::from_u128(n), 2)).collect()
    }

    #[tokio::test]
    async fn as_written_each_item_is_saved_and_the_gift_taken_off_is_not() {
        let mut rows = rows();
        rows.expect_save_product()
            .with(function(|saved: &Product| saved.stock == 8 && saved.id.as_u128() <= 3))
            .times(3)
            .returning(|_| Box::pin(async { Ok(()) }));

        place_order(&rows, "ada", &items(3), Uuid::from_u128(9), Saves::AsWritten)
            .await
            .unwrap();
    }

    #[rstest]
    #[case::a_big_order_takes_one(3, 9)]
    #[case::a_small_order_saves_it_unchanged(2, 10)]
    #[tokio::test]
    async fn saving_everything_loaded_saves_the_gift_changed_or_not(#[case] count: u128, #[case] gift_stock: i64) {
        let mut rows = rows();
        rows.expect_save_product()
            .with(function(|saved: &Product| saved.id.as_u128() != 9))
            .times(count as usize)
            .returning(|_| Box::pin(async { Ok(()) }));
        rows.expect_save_product()
            .with(eq(product(9, gift_stock)))
            .times(1)
            .returning(|_| Box::pin(async { Ok(()) }));

        place_order(&rows, "ada", &items(count), Uuid::from_u128(9), Saves::EverythingLoaded)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn an_item_out_of_stock_stops_the_order_after_what_was_saved_before_it() {
        let mut rows = rows();
        rows.expect_save_product()
            .with(always())
            .times(1)
            .returning(|_| Box::pin(async { Ok(()) }));

        let refused = place_order(
            &rows,
            "ada",
            &[(Uuid::from_u128(1), 2), (Uuid::from_u128(2), 11)],
            Uuid::from_u128(9),
            Saves::AsWritten,
        )
        .await;

        assert!(
            matches!(
                refused,
                Err(OrderError::OutOfStock {
                    wanted: 11,
                    left: 10,
                    ..
                })
            ),
            "{refused:?}"
        );
    }
}
