//! A decorator that makes any use case transactional without touching its body.
//!
//! A use case written as plain business steps (save the user, record the message) knows nothing
//! of transactions. Wrapped in [`Transactional`], the same use case runs in a scope with the
//! settings the wrapper was given; since the wrapper is a use case too, wrapped use cases nest
//! like any others. Where the transaction starts becomes a decision of the code that assembles
//! the application, not of the use case.

use std::sync::Arc;

use crate::{Ctx, Settings, TransactionManager, TxError, body};

// ANCHOR: use_case
/// One business operation: what it takes, what it gives, how it fails.
pub trait UseCase: Send + Sync + 'static {
    type Input: Send + 'static;
    type Output: Send + 'static;
    type Error: From<TxError> + Send + 'static;

    fn execute(&self, ctx: &Ctx, input: Self::Input) -> impl Future<Output = Result<Self::Output, Self::Error>> + Send;
}
// ANCHOR_END: use_case

// ANCHOR: decorator
/// `inner`, run in a transaction scope with `settings`.
pub struct Transactional<U, TM> {
    inner: Arc<U>,
    manager: Arc<TM>,
    settings: Settings,
}

impl<U: UseCase, TM: TransactionManager> Transactional<U, TM> {
    pub fn new(inner: U, manager: Arc<TM>, settings: Settings) -> Self {
        Self {
            inner: Arc::new(inner),
            manager,
            settings,
        }
    }
}

impl<U: UseCase, TM: TransactionManager> UseCase for Transactional<U, TM> {
    type Input = U::Input;
    type Output = U::Output;
    type Error = U::Error;

    fn execute(&self, ctx: &Ctx, input: U::Input) -> impl Future<Output = Result<U::Output, U::Error>> + Send {
        let inner = self.inner.clone();
        let scope = body(move |ctx| async move { inner.execute(&ctx, input).await });
        self.manager.run(ctx, self.settings, scope)
    }
}
// ANCHOR_END: decorator
