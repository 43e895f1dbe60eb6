//! What a scope asks of its transaction: how to relate to one already open (propagation), and
//! the properties of a new one (isolation, read-only, timeout).

use std::time::Duration;

/// How a scope relates to a transaction that is already open in the context. The names and
/// meanings are Spring's, which most transaction managers follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Propagation {
    /// Join the open transaction; begin one if there is none. A failure inside marks the whole
    /// transaction rollback-only.
    #[default]
    Required,
    /// Always begin a new transaction, on another connection; the open one waits, untouched.
    RequiresNew,
    /// Inside an open transaction, a savepoint: a failure rolls back to it and the outer
    /// transaction goes on. With none open, like `Required`.
    Nested,
    /// Join the open transaction if there is one; otherwise run without a transaction.
    Supports,
    /// Join the open transaction; fail with `NoTransaction` if there is none.
    Mandatory,
    /// Run without a transaction; fail with `ExistingTransaction` if one is open.
    Never,
    /// Run without a transaction, on another connection, even if one is open.
    NotSupported,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    ReadUncommitted,
    ReadCommitted,
    RepeatableRead,
    Serializable,
}

impl Isolation {
    pub fn sql(self) -> &'static str {
        match self {
            Isolation::ReadUncommitted => "READ UNCOMMITTED",
            Isolation::ReadCommitted => "READ COMMITTED",
            Isolation::RepeatableRead => "REPEATABLE READ",
            Isolation::Serializable => "SERIALIZABLE",
        }
    }
}

/// What a scope asks for. `Settings::default()` is `Required`, read-write, the database's
/// default isolation, no timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Settings {
    pub propagation: Propagation,
    /// `None`: the database's default.
    pub isolation: Option<Isolation>,
    pub read_only: bool,
    /// The scope fails with `Timeout`, and its transaction rolls back, if it takes longer.
    pub timeout: Option<Duration>,
}

impl Settings {
    pub fn new(propagation: Propagation) -> Self {
        Self {
            propagation,
            ..Self::default()
        }
    }

    pub fn isolation(mut self, isolation: Isolation) -> Self {
        self.isolation = Some(isolation);
        self
    }

    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}
