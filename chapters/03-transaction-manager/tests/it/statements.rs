//! What the manager sends to the database, counted: for the benchmark's workload, exactly the
//! statements of the transaction written by hand. So the benchmark's ratio is the manager's own
//! work (a context, a mutex, an `Arc` or two), not a round trip it added.

use std::sync::{Arc, Mutex};

use ch03_transaction_manager::SqlManager;
use harness::PgDatabase;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};

use crate::support::POSTGRES;
use crate::workload::{managed, raw};

/// Records every statement sqlx logs (target `sqlx::query`), in order. sqlx does not log the
/// `BEGIN` that `Pool::begin_with` sends; both sides begin through it, with the manager's own
/// statement (`Dialect::begin`).
#[derive(Clone, Default)]
struct Statements(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Statements {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            let mut statement = Statement::default();
            event.record(&mut statement);
            self.0.lock().expect("not poisoned").push(statement.0);
        }
    }
}

/// The statement's text: sqlx's `db.statement` field, or its `summary` where that is empty
/// (`COMMIT`).
#[derive(Default)]
struct Statement(String);

impl Visit for Statement {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "db.statement" if !value.trim().is_empty() => self.0 = value.trim().to_owned(),
            "summary" if self.0.is_empty() => self.0 = value.trim().to_owned(),
            _ => {}
        }
    }

    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

impl Statements {
    /// The statements `work` sends, on this thread. (SQLite's driver runs statements on a worker
    /// thread of its own, outside this subscriber, so this is counted on PostgreSQL; the manager's
    /// code is the same for every database.)
    async fn sent_by(&self, work: impl Future<Output = ()>) -> Vec<String> {
        self.0.lock().expect("not poisoned").clear();
        work.await;
        std::mem::take(&mut *self.0.lock().expect("not poisoned"))
    }
}

#[tokio::test]
async fn the_manager_sends_the_statements_of_the_hand_written_transaction_on_postgres() -> anyhow::Result<()> {
    // Installed before anything logs, on any thread. tracing caches per call site whether anyone
    // listens; a call site first reached on another thread (the harness's background runtime runs
    // sqlx queries too) while a subscriber is being installed here can be cached as unheard, and
    // this test would then count nothing. Installed first, every call site is registered after it.
    let statements = Statements::default();
    let _listening = tracing::subscriber::set_default(tracing_subscriber::registry().with(statements.clone()));

    let db = PgDatabase::new(&POSTGRES).await?;
    let tm = SqlManager::new(db.pool().clone());
    // Once each first, so that connecting and preparing are not counted.
    raw(db.pool()).await;
    managed(&tm).await;

    let by_hand = statements.sent_by(raw(db.pool())).await;
    let through_the_manager = statements.sent_by(managed(&tm)).await;
    assert_eq!(by_hand.len(), 3, "INSERT, UPDATE, COMMIT: {by_hand:#?}");
    assert_eq!(through_the_manager, by_hand);
    Ok(())
}
