//! The commit order: parents before children when inserting, children before parents when
//! deleting, from the foreign keys each table declares.
//!
//! Foreign keys that are not deferrable are checked at each statement, so an order line inserted
//! before its order is refused, and so is an order deleted while its lines remain. The order is a
//! topological sort of the tables by their references, made deterministic: among the tables free
//! to go next, the one listed first. (freerware/work, the Go library the talk points to, walks a
//! Go map, whose order is random from one run to the next.) A cycle of references has no such
//! order, and is refused with an error that names it.

use crate::table::Table;

/// The tables' references form a cycle: no order inserts each after the tables it references.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the tables reference each other in a cycle ({}), so no order inserts each after its parents", .0.join(" -> "))]
pub struct CycleError(pub Vec<&'static str>);

// ANCHOR: insert_order
/// The order to insert into `tables`: each after every table of `tables` it references (a
/// reference to a table not in `tables` is not this commit's concern). Among tables free to go,
/// the one listed first goes first, so the order is the same on every run.
pub fn insert_order(tables: &[Table]) -> Result<Vec<&'static str>, CycleError> {
    let in_commit = |name: &str| tables.iter().any(|table| table.name == name);
    let mut placed: Vec<&'static str> = Vec::with_capacity(tables.len());
    while placed.len() < tables.len() {
        let next = tables.iter().find(|table| {
            !placed.contains(&table.name)
                && table
                    .references
                    .iter()
                    .all(|parent| placed.contains(parent) || !in_commit(parent))
        });
        match next {
            Some(table) => placed.push(table.name),
            None => return Err(CycleError(cycle_among(tables, &placed))),
        }
    }
    Ok(placed)
}
// ANCHOR_END: insert_order

/// The order to delete from `tables`: the insert order, reversed, so that children go first.
pub fn delete_order(tables: &[Table]) -> Result<Vec<&'static str>, CycleError> {
    let mut order = insert_order(tables)?;
    order.reverse();
    Ok(order)
}

/// A cycle among the tables not yet placed: from the first of them, follow references to
/// unplaced tables until one comes round again; the cycle is from there, closed with its start.
fn cycle_among(tables: &[Table], placed: &[&'static str]) -> Vec<&'static str> {
    let unplaced = |name: &str| {
        tables
            .iter()
            .find(|table| table.name == name && !placed.contains(&table.name))
    };
    let mut path: Vec<&'static str> = Vec::new();
    let mut current = tables
        .iter()
        .find(|table| !placed.contains(&table.name))
        .expect("a cycle is only looked for while a table is left");
    loop {
        if let Some(start) = path.iter().position(|name| *name == current.name) {
            let mut cycle = path[start..].to_vec();
            cycle.push(current.name);
            return cycle;
        }
        path.push(current.name);
        // Every unplaced table waits on at least one unplaced table it references, or it would
        // have been placed.
        current = current
            .references
            .iter()
            .find_map(|parent| unplaced(parent))
            .expect("an unplaced table references an unplaced table");
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    fn table(name: &'static str, references: &'static [&'static str]) -> Table {
        Table {
            name,
            key: "id",
            columns: &[],
            references,
            version: None,
        }
    }

    #[rstest]
    #[case::the_shop(
        vec![table("order_lines", &["orders", "products"]), table("orders", &[]), table("products", &[])],
        &["orders", "products", "order_lines"]
    )]
    #[case::declared_parents_first(
        vec![table("products", &[]), table("orders", &[]), table("order_lines", &["orders", "products"])],
        &["products", "orders", "order_lines"]
    )]
    #[case::a_chain_declared_backwards(
        vec![table("c", &["b"]), table("b", &["a"]), table("a", &[])],
        &["a", "b", "c"]
    )]
    #[case::a_diamond(
        vec![table("d", &["b", "c"]), table("c", &["a"]), table("b", &["a"]), table("a", &[])],
        &["a", "c", "b", "d"]
    )]
    #[case::a_parent_outside_the_commit(
        vec![table("order_lines", &["orders"]), table("audit", &["users"])],
        &["order_lines", "audit"]
    )]
    #[case::nothing(vec![], &[])]
    fn parents_go_first_and_the_order_is_the_same_every_time(#[case] tables: Vec<Table>, #[case] expected: &[&str]) {
        assert_eq!(insert_order(&tables).unwrap(), expected);
        let mut backwards: Vec<&str> = expected.to_vec();
        backwards.reverse();
        assert_eq!(delete_order(&tables).unwrap(), backwards, "children are deleted first");
    }

    #[rstest]
    #[case::two_tables(vec![table("a", &["b"]), table("b", &["a"])], &["a", "b", "a"])]
    #[case::behind_a_free_table(
        vec![table("free", &[]), table("x", &["free", "z"]), table("y", &["x"]), table("z", &["y"])],
        &["x", "z", "y", "x"]
    )]
    #[case::a_table_referencing_itself(vec![table("categories", &["categories"])], &["categories", "categories"])]
    fn a_cycle_is_refused_and_named(#[case] tables: Vec<Table>, #[case] cycle: &[&str]) {
        let refused = insert_order(&tables).unwrap_err();
        assert_eq!(refused.0, cycle);
        assert!(refused.to_string().contains(&cycle.join(" -> ")), "{refused}");
        assert_eq!(delete_order(&tables).unwrap_err(), refused);
    }
}
