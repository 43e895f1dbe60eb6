//! Committing a unit of work: its plan, written in one transaction, or nothing at all.
//!
//! The transaction is chapter 03's: the commit runs in a `Required` scope of the transaction
//! manager, so a unit of work committed inside a use case that already opened a transaction joins
//! it (and its writes commit, or roll back, with the rest of that use case), and one committed
//! alone opens a transaction of its own.

use ch03_transaction_manager::{Ctx, Dialect, Settings, SqlManager, TxError};

use crate::order::CycleError;
use crate::plan::plan;
use crate::unit::{UnitError, UnitOfWork};
use crate::writer::{PlanWriter, WriteError, Written};

/// Why a commit wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error(transparent)]
    Unit(#[from] UnitError),
    #[error(transparent)]
    Order(#[from] CycleError),
    /// A row was changed by someone else since this unit of work loaded it; nothing was written.
    #[error("{table} {id} was changed by someone else since it was loaded; nothing was written")]
    Conflict { table: &'static str, id: uuid::Uuid },
    /// The transaction manager could not begin, join or end the transaction.
    #[error(transparent)]
    Tx(#[from] TxError),
    /// The database refused a statement or went away; the transaction was rolled back.
    #[error("the commit was rolled back: {0}")]
    Storage(#[from] sqlx::Error),
}

impl From<WriteError> for CommitError {
    fn from(error: WriteError) -> Self {
        match error {
            WriteError::Conflict { table, id } => CommitError::Conflict { table, id },
            WriteError::Storage(error) => CommitError::Storage(error),
        }
    }
}

// ANCHOR: commit
/// Writes what `unit` tracked, in the transaction of `ctx` if it has one, else in one of its own:
/// all of it, or (on any error) none. A unit of work is committed once.
pub async fn commit<DB>(unit: &mut UnitOfWork, tm: &SqlManager<DB>, ctx: &Ctx) -> Result<Written, CommitError>
where
    DB: PlanWriter + Dialect,
{
    unit.open()?;
    let writes = plan(&unit.tracked())?;
    // An error ends the scope: a transaction it began rolls back, one it joined cannot commit.
    let written = tm
        .run(ctx, Settings::default(), async |ctx| {
            let mut conn = tm.connection(ctx).await?;
            Ok::<_, CommitError>(DB::write(&mut conn, &writes).await?)
        })
        .await?;
    unit.committed()?;
    Ok(written)
}
// ANCHOR_END: commit
