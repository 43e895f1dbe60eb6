//! The transaction manager: use cases say "this runs in a transaction", repositories find the
//! transaction in the context, and nesting just works.
//!
//! A *scope* is one call to [`SqlManager::run`]. Several scopes can share one *physical*
//! transaction (one `BEGIN` ... `COMMIT` on one connection): a `Required` scope inside another
//! joins it. Each scope has its own rollback-only marker; a `Nested` scope also has a savepoint.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures::future::BoxFuture;
use sqlx::{AssertSqlSafe, Pool, Transaction};
use tokio::time::Instant;

use crate::ctx::{Ctx, Frame, ManagerId};
use crate::error::{Doing, TxError};
use crate::manager::dialect::Dialect;
use crate::manager::ending::{Doom, UndoUnlessFinished};
use crate::manager::physical::{After, Outcome, Physical, Scope, ScopeId, savepoint_name};
use crate::manager::propagation::{Decision, decide};
use crate::settings::{Propagation, Settings};

pub use crate::manager::physical::{Conn, TxGuard};

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
                // The scopes around this one: if one of them holds the connection on this task,
                // it is waiting for this code, which would wait for it.
                let callers = || self.scope_ids(ctx).into_iter().skip(1).collect();
                Ok(Conn::Transaction(scope.physical.lock(scope.id, callers).await?))
            }
            None => {
                self.check_pool_not_held(ctx)?;
                Ok(Conn::Pool(
                    self.pool.acquire().await.doing("taking a connection from the pool")?,
                ))
            }
        }
    }
    // ANCHOR_END: connection

    /// Whether `ctx` is inside a transaction of this manager.
    pub fn in_transaction(&self, ctx: &Ctx) -> bool {
        self.scope(ctx).is_some()
    }

    // ANCHOR: before_commit
    /// Runs `hook` inside the current transaction, just before it commits, with the outermost
    /// scope's context (so it can use repositories). A hook that fails rolls the transaction back
    /// and the scope returns [`TxError::BeforeCommit`]. Hooks run in the order they were added; a
    /// `Nested` scope's hooks are dropped if it rolls back to its savepoint.
    pub fn before_commit<F, E>(&self, ctx: &Ctx, hook: impl FnOnce(Ctx) -> F + Send + 'static) -> Result<(), TxError>
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
    {
        let scope = self.scope(ctx).ok_or(TxError::NoTransaction(Propagation::Mandatory))?;
        scope
            .physical
            .hooks
            .lock()
            .expect("not poisoned")
            .before_commit
            .push(Box::new(move |ctx| {
                let work = hook(ctx);
                Box::pin(async move { work.await.map_err(|error| TxError::BeforeCommit(error.into())) })
            }));
        Ok(())
    }
    // ANCHOR_END: before_commit

    /// Runs `work` after the current transaction commits; never if it rolls back.
    pub fn after_commit(&self, ctx: &Ctx, work: impl Future<Output = ()> + Send + 'static) -> Result<(), TxError> {
        self.add_after(ctx, Outcome::Committed, Box::pin(work))
    }

    /// Runs `work` after the current transaction rolls back; never if it commits.
    pub fn after_rollback(&self, ctx: &Ctx, work: impl Future<Output = ()> + Send + 'static) -> Result<(), TxError> {
        self.add_after(ctx, Outcome::RolledBack, Box::pin(work))
    }

    fn add_after(&self, ctx: &Ctx, on: Outcome, work: BoxFuture<'static, ()>) -> Result<(), TxError> {
        let scope = self.scope(ctx).ok_or(TxError::NoTransaction(Propagation::Mandatory))?;
        scope
            .physical
            .hooks
            .lock()
            .expect("not poisoned")
            .after
            .push(After { on, work });
        Ok(())
    }

    /// The innermost scope of this manager in `ctx`, unless it is suspended.
    fn scope(&self, ctx: &Ctx) -> Option<Scope<DB>> {
        match ctx.frame(self.id)? {
            Frame::Transaction(any) => any.clone().downcast::<Scope<DB>>().ok().map(|scope| (*scope).clone()),
            Frame::Suspended => None,
        }
    }

    /// Every transaction scope of this manager in `ctx`, innermost first, suspended ones included.
    fn scopes<'c>(&self, ctx: &'c Ctx) -> impl Iterator<Item = Scope<DB>> + 'c {
        ctx.frames(self.id).filter_map(|frame| match frame {
            Frame::Transaction(any) => any.clone().downcast::<Scope<DB>>().ok().map(|scope| (*scope).clone()),
            Frame::Suspended => None,
        })
    }

    /// The ids of those scopes, innermost first: the code in `ctx` runs inside each of them.
    fn scope_ids(&self, ctx: &Ctx) -> Vec<ScopeId> {
        self.scopes(ctx).map(|scope| scope.id).collect()
    }

    /// The physical transactions `ctx` holds open on this manager, each once: each holds one of
    /// the pool's connections until its scope ends.
    fn held(&self, ctx: &Ctx) -> Vec<Arc<Physical<DB>>> {
        let mut held: Vec<Arc<Physical<DB>>> = Vec::new();
        for scope in self.scopes(ctx) {
            if !held.iter().any(|physical| Arc::ptr_eq(physical, &scope.physical)) {
                held.push(scope.physical);
            }
        }
        held
    }

    // ANCHOR: pool_held
    /// Refuses to wait for a connection when the code asking holds every connection of the pool
    /// itself, in transactions it has suspended: none will be returned while it waits. This is
    /// Spring's `REQUIRES_NEW` pool deadlock; it would otherwise end in the pool's acquire
    /// timeout (30 s by default) with a `PoolTimedOut` that does not say why.
    fn check_pool_not_held(&self, ctx: &Ctx) -> Result<(), TxError> {
        let held = self.held(ctx).len() as u32;
        let max = self.pool.options().get_max_connections();
        if held > 0 && held >= max {
            return Err(TxError::PoolHeld { held, max });
        }
        Ok(())
    }
    // ANCHOR_END: pool_held

    // ANCHOR: run
    /// Runs `body` in a scope with these settings, and returns what it returns.
    ///
    /// `body` gets the scope's context; everything it does through this manager's
    /// [`connection`](Self::connection) with that context happens in the scope's transaction.
    /// Every ending of `body` other than `Ok` undoes its work: an `Err`, a panic (which then
    /// continues), or the future being dropped before it finishes (a `select!`, a timeout, an
    /// aborted task). A scope that began the transaction rolls it back; a scope that joined one
    /// marks it rollback-only; a `Nested` scope rolls back to its savepoint.
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

    // ANCHOR: join
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
        if settings.timeout.is_some() {
            self.learn_server_id(ctx, &scope).await?;
        }
        let inner_ctx = ctx.with(self.id, Frame::Transaction(Arc::new(scope.joined())));
        // Dooms the transaction on every ending but `Ok`, including a drop or a panic here.
        let doom = Doom::new(&scope.rollback_only);
        match with_timeout(settings.timeout, body(&inner_ctx)).await {
            Ok(Ok(value)) => {
                doom.spare();
                Ok(value)
            }
            Ok(Err(error)) => Err(error),
            Err(limit) => {
                self.cancel_running(&scope.physical).await;
                Err(TxError::Timeout(limit).into())
            }
        }
    }
    // ANCHOR_END: join

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
        if settings.timeout.is_some() {
            self.learn_server_id(ctx, &scope).await?;
        }
        let physical = &scope.physical;
        // The code entering this scope, and every scope around it, waits for the savepoint.
        let callers = self.scope_ids(ctx);
        let number = physical.savepoints.fetch_add(1, Ordering::SeqCst) + 1;
        let name = savepoint_name(number);
        physical
            .execute(scope.id, &callers, &format!("SAVEPOINT {name}"), "creating a savepoint")
            .await?;
        let hooks = physical.hooks.lock().expect("not poisoned").mark();

        let inner = scope.nested();
        let inner_ctx = ctx.with(self.id, Frame::Transaction(Arc::new(inner.clone())));
        // If this future is dropped, or `body` panics, the next user of the connection rolls
        // back to the savepoint first (a `drop` cannot run SQL).
        let undo = UndoUnlessFinished::new(physical, number, hooks);
        let outcome = with_timeout(settings.timeout, body(&inner_ctx)).await;
        undo.finished();
        if outcome.is_err() {
            self.cancel_running(physical).await;
        }

        let keep = matches!(outcome, Ok(Ok(_))) && !inner.rollback_only.load(Ordering::SeqCst);
        if keep {
            physical
                .execute(
                    scope.id,
                    &callers,
                    &format!("RELEASE SAVEPOINT {name}"),
                    "releasing a savepoint",
                )
                .await?;
        } else {
            let rollback = format!("ROLLBACK TO SAVEPOINT {name}");
            physical
                .execute(scope.id, &callers, &rollback, "rolling back to a savepoint")
                .await?;
            // What was to happen at and after the commit of this work will not: it is undone.
            physical.hooks.lock().expect("not poisoned").truncate(hooks);
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
        self.check_one_writer(ctx, &settings)?;
        self.check_pool_not_held(ctx)?;
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
        let server_id = match settings.timeout {
            Some(_) => DB::server_id(&mut *transaction)
                .await
                .doing("asking for the connection's id")?,
            None => None,
        };
        let physical = Arc::new(Physical::new(
            transaction,
            settings.isolation,
            settings.read_only,
            settings.timeout.map(|limit| Instant::now() + limit),
            DB::before_end(settings.read_only).map(|_| Self::clean_up_abandoned as _),
        ));
        *physical.server_id.lock().expect("not poisoned") = server_id;
        let scope = Scope::outermost(physical.clone());
        let inner_ctx = ctx.with(self.id, Frame::Transaction(Arc::new(scope.clone())));

        // If this future is dropped here (cancelled), or `body` panics, `physical` is dropped and
        // with it the sqlx `Transaction`, which rolls back when dropped.
        let outcome = with_timeout(settings.timeout, body(&inner_ctx)).await;
        if outcome.is_err() {
            self.cancel_running(&physical).await;
        }

        let mut commit = matches!(outcome, Ok(Ok(_))) && !scope.rollback_only.load(Ordering::SeqCst);
        let mut hook_failed = None;
        if commit {
            if let Err(error) = self.run_before_commit(&inner_ctx, &physical).await {
                hook_failed = Some(error);
            }
            commit = hook_failed.is_none() && !scope.rollback_only.load(Ordering::SeqCst);
        }
        let ended = self.end(&physical, scope.id, commit).await;
        if let Some(error) = hook_failed {
            return Err(error.into());
        }
        match (outcome, ended) {
            (_, Err(error)) => Err(error.into()),
            (Ok(Ok(_)), Ok(Outcome::RolledBack)) => Err(TxError::UnexpectedRollback.into()),
            (Ok(result), Ok(_)) => result,
            (Err(limit), Ok(_)) => Err(TxError::Timeout(limit).into()),
        }
    }

    /// Refuses a second writing transaction where the database has one writer at a time (SQLite):
    /// the open one will not end while its scope waits for this one, so `BEGIN` could only fail
    /// after the busy timeout.
    fn check_one_writer(&self, ctx: &Ctx, settings: &Settings) -> Result<(), TxError> {
        if DB::ONE_WRITER && !settings.read_only && self.held(ctx).iter().any(|physical| !physical.read_only) {
            return Err(TxError::SecondWriter);
        }
        Ok(())
    }

    /// Runs the before-commit hooks, and any that they add, inside the transaction.
    async fn run_before_commit(&self, ctx: &Ctx, physical: &Physical<DB>) -> Result<(), TxError> {
        loop {
            let hooks = std::mem::take(&mut physical.hooks.lock().expect("not poisoned").before_commit);
            if hooks.is_empty() {
                return Ok(());
            }
            for hook in hooks {
                hook(ctx.clone()).await?;
            }
        }
    }

    /// Commits or rolls back, then runs the after hooks for what happened.
    async fn end(&self, physical: &Arc<Physical<DB>>, scope: ScopeId, commit: bool) -> Result<Outcome, TxError> {
        let transaction = physical.lock(scope, || vec![scope]).await?.take();
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
                    self.run_after(physical, Outcome::RolledBack).await;
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
        self.run_after(physical, outcome).await;
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

    async fn run_after(&self, physical: &Physical<DB>, outcome: Outcome) {
        let hooks = std::mem::take(&mut physical.hooks.lock().expect("not poisoned").after);
        for hook in hooks.into_iter().filter(|hook| hook.on == outcome) {
            hook.work.await;
        }
    }

    /// Asks the server for the transaction's connection id, once, so that a deadline can cancel
    /// the statement running on it.
    async fn learn_server_id(&self, ctx: &Ctx, scope: &Scope<DB>) -> Result<(), TxError> {
        if scope.physical.server_id.lock().expect("not poisoned").is_some() {
            return Ok(());
        }
        let callers = || self.scope_ids(ctx);
        let mut conn = scope.physical.lock(scope.id, callers).await?;
        let id = DB::server_id(&mut conn).await.doing("asking for the connection's id")?;
        *scope.physical.server_id.lock().expect("not poisoned") = id;
        Ok(())
    }

    // ANCHOR: cancel
    /// A deadline passed: the body's future is dropped, but a statement it sent may still be
    /// running on the server (waiting for a lock, say), and the connection answers nothing else
    /// until it ends. Cancel it from a connection of its own, so that the rollback that follows
    /// runs now and not when the lock is released.
    async fn cancel_running(&self, physical: &Physical<DB>) {
        let id = *physical.server_id.lock().expect("not poisoned");
        let Some(id) = id else { return };
        match DB::cancel(&self.pool, id).await {
            Ok(()) => physical.interrupted.store(true, Ordering::SeqCst),
            Err(error) => tracing::warn!(%error, "could not cancel the statement running at the deadline"),
        }
    }
    // ANCHOR_END: cancel
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
