//! How the chapter gets from a transaction passed everywhere to the manager, one step at a time.
//! Each step registers a user (the user and its "user registered" message, atomically) and nests
//! that use case in a quick purchase. The final step is the crate's `SqlManager`.

pub mod step1_explicit;
pub mod step2_closure;
pub mod step3_context;
pub mod step4_trait;
pub mod step5_decorator;

/// What the steps' tests share: a shop database in memory, and its row counts.
#[cfg(test)]
pub(crate) mod step_tests {
    pub async fn shop() -> harness::SqliteDatabase {
        harness::SqliteDatabase::new(&crate::migrations::SQLITE)
            .await
            .expect("an in-memory SQLite database")
    }

    /// (users, messages)
    pub async fn counts(pool: &sqlx::SqlitePool) -> (i64, i64) {
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(pool)
            .await
            .unwrap();
        let messages: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages")
            .fetch_one(pool)
            .await
            .unwrap();
        (users, messages)
    }
}
