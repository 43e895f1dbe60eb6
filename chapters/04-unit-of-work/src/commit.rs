//! Committing a unit of work: its plan, written in one transaction, or nothing at all.

use sqlx::Pool;

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
/// Writes what `unit` tracked, in one transaction on `pool`: all of it, or (on any error) none.
/// A unit of work is committed once.
pub async fn commit<DB: PlanWriter>(unit: &mut UnitOfWork, pool: &Pool<DB>) -> Result<Written, CommitError> {
    unit.open()?;
    let writes = plan(&unit.tracked())?;
    let mut tx = pool.begin().await?;
    // An error returns early and drops `tx`, which rolls it back.
    let written = DB::write(&mut tx, &writes).await?;
    tx.commit().await?;
    unit.committed()?;
    Ok(written)
}
// ANCHOR_END: commit
