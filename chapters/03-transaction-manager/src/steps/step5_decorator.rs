//! Step 5: a decorator makes any use case transactional; the use case itself is plain business.
//!
//! `Register` and `QuickPurchase` below contain no transaction code at all, not even a call to a
//! manager. The code that assembles the application wraps them in
//! [`Transactional`](crate::Transactional), and that is where their transactions begin. A wrapped
//! use case is still a use case, so `QuickPurchase` nests a wrapped `Register` unchanged.

use std::sync::Arc;

use crate::shop::ShopError;
use crate::steps::step4_trait::{MessageStore, UserStore};
use crate::{Ctx, Settings, TransactionManager, Transactional, UseCase};

// ANCHOR: step5
/// Registration, as business steps only.
pub struct Register<U, M> {
    pub users: Arc<U>,
    pub messages: Arc<M>,
}

impl<U: UserStore, M: MessageStore> UseCase for Register<U, M> {
    type Input = String;
    type Output = i64;
    type Error = ShopError;

    async fn execute(&self, ctx: &Ctx, email: String) -> Result<i64, ShopError> {
        let user = self.users.add(ctx, &email).await?;
        self.messages.add(ctx, "user_registered", &user.to_string()).await?;
        Ok(user)
    }
}

/// Registration and a purchase, as business steps only: `register` is whatever use case it is
/// given.
pub struct QuickPurchase<R, M> {
    pub register: R,
    pub messages: Arc<M>,
}

impl<R, M> UseCase for QuickPurchase<R, M>
where
    R: UseCase<Input = String, Output = i64, Error = ShopError>,
    M: MessageStore,
{
    type Input = (String, bool);
    type Output = i64;
    type Error = ShopError;

    async fn execute(&self, ctx: &Ctx, (email, fail_at_buy): (String, bool)) -> Result<i64, ShopError> {
        let user = self.register.execute(ctx, email).await?;
        if fail_at_buy {
            return Err(ShopError::OutOfStock { product: 1, wanted: 1 });
        }
        self.messages.add(ctx, "order_placed", &user.to_string()).await?;
        Ok(user)
    }
}

/// The assembly: the one place that says which use cases are transactions.
pub fn quick_purchase<TM: TransactionManager, U: UserStore, M: MessageStore>(
    tm: Arc<TM>,
    users: Arc<U>,
    messages: Arc<M>,
) -> impl UseCase<Input = (String, bool), Output = i64, Error = ShopError> {
    let register = Register {
        users,
        messages: messages.clone(),
    };
    let register = Transactional::new(register, tm.clone(), Settings::default());
    Transactional::new(QuickPurchase { register, messages }, tm, Settings::default())
}
// ANCHOR_END: step5

#[cfg(test)]
mod tests {
    use sqlx::Sqlite;

    use super::*;
    use crate::SqlManager;
    use crate::manager::MockTransactionManager;
    use crate::shop::{Messages, Users};
    use crate::steps::step_tests::{counts, shop};
    use crate::steps::step4_trait::{MockMessageStore, MockUserStore};

    #[tokio::test]
    async fn the_decorator_asks_for_its_settings_and_runs_the_use_case_inside_the_scope() {
        let settings = Settings::default().timeout(std::time::Duration::from_secs(3));
        let mut tm = MockTransactionManager::new();
        tm.expect_run::<i64, ShopError>()
            .withf(move |ctx, asked, _| ctx.depth() == 0 && *asked == settings)
            .times(1)
            .returning(|ctx, _, body| body(ctx.entered()));
        let mut users = MockUserStore::new();
        users
            .expect_add()
            .withf(|ctx, email| ctx.depth() == 1 && email == "ada@example.com")
            .times(1)
            .returning(|_, _| Box::pin(async { Ok(5) }));
        let mut messages = MockMessageStore::new();
        messages
            .expect_add()
            .withf(|ctx, kind, payload| ctx.depth() == 1 && kind == "user_registered" && payload == "5")
            .times(1)
            .returning(|_, _, _| Box::pin(async { Ok(()) }));

        let register = Register {
            users: Arc::new(users),
            messages: Arc::new(messages),
        };
        let wrapped = Transactional::new(register, Arc::new(tm), settings);
        assert_eq!(wrapped.execute(&Ctx::new(), "ada@example.com".into()).await.unwrap(), 5);
    }

    type SqliteRegister = Register<Users<Sqlite>, Messages<Sqlite>>;

    fn sqlite_register(tm: &Arc<SqlManager<Sqlite>>) -> SqliteRegister {
        Register {
            users: Arc::new(Users { tm: tm.clone() }),
            messages: Arc::new(Messages { tm: tm.clone() }),
        }
    }

    // ANCHOR: step5_test
    #[tokio::test]
    async fn the_same_use_case_half_writes_alone_and_writes_nothing_wrapped() {
        let db = shop().await;
        let tm = Arc::new(SqlManager::new(db.pool().clone()));
        // The second write of a registration will fail: its table is gone.
        sqlx::query("ALTER TABLE messages RENAME TO messages_moved")
            .execute(db.pool())
            .await
            .unwrap();

        let plain = sqlite_register(&tm);
        assert!(plain.execute(&Ctx::new(), "ada@example.com".into()).await.is_err());
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(users, 1, "alone, the user was saved without its message");

        let wrapped = Transactional::new(sqlite_register(&tm), tm.clone(), Settings::default());
        assert!(wrapped.execute(&Ctx::new(), "bob@example.com".into()).await.is_err());
        let users: Vec<String> = sqlx::query_scalar("SELECT email FROM users")
            .fetch_all(db.pool())
            .await
            .unwrap();
        assert_eq!(
            users,
            ["ada@example.com"],
            "wrapped, Bob's half-registration rolled back"
        );
    }
    // ANCHOR_END: step5_test

    #[tokio::test]
    async fn wrapped_use_cases_nest_a_failed_purchase_leaves_no_user() {
        let db = shop().await;
        let tm = Arc::new(SqlManager::new(db.pool().clone()));
        let users = Arc::new(Users { tm: tm.clone() });
        let messages = Arc::new(Messages { tm: tm.clone() });
        let purchase = quick_purchase(tm, users, messages);

        let failed = purchase.execute(&Ctx::new(), ("bob@example.com".into(), true)).await;
        assert!(matches!(failed, Err(ShopError::OutOfStock { .. })));
        assert_eq!(
            counts(db.pool()).await,
            (0, 0),
            "the nested registration rolled back too"
        );

        purchase
            .execute(&Ctx::new(), ("bob@example.com".into(), false))
            .await
            .unwrap();
        assert_eq!(counts(db.pool()).await, (1, 2));
    }
}
