//! Exercise: count each event once, however often it arrives (statement:
//! `statements/idempotent_counter.md`, or `workbook hint idempotent_counter`).

use ch03_transaction_manager::{Ctx, SqlManager};
use ch07_message_broker::inbox::InboxDb;
use ch07_message_broker::{Event, HandlerError, Process, Processed};
use sqlx::Postgres;

/// The analytics service's consumer: a counter per event type, in its own database.
pub struct Counter {
    pub tm: SqlManager<Postgres>,
    /// The consuming service's name, under which it records what it processed.
    pub consumer: String,
}

impl Process for Counter {
    async fn process(&self, event: &Event) -> Result<Processed, HandlerError> {
        // The gap: every delivery is counted, a redelivery too.
        let mut conn = self.tm.connection(&Ctx::new()).await?;
        Postgres::count_event(&mut conn, &event.kind).await?;
        Ok(Processed::Applied)
    }
}
