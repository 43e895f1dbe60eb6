//! The transaction manager: use cases say "this runs in a transaction", repositories find the
//! transaction in the context, and nesting just works.
//!
//! A *scope* is one call to [`SqlManager::run`]. Several scopes can share one *physical*
//! transaction (one `BEGIN` ... `COMMIT` on one connection): a `Required` scope inside another
//! joins it. Each scope has its own rollback-only marker; a `Nested` scope also has a savepoint.

use std::future::Future;
use std::ops::{Deref, DerefMut};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use futures::future::BoxFuture;
use sqlx::pool::PoolConnection;
use sqlx::{AssertSqlSafe, Pool, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};
use tokio::time::Instant;

use crate::ctx::{Ctx, Frame, ManagerId};
use crate::error::{Doing, TxError};
use crate::manager::dialect::Dialect;
use crate::manager::propagation::{Decision, decide};
use crate::settings::{Isolation, Propagation, Settings};

/// Manages the transactions of one database. Cloning it is cheap, and a clone manages the same
/// transactions.
pub struct SqlManager<DB: Dialect> {
    pool: Pool<DB>,
    id: ManagerId,
}

impl<DB: Dialect> Clone for SqlManager<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            id: self.id,
        }
    }
}

/// One `BEGIN` ... `COMMIT` on one connection, shared by the scopes that joined it.
struct Physical<DB: sqlx::Database> {
    /// Taken out (`None`) when the transaction ends, so a late user gets `Finished`.
    transaction: Arc<Mutex<Option<Transaction<'static, DB>>>>,
    isolation: Option<Isolation>,
    read_only: bool,
    deadline: Option<Instant>,
    savepoints: AtomicU32,
    hooks: std::sync::Mutex<Vec<Hook>>,
    /// For a transaction whose connection needs more than a rollback when it is abandoned: what
    /// to run on it (see [`Dialect::before_end`]).
    abandon: Option<Abandon<DB>>,
}

type Abandon<DB> = fn(Transaction<'static, DB>) -> BoxFuture<'static, ()>;

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

/// What a transaction frame in the context holds: the physical transaction, and the
/// rollback-only marker of the innermost `Nested` (or outermost) scope.
struct Scope<DB: sqlx::Database> {
    physical: Arc<Physical<DB>>,
    rollback_only: Arc<AtomicBool>,
}

impl<DB: sqlx::Database> Clone for Scope<DB> {
    fn clone(&self) -> Self {
        Self {
            physical: self.physical.clone(),
            rollback_only: self.rollback_only.clone(),
        }
    }
}

/// Work to do once the transaction's outcome is known.
struct Hook {
    on: Outcome,
    work: BoxFuture<'static, ()>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Committed,
    RolledBack,
}

/// The connection a repository should use: the current transaction's, or one from the pool when
/// no transaction is open. Dereferences to the database's connection type, so sqlx queries
/// execute on `&mut *conn`.
pub enum Conn<DB: sqlx::Database> {
    Transaction(OwnedMutexGuard<Option<Transaction<'static, DB>>>),
    Pool(PoolConnection<DB>),
}

impl<DB: sqlx::Database> Deref for Conn<DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        match self {
            Conn::Transaction(guard) => guard.as_ref().expect("checked open when the Conn was made"),
            Conn::Pool(connection) => connection,
        }
    }
}

impl<DB: sqlx::Database> DerefMut for Conn<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        match self {
            Conn::Transaction(guard) => guard.as_mut().expect("checked open when the Conn was made"),
            Conn::Pool(connection) => connection,
        }
    }
}

impl<DB: Dialect> SqlManager<DB> {
    pub fn new(pool: Pool<DB>) -> Self {
        Self {
            pool,
            id: ManagerId::next(),
        }
    }

    pub fn pool(&self) -> &Pool<DB> {
        &self.pool
    }

    // ANCHOR: connection
    /// The connection for a repository running in `ctx`: the open transaction's, or a pooled one.
    pub async fn connection(&self, ctx: &Ctx) -> Result<Conn<DB>, TxError> {
        match self.scope(ctx) {
            Some(scope) => {
                let guard = scope.physical.transaction.clone().lock_owned().await;
                if guard.is_none() {
                    return Err(TxError::Finished);
                }
                Ok(Conn::Transaction(guard))
            }
            None => Ok(Conn::Pool(
                self.pool.acquire().await.doing("taking a connection from the pool")?,
            )),
        }
    }
    // ANCHOR_END: connection

    /// Whether `ctx` is inside a transaction of this manager.
    pub fn in_transaction(&self, ctx: &Ctx) -> bool {
        self.scope(ctx).is_some()
    }

    /// Runs `work` after the current transaction commits; never if it rolls back.
    pub fn after_commit(&self, ctx: &Ctx, work: impl Future<Output = ()> + Send + 'static) -> Result<(), TxError> {
        self.add_hook(ctx, Outcome::Committed, Box::pin(work))
    }

    /// Runs `work` after the current transaction rolls back; never if it commits.
    pub fn after_rollback(&self, ctx: &Ctx, work: impl Future<Output = ()> + Send + 'static) -> Result<(), TxError> {
        self.add_hook(ctx, Outcome::RolledBack, Box::pin(work))
    }

    fn add_hook(&self, ctx: &Ctx, on: Outcome, work: BoxFuture<'static, ()>) -> Result<(), TxError> {
        let scope = self.scope(ctx).ok_or(TxError::NoTransaction(Propagation::Mandatory))?;
        scope
            .physical
            .hooks
            .lock()
            .expect("not poisoned")
            .push(Hook { on, work });
        Ok(())
    }

    fn scope(&self, ctx: &Ctx) -> Option<Scope<DB>> {
        match ctx.frame(self.id)? {
            Frame::Transaction(any) => any.clone().downcast::<Scope<DB>>().ok().map(|scope| (*scope).clone()),
            Frame::Suspended => None,
        }
    }

    // ANCHOR: run
    /// Runs `body` in a scope with these settings, and returns what it returns.
    ///
    /// `body` gets the scope's context; everything it does through this manager's
    /// [`connection`](Self::connection) with that context happens in the scope's transaction.
    /// An `Err` from `body` rolls back (or marks the joined transaction rollback-only); so does a
    /// panic, which then continues, and so does dropping the returned future before it finishes.
    pub async fn run<T, E>(
        &self,
        ctx: &Ctx,
        settings: Settings,
        body: impl AsyncFnOnce(&Ctx) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<TxError>,
    {
        match decide(settings.propagation, self.scope(ctx))? {
            Decision::Join(scope) => self.join(ctx, scope, settings, body).await,
            Decision::Savepoint(scope) => self.savepoint(ctx, scope, settings, body).await,
            Decision::Begin => self.begin_and_run(ctx, settings, body).await,
            Decision::Suspend => body(&ctx.with(self.id, Frame::Suspended)).await,
        }
    }
    // ANCHOR_END: run

    /// A scope that joins the open transaction.
    async fn join<T, E>(
        &self,
        ctx: &Ctx,
        scope: Scope<DB>,
        settings: Settings,
        body: impl AsyncFnOnce(&Ctx) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<TxError>,
    {
        check_joinable(&scope.physical, &settings)?;
        let outcome = with_timeout(settings.timeout, body(ctx)).await;
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => {
                scope.rollback_only.store(true, Ordering::SeqCst);
                Err(error)
            }
            Err(limit) => {
                scope.rollback_only.store(true, Ordering::SeqCst);
                Err(TxError::Timeout(limit).into())
            }
        }
    }

    /// A `Nested` scope inside an open transaction: a savepoint.
    async fn savepoint<T, E>(
        &self,
        ctx: &Ctx,
        scope: Scope<DB>,
        settings: Settings,
        body: impl AsyncFnOnce(&Ctx) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<TxError>,
    {
        if !DB::SAVEPOINTS {
            return Err(TxError::NestedUnsupported.into());
        }
        check_joinable(&scope.physical, &settings)?;
        let name = format!(
            "tm_savepoint_{}",
            scope.physical.savepoints.fetch_add(1, Ordering::SeqCst) + 1
        );
        self.execute(&scope.physical, format!("SAVEPOINT {name}"), "creating a savepoint")
            .await?;
        let hooks_before = scope.physical.hooks.lock().expect("not poisoned").len();

        let inner = Scope {
            physical: scope.physical.clone(),
            rollback_only: Arc::new(AtomicBool::new(false)),
        };
        let inner_ctx = ctx.with(self.id, Frame::Transaction(Arc::new(inner.clone())));
        let outcome = with_timeout(settings.timeout, body(&inner_ctx)).await;

        let keep = matches!(outcome, Ok(Ok(_))) && !inner.rollback_only.load(Ordering::SeqCst);
        if keep {
            self.execute(
                &scope.physical,
                format!("RELEASE SAVEPOINT {name}"),
                "releasing a savepoint",
            )
            .await?;
        } else {
            self.execute(
                &scope.physical,
                format!("ROLLBACK TO SAVEPOINT {name}"),
                "rolling back to a savepoint",
            )
            .await?;
            // What was to happen after the commit of this work will not: the work is undone.
            scope
                .physical
                .hooks
                .lock()
                .expect("not poisoned")
                .truncate(hooks_before);
        }
        match outcome {
            Ok(Ok(_)) if !keep => Err(TxError::UnexpectedRollback.into()),
            Ok(result) => result,
            Err(limit) => Err(TxError::Timeout(limit).into()),
        }
    }

    /// A scope with a physical transaction of its own.
    async fn begin_and_run<T, E>(
        &self,
        ctx: &Ctx,
        settings: Settings,
        body: impl AsyncFnOnce(&Ctx) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<TxError>,
    {
        let begin = DB::begin(settings.isolation, settings.read_only)?;
        let mut transaction = self
            .pool
            .begin_with(AssertSqlSafe(begin))
            .await
            .doing("beginning a transaction")?;
        if let Some(statement) = DB::after_begin(settings.read_only) {
            DB::execute(&mut *transaction, statement)
                .await
                .doing("setting up the transaction")?;
        }
        let physical = Arc::new(Physical {
            transaction: Arc::new(Mutex::new(Some(transaction))),
            isolation: settings.isolation,
            read_only: settings.read_only,
            deadline: settings.timeout.map(|limit| Instant::now() + limit),
            savepoints: AtomicU32::new(0),
            hooks: std::sync::Mutex::new(Vec::new()),
            abandon: DB::before_end(settings.read_only).map(|_| Self::clean_up_abandoned as Abandon<DB>),
        });
        let scope = Scope {
            physical: physical.clone(),
            rollback_only: Arc::new(AtomicBool::new(false)),
        };
        let inner_ctx = ctx.with(self.id, Frame::Transaction(Arc::new(scope.clone())));

        // If this future is dropped here (cancelled), or `body` panics, `physical` is dropped and
        // with it the sqlx `Transaction`, which rolls back when dropped.
        let outcome = with_timeout(settings.timeout, body(&inner_ctx)).await;

        let commit = matches!(outcome, Ok(Ok(_))) && !scope.rollback_only.load(Ordering::SeqCst);
        let ended = self.end(&physical, commit).await;
        match (outcome, ended) {
            (_, Err(error)) => Err(error.into()),
            (Ok(Ok(_)), Ok(Outcome::RolledBack)) => Err(TxError::UnexpectedRollback.into()),
            (Ok(result), Ok(_)) => result,
            (Err(limit), Ok(_)) => Err(TxError::Timeout(limit).into()),
        }
    }

    /// Commits or rolls back, then runs the hooks for what happened.
    async fn end(&self, physical: &Physical<DB>, commit: bool) -> Result<Outcome, TxError> {
        let transaction = physical.transaction.lock().await.take();
        let Some(mut transaction) = transaction else {
            return Err(TxError::Finished);
        };
        if let Some(statement) = DB::before_end(physical.read_only) {
            DB::execute(&mut *transaction, statement)
                .await
                .doing("cleaning up the transaction")?;
        }
        let outcome = if commit {
            match transaction.commit().await {
                Ok(()) => Outcome::Committed,
                Err(error) => {
                    self.run_hooks(physical, Outcome::RolledBack).await;
                    return Err(TxError::Database {
                        doing: "committing",
                        source: error,
                    });
                }
            }
        } else {
            transaction.rollback().await.doing("rolling back")?;
            Outcome::RolledBack
        };
        self.run_hooks(physical, outcome).await;
        Ok(outcome)
    }

    /// Cleans up a transaction that was abandoned, then rolls it back: see `Drop for Physical`.
    fn clean_up_abandoned(mut transaction: Transaction<'static, DB>) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            // Both are best effort: if they fail, the connection is broken and sqlx discards it.
            if let Some(statement) = DB::before_end(true) {
                let _ = DB::execute(&mut *transaction, statement).await;
            }
            let _ = transaction.rollback().await;
        })
    }

    async fn run_hooks(&self, physical: &Physical<DB>, outcome: Outcome) {
        let hooks = std::mem::take(&mut *physical.hooks.lock().expect("not poisoned"));
        for hook in hooks.into_iter().filter(|hook| hook.on == outcome) {
            hook.work.await;
        }
    }

    async fn execute(&self, physical: &Physical<DB>, statement: String, doing: &'static str) -> Result<(), TxError> {
        let mut guard = physical.transaction.lock().await;
        let transaction = guard.as_mut().ok_or(TxError::Finished)?;
        DB::execute(&mut **transaction, &statement).await.doing(doing)?;
        Ok(())
    }
}

/// Whether a scope asking for `settings` can join `physical` without being lied to.
fn check_joinable<DB: sqlx::Database>(physical: &Physical<DB>, settings: &Settings) -> Result<(), TxError> {
    if settings.read_only != physical.read_only {
        let (asked, open) = if settings.read_only {
            ("read-only", "read-write")
        } else {
            ("read-write", "read-only")
        };
        return Err(TxError::Incompatible(format!(
            "the scope asks for a {asked} transaction, the open one is {open}"
        )));
    }
    if let Some(isolation) = settings.isolation
        && Some(isolation) != physical.isolation
    {
        return Err(TxError::Incompatible(format!(
            "the scope asks for isolation {isolation:?}, the open transaction has {:?}",
            physical.isolation
        )));
    }
    if let (Some(limit), Some(deadline)) = (settings.timeout, physical.deadline)
        && Instant::now() + limit > deadline
    {
        return Err(TxError::Incompatible(format!(
            "the scope asks for {limit:?}, and the open transaction times out sooner"
        )));
    }
    Ok(())
}

/// Awaits `work`, or gives up after `limit` (dropping `work`, which cancels it).
async fn with_timeout<T>(
    limit: Option<std::time::Duration>,
    work: impl Future<Output = T>,
) -> Result<T, std::time::Duration> {
    match limit {
        None => Ok(work.await),
        Some(limit) => tokio::time::timeout(limit, work).await.map_err(|_| limit),
    }
}
