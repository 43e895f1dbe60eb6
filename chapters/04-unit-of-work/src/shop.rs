//! The shop's entities as the unit of work tracks them: products, orders and order lines, each
//! with its table and its hand-written mapping to the table's columns.

use uuid::Uuid;

use crate::entity::Entity;
use crate::table::Table;
use crate::value::Value;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Product {
    pub id: Uuid,
    pub name: String,
    pub stock: i64,
    /// Moved on by every commit that changes the product (optimistic locking).
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Order {
    pub id: Uuid,
    pub customer: String,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OrderLine {
    pub id: Uuid,
    pub order_id: Uuid,
    pub product_id: Uuid,
    pub quantity: i64,
}

impl Entity for Product {
    const TABLE: Table = Table {
        name: "products",
        key: "id",
        columns: &["name", "stock", "version"],
        references: &[],
        version: Some("version"),
    };

    fn id(&self) -> Uuid {
        self.id
    }

    fn values(&self) -> Vec<Value> {
        vec![self.name.clone().into(), self.stock.into(), self.version.into()]
    }
}

impl Entity for Order {
    const TABLE: Table = Table {
        name: "orders",
        key: "id",
        columns: &["customer"],
        references: &[],
        version: None,
    };

    fn id(&self) -> Uuid {
        self.id
    }

    fn values(&self) -> Vec<Value> {
        vec![self.customer.clone().into()]
    }
}

impl Entity for OrderLine {
    const TABLE: Table = Table {
        name: "order_lines",
        key: "id",
        columns: &["order_id", "product_id", "quantity"],
        references: &["orders", "products"],
        version: None,
    };

    fn id(&self) -> Uuid {
        self.id
    }

    fn values(&self) -> Vec<Value> {
        vec![self.order_id.into(), self.product_id.into(), self.quantity.into()]
    }
}
