//! Exercise: cancel an order (statement: `statements/cancel_order.md`, or
//! `workbook hint cancel_order`).

use ch03_transaction_manager::{Ctx, SqlManager};
use ch04_unit_of_work::{ShopDatabase, UnitOfWork, Written, commit};
use uuid::Uuid;

use crate::ExerciseError;

/// Cancels the order `order_id`: the order and its lines removed, and each line's quantity given
/// back to its product's stock; all of it in one commit, or nothing.
pub async fn cancel_order<DB: ShopDatabase>(tm: &SqlManager<DB>, order_id: Uuid) -> Result<Written, ExerciseError> {
    let pool = tm.pool();
    let order = DB::order(pool, order_id)
        .await?
        .ok_or(ExerciseError::NotFound("order", order_id))?;
    let mut unit = UnitOfWork::new();
    let order = unit.loaded(order)?;
    unit.register_removed(&order)?;
    // The gap: the order's lines still reference it, and their stock is not given back.
    Ok(commit(&mut unit, tm, &Ctx::new()).await?)
}
