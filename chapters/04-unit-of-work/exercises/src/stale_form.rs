//! Exercise: a form saved in a later request than it was read (statement:
//! `statements/stale_form.md`, or `workbook hint stale_form`).

use ch03_transaction_manager::{Ctx, SqlManager};
use ch04_unit_of_work::{ShopDatabase, UnitOfWork, commit};
use uuid::Uuid;

use crate::ExerciseError;

/// The rename form as it comes back from the browser: the product, its new name, and the version
/// the product had when the form was shown.
#[derive(Debug, Clone)]
pub struct RenameForm {
    pub product: Uuid,
    pub name: String,
    pub version: i64,
}

/// Saves the form's new name, unless the product was changed since the form was shown: then
/// `CommitError::Conflict`, and nothing is written.
pub async fn save_rename<DB: ShopDatabase>(tm: &SqlManager<DB>, form: &RenameForm) -> Result<(), ExerciseError> {
    let mut unit = UnitOfWork::new();
    let loaded = unit
        .load(form.product, async |id| {
            Ok::<_, ExerciseError>(DB::product(tm.pool(), id).await?)
        })
        .await?
        .ok_or(ExerciseError::NotFound("product", form.product))?;
    // The gap: the product was loaded just now, so the commit checks the version it has now, not
    // the one the form was shown with; a change made in between is overwritten.
    let _ = form.version;
    loaded.lock().name = form.name.clone();
    commit(&mut unit, tm, &Ctx::new()).await?;
    Ok(())
}
