//! Step 2: a helper owns begin, commit and rollback; the use case is a closure given the
//! transaction.
//!
//! Begin/commit/rollback is written once. But repositories still take the transaction as a
//! parameter, and the closure's type (a boxed future borrowing the transaction) is the price of
//! passing it in; nesting still needs each use case in two versions.

use futures::future::BoxFuture;
use sqlx::{SqliteConnection, SqlitePool};

use crate::steps::step1_explicit::{add_message, register_in};

// ANCHOR: step2
/// Runs `work` in a transaction: commits if it returns `Ok`, rolls back otherwise.
pub async fn with_transaction<T, E>(
    pool: &SqlitePool,
    work: impl for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, E>>,
) -> Result<T, E>
where
    E: From<sqlx::Error>,
{
    let mut tx = pool.begin().await?;
    let value = work(&mut tx).await?; // an `Err` returns here; dropping `tx` rolls back
    tx.commit().await?;
    Ok(value)
}

pub async fn register(pool: &SqlitePool, email: &str) -> Result<i64, sqlx::Error> {
    // The closure must work for a transaction of *any* lifetime (`for<'c>`), so the future it
    // returns cannot also borrow the caller's `email`: it gets its own copy. This is the price
    // of passing the transaction into a closure, and step 3 removes it.
    let email = email.to_owned();
    with_transaction(pool, move |tx| Box::pin(async move { register_in(tx, &email).await })).await
}
// ANCHOR_END: step2

pub async fn quick_purchase(pool: &SqlitePool, email: &str, fail_at_buy: bool) -> Result<i64, sqlx::Error> {
    let email = email.to_owned();
    with_transaction(pool, move |tx| {
        Box::pin(async move {
            let user = register_in(tx, &email).await?;
            if fail_at_buy {
                return Err(sqlx::Error::Protocol("out of stock".into()));
            }
            add_message(tx, "order_placed", &user.to_string()).await?;
            Ok(user)
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::steps::step_tests::{counts, shop};

    #[tokio::test]
    async fn register_and_a_failed_quick_purchase() {
        let db = shop().await;
        register(db.pool(), "ada@example.com").await.unwrap();
        assert!(quick_purchase(db.pool(), "bob@example.com", true).await.is_err());
        assert_eq!(counts(db.pool()).await, (1, 1));
        quick_purchase(db.pool(), "bob@example.com", false).await.unwrap();
        assert_eq!(counts(db.pool()).await, (2, 3));
    }
}
