//! Whose fault a database error is: the event's, or the database's.
//!
//! The difference decides what the consumer does. An event whose content the database refuses
//! (a value it cannot store, a constraint it breaks) will be refused however often it is tried:
//! after its attempts it goes to the dead-letter topic, and the events behind it on its partition
//! go on. Anything else (a lost connection, a pool timeout, a deadlock, a serialization failure)
//! may well succeed on the next try, so the event is retried and never parked for it.

use sqlx::error::ErrorKind;

// ANCHOR: permanent
/// Whether `error` is the event's fault: the database refuses the content for good.
pub fn refuses_for_good(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = error else {
        // Connection, pool, protocol and decoding errors: the database's side, or ours.
        return false;
    };
    // Unique, foreign key, not null and check violations, as sqlx names them on every database.
    if !matches!(db.kind(), ErrorKind::Other) {
        return true;
    }
    // SQLSTATE class 22 is "data exception" (a value that does not fit or cannot be encoded), 23
    // "integrity constraint violation". PostgreSQL reports SQLSTATE; so does MySQL, for most.
    if db
        .code()
        .is_some_and(|code| code.starts_with("22") || code.starts_with("23"))
    {
        return true;
    }
    if let Some(mysql) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        // Data errors that MySQL files under the catch-all SQLSTATE HY000.
        const INCORRECT_STRING_VALUE: u16 = 1366;
        const INCORRECT_VALUE: u16 = 1292;
        const DATA_TRUNCATED: u16 = 1265;
        return matches!(
            mysql.number(),
            INCORRECT_STRING_VALUE | INCORRECT_VALUE | DATA_TRUNCATED
        );
    }
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        // SQLite's result codes: a value too big, or of the wrong type for its column.
        const TOOBIG: &str = "18";
        const MISMATCH: &str = "20";
        return matches!(db.code().as_deref(), Some(TOOBIG | MISMATCH));
    }
    false
}
// ANCHOR_END: permanent
