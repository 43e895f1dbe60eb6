//! What a type needs for a unit of work to track it: its table, its id, and its values in the
//! table's column order. Written by hand for each entity, beside the struct: it is the mapper.

use uuid::Uuid;

use crate::table::Table;
use crate::value::Value;

pub trait Entity: Send + 'static {
    const TABLE: Table;

    /// The row's key, assigned by the application when the object is made (UUIDv7).
    fn id(&self) -> Uuid;

    /// The values of `TABLE.columns`, in that order.
    fn values(&self) -> Vec<Value>;
}
