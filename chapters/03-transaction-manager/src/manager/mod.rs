//! The transaction managers, and the trait they share.
//!
//! - [`sql::SqlManager`]: transactions on PostgreSQL, MySQL/MariaDB and SQLite (what each database
//!   needs around `BEGIN` is in [`dialect`]);
//! - [`redis::RedisManager`]: `MULTI`/`EXEC` on Redis;
//! - [`propagation`]: the one decision both take when a scope starts;
//! - [`ending`]: the guards that undo a scope's work however it ends (error, panic, drop);
//! - [`physical`]: one transaction shared by the scopes that joined it, and its connection guard;
//! - [`TransactionManager`] (below): the managers as a trait, so that a use case can be unit-tested
//!   without a database: the test gives it a mock that checks the settings asked for and runs the
//!   body in a plain context;
//! - [`transactional::Transactional`]: a decorator that makes any use case transactional.
//!
//! [`SqlManager::run`](crate::SqlManager::run) takes any `async` closure, which may borrow the caller's
//! data. A trait that a mocking library can implement cannot be that general: mockall mocks
//! generic methods only when their type parameters are `'static` and their results own their
//! data. So the body here is boxed and owns what it uses (`Arc`s of the repositories, owned
//! arguments). That is the whole price of mockability, and use cases written against the
//! concrete `SqlManager` do not pay it.

pub mod dialect;
pub(crate) mod ending;
pub(crate) mod physical;
pub(crate) mod propagation;
pub mod redis;
pub mod sql;
pub mod transactional;

use futures::future::BoxFuture;

use crate::{Ctx, Dialect, RedisManager, Settings, SqlManager, TxError};

// ANCHOR: trait
/// A scope's body: given the scope's context, the work to do in it.
pub type Body<T, E> = Box<dyn FnOnce(Ctx) -> BoxFuture<'static, Result<T, E>> + Send>;

/// What a use case needs of a transaction manager: "run this with these settings".
#[cfg_attr(test, mockall::automock)]
pub trait TransactionManager: Send + Sync + 'static {
    /// Runs `body` in a scope with `settings`, as [`SqlManager::run`](crate::SqlManager::run) does.
    fn run<T, E>(&self, ctx: &Ctx, settings: Settings, body: Body<T, E>) -> BoxFuture<'static, Result<T, E>>
    where
        T: Send + 'static,
        E: From<TxError> + Send + 'static;
}
// ANCHOR_END: trait

/// Wraps a body for [`TransactionManager::run`]: `body(|ctx| async move { ... })`.
pub fn body<T, E, F>(work: impl FnOnce(Ctx) -> F + Send + 'static) -> Body<T, E>
where
    F: Future<Output = Result<T, E>> + Send + 'static,
{
    Box::new(move |ctx| Box::pin(work(ctx)))
}

impl<DB: Dialect> TransactionManager for SqlManager<DB> {
    fn run<T, E>(&self, ctx: &Ctx, settings: Settings, body: Body<T, E>) -> BoxFuture<'static, Result<T, E>>
    where
        T: Send + 'static,
        E: From<TxError> + Send + 'static,
    {
        let (manager, ctx) = (self.clone(), ctx.clone());
        Box::pin(async move { manager.run(&ctx, settings, async |ctx| body(ctx.clone()).await).await })
    }
}

impl TransactionManager for RedisManager {
    fn run<T, E>(&self, ctx: &Ctx, settings: Settings, body: Body<T, E>) -> BoxFuture<'static, Result<T, E>>
    where
        T: Send + 'static,
        E: From<TxError> + Send + 'static,
    {
        let (manager, ctx) = (self.clone(), ctx.clone());
        Box::pin(async move { manager.run(&ctx, settings, async |ctx| body(ctx.clone()).await).await })
    }
}
