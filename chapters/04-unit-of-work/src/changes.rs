//! Change tracking: which columns of a row differ from the snapshot taken when it was loaded.
//!
//! The unit of work keeps a copy of each row's values as loaded. At commit it compares the row
//! with that copy: a row with no differing column costs no statement at all, and a row that
//! differs is updated in exactly the columns that changed, so that two use cases changing
//! different columns of one row do not overwrite each other's.

use crate::table::Table;
use crate::value::Value;

// ANCHOR: changed_columns
/// The columns of `table` whose value in `now` differs from `loaded`, in the table's order. Both
/// list the values of `table.columns`, in that order. The version column is the unit of work's to
/// move on, not the use case's, so it is never one of them.
pub fn changed_columns(table: &Table, loaded: &[Value], now: &[Value]) -> Vec<&'static str> {
    assert_eq!(
        loaded.len(),
        table.columns.len(),
        "a snapshot of {} has a value per column",
        table.name
    );
    assert_eq!(
        now.len(),
        table.columns.len(),
        "a row of {} has a value per column",
        table.name
    );
    table
        .columns
        .iter()
        .zip(loaded.iter().zip(now))
        .filter(|(column, (before, after))| before != after && Some(**column) != table.version)
        .map(|(column, _)| *column)
        .collect()
}
// ANCHOR_END: changed_columns

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    const PRODUCTS: Table = Table {
        name: "products",
        key: "id",
        columns: &["name", "price_cents", "stock", "description"],
        references: &[],
        version: None,
    };

    fn widget() -> Vec<Value> {
        vec!["widget".into(), 1999.into(), 5.into(), Some("blue").into()]
    }

    /// The loaded widget with one column set to `value`.
    fn with(column: usize, value: Value) -> Vec<Value> {
        let mut row = widget();
        row[column] = value;
        row
    }

    #[rstest]
    #[case::nothing(widget(), &[])]
    #[case::the_price(with(1, 2499.into()), &["price_cents"])]
    #[case::the_stock_to_zero(with(2, 0.into()), &["stock"])]
    #[case::the_name_to_empty(with(0, "".into()), &["name"])]
    #[case::the_description_to_null(with(3, Value::Text(None)), &["description"])]
    #[case::the_same_value_again(with(1, 1999.into()), &[])]
    #[case::two_columns(vec!["gadget".into(), 1999.into(), 4.into(), Some("blue").into()], &["name", "stock"])]
    fn only_the_columns_that_differ_are_changed_and_a_zero_value_is_a_change(
        #[case] now: Vec<Value>,
        #[case] expected: &[&str],
    ) {
        assert_eq!(changed_columns(&PRODUCTS, &widget(), &now), expected);
    }

    #[test]
    fn the_version_column_changed_by_hand_is_no_change() {
        let versioned = Table {
            version: Some("stock"),
            ..PRODUCTS
        };
        assert_eq!(
            changed_columns(&versioned, &widget(), &with(2, 6.into())),
            Vec::<&str>::new()
        );
        assert_eq!(
            changed_columns(&versioned, &widget(), &with(1, 1.into())),
            ["price_cents"]
        );
    }

    #[test]
    fn a_null_that_becomes_a_value_is_a_change_too() {
        let loaded = with(3, Value::Text(None));
        assert_eq!(changed_columns(&PRODUCTS, &loaded, &widget()), ["description"]);
    }

    #[test]
    #[should_panic(expected = "a row of products has a value per column")]
    fn a_row_with_a_value_missing_is_a_bug_not_a_change() {
        changed_columns(&PRODUCTS, &widget(), &widget()[..3]);
    }
}
