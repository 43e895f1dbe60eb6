//! Exercise: page through users without skipping one (statement: `statements/keyset_pages.md`,
//! or `workbook hint keyset_pages`).

use sqlx::PgPool;
use uuid::Uuid;

/// Where a walk through the users is: the last id it returned, and how many pages it read.
#[derive(Debug, Default, Clone, Copy)]
pub struct Cursor {
    pub after: Option<Uuid>,
    pub pages_read: u32,
}

/// The next `limit` user ids in id order, and the cursor after them.
pub async fn next_page(pool: &PgPool, cursor: Cursor, limit: u32) -> sqlx::Result<(Vec<Uuid>, Cursor)> {
    // The gap: counting rows from the start shifts when a row before the page goes away.
    let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM users ORDER BY id LIMIT $1 OFFSET $2")
        .bind(i64::from(limit))
        .bind(i64::from(cursor.pages_read) * i64::from(limit))
        .fetch_all(pool)
        .await?;
    let next = Cursor {
        after: ids.last().copied().or(cursor.after),
        pages_read: cursor.pages_read + 1,
    };
    Ok((ids, next))
}
