//! Exercise `stale_form`: a form shown before someone else's save is refused at its own.

use ch03_transaction_manager::Ctx;
use ch04_exercises::ExerciseError;
use ch04_exercises::stale_form::{RenameForm, save_rename};
use ch04_unit_of_work::{CommitError, UnitOfWork, commit};

use crate::support::Shop;

#[tokio::test]
async fn a_form_saved_with_nothing_in_between_renames_the_product() -> anyhow::Result<()> {
    let shop = Shop::new().await?;
    let widget = shop.product("widget", 5).await?;
    let shown = shop.stored(widget.id).await?;
    let form = RenameForm {
        product: widget.id,
        name: "blue widget".into(),
        version: shown.version,
    };

    save_rename(&shop.tm, &form).await?;

    let now = shop.stored(widget.id).await?;
    assert_eq!((now.name.as_str(), now.version), ("blue widget", shown.version + 1));
    Ok(())
}

#[tokio::test]
async fn a_form_saved_after_someone_elses_save_is_a_conflict_and_theirs_stands() -> anyhow::Result<()> {
    let shop = Shop::new().await?;
    let widget = shop.product("widget", 5).await?;
    let shown = shop.stored(widget.id).await?;
    // While the form is open, someone restocks the widget.
    let mut restock = UnitOfWork::new();
    let restocked = restock.loaded(shown.clone())?;
    restocked.lock().stock += 10;
    commit(&mut restock, &shop.tm, &Ctx::new()).await?;
    let form = RenameForm {
        product: widget.id,
        name: "blue widget".into(),
        version: shown.version,
    };

    let saved = save_rename(&shop.tm, &form).await;

    assert!(
        matches!(saved, Err(ExerciseError::Commit(CommitError::Conflict { .. }))),
        "the form was shown before the restock, and its save went through: {saved:?}"
    );
    let now = shop.stored(widget.id).await?;
    assert_eq!(
        (now.name.as_str(), now.stock),
        ("widget", 15),
        "the restock stands, and the stale rename is not written"
    );
    Ok(())
}
