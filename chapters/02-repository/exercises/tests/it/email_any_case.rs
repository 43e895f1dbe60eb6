//! Exercise `email_any_case`: the normalised column finds a user whatever the case.

use ch02_exercises::email_any_case::find_user_id_by_email;
use ch02_repository::migrations::POSTGRES;
use ch02_repository::model::{Profile, User};
use ch02_repository::repository::UserRepository;
use ch02_repository::sql_repository::SqlUserRepository;
use harness::PgDatabase;

#[tokio::test]
async fn a_user_is_found_by_their_email_in_any_case_and_with_stray_spaces() -> anyhow::Result<()> {
    let db = PgDatabase::new(&POSTGRES).await?;
    let user = User::new("Ada@Example.com", "hash", Profile::new("Ada", "Lovelace"));
    SqlUserRepository::new(db.pool().clone()).save(&user).await?;

    let found = find_user_id_by_email(db.pool(), " ADA@example.COM ").await?;

    assert_eq!(
        found,
        Some(user.id.0),
        "Ada signed in with other capitals and was told she has no account"
    );
    Ok(())
}

#[tokio::test]
async fn an_address_nobody_has_is_not_found() -> anyhow::Result<()> {
    let db = PgDatabase::new(&POSTGRES).await?;
    let user = User::new("ada@example.com", "hash", Profile::new("Ada", "Lovelace"));
    SqlUserRepository::new(db.pool().clone()).save(&user).await?;

    assert_eq!(find_user_id_by_email(db.pool(), "grace@example.com").await?, None);
    Ok(())
}
