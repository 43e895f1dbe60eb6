//! A fault the PostgreSQL server makes itself: the session that writes to a table is killed, as a
//! crashed connection would end it, at the worst moment for the code under test.
//!
//! The fault proxy ([`crate::fault`]) cuts connections from outside, at a moment the test picks.
//! Some lessons need the cut *between two statements of the code under test*, where a test cannot
//! reach: between the user and its message, between the record of an event and its effect. A
//! trigger can: it runs inside the write, and `pg_terminate_backend(pg_backend_pid())` ends the
//! session there. The write and the rest of its transaction are lost, and the client sees its
//! connection go, exactly as after a crash.

use sqlx::PgPool;

use crate::HarnessError;
use crate::error::Context;
use crate::names;

/// Makes the server kill the session that first writes (inserts or updates) a row of `table`, in
/// this test's database; later writes go through. The count is kept in a sequence, which a
/// rollback does not undo, so the kill happens once however the transaction ends.
pub async fn on_first_write(pool: &PgPool, table: &str) -> Result<(), HarnessError> {
    let table = names::safe_identifier(table)?;
    let statements = format!(
        "CREATE SEQUENCE {table}_writes;
         CREATE FUNCTION kill_first_writer_of_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             IF nextval('{table}_writes') = 1 THEN
                 PERFORM pg_terminate_backend(pg_backend_pid());
             END IF;
             RETURN NEW;
         END $$;
         CREATE TRIGGER kill_first_writer BEFORE INSERT OR UPDATE ON {table}
             FOR EACH ROW EXECUTE FUNCTION kill_first_writer_of_{table}();"
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(statements))
        .execute(pool)
        .await
        .context(|| format!("arming the kill of the first writer of {table}"))?;
    Ok(())
}
