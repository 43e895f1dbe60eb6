//! Exercise: a restock that starts again when it loses a race (statement:
//! `statements/restock_retries.md`, or `workbook hint restock_retries`).

use ch03_transaction_manager::{Ctx, SqlManager};
use ch04_unit_of_work::{CommitError, ShopDatabase, UnitOfWork, commit};
use uuid::Uuid;

use crate::ExerciseError;

/// How many times a restock tries before it gives up.
pub const ATTEMPTS: u32 = 50;

/// Adds `quantity` to the stock of `product`. Returns how many attempts it took.
pub async fn restock<DB: ShopDatabase>(tm: &SqlManager<DB>, product: Uuid, quantity: i64) -> Result<u32, ExerciseError> {
    let mut attempt = 1;
    loop {
        let mut unit = UnitOfWork::new();
        let loaded = unit
            .load(product, async |id| Ok::<_, ExerciseError>(DB::product(tm.pool(), id).await?))
            .await?
            .ok_or(ExerciseError::NotFound("product", product))?;
        loaded.lock().stock += quantity;
        match commit(&mut unit, tm, &Ctx::new()).await {
            Ok(_) => return Ok(attempt),
            Err(CommitError::Conflict { .. }) if attempt < ATTEMPTS => attempt += 1,
            Err(error) => return Err(error.into()),
        }
    }
}
