//! A small service that changes profiles through the repository, to show what a repository buys
//! its callers: the service is tested with a mock, with no database, and the test states exactly
//! which storage calls a use case makes.

use crate::error::RepositoryError;
use crate::model::{User, UserId};
use crate::repository::UserRepository;

pub struct ProfileService<R> {
    users: R,
}

impl<R: UserRepository> ProfileService<R> {
    pub fn new(users: R) -> Self {
        Self { users }
    }

    // ANCHOR: rename
    /// Renames the user; saves only if the name really changes.
    #[tracing::instrument(name = "profile.rename", skip(self), err(Display))]
    pub async fn rename(&self, id: UserId, first_name: &str, last_name: &str) -> Result<User, RepositoryError> {
        let mut user = self.users.get(id).await?;
        let (first_name, last_name) = (first_name.trim(), last_name.trim());
        if user.profile.first_name == first_name && user.profile.last_name == last_name {
            return Ok(user);
        }
        user.profile.first_name = first_name.to_owned();
        user.profile.last_name = last_name.to_owned();
        user.touch();
        self.users.save(&user).await?;
        Ok(user)
    }
    // ANCHOR_END: rename

    /// Sets or clears the avatar; saves only if it changes.
    #[tracing::instrument(name = "profile.change_avatar", skip(self), err(Display))]
    pub async fn change_avatar(&self, id: UserId, avatar_url: Option<&str>) -> Result<User, RepositoryError> {
        let mut user = self.users.get(id).await?;
        if user.profile.avatar_url.as_deref() == avatar_url {
            return Ok(user);
        }
        user.profile.avatar_url = avatar_url.map(str::to_owned);
        user.touch();
        self.users.save(&user).await?;
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use mockall::predicate::eq;

    use super::*;
    use crate::model::Profile;
    use crate::repository::MockUserRepository;

    fn ada() -> User {
        User::new("ada@example.com", "hash", Profile::new("Ada", "Lovelace"))
    }

    /// A mock whose `get` returns `user` exactly once.
    fn repository_holding(user: &User) -> MockUserRepository {
        let mut users = MockUserRepository::new();
        let stored = user.clone();
        users.expect_get().with(eq(user.id)).times(1).returning(move |_| {
            let stored = stored.clone();
            Box::pin(async move { Ok(stored) })
        });
        users
    }

    #[tokio::test]
    async fn rename_saves_the_new_name_once() {
        let user = ada();
        let mut users = repository_holding(&user);
        users
            .expect_save()
            .withf(|saved: &User| saved.profile.first_name == "Augusta" && saved.profile.last_name == "King")
            .times(1)
            .returning(|_| Box::pin(async { Ok(()) }));

        let renamed = ProfileService::new(users)
            .rename(user.id, " Augusta ", "King")
            .await
            .unwrap();

        assert_eq!(
            (renamed.profile.first_name.as_str(), renamed.profile.last_name.as_str()),
            ("Augusta", "King")
        );
        assert!(renamed.updated_at >= user.updated_at);
    }

    // ANCHOR: no_op_rename
    #[tokio::test]
    async fn a_rename_to_the_same_name_saves_nothing() {
        let user = ada();
        let mut users = repository_holding(&user);
        users.expect_save().never();

        let unchanged = ProfileService::new(users)
            .rename(user.id, "Ada", " Lovelace")
            .await
            .unwrap();

        assert_eq!(unchanged, user);
    }
    // ANCHOR_END: no_op_rename

    #[tokio::test]
    async fn renaming_a_missing_user_is_not_found_and_saves_nothing() {
        let id = UserId::new();
        let mut users = MockUserRepository::new();
        users
            .expect_get()
            .with(eq(id))
            .times(1)
            .returning(|id| Box::pin(async move { Err(RepositoryError::NotFound(id)) }));
        users.expect_save().never();

        let result = ProfileService::new(users).rename(id, "A", "B").await;

        assert!(matches!(result, Err(RepositoryError::NotFound(missing)) if missing == id));
    }

    #[tokio::test]
    async fn change_avatar_saves_the_new_url_and_clearing_an_empty_one_saves_nothing() {
        let user = ada();
        let mut users = repository_holding(&user);
        users
            .expect_save()
            .withf(|saved: &User| saved.profile.avatar_url.as_deref() == Some("https://example.com/a.png"))
            .times(1)
            .returning(|_| Box::pin(async { Ok(()) }));
        let changed = ProfileService::new(users)
            .change_avatar(user.id, Some("https://example.com/a.png"))
            .await
            .unwrap();
        assert_eq!(changed.profile.avatar_url.as_deref(), Some("https://example.com/a.png"));

        let mut users = repository_holding(&user);
        users.expect_save().never();
        let unchanged = ProfileService::new(users).change_avatar(user.id, None).await.unwrap();
        assert_eq!(unchanged.profile.avatar_url, None);
    }

    #[tokio::test]
    async fn a_conflict_from_the_repository_reaches_the_caller() {
        let user = ada();
        let mut users = repository_holding(&user);
        users
            .expect_save()
            .times(1)
            .returning(|_| Box::pin(async { Err(RepositoryError::Conflict { field: "email" }) }));

        let result = ProfileService::new(users).rename(user.id, "Augusta", "King").await;

        assert!(matches!(result, Err(RepositoryError::Conflict { field: "email" })));
    }
}
