//! Every way a scope can end, not only the ones that return.
//!
//! A scope's body can return `Ok`, return `Err`, panic, or never finish: its future is dropped at
//! some `.await` by a `select!`, a `timeout`, a cancelled request or an aborted task. Rust gives
//! the last two no return value to look at, but it does run `drop` on everything the scope's
//! future holds. So each scope holds a guard that assumes the worst, and is told otherwise only
//! when its body returned `Ok`. Whatever else happens, the guard's `drop` dooms the work.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::manager::dialect::Dialect;
use crate::manager::physical::Physical;

// ANCHOR: doom
/// Held by a scope that joined a transaction: unless [`Doom::spare`]d, its drop marks the
/// transaction rollback-only, so that the outermost scope rolls back and reports
/// `UnexpectedRollback` instead of committing the joined scope's partial writes.
pub(crate) struct Doom<'a> {
    rollback_only: &'a AtomicBool,
}

impl<'a> Doom<'a> {
    pub(crate) fn new(rollback_only: &'a AtomicBool) -> Self {
        Self { rollback_only }
    }

    /// The scope's body returned `Ok`: leave the transaction as it is.
    pub(crate) fn spare(self) {
        std::mem::forget(self);
    }
}

impl Drop for Doom<'_> {
    fn drop(&mut self) {
        self.rollback_only.store(true, Ordering::SeqCst);
    }
}
// ANCHOR_END: doom

// ANCHOR: undo
/// Held by a `Nested` scope while its body runs: unless [`UndoUnlessFinished::finished`], its
/// drop asks that the transaction roll back to the scope's savepoint before its next statement,
/// and forgets the hooks the scope added.
pub(crate) struct UndoUnlessFinished<'a, DB: Dialect> {
    physical: &'a Physical<DB>,
    savepoint: u32,
    hooks: (usize, usize),
}

impl<'a, DB: Dialect> UndoUnlessFinished<'a, DB> {
    pub(crate) fn new(physical: &'a Physical<DB>, savepoint: u32, hooks: (usize, usize)) -> Self {
        Self {
            physical,
            savepoint,
            hooks,
        }
    }

    /// The body returned (`Ok` or `Err`): the scope ends the savepoint itself.
    pub(crate) fn finished(self) {
        std::mem::forget(self);
    }
}

impl<DB: Dialect> Drop for UndoUnlessFinished<'_, DB> {
    fn drop(&mut self) {
        self.physical.undo_to(self.savepoint);
        self.physical.hooks.lock().expect("not poisoned").truncate(self.hooks);
    }
}
// ANCHOR_END: undo

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_spared_guard_leaves_the_transaction_alone() {
        let flag = AtomicBool::new(false);
        Doom::new(&flag).spare();
        assert!(!flag.load(Ordering::SeqCst), "spared");

        drop(Doom::new(&flag));
        assert!(flag.load(Ordering::SeqCst), "dropped");

        let flag = AtomicBool::new(false);
        let unwound = std::panic::catch_unwind(|| {
            let _guard = Doom::new(&flag);
            panic!("the scope's body panics");
        });
        assert!(unwound.is_err());
        assert!(flag.load(Ordering::SeqCst), "a panic dooms the transaction");
    }
}
