//! The benchmark compares the adapters' `get` and `save` with slower alternatives. A comparison
//! only means something if both sides are correct, so the alternatives pass the same checks.

use ch02_repository::{
    PostgresUserRepository, Profile, RepositoryError, SqliteUserRepository, User, UserRepository, migrations,
};
use harness::{PgDatabase, SqliteDatabase};

fn ada() -> User {
    let mut profile = Profile::new("Ada", "Lovelace");
    profile.bio = Some("first program".into());
    User::new("ada@example.com", "hash", profile)
}

/// Runs the same checks on both standard-SQL adapters.
macro_rules! alternatives_agree_with_the_repository {
    ($repository:expr) => {{
        let users = $repository;
        let mut ada = ada();

        // Insert through select-then-write, read through two queries and through the join.
        users.save_select_then_write(&ada).await?;
        assert_eq!(users.get_with_two_queries(ada.id).await?, ada);
        assert_eq!(users.get(ada.id).await?, ada);

        // Update both rows, then only the profile, through select-then-write.
        ada.email = "countess@example.com".into();
        ada.profile.first_name = "Augusta".into();
        users.save_select_then_write(&ada).await?;
        assert_eq!(users.get(ada.id).await?, ada);
        ada.profile.bio = None;
        users.save_select_then_write(&ada).await?;
        assert_eq!(users.get_with_two_queries(ada.id).await?, ada);

        // The same errors as the repository's own methods.
        let copycat = User::new("COUNTESS@example.com", "h", Profile::new("C", "Cat"));
        assert!(matches!(
            users.save_select_then_write(&copycat).await,
            Err(RepositoryError::Conflict { field: "email" })
        ));
        assert!(matches!(
            users.get_with_two_queries(copycat.id).await,
            Err(RepositoryError::NotFound(_))
        ));
    }};
}

#[tokio::test]
async fn postgres_alternatives_agree_with_the_repository() -> anyhow::Result<()> {
    let db = PgDatabase::new(&migrations::POSTGRES).await?;
    alternatives_agree_with_the_repository!(PostgresUserRepository::new(db.pool().clone()));
    Ok(())
}

#[tokio::test]
async fn sqlite_alternatives_agree_with_the_repository() -> anyhow::Result<()> {
    let db = SqliteDatabase::new(&migrations::SQLITE).await?;
    alternatives_agree_with_the_repository!(SqliteUserRepository::new(db.pool().clone()));
    Ok(())
}
