//! The email provider: an HTTP call to a mail service's API.
//!
//! The API is the shape most mail services offer: `POST {base}/v1/email` with the recipient,
//! subject and text as JSON; any 2xx means accepted.

use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::json;

use super::{Delivery, Notification, Notifier, NotifyError};

#[derive(Debug, Clone)]
pub struct Email {
    client: reqwest::Client,
    endpoint: String,
}

impl Email {
    pub fn new(base_url: &str) -> Self {
        let endpoint = format!("{}/v1/email", base_url.trim_end_matches('/'));
        Self {
            client: reqwest::Client::new(),
            endpoint,
        }
    }
}

impl Notifier for Email {
    fn name(&self) -> &'static str {
        "email"
    }

    fn send(&self, notification: Notification) -> BoxFuture<'static, Result<Delivery, NotifyError>> {
        let request = self.client.post(&self.endpoint).json(&json!({
            "to": notification.email,
            "subject": notification.title,
            "text": notification.body,
        }));
        async move { super::post(request).await }.boxed()
    }
}
