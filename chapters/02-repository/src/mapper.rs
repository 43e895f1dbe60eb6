//! The data mapper: one `User` aggregate ⇄ a `users` row and a `profiles` row.
//!
//! The domain and the tables disagree on purpose. The domain has one object; the database has two
//! rows joined by `user_id`, and a column the domain never sees (`email_normalized`, which makes
//! the email unique whatever its case). The mapper is the one place that knows both shapes, so the
//! domain can change without touching SQL and the schema can change without touching the domain.
//!
//! It also knows the columns' limits, and checks them before any SQL runs: an over-long value is
//! an `Invalid` error naming the field, never a truncated row or a half-written user.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::RepositoryError;
use crate::model::{Profile, User, UserId};

/// A row of `users`, as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub email_normalized: String,
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A row of `profiles`, as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProfileRow {
    pub user_id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub avatar_url: Option<String>,
    pub bio: Option<String>,
}

/// Both rows of one user, as one `SELECT ... JOIN` returns them.
#[derive(Debug, sqlx::FromRow)]
pub struct JoinedRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    #[sqlx(flatten)]
    pub profile: ProfileRow,
}

/// The longest value each column takes, in characters.
pub const LIMITS: [(&str, usize); 6] = [
    ("email", 254),
    ("password_hash", 255),
    ("first_name", 100),
    ("last_name", 100),
    ("avatar_url", 2048),
    ("bio", 1000),
];

/// How an email is compared: the same address in any case is the same account.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

// ANCHOR: to_rows
/// The rows that store `user`, or `Invalid` if a value does not fit its column.
pub fn to_rows(user: &User) -> Result<(UserRow, ProfileRow), RepositoryError> {
    let profile = &user.profile;
    let values = [
        Some(user.email.as_str()),
        Some(user.password_hash.as_str()),
        Some(profile.first_name.as_str()),
        Some(profile.last_name.as_str()),
        profile.avatar_url.as_deref(),
        profile.bio.as_deref(),
    ];
    for ((field, limit), value) in LIMITS.into_iter().zip(values) {
        check_fits(field, limit, value)?;
    }
    let user_row = UserRow {
        id: user.id.0,
        email: user.email.clone(),
        email_normalized: normalize_email(&user.email),
        password_hash: user.password_hash.clone(),
        created_at: user.created_at,
        updated_at: user.updated_at,
    };
    let profile_row = ProfileRow {
        user_id: user.id.0,
        first_name: profile.first_name.clone(),
        last_name: profile.last_name.clone(),
        avatar_url: profile.avatar_url.clone(),
        bio: profile.bio.clone(),
    };
    Ok((user_row, profile_row))
}

/// The aggregate that two rows store.
pub fn from_rows(user: UserRow, profile: ProfileRow) -> User {
    debug_assert_eq!(user.id, profile.user_id, "rows of two different users");
    User {
        id: UserId(user.id),
        email: user.email,
        password_hash: user.password_hash,
        created_at: user.created_at,
        updated_at: user.updated_at,
        profile: Profile {
            first_name: profile.first_name,
            last_name: profile.last_name,
            avatar_url: profile.avatar_url,
            bio: profile.bio,
        },
    }
}
// ANCHOR_END: to_rows

fn check_fits(field: &'static str, limit: usize, value: Option<&str>) -> Result<(), RepositoryError> {
    let Some(value) = value else { return Ok(()) };
    if value.contains('\0') {
        return Err(RepositoryError::Invalid {
            field,
            reason: "contains a NUL character".into(),
        });
    }
    let length = value.chars().count();
    if length > limit {
        return Err(RepositoryError::Invalid {
            field,
            reason: format!("{length} characters, at most {limit}"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    fn sample() -> User {
        let mut profile = Profile::new("Ada", "Lovelace");
        profile.avatar_url = Some("https://example.com/ada.png".into());
        User::new("Ada@Example.COM", "hash", profile)
    }

    #[test]
    fn a_user_becomes_two_rows_and_comes_back_the_same() {
        let user = sample();
        let (user_row, profile_row) = to_rows(&user).unwrap();
        assert_eq!(user_row.id, profile_row.user_id);
        assert_eq!(
            user_row.email, "Ada@Example.COM",
            "the email is stored as the user wrote it"
        );
        assert_eq!(
            user_row.email_normalized, "ada@example.com",
            "and once more, normalized, for uniqueness"
        );
        assert_eq!(profile_row.avatar_url.as_deref(), Some("https://example.com/ada.png"));
        assert_eq!(from_rows(user_row, profile_row), user);
    }

    #[rstest]
    #[case::email("email", 254)]
    #[case::first_name("first_name", 100)]
    #[case::last_name("last_name", 100)]
    #[case::avatar_url("avatar_url", 2048)]
    #[case::bio("bio", 1000)]
    fn a_value_one_character_too_long_is_invalid_and_names_its_field(#[case] field: &str, #[case] limit: usize) {
        let mut user = sample();
        let at_limit = "é".repeat(limit);
        let slot = match field {
            "email" => &mut user.email,
            "first_name" => &mut user.profile.first_name,
            "last_name" => &mut user.profile.last_name,
            "avatar_url" => user.profile.avatar_url.insert(String::new()),
            _ => user.profile.bio.insert(String::new()),
        };
        *slot = at_limit.clone();
        assert!(
            to_rows(&user).is_ok(),
            "{limit} characters fit {field} (counted in characters, not bytes)"
        );

        match field {
            "email" => user.email.push('x'),
            "first_name" => user.profile.first_name.push('x'),
            "last_name" => user.profile.last_name.push('x'),
            "avatar_url" => user.profile.avatar_url.as_mut().unwrap().push('x'),
            _ => user.profile.bio.as_mut().unwrap().push('x'),
        }
        match to_rows(&user) {
            Err(RepositoryError::Invalid { field: named, reason }) => {
                assert_eq!(named, field);
                assert!(
                    reason.contains(&format!("{} characters, at most {limit}", limit + 1)),
                    "{reason}"
                );
            }
            other => panic!("expected Invalid for {field}, got {other:?}"),
        }
    }

    #[test]
    fn a_nul_character_is_invalid() {
        let mut user = sample();
        user.profile.bio = Some("a\0b".into());
        assert!(matches!(
            to_rows(&user),
            Err(RepositoryError::Invalid { field: "bio", .. })
        ));
    }

    #[rstest]
    #[case("Ada@Example.COM", "ada@example.com")]
    #[case("  bob@example.com ", "bob@example.com")]
    #[case("ÉLODIE@exemple.fr", "élodie@exemple.fr")]
    fn emails_are_compared_trimmed_and_lowercased(#[case] email: &str, #[case] normalized: &str) {
        assert_eq!(normalize_email(email), normalized);
    }
}
