//! Exercise: count each event once, however often it arrives (statement:
//! `statements/idempotent_counter.md`, or `workbook hint idempotent_counter`).

use ch03_transaction_manager::{Ctx, Settings, SqlManager};
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
        // The record and the effect in one transaction: both happen, or neither does.
        self.tm
            .run(&Ctx::new(), Settings::default(), async |ctx| {
                let mut conn = self.tm.connection(ctx).await?;
                if !Postgres::record_processed(&mut conn, &self.consumer, &event.id.to_string()).await? {
                    return Ok(Processed::Duplicate);
                }
                Postgres::count_event(&mut conn, &event.kind).await?;
                Ok(Processed::Applied)
            })
            .await
    }
}
