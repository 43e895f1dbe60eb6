//! Step 4: the manager behind a trait, with settings, so that use cases are unit-tested on mocks.
//!
//! The use cases depend on three traits: [`TransactionManager`], [`UserStore`] and
//! [`MessageStore`]. In production they get the real manager and the SQL repositories; in a unit
//! test, mockall mocks that check what was asked for (which settings, which writes, in which
//! context) without a database. The price, explained in `transaction_manager.rs`, is that a
//! scope's body owns what it uses: the use cases hold their collaborators in `Arc`s and clone
//! them into the body.

use std::sync::Arc;

use sqlx::Sqlite;

use crate::shop::{Messages, ShopError, Users};
use crate::{Ctx, Propagation, Settings, TransactionManager, body};

// ANCHOR: step4
#[cfg_attr(test, mockall::automock)]
pub trait UserStore: Send + Sync + 'static {
    fn add(&self, ctx: &Ctx, email: &str) -> impl Future<Output = Result<i64, ShopError>> + Send;
}

#[cfg_attr(test, mockall::automock)]
pub trait MessageStore: Send + Sync + 'static {
    fn add(&self, ctx: &Ctx, kind: &str, payload: &str) -> impl Future<Output = Result<(), ShopError>> + Send;
}

/// The account use cases, over any manager and any repositories.
pub struct Accounts<TM, U, M> {
    tm: Arc<TM>,
    users: Arc<U>,
    messages: Arc<M>,
}

impl<TM: TransactionManager, U: UserStore, M: MessageStore> Accounts<TM, U, M> {
    pub fn new(tm: Arc<TM>, users: Arc<U>, messages: Arc<M>) -> Self {
        Self { tm, users, messages }
    }

    pub async fn register(&self, ctx: &Ctx, email: &str) -> Result<i64, ShopError> {
        let (users, messages, email) = (self.users.clone(), self.messages.clone(), email.to_owned());
        let scope = body(move |ctx| async move {
            let user = users.add(&ctx, &email).await?;
            messages.add(&ctx, "user_registered", &user.to_string()).await?;
            Ok(user)
        });
        self.tm.run(ctx, Settings::default(), scope).await
    }

    pub async fn quick_purchase(&self, ctx: &Ctx, email: &str, fail_at_buy: bool) -> Result<i64, ShopError> {
        let (this, email) = (self.clone(), email.to_owned());
        let scope = body(move |ctx| async move {
            let user = this.register(&ctx, &email).await?;
            if fail_at_buy {
                return Err(ShopError::OutOfStock { product: 1, wanted: 1 });
            }
            this.messages.add(&ctx, "order_placed", &user.to_string()).await?;
            Ok(user)
        });
        self.tm.run(ctx, Settings::default(), scope).await
    }

    /// Records a failed sign-in in a transaction of its own, so that the record stays even if
    /// the caller's transaction rolls back.
    pub async fn record_failed_sign_in(&self, ctx: &Ctx, email: &str) -> Result<(), ShopError> {
        let (messages, email) = (self.messages.clone(), email.to_owned());
        let scope = body(move |ctx| async move { messages.add(&ctx, "sign_in_failed", &email).await });
        self.tm.run(ctx, Settings::new(Propagation::RequiresNew), scope).await
    }
}
// ANCHOR_END: step4

impl<TM, U, M> Clone for Accounts<TM, U, M> {
    fn clone(&self) -> Self {
        Self {
            tm: self.tm.clone(),
            users: self.users.clone(),
            messages: self.messages.clone(),
        }
    }
}

/// The production side: the shop's SQLite repositories behind the step's traits.
impl UserStore for Users<Sqlite> {
    fn add(&self, ctx: &Ctx, email: &str) -> impl Future<Output = Result<i64, ShopError>> + Send {
        Users::<Sqlite>::add(self, ctx, email)
    }
}

impl MessageStore for Messages<Sqlite> {
    fn add(&self, ctx: &Ctx, kind: &str, payload: &str) -> impl Future<Output = Result<(), ShopError>> + Send {
        Messages::<Sqlite>::add(self, ctx, kind, payload)
    }
}

#[cfg(test)]
mod tests {
    use mockall::predicate::eq;

    use super::*;
    use crate::manager::MockTransactionManager;
    use crate::{SqlManager, TxError};

    type MockAccounts = Accounts<MockTransactionManager, MockUserStore, MockMessageStore>;

    fn accounts(tm: MockTransactionManager, users: MockUserStore, messages: MockMessageStore) -> MockAccounts {
        Accounts::new(Arc::new(tm), Arc::new(users), Arc::new(messages))
    }

    // ANCHOR: step4_mock_test
    /// A mocked manager that expects one scope with `settings` and runs its body one scope deeper.
    fn expect_scope<T: Send + 'static>(tm: &mut MockTransactionManager, settings: Settings) {
        tm.expect_run::<T, ShopError>()
            .withf(move |_, asked, _| *asked == settings)
            .times(1)
            .returning(|ctx, _, body| body(ctx.entered()));
    }

    #[tokio::test]
    async fn register_asks_for_a_required_scope_and_writes_both_rows_inside_it() {
        let mut tm = MockTransactionManager::new();
        expect_scope::<i64>(&mut tm, Settings::new(Propagation::Required));
        let mut users = MockUserStore::new();
        users
            .expect_add()
            .withf(|ctx, email| ctx.depth() == 1 && email == "ada@example.com")
            .times(1)
            .returning(|_, _| Box::pin(async { Ok(7) }));
        let mut messages = MockMessageStore::new();
        messages
            .expect_add()
            .withf(|ctx, kind, payload| ctx.depth() == 1 && kind == "user_registered" && payload == "7")
            .times(1)
            .returning(|_, _, _| Box::pin(async { Ok(()) }));

        let user = accounts(tm, users, messages)
            .register(&Ctx::new(), "ada@example.com")
            .await
            .unwrap();
        assert_eq!(user, 7);
    }
    // ANCHOR_END: step4_mock_test

    #[tokio::test]
    async fn register_stops_at_the_first_failed_write_and_returns_its_error() {
        let mut tm = MockTransactionManager::new();
        expect_scope::<i64>(&mut tm, Settings::default());
        let mut users = MockUserStore::new();
        users.expect_add().returning(|_, email| {
            let email = email.to_owned();
            Box::pin(async move { Err(ShopError::EmailTaken(email)) })
        });
        let mut messages = MockMessageStore::new();
        messages.expect_add().never();

        let error = accounts(tm, users, messages)
            .register(&Ctx::new(), "ada@example.com")
            .await
            .unwrap_err();
        assert!(matches!(error, ShopError::EmailTaken(email) if email == "ada@example.com"));
    }

    #[tokio::test]
    async fn quick_purchase_nests_register_inside_its_own_scope() {
        let mut tm = MockTransactionManager::new();
        // Two scopes: the purchase's, and inside it the registration's, both `Required`.
        tm.expect_run::<i64, ShopError>()
            .times(2)
            .withf(|_, asked, _| *asked == Settings::default())
            .returning(|ctx, _, body| body(ctx.entered()));
        let mut users = MockUserStore::new();
        users
            .expect_add()
            .withf(|ctx, _| ctx.depth() == 2)
            .times(1)
            .returning(|_, _| Box::pin(async { Ok(3) }));
        let mut messages = MockMessageStore::new();
        messages
            .expect_add()
            .with(mockall::predicate::always(), eq("user_registered"), eq("3"))
            .times(1)
            .returning(|_, _, _| Box::pin(async { Ok(()) }));
        messages
            .expect_add()
            .withf(|ctx, kind, _| ctx.depth() == 1 && kind == "order_placed")
            .times(1)
            .returning(|_, _, _| Box::pin(async { Ok(()) }));

        let user = accounts(tm, users, messages)
            .quick_purchase(&Ctx::new(), "bob@example.com", false)
            .await
            .unwrap();
        assert_eq!(user, 3);
    }

    #[tokio::test]
    async fn a_failed_sign_in_is_recorded_in_a_transaction_of_its_own() {
        let mut tm = MockTransactionManager::new();
        expect_scope::<()>(&mut tm, Settings::new(Propagation::RequiresNew));
        let mut messages = MockMessageStore::new();
        messages
            .expect_add()
            .with(
                mockall::predicate::always(),
                eq("sign_in_failed"),
                eq("eve@example.com"),
            )
            .times(1)
            .returning(|_, _, _| Box::pin(async { Ok(()) }));

        accounts(tm, MockUserStore::new(), messages)
            .record_failed_sign_in(&Ctx::new(), "eve@example.com")
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn the_manager_refusing_the_scope_is_the_use_case_s_error() {
        let mut tm = MockTransactionManager::new();
        tm.expect_run::<i64, ShopError>()
            .times(1)
            .returning(|_, _, _| Box::pin(async { Err(ShopError::Tx(TxError::ExistingTransaction)) }));
        let mut users = MockUserStore::new();
        users.expect_add().never();

        let error = accounts(tm, users, MockMessageStore::new())
            .register(&Ctx::new(), "ada@example.com")
            .await
            .unwrap_err();
        assert!(matches!(error, ShopError::Tx(TxError::ExistingTransaction)));
    }

    /// The same use cases on the real manager and SQLite: the trait changes nothing of the
    /// semantics.
    #[tokio::test]
    async fn on_the_real_manager_a_failed_quick_purchase_leaves_no_user() {
        let db = crate::steps::step_tests::shop().await;
        let tm = Arc::new(SqlManager::new(db.pool().clone()));
        let accounts = Accounts::new(
            tm.clone(),
            Arc::new(Users { tm: tm.clone() }),
            Arc::new(Messages { tm: tm.clone() }),
        );
        accounts.register(&Ctx::new(), "ada@example.com").await.unwrap();
        let failed = accounts.quick_purchase(&Ctx::new(), "bob@example.com", true).await;
        assert!(matches!(failed, Err(ShopError::OutOfStock { .. })));
        assert_eq!(crate::steps::step_tests::counts(db.pool()).await, (1, 1));
        accounts
            .quick_purchase(&Ctx::new(), "bob@example.com", false)
            .await
            .unwrap();
        assert_eq!(crate::steps::step_tests::counts(db.pool()).await, (2, 3));
    }
}
