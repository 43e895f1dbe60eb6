//! The manager's errors. A use case's own error type wraps them (`From<TxError>`), so that `?`
//! works on both in one function.

use thiserror::Error;

use crate::settings::{Isolation, Propagation};

#[derive(Debug, Error)]
pub enum TxError {
    /// `Mandatory` asked to join a transaction, and none is open.
    #[error("propagation {0:?} needs an open transaction, and there is none")]
    NoTransaction(Propagation),

    /// `Never` found a transaction open.
    #[error("propagation Never found a transaction open")]
    ExistingTransaction,

    /// `Nested` on a backend that has no savepoints.
    #[error("this backend has no savepoints, so it cannot run a Nested scope")]
    NestedUnsupported,

    /// A scope asked to join a transaction that cannot give what it asks for.
    #[error("cannot join the open transaction: {0}")]
    Incompatible(String),

    /// The backend cannot give this isolation level at all.
    #[error("this backend does not offer isolation {0:?}")]
    IsolationUnsupported(Isolation),

    /// A scope inside this transaction failed, and the code around it carried on as if it had
    /// not: committing would save half of a use case, so the transaction was rolled back.
    #[error("the transaction was marked rollback-only by a failed inner scope, and has been rolled back")]
    UnexpectedRollback,

    /// The scope took longer than its timeout; its transaction was rolled back.
    #[error("the transaction took longer than its timeout of {0:?} and was rolled back")]
    Timeout(std::time::Duration),

    /// The transaction ended (its scope returned) while something still held the context.
    #[error("the transaction has already ended; a task kept the context beyond its scope")]
    Finished,

    /// Code that holds the transaction's connection (the guard from `connection(ctx)`) entered
    /// a scope of the same transaction, which needs that connection: it would wait forever.
    #[error(
        "a scope of this transaction was entered while the code around it holds the connection \
         from `connection(ctx)`: drop that guard before calling into another scope"
    )]
    ConnectionHeld,

    /// A scope needed a connection of its own (`RequiresNew`, `NotSupported`) while the code
    /// asking holds every connection of the pool in the transactions it suspended: none can come.
    #[error(
        "the pool's {max} connection(s) are all held by the {held} transaction(s) this scope suspended, \
         so a new one can never be had: enlarge the pool, or do not open a new transaction here"
    )]
    PoolHeld { held: u32, max: u32 },

    /// A second writing transaction on a database that has one writer at a time (SQLite), from
    /// inside a writing transaction that cannot end first.
    #[error(
        "this database allows one writing transaction at a time, and this scope already runs inside one: \
         a writing RequiresNew here could only fail after the busy timeout"
    )]
    SecondWriter,

    /// A before-commit hook failed; the transaction was rolled back.
    #[error("a before-commit hook failed, so the transaction was rolled back: {0}")]
    BeforeCommit(#[source] Box<dyn std::error::Error + Send + Sync>),

    /// A key watched by an optimistic Redis transaction changed before `EXEC`: nothing was written.
    #[error("a watched key changed before the transaction executed; nothing was written")]
    WatchConflict,

    #[error("Redis error while {doing}: {source}")]
    Redis {
        doing: &'static str,
        #[source]
        source: redis::RedisError,
    },

    #[error("database error while {doing}: {source}")]
    Database {
        doing: &'static str,
        #[source]
        source: sqlx::Error,
    },
}

pub(crate) trait Doing<T> {
    fn doing(self, doing: &'static str) -> Result<T, TxError>;
}

impl<T> Doing<T> for Result<T, sqlx::Error> {
    fn doing(self, doing: &'static str) -> Result<T, TxError> {
        self.map_err(|source| TxError::Database { doing, source })
    }
}
