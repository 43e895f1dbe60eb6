//! Step 3: the transaction travels in a context, so repositories no longer take it.
//!
//! 3a, explicit: a `TxContext` handle is passed down instead of the transaction. A use case says
//! "in a transaction" and either joins the one in the context or begins one; so `register` is
//! written once and nests as it is. (The crate's `Ctx` and `SqlManager` grow this into propagation,
//! settings and hooks.)
//!
//! 3b, ambient: a tokio task-local holds the transaction, and nothing is passed at all. It reads
//! well until work moves to a spawned task: the task-local does not follow it, and that work
//! silently runs outside the transaction. The test at the bottom shows the damage.

use std::future::Future;
use std::sync::Arc;

use sqlx::{Sqlite, SqlitePool, Transaction};
use tokio::sync::Mutex;

type SharedTransaction = Arc<Mutex<Transaction<'static, Sqlite>>>;

// ANCHOR: step3
/// What a use case passes down: the pool, and the open transaction if there is one.
#[derive(Clone)]
pub struct TxContext {
    pool: SqlitePool,
    transaction: Option<SharedTransaction>,
}

impl TxContext {
    pub fn new(pool: SqlitePool) -> Self {
        Self {
            pool,
            transaction: None,
        }
    }

    /// Runs `work` in the context's transaction, or in a new one that commits if it succeeds.
    pub async fn in_transaction<T>(
        &self,
        work: impl AsyncFnOnce(&TxContext) -> Result<T, sqlx::Error>,
    ) -> Result<T, sqlx::Error> {
        if self.transaction.is_some() {
            return work(self).await;
        }
        let transaction = Arc::new(Mutex::new(self.pool.begin().await?));
        let inner = TxContext {
            pool: self.pool.clone(),
            transaction: Some(transaction.clone()),
        };
        let value = work(&inner).await?;
        drop(inner);
        let transaction = Arc::try_unwrap(transaction)
            .map_err(|_| sqlx::Error::Protocol("the transaction is still in use after its scope".into()))?;
        transaction.into_inner().commit().await?;
        Ok(value)
    }
}

/// Repositories take the context, not a transaction, and use whichever connection it holds.
pub async fn add_user(ctx: &TxContext, email: &str) -> Result<i64, sqlx::Error> {
    let query = sqlx::query_scalar("INSERT INTO users (email) VALUES (?) RETURNING id").bind(email);
    match &ctx.transaction {
        Some(transaction) => query.fetch_one(&mut **transaction.lock().await).await,
        None => query.fetch_one(&ctx.pool).await,
    }
}

pub async fn add_message(ctx: &TxContext, kind: &str, payload: &str) -> Result<(), sqlx::Error> {
    let query = sqlx::query("INSERT INTO messages (kind, payload) VALUES (?, ?)")
        .bind(kind)
        .bind(payload);
    match &ctx.transaction {
        Some(transaction) => query.execute(&mut **transaction.lock().await).await?,
        None => query.execute(&ctx.pool).await?,
    };
    Ok(())
}

/// Written once; nests as it is.
pub async fn register(ctx: &TxContext, email: &str) -> Result<i64, sqlx::Error> {
    ctx.in_transaction(async |ctx| {
        let user = add_user(ctx, email).await?;
        add_message(ctx, "user_registered", &user.to_string()).await?;
        Ok(user)
    })
    .await
}

pub async fn quick_purchase(ctx: &TxContext, email: &str, fail_at_buy: bool) -> Result<i64, sqlx::Error> {
    ctx.in_transaction(async |ctx| {
        let user = register(ctx, email).await?;
        if fail_at_buy {
            return Err(sqlx::Error::Protocol("out of stock".into()));
        }
        add_message(ctx, "order_placed", &user.to_string()).await?;
        Ok(user)
    })
    .await
}
// ANCHOR_END: step3

// ANCHOR: ambient
tokio::task_local! {
    /// The ambient transaction of the current task, if any.
    static CURRENT: SharedTransaction;
}

/// Runs `work` with an ambient transaction that repositories find by themselves.
pub async fn ambient_transaction<T>(
    pool: &SqlitePool,
    work: impl Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, sqlx::Error> {
    let transaction = Arc::new(Mutex::new(pool.begin().await?));
    let value = CURRENT.scope(transaction.clone(), work).await?;
    let transaction = Arc::try_unwrap(transaction)
        .map_err(|_| sqlx::Error::Protocol("the transaction is still in use after its scope".into()))?;
    transaction.into_inner().commit().await?;
    Ok(value)
}

/// A repository function that uses the ambient transaction, or the pool when there is none;
/// nothing in its signature says which.
pub async fn add_message_ambient(pool: &SqlitePool, kind: &str, payload: &str) -> Result<(), sqlx::Error> {
    let query = sqlx::query("INSERT INTO messages (kind, payload) VALUES (?, ?)")
        .bind(kind)
        .bind(payload);
    match CURRENT.try_with(Arc::clone) {
        Ok(transaction) => query.execute(&mut **transaction.lock().await).await?,
        Err(_) => query.execute(pool).await?,
    };
    Ok(())
}
// ANCHOR_END: ambient

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::steps::step_tests::{counts, shop};

    #[tokio::test]
    async fn register_nests_in_quick_purchase_without_a_second_version() {
        let db = shop().await;
        let ctx = TxContext::new(db.pool().clone());
        register(&ctx, "ada@example.com").await.unwrap();
        assert!(quick_purchase(&ctx, "bob@example.com", true).await.is_err());
        assert_eq!(counts(db.pool()).await, (1, 1), "the nested registration rolled back");
        quick_purchase(&ctx, "bob@example.com", false).await.unwrap();
        assert_eq!(counts(db.pool()).await, (2, 3));
    }

    // ANCHOR: ambient_trap
    #[tokio::test]
    async fn the_ambient_trap_work_in_a_spawned_task_escapes_the_transaction() {
        // Two connections: the spawned task takes the second one, outside the transaction.
        let db = harness::SqliteDatabase::file(&crate::migrations::SQLITE, 2, Duration::from_secs(5))
            .await
            .unwrap();
        let pool = db.pool().clone();

        let result = ambient_transaction(db.pool(), async {
            // Someone moves the notification to a task of its own, to "not block the request".
            let spawned_pool = pool.clone();
            tokio::spawn(async move {
                add_message_ambient(&spawned_pool, "welcome", "for a user who will never exist").await
            })
            .await
            .unwrap()?;
            add_message_ambient(&pool, "user_registered", "1").await?;
            Err::<(), _>(sqlx::Error::Protocol("the registration fails".into()))
        })
        .await;

        assert!(result.is_err());
        let kinds: Vec<String> = sqlx::query_scalar("SELECT kind FROM messages")
            .fetch_all(db.pool())
            .await
            .unwrap();
        assert_eq!(
            kinds,
            ["welcome"],
            "the spawned write committed on its own; the rolled-back one is gone"
        );
    }
    // ANCHOR_END: ambient_trap
}
