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
    // A `BTreeSet` iterates in `Channel`'s order, which is `ALL`'s: one text for one set.
    let words: Vec<&str> = preferences.channels.iter().map(|channel| channel.word()).collect();
    PreferencesRow {
        user_id: preferences.user_id.0,
        channels: words.join(","),
    }
}

/// The preferences a row stores, or `Invalid` (naming `channels` and the word) for a word that is
/// no channel: a row another program wrote is not trusted to be well formed.
pub fn from_row(row: PreferencesRow) -> Result<Preferences, RepositoryError> {
    let mut channels = BTreeSet::new();
    // "" is no channel at all, not one channel with an empty name.
    for word in row.channels.split(',').filter(|word| !word.is_empty()) {
        let channel = Channel::ALL
            .into_iter()
            .find(|channel| channel.word() == word.trim())
            .ok_or_else(|| RepositoryError::Invalid {
                field: "channels",
                reason: format!("{word:?} is not a channel"),
            })?;
        channels.insert(channel);
    }
    Ok(Preferences {
        user_id: UserId(row.user_id),
        channels,
    })
}
