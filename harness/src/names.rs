//! Names that no other test, and no other test process, will use.
//!
//! A name reads `wbt_<owner>_<n>_<test>`: the owning process (see [`crate::owner`]), a counter
//! within it, and as much of the test's name as fits, so that a leftover is easy to trace. The
//! owner part is what lets a later run tell a dead process's leftovers from a live one's.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// Prefix of every per-test database, key namespace and topic.
pub(crate) const PREFIX: &str = "wbt";

/// PostgreSQL truncates identifiers at 63 bytes, MySQL refuses more than 64.
const MAX_LEN: usize = 63;

static NEXT: AtomicU32 = AtomicU32::new(1);

static THIS_OWNER: LazyLock<u32> = LazyLock::new(|| {
    // Positive as an i32, because PostgreSQL's advisory lock keys are int4.
    (uuid::Uuid::new_v4().as_u128() as u32) & 0x7fff_ffff
});

/// The owner part of every name this process makes: a random id, picked once per process
/// (`owner` holds a lock named after it on each server).
pub(crate) fn this_owner() -> u32 {
    *THIS_OWNER
}

/// A fresh lowercase name made of `[a-z0-9_]`, safe as an unquoted SQL identifier.
pub(crate) fn unique() -> String {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut name = format!("{PREFIX}_{:08x}_{n}", this_owner());
    let test = current_test_slug();
    if !test.is_empty() {
        name.push('_');
        name.push_str(&test);
    }
    name.truncate(MAX_LEN);
    name.trim_end_matches('_').to_owned()
}

/// `name` if it is safe to format into SQL as an unquoted identifier: what [`unique`] makes.
///
/// SQL cannot bind an identifier as a parameter, so `CREATE DATABASE` and `DROP DATABASE` format
/// the name into the statement, under sqlx's `AssertSqlSafe`. This check is what makes that
/// assertion true for names that come back from a server, such as those a sweep lists.
pub(crate) fn safe_identifier(name: &str) -> Result<&str, crate::HarnessError> {
    let safe = !name.is_empty()
        && name.len() <= MAX_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if safe {
        Ok(name)
    } else {
        Err(crate::HarnessError::Other(format!(
            "{name:?} is not a name the harness makes; refusing to use it in SQL"
        )))
    }
}

/// The owner id written in a name made by [`unique`], if it is one.
pub(crate) fn owner_of(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(PREFIX)?.strip_prefix('_')?;
    let hex = rest.get(..8)?;
    u32::from_str_radix(hex, 16).ok()
}

/// The test harness names each test's thread after the test; the last path segment is enough.
fn current_test_slug() -> String {
    let thread = std::thread::current();
    let name = thread.name().unwrap_or_default();
    if name == "main" {
        return String::new();
    }
    let last = name.rsplit("::").next().unwrap_or(name);
    last.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct_identifiers_that_carry_their_owner() {
        let a = unique();
        let b = unique();
        assert_ne!(a, b);
        for name in [&a, &b] {
            assert!(name.len() <= MAX_LEN, "{name} is too long");
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{name}"
            );
            assert_eq!(owner_of(name), Some(this_owner()), "{name}");
        }
    }

    #[test]
    fn only_plain_lowercase_identifiers_are_safe_to_format_into_sql() {
        assert!(safe_identifier(&unique()).is_ok());
        assert!(safe_identifier("wbtpl_0123456789ab").is_ok());
        for unsafe_name in [
            "",
            "wbt_1; DROP DATABASE postgres",
            "wbt_\"x\"",
            "Wbt_upper",
            &"x".repeat(64),
        ] {
            assert!(safe_identifier(unsafe_name).is_err(), "{unsafe_name:?} passed");
        }
    }

    #[test]
    fn names_from_elsewhere_have_no_owner() {
        assert_eq!(owner_of("postgres"), None);
        assert_eq!(owner_of("wbtpl_0123456789ab"), None);
        assert_eq!(owner_of("wbt_zzzzzzzz_1"), None);
    }
}
