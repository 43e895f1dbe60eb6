//! The context handle: what a use case passes down so that repositories can find the current
//! transaction without taking it as a parameter. The Rust counterpart of Go's `context.Context`.
//!
//! A `Ctx` is immutable. Entering a scope makes a new `Ctx` with one more frame on top, which
//! the scope's body receives; the caller's `Ctx` is unchanged, so when the scope ends its frame
//! is simply gone. Frames form a linked list shared through `Arc`s, so cloning a `Ctx` is one
//! reference count, and it can be sent to another task: a task given the `Ctx` works in the same
//! transaction, which is explicit, visible in the code, and therefore not a trap.
//!
//! Each frame belongs to one manager, so two managers for two databases keep their transactions
//! side by side in one `Ctx`.

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Which manager a frame belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ManagerId(u64);

impl ManagerId {
    pub(crate) fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// What a frame says about its manager's connection for the code inside it.
#[derive(Clone)]
pub(crate) enum Frame {
    /// A transaction scope; the payload is the manager's scope type, erased.
    Transaction(Arc<dyn Any + Send + Sync>),
    /// Explicitly outside any transaction (`NotSupported`, `Never`, `Supports` without one):
    /// an outer transaction, if any, is suspended for the code inside.
    Suspended,
}

struct Node {
    manager: ManagerId,
    frame: Frame,
    parent: Option<Arc<Node>>,
}

/// The context of a call: which transaction, if any, each manager is in.
#[derive(Clone, Default)]
pub struct Ctx {
    top: Option<Arc<Node>>,
}

impl Ctx {
    /// A context with no transaction: where a request or a job starts.
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn with(&self, manager: ManagerId, frame: Frame) -> Ctx {
        Ctx {
            top: Some(Arc::new(Node {
                manager,
                frame,
                parent: self.top.clone(),
            })),
        }
    }

    /// The innermost frame of `manager`, if any.
    pub(crate) fn frame(&self, manager: ManagerId) -> Option<&Frame> {
        let mut node = self.top.as_deref();
        while let Some(current) = node {
            if current.manager == manager {
                return Some(&current.frame);
            }
            node = current.parent.as_deref();
        }
        None
    }

    /// Every frame of `manager`, innermost first.
    pub(crate) fn frames(&self, manager: ManagerId) -> impl Iterator<Item = &Frame> {
        std::iter::successors(self.top.as_deref(), |node| node.parent.as_deref())
            .filter(move |node| node.manager == manager)
            .map(|node| &node.frame)
    }

    /// A context one scope deeper, with no transaction in it: what a mocked manager gives a body,
    /// so that a test can tell the scope's context from the caller's.
    #[cfg(test)]
    pub(crate) fn entered(&self) -> Ctx {
        self.with(ManagerId::next(), Frame::Suspended)
    }

    /// How many scopes deep this context is, counting every manager's.
    pub fn depth(&self) -> usize {
        std::iter::successors(self.top.as_deref(), |node| node.parent.as_deref()).count()
    }
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ctx {{ frames: {} }}", self.depth())
    }
}
