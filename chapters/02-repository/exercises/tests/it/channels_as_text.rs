//! Exercise `channels_as_text`: the learner's mapper stores a set as one text column, and reads it
//! back, on PostgreSQL, MariaDB and SQLite.

use std::collections::BTreeSet;

use ch02_exercises::channels_as_text::{Channel, Preferences, PreferencesRow, from_row, to_row};
use ch02_repository::error::RepositoryError;
use ch02_repository::model::UserId;
use harness::{MySqlDatabase, PgDatabase, SqliteDatabase};
use rstest::rstest;
use sqlx::migrate::Migrator;
use uuid::Uuid;

static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");
static MYSQL: Migrator = sqlx::migrate!("migrations/mysql");
static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");

/// A `preferences` table on one of the backends, with the two statements the checks need.
enum Table {
    Postgres(PgDatabase),
    MariaDb(MySqlDatabase),
    Sqlite(SqliteDatabase),
}

#[derive(Debug, Clone, Copy)]
enum Backend {
    Postgres,
    MariaDb,
    Sqlite,
}

impl Table {
    async fn new(backend: Backend) -> anyhow::Result<Self> {
        Ok(match backend {
            Backend::Postgres => Table::Postgres(PgDatabase::new(&POSTGRES).await?),
            Backend::MariaDb => Table::MariaDb(MySqlDatabase::new(&MYSQL).await?),
            Backend::Sqlite => Table::Sqlite(SqliteDatabase::new(&SQLITE).await?),
        })
    }

    /// Stores a row as it is, as the repository (or another program) would.
    async fn insert(&self, row: &PreferencesRow) -> anyhow::Result<()> {
        const PORTABLE: &str = "INSERT INTO preferences (user_id, channels) VALUES (?, ?)";
        match self {
            Table::Postgres(db) => {
                sqlx::query("INSERT INTO preferences (user_id, channels) VALUES ($1, $2)")
                    .bind(row.user_id)
                    .bind(&row.channels)
                    .execute(db.pool())
                    .await?;
            }
            Table::MariaDb(db) => {
                sqlx::query(PORTABLE)
                    .bind(row.user_id)
                    .bind(&row.channels)
                    .execute(db.pool())
                    .await?;
            }
            Table::Sqlite(db) => {
                sqlx::query(PORTABLE)
                    .bind(row.user_id)
                    .bind(&row.channels)
                    .execute(db.pool())
                    .await?;
            }
        }
        Ok(())
    }

    /// The row of `user_id`, as stored.
    async fn row(&self, user_id: Uuid) -> anyhow::Result<PreferencesRow> {
        const PORTABLE: &str = "SELECT user_id, channels FROM preferences WHERE user_id = ?";
        Ok(match self {
            Table::Postgres(db) => {
                sqlx::query_as("SELECT user_id, channels FROM preferences WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_one(db.pool())
                    .await?
            }
            Table::MariaDb(db) => sqlx::query_as(PORTABLE).bind(user_id).fetch_one(db.pool()).await?,
            Table::Sqlite(db) => sqlx::query_as(PORTABLE).bind(user_id).fetch_one(db.pool()).await?,
        })
    }
}

fn preferences(channels: &[Channel]) -> Preferences {
    Preferences {
        user_id: UserId::new(),
        channels: channels.iter().copied().collect(),
    }
}

#[rstest]
#[case::postgres(Backend::Postgres)]
#[case::mariadb(Backend::MariaDb)]
#[case::sqlite(Backend::Sqlite)]
#[tokio::test]
async fn a_set_is_stored_as_its_words_in_order_and_comes_back_the_same(#[case] backend: Backend) -> anyhow::Result<()> {
    let table = Table::new(backend).await?;
    let push_and_email = preferences(&[Channel::Push, Channel::Email]);
    let nothing = preferences(&[]);

    for (chosen, stored) in [(&push_and_email, "email,push"), (&nothing, "")] {
        table.insert(&to_row(chosen)).await?;
        let row = table.row(chosen.user_id.0).await?;
        assert_eq!(
            row.channels, stored,
            "what {backend:?} stores for {:?}",
            chosen.channels
        );
        assert_eq!(&from_row(row)?, chosen, "what comes back from {backend:?}");
    }
    Ok(())
}

#[rstest]
#[case::postgres(Backend::Postgres)]
#[case::mariadb(Backend::MariaDb)]
#[case::sqlite(Backend::Sqlite)]
#[tokio::test]
async fn rows_written_by_hand_are_read_and_a_word_that_is_no_channel_is_refused(
    #[case] backend: Backend,
) -> anyhow::Result<()> {
    let table = Table::new(backend).await?;
    let (by_hand, with_fax) = (Uuid::now_v7(), Uuid::now_v7());
    for (user_id, channels) in [(by_hand, "sms,email"), (with_fax, "email,fax")] {
        table
            .insert(&PreferencesRow {
                user_id,
                channels: channels.into(),
            })
            .await?;
    }

    let read = from_row(table.row(by_hand).await?)?;
    assert_eq!(
        read.channels,
        BTreeSet::from([Channel::Email, Channel::Sms]),
        "a row written by hand as \"sms,email\""
    );

    match from_row(table.row(with_fax).await?) {
        Err(RepositoryError::Invalid {
            field: "channels",
            reason,
        }) => {
            assert!(reason.contains("fax"), "the reason should name the word: {reason}");
        }
        other => panic!("a row holding fax should be Invalid on channels, and was {other:?}"),
    }
    Ok(())
}
