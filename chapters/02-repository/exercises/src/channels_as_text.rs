//! Exercise: a set in the domain, one text column in the table (statement:
//! `statements/channels_as_text.md`, or `workbook hint channels_as_text`).

use std::collections::BTreeSet;

use ch02_repository::error::RepositoryError;
use ch02_repository::model::UserId;
use uuid::Uuid;

/// A way of reaching a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Channel {
    Email,
    Sms,
    Push,
}

impl Channel {
    /// Every channel, in the order the column lists them.
    pub const ALL: [Channel; 3] = [Channel::Email, Channel::Sms, Channel::Push];

    /// The channel's word in the column.
    pub fn word(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Push => "push",
        }
    }
}

/// A user's notification preferences, as the domain has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preferences {
    pub user_id: UserId,
    pub channels: BTreeSet<Channel>,
}

/// A row of `preferences`, as stored: `channels` is the channels' words, comma-separated, in the
/// order of [`Channel::ALL`] (`email,push`); no channel is the empty string.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PreferencesRow {
    pub user_id: Uuid,
    pub channels: String,
}

/// The row that stores `preferences`.
pub fn to_row(preferences: &Preferences) -> PreferencesRow {
    // The gap: Rust's debug form of the set, `{Email, Push}`, which no report can read.
    PreferencesRow {
        user_id: preferences.user_id.0,
        channels: format!("{:?}", preferences.channels),
    }
}

/// The preferences a row stores, or `Invalid` (naming `channels` and the word) for a word that is
/// no channel: a row another program wrote is not trusted to be well formed.
pub fn from_row(row: PreferencesRow) -> Result<Preferences, RepositoryError> {
    // The gap: the column is not read at all.
    Ok(Preferences {
        user_id: UserId(row.user_id),
        channels: BTreeSet::new(),
    })
}
