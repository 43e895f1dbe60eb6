//! The repository contract: every adapter passes exactly these test bodies.

use std::collections::HashSet;

use ch02_repository::{Profile, RepositoryError, User, UserId, UserRepository};
use rstest::rstest;

use crate::adapters::{Adapter, Backend};

fn user(email: &str, first_name: &str) -> User {
    let mut profile = Profile::new(first_name, "Tester");
    profile.avatar_url = Some(format!("https://example.com/{first_name}.png"));
    profile.bio = Some(format!("{first_name} writes tests."));
    User::new(email, "argon2id$v=19$hash", profile)
}

// ANCHOR: round_trip
#[rstest]
#[tokio::test]
async fn a_saved_user_reads_back_equal(
    #[values(Backend::Postgres, Backend::MySql, Backend::Sqlite, Backend::Memory)] backend: Backend,
) -> anyhow::Result<()> {
    let users = Adapter::new(backend).await?;
    let ada = user("ada@example.com", "Ada");

    users.save(&ada).await?;

    assert_eq!(users.get(ada.id).await?, ada);
    assert_eq!(users.row_counts().await?, (1, 1), "one aggregate, two rows");
    Ok(())
}
// ANCHOR_END: round_trip

#[rstest]
#[tokio::test]
async fn an_update_touches_both_tables(
    #[values(Backend::Postgres, Backend::MySql, Backend::Sqlite, Backend::Memory)] backend: Backend,
) -> anyhow::Result<()> {
    let users = Adapter::new(backend).await?;
    let mut ada = user("ada@example.com", "Ada");
    users.save(&ada).await?;

    ada.email = "countess@example.com".into();
    ada.profile.last_name = "King".into();
    ada.profile.avatar_url = None;
    ada.touch();
    users.save(&ada).await?;

    assert_eq!(users.get(ada.id).await?, ada);
    assert_eq!(users.row_counts().await?, (1, 1), "an update inserts nothing");
    assert!(
        users.find_by_email("ada@example.com").await?.is_none(),
        "the old email is free again"
    );
    Ok(())
}

#[rstest]
#[tokio::test]
async fn delete_removes_both_rows_and_a_second_delete_is_not_found(
    #[values(Backend::Postgres, Backend::MySql, Backend::Sqlite, Backend::Memory)] backend: Backend,
) -> anyhow::Result<()> {
    let users = Adapter::new(backend).await?;
    let (ada, bob) = (user("ada@example.com", "Ada"), user("bob@example.com", "Bob"));
    users.save(&ada).await?;
    users.save(&bob).await?;

    users.delete(ada.id).await?;

    assert_eq!(users.row_counts().await?, (1, 1), "only Bob's rows remain");
    assert!(matches!(users.get(ada.id).await, Err(RepositoryError::NotFound(id)) if id == ada.id));
    assert!(matches!(users.delete(ada.id).await, Err(RepositoryError::NotFound(id)) if id == ada.id));
    assert_eq!(users.get(bob.id).await?, bob);
    Ok(())
}

#[rstest]
#[tokio::test]
async fn email_lookup_ignores_case_and_surrounding_spaces(
    #[values(Backend::Postgres, Backend::MySql, Backend::Sqlite, Backend::Memory)] backend: Backend,
) -> anyhow::Result<()> {
    let users = Adapter::new(backend).await?;
    let ada = user("Ada.Lovelace@Example.com", "Ada");
    users.save(&ada).await?;

    for asked in [
        "ada.lovelace@example.com",
        "ADA.LOVELACE@EXAMPLE.COM",
        " Ada.Lovelace@Example.com ",
    ] {
        assert_eq!(
            users.find_by_email(asked).await?.as_ref(),
            Some(&ada),
            "asked for {asked:?}"
        );
    }
    assert_eq!(users.find_by_email("ada@example.com").await?, None);
    Ok(())
}

#[rstest]
#[tokio::test]
async fn a_duplicate_email_in_any_case_is_a_conflict_and_changes_nobody(
    #[values(Backend::Postgres, Backend::MySql, Backend::Sqlite, Backend::Memory)] backend: Backend,
) -> anyhow::Result<()> {
    let users = Adapter::new(backend).await?;
    let ada = user("ada@example.com", "Ada");
    users.save(&ada).await?;

    let impostor = user("ADA@example.com", "Impostor");
    let result = users.save(&impostor).await;

    assert!(
        matches!(result, Err(RepositoryError::Conflict { field: "email" })),
        "{result:?}"
    );
    assert_eq!(users.get(ada.id).await?, ada, "the first user is untouched");
    assert!(matches!(
        users.get(impostor.id).await,
        Err(RepositoryError::NotFound(_))
    ));
    assert_eq!(users.row_counts().await?, (1, 1));
    Ok(())
}

#[rstest]
#[tokio::test]
async fn a_value_too_long_for_its_column_is_invalid_and_writes_nothing(
    #[values(Backend::Postgres, Backend::MySql, Backend::Sqlite, Backend::Memory)] backend: Backend,
) -> anyhow::Result<()> {
    let users = Adapter::new(backend).await?;
    let mut long = user("long@example.com", "Long");
    long.profile.first_name = "x".repeat(101);

    let result = users.save(&long).await;

    assert!(
        matches!(
            &result,
            Err(RepositoryError::Invalid {
                field: "first_name",
                ..
            })
        ),
        "{result:?}"
    );
    assert_eq!(users.row_counts().await?, (0, 0));
    Ok(())
}

#[rstest]
#[tokio::test]
async fn keyset_pages_cover_a_thousand_users_without_gaps_or_repeats(
    #[values(Backend::Postgres, Backend::MySql, Backend::Sqlite, Backend::Memory)] backend: Backend,
) -> anyhow::Result<()> {
    let users = Adapter::new(backend).await?;
    let mut saved = HashSet::new();
    for i in 0..1000 {
        let u = user(&format!("user{i}@example.com"), &format!("User{i}"));
        users.save(&u).await?;
        saved.insert(u.id);
    }

    let (mut seen, mut after, mut pages) = (Vec::new(), None, 0);
    loop {
        let page = users.list(after, 37).await?;
        if page.is_empty() {
            break;
        }
        pages += 1;
        assert!(page.len() <= 37);
        after = page.last().map(|u| u.id);
        seen.extend(page.into_iter().map(|u| u.id));
    }

    assert_eq!(pages, 1000usize.div_ceil(37));
    assert_eq!(seen.len(), 1000, "no repeats");
    assert!(seen.windows(2).all(|pair| pair[0] < pair[1]), "in id order");
    assert_eq!(seen.into_iter().collect::<HashSet<UserId>>(), saved, "no gaps");
    Ok(())
}

#[rstest]
#[tokio::test]
async fn fifty_concurrent_saves_of_different_users_all_land(
    #[values(Backend::Postgres, Backend::MySql, Backend::Sqlite, Backend::Memory)] backend: Backend,
) -> anyhow::Result<()> {
    let users = Adapter::new(backend).await?;
    let batch: Vec<User> = (0..50)
        .map(|i| user(&format!("c{i}@example.com"), &format!("C{i}")))
        .collect();

    let results = futures::future::join_all(batch.iter().map(|u| users.save(u))).await;

    assert!(results.iter().all(Result::is_ok), "{results:?}");
    for u in &batch {
        assert_eq!(&users.get(u.id).await?, u);
    }
    assert_eq!(users.row_counts().await?, (50, 50));
    Ok(())
}

/// Quotes, SQL, wildcards, scripts and emoji (with a zero-width joiner): stored and read back as is.
const ODD_TEXTS: [&str; 5] = [
    "O'Brien \"the quoted\"",
    "'; DROP TABLE users; --",
    "Zoë Ñúñez 李小龍 Ώρα",
    "🦀 Ferris 👩\u{200d}💻",
    "back\\slash % _ wildcard",
];

#[rstest]
#[tokio::test]
async fn hostile_and_unicode_strings_are_stored_verbatim(
    #[values(Backend::Postgres, Backend::MySql, Backend::Sqlite, Backend::Memory)] backend: Backend,
) -> anyhow::Result<()> {
    let users = Adapter::new(backend).await?;
    let mut saved = Vec::new();
    for (i, text) in ODD_TEXTS.into_iter().enumerate() {
        let mut odd = user(&format!("odd{i}@example.com"), "placeholder");
        odd.profile.first_name = text.to_owned();
        odd.profile.bio = Some(text.repeat(3));
        users.save(&odd).await?;
        saved.push(odd);
    }

    for odd in &saved {
        assert_eq!(&users.get(odd.id).await?, odd);
    }
    assert_eq!(users.row_counts().await?, (5, 5), "and the users table is still there");
    Ok(())
}

#[rstest]
#[tokio::test]
async fn a_missing_id_is_not_found(
    #[values(Backend::Postgres, Backend::MySql, Backend::Sqlite, Backend::Memory)] backend: Backend,
) -> anyhow::Result<()> {
    let users = Adapter::new(backend).await?;
    let missing = UserId::new();
    assert!(matches!(users.get(missing).await, Err(RepositoryError::NotFound(id)) if id == missing));
    assert_eq!(users.list(None, 10).await?, []);
    Ok(())
}
