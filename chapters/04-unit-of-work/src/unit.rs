//! The unit of work's memory: each object loaded or registered through it, once, with what it
//! looked like when loaded.
//!
//! **Identity map.** Loading an id that is already tracked runs no query and returns the same
//! object: two parts of a use case that both load product 7 hold one product, so a change made
//! through one is seen through the other, and they cannot commit two diverging copies. An object
//! is a [`Handle`], shared; its lock is held only while it is read or changed, never across an
//! `await`.
//!
//! **Registration.** A loaded object is tracked with a snapshot of its values; a new one is
//! registered as new (it has its id already, so its children can point at it before anything is
//! stored); a removed one as removed. [`UnitOfWork::tracked`] reads every object's values now, for
//! [`crate::plan`] to compare with the snapshots.
//!
//! **Rollback** forgets everything: the registered changes and the identity map. The handles a
//! use case still holds are detached from then on, and the unit of work refuses new work.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use uuid::Uuid;

use crate::entity::Entity;
use crate::plan::{State, Tracked};
use crate::table::Table;
use crate::value::Value;

/// An object tracked by a unit of work, shared by everyone who loaded it through that unit.
pub struct Handle<T>(Arc<Mutex<T>>);

impl<T> Clone for Handle<T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<T> Handle<T> {
    /// The object, to read or change. Do not hold it across an `await`.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        // A panic while changing an object leaves it as the panic found it; the unit of work is
        // about to be dropped with its use case, so the poison carries no further meaning.
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether two handles are one object.
    pub fn same_as(&self, other: &Handle<T>) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// What a unit of work refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error("{table} {id} is tracked already: register it once")]
    AlreadyTracked { table: &'static str, id: Uuid },
    #[error("{table} {id} is not tracked by this unit of work")]
    NotTracked { table: &'static str, id: Uuid },
    #[error("this unit of work was {0}: start a new one")]
    Finished(&'static str),
    #[error("{table} has no version column to check a read against")]
    NotVersioned { table: &'static str },
}

struct Entry {
    table: Table,
    id: Uuid,
    state: State,
    /// The `Arc<Mutex<T>>` behind the entry's handles, for [`UnitOfWork::get`] to hand out again.
    object: Arc<dyn Any + Send + Sync>,
    /// Reads the object's values as they are now.
    values: Box<dyn Fn() -> Vec<Value> + Send + Sync>,
}

/// The objects of one business transaction. See the module's documentation.
#[derive(Default)]
pub struct UnitOfWork {
    entries: Vec<Entry>,
    index: HashMap<(&'static str, Uuid), usize>,
    finished: Option<&'static str>,
}

impl UnitOfWork {
    pub fn new() -> Self {
        Self::default()
    }

    // ANCHOR: load
    /// The object with this id: the tracked one if it was loaded or registered already (and then
    /// `fetch` is not called), else what `fetch` reads, tracked from now on with a snapshot.
    pub async fn load<T, E, F, Fut>(&mut self, id: Uuid, fetch: F) -> Result<Option<Handle<T>>, E>
    where
        T: Entity,
        E: From<UnitError>,
        F: FnOnce(Uuid) -> Fut,
        Fut: Future<Output = Result<Option<T>, E>>,
    {
        self.open()?;
        if let Some(tracked) = self.get::<T>(id) {
            return Ok(Some(tracked));
        }
        match fetch(id).await? {
            Some(row) => Ok(Some(self.loaded(row)?)),
            None => Ok(None),
        }
    }
    // ANCHOR_END: load

    /// Tracks a row just read from the database, unless its id is tracked already: then the
    /// tracked object is returned and the row is dropped, so that what the use case changed is
    /// never overwritten by a fresh read.
    pub fn loaded<T: Entity>(&mut self, row: T) -> Result<Handle<T>, UnitError> {
        self.open()?;
        if let Some(tracked) = self.get::<T>(row.id()) {
            return Ok(tracked);
        }
        let snapshot = row.values();
        Ok(self.track(row, State::Loaded(snapshot)))
    }

    /// Tracks a new object, to be inserted at commit.
    pub fn register_new<T: Entity>(&mut self, object: T) -> Result<Handle<T>, UnitError> {
        self.open()?;
        let id = object.id();
        if self.index.contains_key(&(T::TABLE.name, id)) {
            return Err(UnitError::AlreadyTracked {
                table: T::TABLE.name,
                id,
            });
        }
        Ok(self.track(object, State::New))
    }

    /// Marks a tracked object as removed: a loaded one is deleted at commit; a new one is simply
    /// forgotten, since it was never stored.
    pub fn register_removed<T: Entity>(&mut self, object: &Handle<T>) -> Result<(), UnitError> {
        self.open()?;
        let at = self.entry_of(object)?;
        match &self.entries[at].state {
            State::New => {
                self.entries.remove(at);
                self.reindex();
            }
            State::Loaded(snapshot) => self.entries[at].state = State::Removed(snapshot.clone()),
            State::Removed(_) => {}
        }
        Ok(())
    }

    // ANCHOR: read_at
    /// Says that the use case's view of `object` is from `version`, read in an earlier request
    /// (a form carries it back): the commit then writes only if the row is still at that
    /// version, and refuses with `Conflict` if anyone saved it since, even before this unit of
    /// work loaded it (the optimistic offline lock of a business transaction longer than one
    /// request).
    pub fn read_at<T: Entity>(&mut self, object: &Handle<T>, version: i64) -> Result<(), UnitError> {
        self.open()?;
        let at = self.entry_of(object)?;
        let table = self.entries[at].table;
        let column = table
            .version
            .and_then(|column| table.position(column))
            .ok_or(UnitError::NotVersioned { table: table.name })?;
        match &mut self.entries[at].state {
            State::Loaded(snapshot) => {
                snapshot[column] = Value::Int(Some(version));
                Ok(())
            }
            // A new object has no earlier version; a removed one is deleted at its loaded version.
            State::New | State::Removed(_) => Err(UnitError::NotTracked {
                table: table.name,
                id: self.entries[at].id,
            }),
        }
    }
    // ANCHOR_END: read_at

    /// Where `object` is tracked: `NotTracked` if it is not, or is another unit of work's.
    fn entry_of<T: Entity>(&self, object: &Handle<T>) -> Result<usize, UnitError> {
        let id = object.lock().id();
        let not_tracked = UnitError::NotTracked {
            table: T::TABLE.name,
            id,
        };
        let at = *self.index.get(&(T::TABLE.name, id)).ok_or(not_tracked.clone())?;
        let same = Arc::ptr_eq(
            &self.entries[at].object,
            &(Arc::clone(&object.0) as Arc<dyn Any + Send + Sync>),
        );
        if same { Ok(at) } else { Err(not_tracked) }
    }

    /// The tracked object with this id, if there is one. Runs no query.
    pub fn get<T: Entity>(&self, id: Uuid) -> Option<Handle<T>> {
        let at = *self.index.get(&(T::TABLE.name, id))?;
        let object = Arc::clone(&self.entries[at].object).downcast::<Mutex<T>>().ok()?;
        Some(Handle(object))
    }

    /// Every tracked row, in the order it was first tracked, with its values as they are now.
    pub fn tracked(&self) -> Vec<Tracked> {
        self.entries
            .iter()
            .map(|entry| Tracked {
                table: entry.table,
                id: entry.id,
                state: entry.state.clone(),
                values: (entry.values)(),
            })
            .collect()
    }

    /// Forgets every registered change and every loaded object; the unit of work takes no more.
    pub fn rollback(&mut self) {
        self.entries.clear();
        self.index.clear();
        self.finished = Some("rolled back");
    }

    /// Marks the unit of work as committed: it takes no more, and a second commit is refused.
    pub fn committed(&mut self) -> Result<(), UnitError> {
        self.open()?;
        self.finished = Some("committed");
        Ok(())
    }

    /// `Finished` once the unit of work was committed or rolled back.
    pub fn open(&self) -> Result<(), UnitError> {
        match self.finished {
            Some(how) => Err(UnitError::Finished(how)),
            None => Ok(()),
        }
    }

    fn track<T: Entity>(&mut self, object: T, state: State) -> Handle<T> {
        let id = object.id();
        let shared = Arc::new(Mutex::new(object));
        let reader = Handle(Arc::clone(&shared));
        self.index.insert((T::TABLE.name, id), self.entries.len());
        self.entries.push(Entry {
            table: T::TABLE,
            id,
            state,
            object: Arc::clone(&shared) as Arc<dyn Any + Send + Sync>,
            values: Box::new(move || reader.lock().values()),
        });
        Handle(shared)
    }

    fn reindex(&mut self) {
        self.index = self
            .entries
            .iter()
            .enumerate()
            .map(|(at, entry)| ((entry.table.name, entry.id), at))
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::plan::{Write, plan};
    use crate::shop::Product;

    fn gadget(stock: i64) -> Product {
        Product {
            id: Uuid::from_u128(9),
            name: "gadget".into(),
            stock,
            version: 0,
        }
    }

    fn widget() -> Product {
        Product {
            id: Uuid::from_u128(7),
            name: "widget".into(),
            stock: 5,
            version: 0,
        }
    }

    /// A fetch from a "database" holding the widget, counting its queries.
    async fn fetch(queries: &Cell<u32>, id: Uuid) -> Result<Option<Product>, UnitError> {
        queries.set(queries.get() + 1);
        Ok((id == widget().id).then(widget))
    }

    #[tokio::test]
    async fn loading_one_id_twice_runs_one_query_and_gives_one_object() {
        let (mut unit, queries) = (UnitOfWork::new(), Cell::new(0));
        let first = unit.load(widget().id, |id| fetch(&queries, id)).await.unwrap().unwrap();
        let second = unit.load(widget().id, |id| fetch(&queries, id)).await.unwrap().unwrap();

        assert_eq!(queries.get(), 1, "the second load is answered from the identity map");
        assert!(first.same_as(&second));
        first.lock().stock = 4;
        assert_eq!(second.lock().stock, 4, "a change through one is seen through the other");
        let missing = unit.load::<Product, _, _, _>(Uuid::from_u128(8), |id| fetch(&queries, id));
        assert!(missing.await.unwrap().is_none());
    }

    #[test]
    fn a_row_read_again_does_not_overwrite_the_tracked_object() {
        let mut unit = UnitOfWork::new();
        let tracked = unit.loaded(widget()).unwrap();
        tracked.lock().stock = 0;

        let again = unit.loaded(widget()).unwrap();

        assert!(again.same_as(&tracked));
        assert_eq!(again.lock().stock, 0, "the fresh read of stock 5 is dropped");
    }

    #[test]
    fn what_was_changed_through_a_handle_is_what_the_plan_writes() {
        let mut unit = UnitOfWork::new();
        let product = unit.loaded(widget()).unwrap();
        let gadget = unit.register_new(gadget(2)).unwrap();
        product.lock().stock = 0;
        gadget.lock().stock = 3;

        assert_eq!(
            plan(&unit.tracked()).unwrap(),
            [
                Write::Insert {
                    table: Product::TABLE,
                    id: Uuid::from_u128(9),
                    values: vec!["gadget".into(), 3.into(), 0.into()],
                },
                Write::Update {
                    table: Product::TABLE,
                    id: widget().id,
                    columns: vec!["stock"],
                    values: vec![0.into()],
                    expected: Some(0),
                },
            ]
        );
    }

    #[test]
    fn an_object_is_registered_once_and_removing_a_new_one_forgets_it() {
        let mut unit = UnitOfWork::new();
        let loaded = unit.loaded(widget()).unwrap();
        assert_eq!(
            unit.register_new(widget()).err(),
            Some(UnitError::AlreadyTracked {
                table: "products",
                id: widget().id
            })
        );
        let new = unit.register_new(gadget(1)).unwrap();

        unit.register_removed(&new).unwrap();
        unit.register_removed(&loaded).unwrap();

        let states: Vec<State> = unit.tracked().into_iter().map(|row| row.state).collect();
        assert_eq!(
            states,
            [State::Removed(widget().values())],
            "the new gadget was never stored: nothing to delete"
        );
        assert!(unit.get::<Product>(Uuid::from_u128(9)).is_none());
    }

    #[test]
    fn an_object_of_another_unit_of_work_is_not_this_ones_to_remove() {
        let (mut mine, mut theirs) = (UnitOfWork::new(), UnitOfWork::new());
        mine.loaded(widget()).unwrap();
        let foreign = theirs.loaded(widget()).unwrap();
        assert_eq!(
            mine.register_removed(&foreign),
            Err(UnitError::NotTracked {
                table: "products",
                id: widget().id
            })
        );
        assert_eq!(mine.tracked()[0].state, State::Loaded(widget().values()));
    }

    #[test]
    fn after_a_rollback_nothing_is_tracked_and_nothing_more_is_taken() {
        let mut unit = UnitOfWork::new();
        let product = unit.loaded(widget()).unwrap();
        product.lock().stock = 0;

        unit.rollback();

        assert!(unit.tracked().is_empty());
        assert!(
            unit.get::<Product>(widget().id).is_none(),
            "the identity map is gone too"
        );
        assert_eq!(unit.loaded(widget()).err(), Some(UnitError::Finished("rolled back")));
        assert_eq!(unit.register_removed(&product), Err(UnitError::Finished("rolled back")));
        assert_eq!(unit.committed(), Err(UnitError::Finished("rolled back")));
    }

    #[test]
    fn a_read_at_an_earlier_version_is_what_the_commit_checks_and_only_for_loaded_rows() {
        let mut unit = UnitOfWork::new();
        let loaded = unit.loaded(widget()).unwrap();
        loaded.lock().stock = 4;
        unit.read_at(&loaded, 3).unwrap();

        let writes = plan(&unit.tracked()).unwrap();
        assert!(
            matches!(&writes[..], [Write::Update { expected: Some(3), columns, .. }] if columns == &["stock"]),
            "the commit checks the version the form was read at: {writes:?}"
        );
        let new = unit.register_new(gadget(1)).unwrap();
        assert!(matches!(unit.read_at(&new, 0), Err(UnitError::NotTracked { .. })));
        let mut other = UnitOfWork::new();
        let foreign = other.loaded(widget()).unwrap();
        assert!(matches!(unit.read_at(&foreign, 0), Err(UnitError::NotTracked { .. })));
        let order = unit
            .loaded(crate::shop::Order {
                id: Uuid::from_u128(10),
                customer: "ada".into(),
            })
            .unwrap();
        assert_eq!(
            unit.read_at(&order, 0),
            Err(UnitError::NotVersioned { table: "orders" })
        );
    }

    #[test]
    fn a_unit_of_work_is_committed_once() {
        let mut unit = UnitOfWork::new();
        unit.committed().unwrap();
        assert_eq!(unit.committed(), Err(UnitError::Finished("committed")));
        assert!(unit.register_new(widget()).is_err());
    }
}
