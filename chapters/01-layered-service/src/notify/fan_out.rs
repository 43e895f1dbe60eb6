//! Sending one notification through every provider, without letting any of them hurt the caller.
//!
//! Each provider's send runs on its own task with a deadline. The caller gets control back at once;
//! a provider that fails or outlives its deadline is logged and counted
//! (`users_notifications_total{provider, outcome}`), and the other providers are not affected.
//! The tasks are tracked, so a graceful shutdown (and a test) can wait until they have finished.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::task::TaskTracker;
use tracing::Instrument;

use super::{Delivery, Notification, Notifier};
use crate::metrics::{Metrics, NotificationOutcome};

#[derive(Clone)]
pub struct Notifications {
    providers: Vec<Arc<dyn Notifier>>,
    deadline: Duration,
    metrics: Metrics,
    in_flight: TaskTracker,
}

/// For mutation testing only (the `mutants` feature): see `User`.
#[cfg(feature = "mutants")]
impl Default for Notifications {
    fn default() -> Self {
        Self::new(Duration::from_secs(1), Metrics::new())
    }
}

impl Notifications {
    /// No providers yet; each send gets `deadline` before it is abandoned.
    pub fn new(deadline: Duration, metrics: Metrics) -> Self {
        Self {
            providers: Vec::new(),
            deadline,
            metrics,
            in_flight: TaskTracker::new(),
        }
    }

    pub fn with(mut self, provider: impl Notifier) -> Self {
        self.providers.push(Arc::new(provider));
        self
    }

    /// Adds the provider if it is configured.
    pub fn with_some(self, provider: Option<impl Notifier>) -> Self {
        match provider {
            Some(provider) => self.with(provider),
            None => self,
        }
    }

    /// The providers' names, in the order they were plugged in.
    pub fn providers(&self) -> Vec<&'static str> {
        self.providers.iter().map(|provider| provider.name()).collect()
    }

    // ANCHOR: dispatch
    /// Starts sending through every provider and returns at once.
    pub fn dispatch(&self, notification: Notification) {
        for provider in &self.providers {
            let (provider, metrics, deadline) = (Arc::clone(provider), self.metrics.clone(), self.deadline);
            let name = provider.name();
            let send = provider.send(notification.clone());
            // Created here, inside the request's span, so the provider's logs carry its request id.
            let span = tracing::info_span!("notify", provider = name, user_id = %notification.user_id);
            self.in_flight.spawn(
                async move {
                    let outcome = match tokio::time::timeout(deadline, send).await {
                        Ok(Ok(Delivery::Sent)) => NotificationOutcome::Sent,
                        Ok(Ok(Delivery::Skipped)) => NotificationOutcome::Skipped,
                        Ok(Err(error)) => {
                            tracing::warn!(%error, "notification failed; registration is unaffected");
                            NotificationOutcome::Failed
                        }
                        Err(_) => {
                            tracing::warn!(?deadline, "notification abandoned after its deadline");
                            NotificationOutcome::TimedOut
                        }
                    };
                    metrics.count_notification(name, outcome);
                }
                .instrument(span),
            );
        }
    }
    // ANCHOR_END: dispatch

    /// Waits until every notification dispatched so far has been sent, failed or abandoned. For a
    /// graceful shutdown, and for tests that check what the providers received.
    pub async fn idle(&self) {
        self.in_flight.close();
        self.in_flight.wait().await;
        self.in_flight.reopen();
    }
}

#[cfg(test)]
mod tests {
    use futures::FutureExt;

    use super::*;
    use crate::notify::{MockNotifier, NotifyError};
    use crate::user::UserId;

    fn notification() -> Notification {
        Notification {
            user_id: UserId::new(),
            email: "ada@example.com".into(),
            phone: None,
            title: "Welcome".into(),
            body: "Hello".into(),
        }
    }

    /// A provider that answers `result` after `delay`.
    fn provider(name: &'static str, delay: Duration, result: fn() -> Result<Delivery, NotifyError>) -> MockNotifier {
        let mut mock = MockNotifier::new();
        mock.expect_name().return_const(name);
        mock.expect_send().times(1).returning(move |_| {
            async move {
                tokio::time::sleep(delay).await;
                result()
            }
            .boxed()
        });
        mock
    }

    #[tokio::test(start_paused = true)]
    async fn each_provider_is_counted_on_its_own_and_a_slow_one_is_abandoned_at_its_deadline() {
        let metrics = Metrics::new();
        let notifications = Notifications::new(Duration::from_secs(2), metrics.clone())
            .with(provider("email", Duration::from_millis(10), || Ok(Delivery::Sent)))
            .with(provider("sms", Duration::from_secs(60), || Ok(Delivery::Sent)))
            .with(provider("in_app", Duration::ZERO, || {
                Err(NotifyError::Rejected { status: 500 })
            }))
            .with(provider("push", Duration::ZERO, || Ok(Delivery::Skipped)));
        let started = tokio::time::Instant::now();
        notifications.dispatch(notification());
        assert_eq!(
            started.elapsed(),
            Duration::ZERO,
            "dispatch returns before any provider answers"
        );

        notifications.idle().await;
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(2),
            "the slow provider is given exactly its deadline"
        );
        assert_eq!(metrics.notifications("email", NotificationOutcome::Sent), 1);
        assert_eq!(metrics.notifications("sms", NotificationOutcome::TimedOut), 1);
        assert_eq!(metrics.notifications("sms", NotificationOutcome::Sent), 0);
        assert_eq!(metrics.notifications("in_app", NotificationOutcome::Failed), 1);
        assert_eq!(metrics.notifications("push", NotificationOutcome::Skipped), 1);
    }

    #[tokio::test]
    async fn every_provider_receives_the_notification_and_idle_can_be_awaited_again() {
        let sent = notification();
        let mut email = MockNotifier::new();
        email.expect_name().return_const("email");
        let expected = sent.clone();
        email
            .expect_send()
            .withf(move |n| *n == expected)
            .times(2)
            .returning(|_| async { Ok(Delivery::Sent) }.boxed());
        let metrics = Metrics::new();
        let notifications = Notifications::new(Duration::from_secs(1), metrics.clone()).with(email);
        assert_eq!(notifications.providers(), ["email"]);
        for round in 1..=2 {
            notifications.dispatch(sent.clone());
            notifications.idle().await;
            assert_eq!(metrics.notifications("email", NotificationOutcome::Sent), round);
        }
    }

    #[tokio::test]
    async fn with_no_providers_dispatch_does_nothing() {
        let metrics = Metrics::new();
        let notifications = Notifications::new(Duration::from_secs(1), metrics.clone()).with_some(None::<MockNotifier>);
        assert!(notifications.providers().is_empty());
        notifications.dispatch(notification());
        notifications.idle().await;
        assert!(!metrics.render().contains("users_notifications_total{"));
    }
}
