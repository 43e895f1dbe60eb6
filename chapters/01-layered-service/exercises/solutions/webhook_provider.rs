//! Exercise: a notification provider of your own, a webhook (statement:
//! `statements/webhook_provider.md`, or `workbook hint webhook_provider`).

use ch01_layered_service::notify::{Delivery, Notification, Notifications, Notifier, NotifyError};
use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::json;

/// Tells a partner's system about a user by posting JSON to its URL.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub client: reqwest::Client,
    pub url: String,
}

impl Webhook {
    pub fn new(url: &str) -> Self {
        Self {
            client: reqwest::Client::new(),
            url: url.to_owned(),
        }
    }
}

impl Notifier for Webhook {
    fn name(&self) -> &'static str {
        "webhook"
    }

    fn send(&self, notification: Notification) -> BoxFuture<'static, Result<Delivery, NotifyError>> {
        // Built now, from what the future needs; the fan-out runs it later, on a task of its own.
        let request = self.client.post(&self.url).json(&json!({
            "user_id": notification.user_id.to_string(),
            "title": notification.title,
            "body": notification.body,
        }));
        async move {
            let response = request
                .send()
                .await
                .map_err(|error| NotifyError::Unreachable(error.into()))?;
            let status = response.status();
            if status.is_success() {
                Ok(Delivery::Sent)
            } else {
                Err(NotifyError::Rejected {
                    status: status.as_u16(),
                })
            }
        }
        .boxed()
    }
}

/// Plugs the webhook in beside the providers already there, when it has a URL.
pub fn plug_webhook(notifications: Notifications, url: Option<&str>) -> Notifications {
    notifications.with_some(url.map(Webhook::new))
}
