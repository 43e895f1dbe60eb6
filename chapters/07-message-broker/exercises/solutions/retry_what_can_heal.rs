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
        let mut attempt = 1;
        loop {
            match self.inner.process(event).await {
                // A dependency is away: the same event may succeed in a moment.
                Err(HandlerError::Unavailable(_)) if attempt < self.attempts => {
                    tokio::time::sleep(self.backoff.delay(attempt)).await;
                    attempt += 1;
                }
                // Success, a rejection (retrying cannot help), or the last attempt's failure.
                outcome => return outcome,
            }
        }
    }
}
