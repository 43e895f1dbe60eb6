//! A column's value, as the unit of work keeps it: what it compares to find a change, and what an
//! adapter binds to write one.
//!
//! A snapshot of a row is its values in the table's column order. Comparing two snapshots is
//! comparing values, so `0`, `""` and `NULL` are values like any other: changing a stock to 0 is a
//! change, and is written. (gorm's `Updates` with a struct skips zero-valued fields, so such a
//! change is silently lost; this type leaves no room for that.) A `NULL` keeps its column's type,
//! so that an adapter can bind it as that type.

use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    Bool(Option<bool>),
    Int(Option<i64>),
    Text(Option<String>),
    Uuid(Option<Uuid>),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(
            self,
            Value::Bool(None) | Value::Int(None) | Value::Text(None) | Value::Uuid(None)
        )
    }
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Value::Int(Some(value))
    }
}

impl From<Option<i64>> for Value {
    fn from(value: Option<i64>) -> Self {
        Value::Int(value)
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Value::Text(Some(value.to_owned()))
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Value::Text(Some(value))
    }
}

impl From<Option<&str>> for Value {
    fn from(value: Option<&str>) -> Self {
        Value::Text(value.map(str::to_owned))
    }
}

impl From<Option<String>> for Value {
    fn from(value: Option<String>) -> Self {
        Value::Text(value)
    }
}

impl From<Uuid> for Value {
    fn from(value: Uuid) -> Self {
        Value::Uuid(Some(value))
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Self {
        Value::Bool(Some(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rust_value_becomes_its_column_value_and_none_is_a_typed_null() {
        let id = Uuid::now_v7();
        assert_eq!(Value::from(0), Value::Int(Some(0)));
        assert_eq!(Value::from(""), Value::Text(Some(String::new())));
        assert_eq!(Value::from("widget".to_owned()), Value::Text(Some("widget".into())));
        assert_eq!(Value::from(id), Value::Uuid(Some(id)));
        assert_eq!(Value::from(false), Value::Bool(Some(false)));
        assert_eq!(Value::from(None::<i64>), Value::Int(None));
        assert_eq!(Value::from(None::<&str>), Value::Text(None));
        assert_eq!(Value::from(Some("x".to_owned())), Value::Text(Some("x".into())));
        assert!(Value::Int(None).is_null() && Value::Uuid(None).is_null() && Value::Bool(None).is_null());
        assert!(!Value::from(0).is_null(), "zero is a value, not an absence");
        assert_ne!(Value::from(0), Value::Int(None));
    }
}
