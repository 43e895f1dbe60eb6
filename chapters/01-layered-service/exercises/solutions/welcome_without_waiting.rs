//! Exercise: welcome messages that never hold up the registration that caused them (statement:
//! `statements/welcome_without_waiting.md`, or `workbook hint welcome_without_waiting`).

use std::sync::Arc;
use std::time::Duration;

use ch01_layered_service::notify::{Notification, Notifier};
use ch01_layered_service::{Registration, ServiceError, User, UserRepository, UserService};
use tokio_util::task::TaskTracker;

/// Registers a user through the chapter's service, then welcomes them.
pub async fn register<R: UserRepository>(
    service: &UserService<R>,
    welcome: &Welcome,
    registration: Registration,
) -> Result<User, ServiceError> {
    let user = service.register(registration).await?;
    welcome.send(Notification::welcome(&user)).await;
    Ok(user)
}

/// The providers a welcome goes through, and how long each may take with it.
pub struct Welcome {
    providers: Vec<Arc<dyn Notifier>>,
    deadline: Duration,
    in_flight: TaskTracker,
}

impl Welcome {
    pub fn new(providers: Vec<Arc<dyn Notifier>>, deadline: Duration) -> Self {
        Self {
            providers,
            deadline,
            in_flight: TaskTracker::new(),
        }
    }

    /// Sends `notification` through every provider.
    pub async fn send(&self, notification: Notification) {
        for provider in &self.providers {
            // Each provider on a task of its own: they run side by side, the caller goes on at
            // once, and a caller that goes away (a dropped request) takes no welcome with it.
            let send = provider.send(notification.clone());
            let (name, deadline) = (provider.name(), self.deadline);
            self.in_flight.spawn(async move {
                // Given up at the deadline, so a provider that hangs holds nothing for long.
                match tokio::time::timeout(deadline, send).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(error)) => tracing::warn!(provider = name, %error, "welcome failed"),
                    Err(_) => tracing::warn!(provider = name, ?deadline, "welcome given up"),
                }
            });
        }
    }

    /// Waits until every welcome sent so far has been delivered, failed or given up: for a
    /// graceful shutdown, and for the checks.
    pub async fn idle(&self) {
        self.in_flight.close();
        self.in_flight.wait().await;
        self.in_flight.reopen();
    }
}
