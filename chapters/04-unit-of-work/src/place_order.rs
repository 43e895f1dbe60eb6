//! The chapter's use case, placing an order, written once over a port that loads products.
//!
//! Each item takes its quantity off its product's stock, and becomes an order line. The products
//! are loaded through the unit of work, so a product that two items name is loaded once and both
//! reservations land on one object; nothing is saved here: the caller commits the unit.

use std::future::Future;

use uuid::Uuid;

use crate::shop::{Order, OrderLine, Product};
use crate::unit::{UnitError, UnitOfWork};

// ANCHOR: port
/// Where products are read from.
#[cfg_attr(test, mockall::automock)]
pub trait Products {
    fn product(&self, id: Uuid) -> impl Future<Output = Result<Option<Product>, OrderError>>;
}
// ANCHOR_END: port

#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("there is no product {0}")]
    NoSuchProduct(Uuid),
    #[error("product {product} has {left} left, and {wanted} were asked for")]
    OutOfStock { product: Uuid, wanted: i64, left: i64 },
    #[error("reading a product failed: {0}")]
    Read(String),
    /// A statement the use case sent itself was refused, or the database went away (the steps
    /// that save by hand).
    #[error("the database refused: {0}")]
    Storage(#[from] sqlx::Error),
    #[error(transparent)]
    Unit(#[from] UnitError),
}

// ANCHOR: place_order
/// Registers in `unit` a new order of `items` (product, quantity) for `customer`, with a line per
/// item, and takes each quantity off its product. The caller commits `unit`, or drops it.
pub async fn place_order<P: Products>(
    unit: &mut UnitOfWork,
    products: &P,
    customer: &str,
    items: &[(Uuid, i64)],
) -> Result<Uuid, OrderError> {
    let order = Order {
        id: Uuid::now_v7(),
        customer: customer.to_owned(),
    };
    let order_id = order.id;
    unit.register_new(order)?;
    for &(product_id, quantity) in items {
        let product = unit
            .load(product_id, |id| products.product(id))
            .await?
            .ok_or(OrderError::NoSuchProduct(product_id))?;
        reserve(&mut product.lock(), quantity)?;
        unit.register_new(OrderLine {
            id: Uuid::now_v7(),
            order_id,
            product_id,
            quantity,
        })?;
    }
    Ok(order_id)
}
// ANCHOR_END: place_order

/// Takes `quantity` off `product`'s stock, or refuses if it has fewer left.
pub fn reserve(product: &mut Product, quantity: i64) -> Result<(), OrderError> {
    if product.stock < quantity {
        return Err(OrderError::OutOfStock {
            product: product.id,
            wanted: quantity,
            left: product.stock,
        });
    }
    product.stock -= quantity;
    Ok(())
}

#[cfg(test)]
mod tests {
    use mockall::predicate::eq;

    use super::*;
    use crate::entity::Entity;
    use crate::plan::{Write, plan};

    fn widget(stock: i64) -> Product {
        Product {
            id: Uuid::from_u128(7),
            name: "widget".into(),
            stock,
            version: 3,
        }
    }

    /// A port that has the widget, and expects to be asked for it exactly once.
    fn products_with_widget(stock: i64) -> MockProducts {
        let mut products = MockProducts::new();
        products
            .expect_product()
            .with(eq(widget(stock).id))
            .times(1)
            .returning(move |_| Box::pin(async move { Ok(Some(widget(stock))) }));
        products
    }

    #[tokio::test]
    async fn a_product_named_twice_is_read_once_and_carries_both_reservations() {
        let products = products_with_widget(10);
        let mut unit = UnitOfWork::new();

        let order = place_order(&mut unit, &products, "ada", &[(widget(0).id, 2), (widget(0).id, 3)])
            .await
            .unwrap();

        let writes = plan(&unit.tracked()).unwrap();
        let inserted: Vec<&str> = writes
            .iter()
            .filter_map(|write| match write {
                Write::Insert { table, .. } => Some(table.name),
                _ => None,
            })
            .collect();
        assert_eq!(inserted, ["orders", "order_lines", "order_lines"]);
        assert!(matches!(&writes[0], Write::Insert { id, .. } if *id == order));
        assert_eq!(
            writes.last(),
            Some(&Write::Update {
                table: Product::TABLE,
                id: widget(0).id,
                columns: vec!["stock"],
                values: vec![5.into()],
                expected: Some(3),
            }),
            "one widget, reserved twice: 10 - 2 - 3, checked against the version read"
        );
    }

    #[tokio::test]
    async fn too_few_in_stock_is_refused_naming_the_product() {
        let products = products_with_widget(4);
        let mut unit = UnitOfWork::new();

        let refused = place_order(&mut unit, &products, "ada", &[(widget(0).id, 2), (widget(0).id, 3)]).await;

        assert!(
            matches!(refused, Err(OrderError::OutOfStock { wanted: 3, left: 2, .. })),
            "{refused:?}"
        );
    }

    #[tokio::test]
    async fn a_product_the_port_does_not_have_is_refused() {
        let mut products = MockProducts::new();
        products
            .expect_product()
            .times(1)
            .returning(|_| Box::pin(async { Ok(None) }));
        let mut unit = UnitOfWork::new();
        let missing = Uuid::from_u128(8);

        let refused = place_order(&mut unit, &products, "ada", &[(missing, 1)]).await;

        assert!(
            matches!(refused, Err(OrderError::NoSuchProduct(id)) if id == missing),
            "{refused:?}"
        );
    }
}
