//! The relay: moves events from the outbox to the broker, for as long as it runs.
//!
//! It loops: take a batch, publish it, delete it. When the outbox is empty it waits a little;
//! when the broker (or the database) fails it backs off, longer after each failure in a row, and
//! goes on where it stopped once they are back, so nothing written while the broker was down is
//! lost. Stopping it at any moment is safe: a batch in flight rolls back and is published again
//! by the next relay, which consumers absorb.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::Utc;

use crate::backoff::Backoff;
use crate::outbox::{OutboxStore, RelayError};
use crate::publisher::Publisher;

#[derive(Debug, Clone, Copy)]
pub struct RelayConfig {
    /// Events per batch, taken from one shard.
    pub batch: usize,
    /// How long to wait when the outbox is empty.
    pub idle: Duration,
    pub backoff: Backoff,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            batch: 1000,
            idle: Duration::from_millis(20),
            backoff: Backoff::default(),
        }
    }
}

/// Counters since the relay started.
#[derive(Debug, Default)]
pub struct RelayCounters {
    pub published: AtomicU64,
    pub failures: AtomicU64,
    /// The latest failure, for whoever investigates a relay that is not catching up.
    pub last_failure: std::sync::Mutex<Option<String>>,
}

pub struct Relay<S, P> {
    store: S,
    publisher: P,
    config: RelayConfig,
    counters: Arc<RelayCounters>,
}

impl<S: OutboxStore, P: Publisher> Relay<S, P> {
    pub fn new(store: S, publisher: P, config: RelayConfig) -> Self {
        Self {
            store,
            publisher,
            config,
            counters: Arc::default(),
        }
    }

    pub fn counters(&self) -> &RelayCounters {
        &self.counters
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    // ANCHOR: run
    /// Relays until `stop` completes.
    pub async fn run_until(&self, stop: impl Future<Output = ()>) {
        let mut stop = std::pin::pin!(stop);
        let mut failures_in_a_row = 0;
        loop {
            let pause = tokio::select! {
                _ = &mut stop => return,
                result = self.store.relay_batch(self.config.batch, &self.publisher) => match result {
                    Ok(0) => {
                        failures_in_a_row = 0;
                        self.config.idle
                    }
                    Ok(published) => {
                        failures_in_a_row = 0;
                        self.counters.published.fetch_add(published as u64, Ordering::Relaxed);
                        Duration::ZERO
                    }
                    Err(error) => {
                        failures_in_a_row += 1;
                        self.counters.failures.fetch_add(1, Ordering::Relaxed);
                        *self.counters.last_failure.lock().expect("not poisoned") = Some(error.to_string());
                        let pause = self.config.backoff.delay(failures_in_a_row);
                        tracing::warn!(%error, failures_in_a_row, ?pause, "relay: batch failed, backing off");
                        pause
                    }
                },
            };
            tokio::select! {
                _ = &mut stop => return,
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }
    // ANCHOR_END: run

    /// Relays while `work` runs, and returns what `work` returns.
    pub async fn run_during<T>(&self, work: impl Future<Output = T>) -> T {
        crate::alongside::alongside(|stop| self.run_until(stop), work).await.1
    }

    /// Relays until the outbox is empty, failing at the first error: for tests and benchmarks.
    pub async fn drain(&self) -> Result<usize, RelayError> {
        let mut total = 0;
        loop {
            match self.store.relay_batch(self.config.batch, &self.publisher).await? {
                0 => return Ok(total),
                published => total += published,
            }
        }
    }

    // ANCHOR: metrics
    /// The relay's metrics in Prometheus' text format; the lag is read from the outbox now.
    pub async fn metrics(&self) -> Result<String, RelayError> {
        let lag = self.store.lag().await?;
        Ok(format!(
            "# HELP outbox_backlog Events in the outbox, not yet published.\n\
             # TYPE outbox_backlog gauge\n\
             outbox_backlog {}\n\
             # HELP outbox_oldest_unsent_age_seconds How long the oldest unpublished event has waited.\n\
             # TYPE outbox_oldest_unsent_age_seconds gauge\n\
             outbox_oldest_unsent_age_seconds {:.3}\n\
             # HELP outbox_published_total Events this relay has published.\n\
             # TYPE outbox_published_total counter\n\
             outbox_published_total {}\n\
             # HELP outbox_relay_failures_total Batches that failed and were left for a retry.\n\
             # TYPE outbox_relay_failures_total counter\n\
             outbox_relay_failures_total {}\n",
            lag.backlog,
            lag.oldest_age(Utc::now()).as_secs_f64(),
            self.counters.published.load(Ordering::Relaxed),
            self.counters.failures.load(Ordering::Relaxed),
        ))
    }
    // ANCHOR_END: metrics
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::outbox::Lag;
    use crate::publisher::MockPublisher;

    /// An outbox that answers `relay_batch` from a script, and records each call's batch size.
    struct ScriptedOutbox {
        script: Mutex<Vec<Result<usize, RelayError>>>,
        asked: Mutex<Vec<usize>>,
    }

    impl OutboxStore for ScriptedOutbox {
        async fn relay_batch<P: Publisher>(&self, max: usize, _publisher: &P) -> Result<usize, RelayError> {
            self.asked.lock().unwrap().push(max);
            let mut script = self.script.lock().unwrap();
            if script.is_empty() { Ok(0) } else { script.remove(0) }
        }

        async fn lag(&self) -> Result<Lag, RelayError> {
            Ok(Lag {
                backlog: 2,
                oldest: Some(Utc::now() - chrono::TimeDelta::seconds(5)),
            })
        }
    }

    fn broker_down() -> RelayError {
        RelayError::Tx(ch03_transaction_manager::TxError::Timeout(Duration::from_secs(1)))
    }

    #[tokio::test(start_paused = true)]
    async fn the_relay_backs_off_through_failures_and_resumes_where_it_stopped() {
        let outbox = ScriptedOutbox {
            script: Mutex::new(vec![Err(broker_down()), Err(broker_down()), Ok(3), Ok(2)]),
            asked: Mutex::new(Vec::new()),
        };
        let config = RelayConfig {
            batch: 3,
            ..RelayConfig::default()
        };
        let relay = Relay::new(outbox, MockPublisher::new(), config);

        relay.run_until(tokio::time::sleep(Duration::from_secs(10))).await;

        assert_eq!(relay.counters().failures.load(Ordering::Relaxed), 2);
        assert_eq!(relay.counters().published.load(Ordering::Relaxed), 5);
        let asked = relay.store().asked.lock().unwrap().clone();
        assert!(asked.len() > 4 && asked.iter().all(|&max| max == 3), "{asked:?}");
        let metrics = relay.metrics().await.unwrap();
        assert!(metrics.contains("\noutbox_published_total 5\n"), "{metrics}");
        assert!(metrics.contains("\noutbox_relay_failures_total 2\n"), "{metrics}");
        assert!(
            metrics.contains("\noutbox_oldest_unsent_age_seconds 5.000\n"),
            "{metrics}"
        );
    }
}
