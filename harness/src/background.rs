//! A tokio runtime that lives as long as the test process.
//!
//! `#[tokio::test]` gives every test its own runtime, which is shut down when the test ends. Some of
//! the harness's work must outlive that: the connection that marks this process as alive (see
//! [`crate::owner`]), the containers, the fault proxies' tasks, and the clean-up that runs in a
//! `Drop` while a panicking test unwinds (its own runtime may be going away). That work runs here.

use std::future::Future;
use std::sync::LazyLock;
use std::time::Duration;

use tokio::runtime::{Handle, Runtime};

static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("harness-background")
        .enable_all()
        .build()
        .expect("the harness could not start its background tokio runtime")
});

/// The handle of the process-wide runtime.
pub fn handle() -> &'static Handle {
    RUNTIME.handle()
}

/// Runs `future` on the background runtime and waits for it from any async context.
pub async fn run<F>(future: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match handle().spawn(future).await {
        Ok(output) => output,
        Err(join_error) => std::panic::resume_unwind(join_error.into_panic()),
    }
}

/// Runs `future` on the background runtime and blocks this thread until it is done, or until
/// `limit` passes. For `Drop` implementations, which cannot `.await`.
///
/// Blocking is safe here even on a test's single-threaded runtime: the work happens on the
/// background runtime's own thread, which this thread does not need.
pub fn block_on_with_limit<F>(limit: Duration, future: F) -> Option<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (done, outcome) = std::sync::mpsc::sync_channel(1);
    handle().spawn(async move {
        let _ = done.send(future.await);
    });
    outcome.recv_timeout(limit).ok()
}
