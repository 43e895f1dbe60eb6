//! Step 1: the transaction is a parameter of every repository function and every use case.
//!
//! It works, and it is honest about what happens. But every signature carries database
//! machinery, every use case repeats begin/commit/rollback, and nesting needs each use case twice:
//! once to run on its own (opening a transaction), once to run inside someone else's.

use sqlx::{SqliteConnection, SqlitePool};

// ANCHOR: step1
pub async fn add_user(tx: &mut SqliteConnection, email: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("INSERT INTO users (email) VALUES (?) RETURNING id")
        .bind(email)
        .fetch_one(tx)
        .await
}

pub async fn add_message(tx: &mut SqliteConnection, kind: &str, payload: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO messages (kind, payload) VALUES (?, ?)")
        .bind(kind)
        .bind(payload)
        .execute(tx)
        .await?;
    Ok(())
}

/// Register, inside a transaction the caller owns.
pub async fn register_in(tx: &mut SqliteConnection, email: &str) -> Result<i64, sqlx::Error> {
    let user = add_user(tx, email).await?;
    add_message(tx, "user_registered", &user.to_string()).await?;
    Ok(user)
}

/// Register, on its own: begin, call the version above, commit.
pub async fn register(pool: &SqlitePool, email: &str) -> Result<i64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let user = register_in(&mut tx, email).await?;
    tx.commit().await?;
    Ok(user)
}
// ANCHOR_END: step1

/// Quick purchase: register and buy (here, a second message) in one transaction; needs
/// `register_in`, not `register`.
pub async fn quick_purchase(pool: &SqlitePool, email: &str, fail_at_buy: bool) -> Result<i64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let user = register_in(&mut tx, email).await?;
    if fail_at_buy {
        // Returning drops `tx` without commit: sqlx rolls it back.
        return Err(sqlx::Error::Protocol("out of stock".into()));
    }
    add_message(&mut tx, "order_placed", &user.to_string()).await?;
    tx.commit().await?;
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::steps::step_tests::{counts, shop};

    #[tokio::test]
    async fn register_and_a_failed_quick_purchase() {
        let db = shop().await;
        register(db.pool(), "ada@example.com").await.unwrap();
        assert_eq!(counts(db.pool()).await, (1, 1));
        assert!(quick_purchase(db.pool(), "bob@example.com", true).await.is_err());
        assert_eq!(
            counts(db.pool()).await,
            (1, 1),
            "Bob's registration rolled back with the purchase"
        );
        quick_purchase(db.pool(), "bob@example.com", false).await.unwrap();
        assert_eq!(counts(db.pool()).await, (2, 3));
    }
}
