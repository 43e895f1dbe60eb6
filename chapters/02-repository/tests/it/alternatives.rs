//! The benchmark compares the adapters' `get` and `save` with slower alternatives. A comparison
//! only means something if both sides are correct, so the alternatives pass the same checks, on
//! every SQL database.

use ch02_repository::{Profile, RepositoryError, SqlUserRepository, User, UserRepository, UserSql};
use rstest::rstest;

use crate::adapters::{Adapter, Backend};

fn ada() -> User {
    let mut profile = Profile::new("Ada", "Lovelace");
    profile.bio = Some("first program".into());
    User::new("ada@example.com", "hash", profile)
}

#[rstest]
#[tokio::test]
async fn alternatives_agree_with_the_repository(
    #[values(Backend::Postgres, Backend::MySql, Backend::Sqlite)] backend: Backend,
) -> anyhow::Result<()> {
    match Adapter::new(backend).await? {
        Adapter::Postgres(users, _db) => agree(&users).await,
        Adapter::MySql(users, _db) => agree(&users).await,
        Adapter::Sqlite(users, _db) => agree(&users).await,
        Adapter::Memory(_) => unreachable!("the in-memory adapter has no alternatives"),
    }
}

async fn agree<DB: UserSql>(users: &SqlUserRepository<DB>) -> anyhow::Result<()> {
    let mut ada = ada();

    // Insert through select-then-write, read through two queries and through the join.
    users.save_select_then_write(&ada).await?;
    assert_eq!(users.get_with_two_queries(ada.id).await?, ada);
    assert_eq!(users.get(ada.id).await?, ada);

    // Update both rows, then only the profile, through select-then-write.
    ada.email = "countess@example.com".into();
    ada.profile.first_name = "Augusta".into();
    ada.touch();
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
    Ok(())
}
