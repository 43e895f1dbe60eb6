//! Exercise: map the reviews table for the unit of work (statement:
//! `statements/review_mapping.md`, or `workbook hint review_mapping`).

use ch04_unit_of_work::{Entity, Table, Value};
use uuid::Uuid;

/// A review of a product: stars, and a comment the reviewer may leave out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub id: Uuid,
    pub product_id: Uuid,
    pub stars: i64,
    pub comment: Option<String>,
}

impl Entity for Review {
    const TABLE: Table = Table {
        name: "reviews",
        key: "id",
        columns: &["product_id", "stars", "comment"],
        references: &["products"],
        version: None,
    };

    fn id(&self) -> Uuid {
        self.id
    }

    fn values(&self) -> Vec<Value> {
        vec![self.product_id.into(), self.stars.into(), self.comment.clone().into()]
    }
}
