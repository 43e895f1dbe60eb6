//! One physical transaction (one `BEGIN` ... `COMMIT` on one connection), shared by the scopes
//! that joined it, and the guard through which repositories use its connection.
//!
//! The connection sits behind an async mutex: scopes of one transaction may run on several tasks,
//! and each statement takes the connection in turn. Three things happen whenever it is taken:
//! - a savepoint that a dropped `Nested` scope could not roll back to (a `drop` cannot run SQL)
//!   is rolled back to first, before anyone else's statement;
//! - a scope that would wait for a connection its own caller holds is refused at once
//!   ([`TxError::ConnectionHeld`]), instead of waiting forever;
//! - the holder is recorded, so that the check above can be made.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use futures::future::BoxFuture;
use sqlx::pool::PoolConnection;
use sqlx::{Connection, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};
use tokio::time::Instant;

use crate::ctx::Ctx;
use crate::error::{Doing, TxError};
use crate::manager::dialect::Dialect;
use crate::settings::Isolation;

/// Which scope a frame of the context is: every `run` makes a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScopeId(u64);

impl ScopeId {
    pub(crate) fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// What a transaction frame in the context holds: the physical transaction, the rollback-only
/// marker of the innermost `Nested` (or outermost) scope, and which scope this is.
pub(crate) struct Scope<DB: sqlx::Database> {
    pub(crate) id: ScopeId,
    pub(crate) physical: Arc<Physical<DB>>,
    pub(crate) rollback_only: Arc<AtomicBool>,
}

impl<DB: sqlx::Database> Scope<DB> {
    /// The outermost scope of a new physical transaction, with a rollback-only marker of its own.
    pub(crate) fn outermost(physical: Arc<Physical<DB>>) -> Self {
        Self {
            id: ScopeId::next(),
            physical,
            rollback_only: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A scope that joins this one's transaction: it shares its rollback-only marker.
    pub(crate) fn joined(&self) -> Self {
        Self {
            id: ScopeId::next(),
            physical: self.physical.clone(),
            rollback_only: self.rollback_only.clone(),
        }
    }

    /// A `Nested` scope in this one's transaction: behind a savepoint, with a marker of its own.
    pub(crate) fn nested(&self) -> Self {
        Self::outermost(self.physical.clone())
    }
}

impl<DB: sqlx::Database> Clone for Scope<DB> {
    fn clone(&self) -> Self {
        Self {
            id: self.id,
            physical: self.physical.clone(),
            rollback_only: self.rollback_only.clone(),
        }
    }
}

/// Who holds the connection: a task, in a scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Holder {
    task: Option<tokio::task::Id>,
    thread: std::thread::ThreadId,
    scope: ScopeId,
}

impl Holder {
    fn here(scope: ScopeId) -> Self {
        Self {
            task: tokio::task::try_id(),
            thread: std::thread::current().id(),
            scope,
        }
    }

    /// Whether `self` is the code running now (the same task; outside a task, the same thread).
    fn is_this_task(&self) -> bool {
        match (self.task, tokio::task::try_id()) {
            (Some(held), Some(now)) => held == now,
            (None, None) => self.thread == std::thread::current().id(),
            _ => false,
        }
    }
}

/// One `BEGIN` ... `COMMIT` on one connection, shared by the scopes that joined it.
pub(crate) struct Physical<DB: sqlx::Database> {
    /// Taken out (`None`) when the transaction ends, so a late user gets `Finished`.
    pub(crate) transaction: Arc<Mutex<Option<Transaction<'static, DB>>>>,
    pub(crate) isolation: Option<Isolation>,
    pub(crate) read_only: bool,
    pub(crate) deadline: Option<Instant>,
    pub(crate) savepoints: AtomicU32,
    /// The savepoint to roll back to before anything else runs: left by a `Nested` scope that
    /// ended without finishing. The lowest number wins, since rolling back to it undoes the rest.
    undo_to: std::sync::Mutex<Option<u32>>,
    holder: Arc<std::sync::Mutex<Option<Holder>>>,
    pub(crate) hooks: std::sync::Mutex<Hooks>,
    /// The server's id for this connection, to cancel a statement at a deadline.
    pub(crate) server_id: std::sync::Mutex<Option<i64>>,
    /// A statement was cancelled: its error is still to be read from the connection, and is
    /// read (and dropped) before the next statement, which would otherwise receive it.
    pub(crate) interrupted: AtomicBool,
    /// For a transaction whose connection needs more than a rollback when it is abandoned: what
    /// to run on it (see [`Dialect::before_end`]).
    pub(crate) abandon: Option<Abandon<DB>>,
}

pub(crate) type Abandon<DB> = fn(Transaction<'static, DB>) -> BoxFuture<'static, ()>;

/// Work a transaction does at its end.
#[derive(Default)]
pub(crate) struct Hooks {
    /// Run inside the transaction, just before `COMMIT`; a failure rolls back instead.
    pub(crate) before_commit: Vec<BeforeCommit>,
    /// Run once the outcome is known.
    pub(crate) after: Vec<After>,
}

/// A before-commit hook: given the outermost scope's context, work that may fail the commit.
pub(crate) type BeforeCommit = Box<dyn FnOnce(Ctx) -> BoxFuture<'static, Result<(), TxError>> + Send>;

/// Work to do once the transaction's outcome is known.
pub(crate) struct After {
    pub(crate) on: Outcome,
    pub(crate) work: BoxFuture<'static, ()>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Committed,
    RolledBack,
}

impl Hooks {
    /// How many of each there are, to undo what a scope added.
    pub(crate) fn mark(&self) -> (usize, usize) {
        (self.before_commit.len(), self.after.len())
    }

    pub(crate) fn truncate(&mut self, (before_commit, after): (usize, usize)) {
        self.before_commit.truncate(before_commit);
        self.after.truncate(after);
    }
}

impl<DB: Dialect> Physical<DB> {
    pub(crate) fn new(
        transaction: Transaction<'static, DB>,
        isolation: Option<Isolation>,
        read_only: bool,
        deadline: Option<Instant>,
        abandon: Option<Abandon<DB>>,
    ) -> Self {
        Self {
            transaction: Arc::new(Mutex::new(Some(transaction))),
            isolation,
            read_only,
            deadline,
            savepoints: AtomicU32::new(0),
            undo_to: std::sync::Mutex::new(None),
            holder: Arc::new(std::sync::Mutex::new(None)),
            hooks: std::sync::Mutex::new(Hooks::default()),
            server_id: std::sync::Mutex::new(None),
            interrupted: AtomicBool::new(false),
            abandon,
        }
    }

    /// Asks that the transaction be rolled back to savepoint `number` before its next statement.
    pub(crate) fn undo_to(&self, number: u32) {
        let mut undo = self.undo_to.lock().expect("not poisoned");
        *undo = Some(undo.map_or(number, |earlier| earlier.min(number)));
    }

    /// Takes the connection for code running in `scope`. `callers` names the scopes around the
    /// code that wait for it to finish: if one of them holds the connection, on this task, the
    /// wait could never end, and is refused. (Asked only when the connection is taken.)
    pub(crate) async fn lock(
        self: &Arc<Self>,
        scope: ScopeId,
        callers: impl FnOnce() -> Vec<ScopeId>,
    ) -> Result<TxGuard<DB>, TxError> {
        let guard = match self.transaction.clone().try_lock_owned() {
            Ok(guard) => guard,
            Err(_) => {
                let holder = *self.holder.lock().expect("not poisoned");
                if let Some(holder) = holder
                    && holder.is_this_task()
                    && callers().contains(&holder.scope)
                {
                    return Err(TxError::ConnectionHeld);
                }
                self.transaction.clone().lock_owned().await
            }
        };
        let mut guard = TxGuard {
            guard,
            holder: self.holder.clone(),
        };
        if guard.guard.is_none() {
            return Err(TxError::Finished);
        }
        *self.holder.lock().expect("not poisoned") = Some(Holder::here(scope));
        if self.interrupted.swap(false, Ordering::SeqCst) {
            // The answer to the cancelled statement: an error, expected, and not this caller's.
            let _ = guard.ping().await;
        }
        let undo = self.undo_to.lock().expect("not poisoned").take();
        if let Some(number) = undo {
            let statement = format!("ROLLBACK TO SAVEPOINT {}", savepoint_name(number));
            DB::execute(&mut guard, &statement)
                .await
                .doing("rolling back to the savepoint of an abandoned scope")?;
        }
        Ok(guard)
    }

    /// Runs one of the manager's own statements on the transaction.
    pub(crate) async fn execute(
        self: &Arc<Self>,
        scope: ScopeId,
        callers: &[ScopeId],
        statement: &str,
        doing: &'static str,
    ) -> Result<(), TxError> {
        let mut guard = self.lock(scope, || callers.to_vec()).await?;
        DB::execute(&mut guard, statement).await.doing(doing)
    }
}

/// The name of savepoint `number`.
pub(crate) fn savepoint_name(number: u32) -> String {
    format!("tm_savepoint_{number}")
}

impl<DB: sqlx::Database> Drop for Physical<DB> {
    /// A transaction still here was abandoned: its scope panicked or was cancelled. sqlx rolls it
    /// back when it is dropped; a connection that needs more (SQLite's `query_only`) gets it from
    /// a task of its own, since `drop` cannot wait.
    fn drop(&mut self) {
        let (Some(abandon), Ok(runtime)) = (self.abandon, tokio::runtime::Handle::try_current()) else {
            return;
        };
        if let Some(transaction) = self.transaction.try_lock().ok().and_then(|mut slot| slot.take()) {
            runtime.spawn(abandon(transaction));
        }
    }
}

/// The open transaction's connection, held: no one else's statement runs until it is dropped.
pub struct TxGuard<DB: sqlx::Database> {
    guard: OwnedMutexGuard<Option<Transaction<'static, DB>>>,
    holder: Arc<std::sync::Mutex<Option<Holder>>>,
}

impl<DB: sqlx::Database> TxGuard<DB> {
    /// Ends the transaction: takes it out, so that later users get `Finished`.
    pub(crate) fn take(&mut self) -> Option<Transaction<'static, DB>> {
        self.guard.take()
    }
}

impl<DB: sqlx::Database> Drop for TxGuard<DB> {
    fn drop(&mut self) {
        *self.holder.lock().expect("not poisoned") = None;
    }
}

impl<DB: sqlx::Database> Deref for TxGuard<DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        self.guard.as_ref().expect("checked open when the guard was made")
    }
}

impl<DB: sqlx::Database> DerefMut for TxGuard<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        self.guard.as_mut().expect("checked open when the guard was made")
    }
}

/// The connection a repository should use: the current transaction's, or one from the pool when
/// no transaction is open. Dereferences to the database's connection type, so sqlx queries
/// execute on `&mut *conn`.
///
/// Hold it for a statement or a few, not across a call that enters another scope of the same
/// transaction: that scope would need the connection this guard holds. The manager refuses such a
/// scope with [`TxError::ConnectionHeld`] rather than let it wait forever.
pub enum Conn<DB: sqlx::Database> {
    /// The open transaction's connection.
    Transaction(TxGuard<DB>),
    /// A connection of the pool's, outside any transaction.
    Pool(PoolConnection<DB>),
}

impl<DB: sqlx::Database> Deref for Conn<DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        match self {
            Conn::Transaction(guard) => guard,
            Conn::Pool(connection) => connection,
        }
    }
}

impl<DB: sqlx::Database> DerefMut for Conn<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        match self {
            Conn::Transaction(guard) => guard,
            Conn::Pool(connection) => connection,
        }
    }
}
