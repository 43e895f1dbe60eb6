//! The SMS provider: an HTTP call to an SMS gateway, for users who gave a phone number.

use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::json;

use super::{Delivery, Notification, Notifier, NotifyError};

#[derive(Debug, Clone)]
pub struct Sms {
    client: reqwest::Client,
    endpoint: String,
}

impl Sms {
    pub fn new(base_url: &str) -> Self {
        let endpoint = format!("{}/v1/sms", base_url.trim_end_matches('/'));
        Self {
            client: reqwest::Client::new(),
            endpoint,
        }
    }
}

impl Notifier for Sms {
    fn name(&self) -> &'static str {
        "sms"
    }

    fn send(&self, notification: Notification) -> BoxFuture<'static, Result<Delivery, NotifyError>> {
        let Some(phone) = notification.phone else {
            return async { Ok(Delivery::Skipped) }.boxed();
        };
        // A text message has no subject line: the title is the message.
        let request = self
            .client
            .post(&self.endpoint)
            .json(&json!({ "to": phone, "text": notification.title }));
        async move { super::post(request).await }.boxed()
    }
}
