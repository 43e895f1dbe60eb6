//! No half-written user: when the second of the two writes fails, the first is rolled back.
//!
//! Each test adds a constraint that the profile of a user called "Mallory" breaks, in the way
//! each database allows, then saves Mallory: the `users` insert succeeds, the `profiles` insert
//! fails, and the transaction must leave no `users` row behind.

use ch02_repository::{InMemoryUserRepository, Profile, RepositoryError, User, UserRepository};
use rstest::rstest;

use crate::adapters::{Adapter, Backend};

/// Makes `profiles` refuse the first name "Mallory".
async fn refuse_mallory(adapter: Adapter) -> anyhow::Result<Adapter> {
    Ok(match adapter {
        Adapter::Postgres(repository, db) => {
            sqlx::query("ALTER TABLE profiles ADD CONSTRAINT no_mallory CHECK (first_name <> 'Mallory')")
                .execute(db.pool())
                .await?;
            Adapter::Postgres(repository, db)
        }
        Adapter::MySql(repository, db) => {
            sqlx::query("ALTER TABLE profiles ADD CONSTRAINT no_mallory CHECK (first_name <> 'Mallory')")
                .execute(db.pool())
                .await?;
            Adapter::MySql(repository, db)
        }
        Adapter::Sqlite(repository, db) => {
            // SQLite cannot add a CHECK to an existing table; a trigger does the same job.
            sqlx::query(
                "CREATE TRIGGER no_mallory BEFORE INSERT ON profiles WHEN NEW.first_name = 'Mallory' \
                 BEGIN SELECT RAISE(ABORT, 'no_mallory'); END",
            )
            .execute(db.pool())
            .await?;
            Adapter::Sqlite(repository, db)
        }
        Adapter::Memory(_) => Adapter::Memory(InMemoryUserRepository::new().with_profile_check(Box::new(|row| {
            if row.first_name == "Mallory" {
                Err("no_mallory".into())
            } else {
                Ok(())
            }
        }))),
    })
}

// ANCHOR: half_write
#[rstest]
#[tokio::test]
async fn when_the_profile_insert_fails_no_users_row_remains(
    #[values(Backend::Postgres, Backend::MySql, Backend::Sqlite, Backend::Memory)] backend: Backend,
) -> anyhow::Result<()> {
    let users = refuse_mallory(Adapter::new(backend).await?).await?;
    let mallory = User::new("mallory@example.com", "hash", Profile::new("Mallory", "Evil"));

    let result = users.save(&mallory).await;

    assert!(result.is_err(), "the constraint must fail the save");
    assert!(!matches!(result, Err(RepositoryError::Conflict { .. })), "{result:?}");
    assert_eq!(users.row_counts().await?, (0, 0), "no half-written user");
    assert!(users.find_by_email("mallory@example.com").await?.is_none());
    Ok(())
}
// ANCHOR_END: half_write
