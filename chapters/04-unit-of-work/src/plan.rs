//! What a commit will write, worked out before any SQL is sent: one [`Write`] per row that needs
//! one, in an order the foreign keys accept.
//!
//! New rows are inserted parents first, table by table; changed rows are updated in the columns
//! that changed; removed rows are deleted children first. A loaded row that did not change is not
//! in the plan at all. Rows of one table and kind sit next to each other, so that an adapter can
//! send each run as one statement.

use uuid::Uuid;

use crate::changes::changed_columns;
use crate::order::{CycleError, delete_order, insert_order};
use crate::table::Table;
use crate::value::Value;

/// Where a tracked row stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Registered as new: inserted at commit.
    New,
    /// Loaded through the unit of work, with its values as loaded.
    Loaded(Vec<Value>),
    /// Registered as removed, with its values as loaded: deleted at commit. (A new row removed
    /// again is simply forgotten.)
    Removed(Vec<Value>),
}

/// One tracked row, as the plan sees it: its table, key, state and current values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracked {
    pub table: Table,
    pub id: Uuid,
    pub state: State,
    pub values: Vec<Value>,
}

/// One statement's worth of work on one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    Insert {
        table: Table,
        id: Uuid,
        values: Vec<Value>,
    },
    /// Only the columns that changed, with their new values. `expected`, for a table with a
    /// version column, is the version the row was loaded at.
    Update {
        table: Table,
        id: Uuid,
        columns: Vec<&'static str>,
        values: Vec<Value>,
        expected: Option<i64>,
    },
    Delete {
        table: Table,
        id: Uuid,
        expected: Option<i64>,
    },
}

// ANCHOR: plan
/// The writes that commit `rows`: inserts (parents first), then updates, then deletes (children
/// first), each group in table order and, within a table, in the order the rows were tracked.
pub fn plan(rows: &[Tracked]) -> Result<Vec<Write>, CycleError> {
    let mut tables: Vec<Table> = Vec::new();
    for row in rows {
        if !tables.iter().any(|table| table.name == row.table.name) {
            tables.push(row.table);
        }
    }
    let inserts = insert_order(&tables)?;
    let deletes = delete_order(&tables)?;
    let mut writes = Vec::new();
    for name in &inserts {
        for row in of(rows, name, &State::New) {
            writes.push(Write::Insert {
                table: row.table,
                id: row.id,
                values: row.values.clone(),
            });
        }
    }
    for name in &inserts {
        for row in rows.iter().filter(|row| row.table.name == *name) {
            let State::Loaded(loaded) = &row.state else { continue };
            let columns = changed_columns(&row.table, loaded, &row.values);
            if columns.is_empty() {
                continue;
            }
            let values = columns
                .iter()
                .map(|column| row.values[position(&row.table, column)].clone())
                .collect();
            writes.push(Write::Update {
                table: row.table,
                id: row.id,
                columns,
                values,
                expected: version(&row.table, loaded),
            });
        }
    }
    for name in &deletes {
        for row in rows.iter().filter(|row| row.table.name == *name) {
            let State::Removed(loaded) = &row.state else { continue };
            writes.push(Write::Delete {
                table: row.table,
                id: row.id,
                expected: version(&row.table, loaded),
            });
        }
    }
    Ok(writes)
}
// ANCHOR_END: plan

/// The rows of the table `name` that are in `state`, in the order they were tracked.
fn of<'a>(rows: &'a [Tracked], name: &'a str, state: &'a State) -> impl Iterator<Item = &'a Tracked> {
    rows.iter()
        .filter(move |row| row.table.name == name && row.state == *state)
}

fn position(table: &Table, column: &str) -> usize {
    table.position(column).expect("a changed column is one of the table's")
}

/// The version a row was loaded at, for a table that has a version column.
fn version(table: &Table, loaded: &[Value]) -> Option<i64> {
    let at = table.position(table.version?)?;
    match loaded[at] {
        Value::Int(version) => version,
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::Entity;
    use crate::shop::{Order, OrderLine};

    const ORDERS: Table = Order::TABLE;
    const LINES: Table = OrderLine::TABLE;
    /// The shop's products without their version column, so that these plans check none.
    const PRODUCTS: Table = Table {
        name: "products",
        key: "id",
        columns: &["name", "stock"],
        references: &[],
        version: None,
    };

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn row(table: Table, n: u128, state: State, values: Vec<Value>) -> Tracked {
        Tracked {
            table,
            id: id(n),
            state,
            values,
        }
    }

    fn loaded_widget(stock_now: i64) -> Tracked {
        row(
            PRODUCTS,
            1,
            State::Loaded(vec!["widget".into(), 5.into()]),
            vec!["widget".into(), stock_now.into()],
        )
    }

    #[test]
    fn a_placed_order_inserts_parents_first_and_updates_only_the_changed_column() {
        // Tracked in the order a use case touches them: the lines before the order they belong to.
        let rows = vec![
            row(LINES, 11, State::New, vec![id(10).into(), id(1).into(), 2.into()]),
            loaded_widget(3),
            row(
                PRODUCTS,
                2,
                State::Loaded(vec!["gadget".into(), 7.into()]),
                vec!["gadget".into(), 7.into()],
            ),
            row(LINES, 12, State::New, vec![id(10).into(), id(2).into(), 1.into()]),
            row(ORDERS, 10, State::New, vec!["ada".into()]),
        ];

        let writes = plan(&rows).unwrap();

        assert_eq!(
            writes,
            [
                Write::Insert {
                    table: ORDERS,
                    id: id(10),
                    values: vec!["ada".into()]
                },
                Write::Insert {
                    table: LINES,
                    id: id(11),
                    values: vec![id(10).into(), id(1).into(), 2.into()]
                },
                Write::Insert {
                    table: LINES,
                    id: id(12),
                    values: vec![id(10).into(), id(2).into(), 1.into()]
                },
                Write::Update {
                    table: PRODUCTS,
                    id: id(1),
                    columns: vec!["stock"],
                    values: vec![3.into()],
                    expected: None,
                },
            ],
            "the unchanged gadget costs nothing"
        );
    }

    #[test]
    fn a_removed_order_deletes_its_lines_first() {
        let line = |n| {
            let values: Vec<Value> = vec![id(10).into(), id(1).into(), 1.into()];
            row(LINES, n, State::Removed(values.clone()), values)
        };
        let rows = vec![
            row(ORDERS, 10, State::Removed(vec!["ada".into()]), vec!["ada".into()]),
            line(11),
            line(12),
        ];
        let tables: Vec<&str> = plan(&rows)
            .unwrap()
            .iter()
            .map(|write| match write {
                Write::Delete { table, .. } => table.name,
                other => panic!("only deletes: {other:?}"),
            })
            .collect();
        assert_eq!(tables, ["order_lines", "order_lines", "orders"]);
    }

    #[test]
    fn rows_that_did_not_change_plan_nothing_and_a_stock_set_to_zero_is_written() {
        assert_eq!(plan(&[loaded_widget(5)]).unwrap(), []);
        assert_eq!(
            plan(&[loaded_widget(0)]).unwrap(),
            [Write::Update {
                table: PRODUCTS,
                id: id(1),
                columns: vec!["stock"],
                values: vec![0.into()],
                expected: None,
            }]
        );
    }

    #[test]
    fn tables_in_a_cycle_are_refused_before_anything_is_planned() {
        const A: Table = Table {
            name: "a",
            key: "id",
            columns: &[],
            references: &["b"],
            version: None,
        };
        const B: Table = Table {
            name: "b",
            key: "id",
            columns: &[],
            references: &["a"],
            version: None,
        };
        let rows = vec![row(A, 1, State::New, vec![]), row(B, 2, State::New, vec![])];
        assert_eq!(plan(&rows).unwrap_err(), CycleError(vec!["a", "b", "a"]));
    }
}
