//! Exercise `no_lost_update`: a profile saved from a stale read is refused, on PostgreSQL, also
//! when eight writers race.

use ch02_exercises::no_lost_update::save_profile;
use ch02_repository::error::RepositoryError;
use ch02_repository::migrations::POSTGRES;
use ch02_repository::model::{Profile, User};
use ch02_repository::repository::UserRepository;
use ch02_repository::sql_repository::SqlUserRepository;
use harness::PgDatabase;

/// Ada, stored; and her repository.
async fn stored_ada(db: &PgDatabase) -> anyhow::Result<(SqlUserRepository<sqlx::Postgres>, User)> {
    let users = SqlUserRepository::new(db.pool().clone());
    let ada = User::new("ada@example.com", "hash", Profile::new("Ada", "Lovelace"));
    users.save(&ada).await?;
    Ok((users, ada))
}

/// `read` as an agent changes it: a new `updated_at`, one microsecond or more after the last.
fn edited(read: &User, change: impl FnOnce(&mut Profile)) -> User {
    let mut user = read.clone();
    change(&mut user.profile);
    user.touch();
    if user.updated_at <= read.updated_at {
        user.updated_at = read.updated_at + chrono::Duration::microseconds(1);
    }
    user
}

#[tokio::test]
async fn an_edit_from_a_stale_read_is_refused_and_the_earlier_edit_kept() -> anyhow::Result<()> {
    let db = PgDatabase::new(&POSTGRES).await?;
    let (users, ada) = stored_ada(&db).await?;
    let (first_agent, second_agent) = (users.get(ada.id).await?, users.get(ada.id).await?);

    let renamed = edited(&first_agent, |profile| profile.first_name = "Augusta Ada".into());
    save_profile(db.pool(), &renamed, first_agent.updated_at).await?;
    let with_bio = edited(&second_agent, |profile| {
        profile.bio = Some("Wrote the first program".into());
    });
    let late = save_profile(db.pool(), &with_bio, second_agent.updated_at).await;

    assert!(
        matches!(late, Err(RepositoryError::Conflict { field: "updated_at" })),
        "the second agent saved over a profile that had changed since it was read: {late:?}"
    );
    let stored = users.get(ada.id).await?;
    assert_eq!(
        stored.profile.first_name, "Augusta Ada",
        "the first agent's fix was lost"
    );
    assert_eq!(stored.profile.bio, None, "a refused save wrote its bio anyway");
    assert_eq!(stored.updated_at, renamed.updated_at);
    Ok(())
}

#[tokio::test]
async fn of_eight_agents_saving_one_read_at_once_exactly_one_wins() -> anyhow::Result<()> {
    let db = PgDatabase::new(&POSTGRES).await?;
    let (users, ada) = stored_ada(&db).await?;
    let read = users.get(ada.id).await?;

    let saves = (0..8).map(|agent| {
        let (pool, read) = (db.pool().clone(), read.clone());
        tokio::spawn(async move {
            let edit = edited(&read, |profile| profile.bio = Some(format!("agent {agent}")));
            (agent, save_profile(&pool, &edit, read.updated_at).await)
        })
    });
    let mut winners = Vec::new();
    for save in saves {
        match save.await? {
            (agent, Ok(())) => winners.push(agent),
            (_, Err(RepositoryError::Conflict { field: "updated_at" })) => {}
            (agent, Err(other)) => panic!("agent {agent}: {other}"),
        }
    }

    assert_eq!(winners.len(), 1, "agents {winners:?} all saved over the same read");
    let stored = users.get(ada.id).await?;
    assert_eq!(stored.profile.bio, Some(format!("agent {}", winners[0])));
    Ok(())
}

#[tokio::test]
async fn a_retry_from_a_fresh_read_goes_through_and_an_unknown_user_is_not_found() -> anyhow::Result<()> {
    let db = PgDatabase::new(&POSTGRES).await?;
    let (users, ada) = stored_ada(&db).await?;
    let stale = users.get(ada.id).await?;
    save_profile(
        db.pool(),
        &edited(&stale, |p| p.last_name = "King".into()),
        stale.updated_at,
    )
    .await?;
    let refused = save_profile(
        db.pool(),
        &edited(&stale, |p| p.bio = Some("x".into())),
        stale.updated_at,
    )
    .await;
    assert!(matches!(refused, Err(RepositoryError::Conflict { .. })), "{refused:?}");

    let fresh = users.get(ada.id).await?;
    save_profile(
        db.pool(),
        &edited(&fresh, |p| p.bio = Some("Analyst".into())),
        fresh.updated_at,
    )
    .await?;
    let stored = users.get(ada.id).await?;
    assert_eq!(
        (stored.profile.last_name.as_str(), stored.profile.bio.as_deref()),
        ("King", Some("Analyst"))
    );

    let nobody = User::new("grace@example.com", "hash", Profile::new("Grace", "Hopper"));
    let missing = save_profile(db.pool(), &nobody, nobody.updated_at).await;
    assert!(
        matches!(missing, Err(RepositoryError::NotFound(id)) if id == nobody.id),
        "{missing:?}"
    );
    Ok(())
}
