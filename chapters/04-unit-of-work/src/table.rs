//! What the unit of work knows of a table: its name, its key, its columns, and the tables its
//! foreign keys point to. Enough to diff a row, to order a commit, and to write the SQL.

/// A table the unit of work writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table {
    pub name: &'static str,
    /// The primary key's column, assigned by the application (UUIDv7): an object has its id
    /// before it is stored, so its children can be prepared before the parent is inserted.
    pub key: &'static str,
    /// Every other column, in the order a row's values list them.
    pub columns: &'static [&'static str],
    /// The tables this one's foreign keys reference: they are inserted before it, and deleted
    /// after it.
    pub references: &'static [&'static str],
    /// The version column, one of `columns`, for optimistic locking: each update and delete of a
    /// row checks that it is still the version loaded, and an update moves it on by one. The
    /// unit of work manages it; a change made to it by hand is not a change.
    pub version: Option<&'static str>,
}

impl Table {
    /// Where `column` is in `columns`.
    pub fn position(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|known| *known == column)
    }
}
