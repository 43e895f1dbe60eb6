//! Exercise `keyset_pages`: a walk through the users misses none when one leaves mid-walk.

use ch02_exercises::keyset_pages::{Cursor, next_page};
use ch02_repository::migrations::POSTGRES;
use ch02_repository::model::{Profile, User};
use ch02_repository::repository::UserRepository;
use ch02_repository::sql_repository::SqlUserRepository;
use harness::PgDatabase;
use uuid::Uuid;

const PAGE: u32 = 3;

/// Nine users, saved through the chapter's repository; their ids in order.
async fn nine_users() -> anyhow::Result<(PgDatabase, SqlUserRepository<sqlx::Postgres>, Vec<Uuid>)> {
    let db = PgDatabase::new(&POSTGRES).await?;
    let users = SqlUserRepository::new(db.pool().clone());
    let mut ids = Vec::new();
    for n in 0..9 {
        let user = User::new(
            format!("user{n}@example.com"),
            "hash",
            Profile::new("User", format!("{n}")),
        );
        users.save(&user).await?;
        ids.push(user.id.0);
    }
    ids.sort();
    Ok((db, users, ids))
}

/// Every page until an empty one, with `between` run after the first page.
async fn walk(db: &PgDatabase, between: impl AsyncFnOnce()) -> anyhow::Result<Vec<Uuid>> {
    let (mut seen, mut cursor) = next_page(db.pool(), Cursor::default(), PAGE).await?;
    between().await;
    loop {
        let (page, next) = next_page(db.pool(), cursor, PAGE).await?;
        if page.is_empty() {
            return Ok(seen);
        }
        seen.extend(page);
        cursor = next;
    }
}

#[tokio::test]
async fn a_user_leaving_mid_walk_makes_no_one_else_missed() -> anyhow::Result<()> {
    let (db, users, ids) = nine_users().await?;
    let leaving = ids[1];

    let seen = walk(&db, async || {
        users
            .delete(ch02_repository::model::UserId(leaving))
            .await
            .expect("a delete");
    })
    .await?;

    let missed: Vec<&Uuid> = ids.iter().filter(|id| **id != leaving && !seen.contains(id)).collect();
    assert!(
        missed.is_empty(),
        "{} users were never exported: {missed:?}",
        missed.len()
    );
    let mut once = seen.clone();
    once.dedup();
    assert_eq!(once, seen, "a user was exported twice");
    Ok(())
}

#[tokio::test]
async fn an_undisturbed_walk_yields_everyone_in_id_order() -> anyhow::Result<()> {
    let (db, _users, ids) = nine_users().await?;

    let seen = walk(&db, async || {}).await?;

    assert_eq!(seen, ids);
    Ok(())
}
