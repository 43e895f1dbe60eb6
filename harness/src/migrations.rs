//! A stable key for a set of migrations, so that a schema is built once and cloned many times.
//!
//! Two migration sets with the same versions and the same file contents get the same key; change
//! one byte of one file and the key changes, so a stale template is never cloned.

use sha2::{Digest, Sha256};
use sqlx::migrate::Migrator;

/// Twelve hex digits of a SHA-256 over every migration's version and checksum.
pub fn key(migrator: &Migrator) -> String {
    let mut hasher = Sha256::new();
    for migration in migrator.iter() {
        hasher.update(migration.version.to_le_bytes());
        hasher.update(&migration.checksum[..]);
    }
    let digest = hasher.finalize();
    digest[..6].iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The key as a positive 32-bit number, for PostgreSQL's advisory lock that guards the build.
pub(crate) fn lock_key(key: &str) -> i32 {
    (u32::from_str_radix(&key[..8], 16).expect("a key is hex") & 0x7fff_ffff) as i32
}

/// Runs `migrator` on one connection, of any database.
///
/// `Migrator::run` is generic over `Acquire<'a>`, and the future it returns is not provably `Send`
/// for every lifetime: a test that spawns a task creating a database fails to compile with
/// "implementation of `Acquire` is not general enough". sqlx has `run_direct` for exactly this (its
/// source says so); it is hidden from sqlx's docs, so it is called in this one place only. It
/// records each migration in `_sqlx_migrations` as `run` does, so code that later calls `run` on a
/// test database finds nothing to do.
pub(crate) async fn run(
    migrator: &Migrator,
    connection: &mut impl sqlx::migrate::Migrate,
) -> Result<(), sqlx::migrate::MigrateError> {
    migrator.run_direct(None, connection, false).await
}
