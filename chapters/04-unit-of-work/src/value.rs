//! A column's value, as the unit of work keeps it: what it compares to find a change, and what an
//! adapter binds to write one.
//!
//! A snapshot of a row is its values in the table's column order. Comparing two snapshots is
//! comparing values, so `0`, `""` and `NULL` are values like any other: changing a stock to 0 is a
//! change, and is written. (gorm's `Updates` with a struct skips zero-valued fields, so such a
//! change is silently lost; this type leaves no room for that.)

use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Text(String),
    Uuid(Uuid),
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Value::Int(value)
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Value::Text(value.to_owned())
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Value::Text(value)
    }
}

impl From<Uuid> for Value {
    fn from(value: Uuid) -> Self {
        Value::Uuid(value)
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Self {
        Value::Bool(value)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Self {
        value.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rust_value_becomes_its_column_value_and_none_is_null() {
        let id = Uuid::now_v7();
        assert_eq!(Value::from(0), Value::Int(0));
        assert_eq!(Value::from(""), Value::Text(String::new()));
        assert_eq!(Value::from("widget".to_owned()), Value::Text("widget".into()));
        assert_eq!(Value::from(id), Value::Uuid(id));
        assert_eq!(Value::from(false), Value::Bool(false));
        assert_eq!(Value::from(None::<i64>), Value::Null);
        assert_eq!(Value::from(Some(7)), Value::Int(7));
        assert_ne!(Value::from(0), Value::Null, "zero is a value, not an absence");
    }
}
