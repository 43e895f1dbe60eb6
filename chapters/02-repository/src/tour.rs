//! The chapter's tour: one user, two rows, one aggregate; a conflict; a half write that never lands.

use harness::narrator::Narrator;
use harness::tour::Services;
use harness::{PgDatabase, SqliteDatabase};

use crate::{PostgresUserRepository, Profile, RepositoryError, SqliteUserRepository, User, UserRepository, migrations};

pub async fn run(services: Services, narrator: &mut Narrator) -> anyhow::Result<()> {
    narrator.title(
        "02 repository and data mapper: the domain model is not the table layout",
        "The domain sees one User holding a Profile. The database stores two tables and a column the domain \
         never mentions. The repository speaks in users; the mapper is the only code that knows both shapes.",
    );
    match services {
        Services::Embedded => {
            let db = SqliteDatabase::new(&migrations::SQLITE).await?;
            narrator.say("Storage: SQLite in memory (run with --real for PostgreSQL).");
            let tables = Tables::Sqlite(db.pool().clone());
            scenario(&SqliteUserRepository::new(db.pool().clone()), &tables, narrator).await
        }
        Services::Real => {
            let db = PgDatabase::new(&migrations::POSTGRES).await?;
            narrator.say(&format!(
                "Storage: PostgreSQL database {} (from {}).",
                db.name(),
                db.endpoint().origin
            ));
            let tables = Tables::Postgres(db.pool().clone());
            scenario(&PostgresUserRepository::new(db.pool().clone()), &tables, narrator).await
        }
    }
}

/// A direct look at the tables, past the repository, to show what it stored.
enum Tables {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// The columns a reader should see: users' two emails, and the profile's names and bio.
type RawRows = (String, String, String, String, Option<String>);

impl Tables {
    async fn rows_of_first_user(&self) -> anyhow::Result<RawRows> {
        const SQL: &str = "SELECT u.email, u.email_normalized, p.first_name, p.last_name, p.bio \
                           FROM users u JOIN profiles p ON p.user_id = u.id";
        Ok(match self {
            Tables::Sqlite(pool) => sqlx::query_as(SQL).fetch_one(pool).await?,
            Tables::Postgres(pool) => sqlx::query_as(SQL).fetch_one(pool).await?,
        })
    }

    /// Makes the `profiles` insert fail for the first name "Mallory", the way each database allows.
    async fn refuse_profiles_of_mallory(&self) -> anyhow::Result<()> {
        match self {
            Tables::Sqlite(pool) => {
                sqlx::query(
                    "CREATE TRIGGER no_mallory BEFORE INSERT ON profiles WHEN NEW.first_name = 'Mallory' \
                     BEGIN SELECT RAISE(ABORT, 'no_mallory'); END",
                )
                .execute(pool)
                .await?;
            }
            Tables::Postgres(pool) => {
                sqlx::query("ALTER TABLE profiles ADD CONSTRAINT no_mallory CHECK (first_name <> 'Mallory')")
                    .execute(pool)
                    .await?;
            }
        }
        Ok(())
    }

    async fn user_count(&self) -> anyhow::Result<i64> {
        const SQL: &str = "SELECT COUNT(*) FROM users";
        Ok(match self {
            Tables::Sqlite(pool) => sqlx::query_scalar(SQL).fetch_one(pool).await?,
            Tables::Postgres(pool) => sqlx::query_scalar(SQL).fetch_one(pool).await?,
        })
    }
}

async fn scenario(users: &impl UserRepository, tables: &Tables, narrator: &mut Narrator) -> anyhow::Result<()> {
    narrator.step("Save one user");
    let mut profile = Profile::new("Ada", "Lovelace");
    profile.bio = Some("Wrote the first program.".into());
    let ada = User::new("Ada@Example.com", "argon2id$...", profile);
    users.save(&ada).await?;
    narrator.held(&format!("saved user {} ({})", ada.id, ada.email));

    narrator.step("Look at what the database holds");
    let (email, email_normalized, first_name, last_name, bio) = tables.rows_of_first_user().await?;
    anyhow::ensure!(
        email == "Ada@Example.com" && email_normalized == "ada@example.com" && first_name == "Ada",
        "the rows do not hold what was saved: {email:?}, {email_normalized:?}, {first_name:?}"
    );
    narrator.say(&format!(
        "users:    email = {email:?}, email_normalized = {email_normalized:?}"
    ));
    narrator.say(&format!(
        "profiles: first_name = {first_name:?}, last_name = {last_name:?}, bio = {bio:?}"
    ));
    narrator.say("Two rows, and a column (email_normalized) that only the table has: it makes the email unique whatever its case.");

    narrator.step("Read it back as one aggregate, by email in another case");
    let found = users
        .find_by_email("ADA@example.COM")
        .await?
        .ok_or_else(|| anyhow::anyhow!("the user was not found"))?;
    anyhow::ensure!(found == ada, "read back {found:?}, saved {ada:?}");
    narrator.held(&format!(
        "found {} {} <{}>, equal to what was saved",
        found.profile.first_name, found.profile.last_name, found.email,
    ));

    narrator.step("A second user with the same email, in another case");
    let copycat = User::new("ada@EXAMPLE.com", "other", Profile::new("Not", "Ada"));
    match users.save(&copycat).await {
        Err(RepositoryError::Conflict { field }) => {
            narrator.broke(&format!("rejected: Conflict {{ field: {field:?} }}"));
        }
        other => anyhow::bail!("expected a conflict, got {other:?}"),
    }
    let first = users.get(ada.id).await?;
    anyhow::ensure!(first == ada, "the conflict changed the first user: {first:?}");
    narrator.held("the first user is untouched");

    narrator.step("A value too long for its column");
    let mut long = User::new("long@example.com", "h", Profile::new("L", "Long"));
    long.profile.bio = Some("x".repeat(1001));
    match users.save(&long).await {
        Err(error @ RepositoryError::Invalid { .. }) => {
            narrator.broke(&format!("rejected before any SQL ran: {error}"));
        }
        other => anyhow::bail!("expected Invalid, got {other:?}"),
    }
    let count = tables.user_count().await?;
    anyhow::ensure!(count == 1, "the refused save left {count} users in the table");
    narrator.held(&format!("users in the table: {count} (Ada only)"));

    narrator.step("The second of the two writes fails");
    tables.refuse_profiles_of_mallory().await?;
    narrator.say(
        "The tour adds a constraint that refuses any profile of a user called Mallory, then saves Mallory: \
         the users row is inserted, the profiles insert fails, and the adapter's transaction is rolled back.",
    );
    let mallory = User::new("mallory@example.com", "h", Profile::new("Mallory", "Evil"));
    match users.save(&mallory).await {
        Err(error) => narrator.broke(&format!("save failed: {error}")),
        Ok(()) => anyhow::bail!("the constraint should have failed the save"),
    }
    let count = tables.user_count().await?;
    anyhow::ensure!(count == 1, "the half write left {count} users in the table");
    narrator.held(&format!(
        "users in the table: {count}: Mallory's users row was rolled back with the failed profile"
    ));
    narrator
        .say("Chapter 03 lifts this transaction out of the repository, so a use case can make several saves atomic.");
    Ok(())
}
