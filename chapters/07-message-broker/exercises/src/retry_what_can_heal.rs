//! Exercise: retry what can heal, and only that (statement: `statements/retry_what_can_heal.md`,
//! or `workbook hint retry_what_can_heal`).

use ch07_message_broker::{Backoff, Event, HandlerError, Process, Processed};

/// Processes an event, trying again while what it depends on is away.
pub struct RetryWhatCanHeal<P> {
    pub inner: P,
    /// Tries in all, the first one included.
    pub attempts: u32,
    pub backoff: Backoff,
}

impl<P: Process> Process for RetryWhatCanHeal<P> {
    async fn process(&self, event: &Event) -> Result<Processed, HandlerError> {
        // The gap: one try, whatever the failure.
        self.inner.process(event).await
    }
}
