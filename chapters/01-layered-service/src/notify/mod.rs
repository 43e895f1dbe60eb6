//! Notifications after a registration: code that is easy to delete.
//!
//! Email, SMS and in-app messages are three features that serve one purpose, telling the user
//! something. Each is a provider behind the [`Notifier`] trait, in a module of its own; `plug.rs`
//! is the one place that lists them. Adding a provider is a module, a setting and a line there;
//! deleting one is deleting the three (and, for in-app, its table's migration), and nothing else
//! notices. Each provider is a cargo feature (`email`, `sms`, `in-app`), so that this is proven:
//! `just test` builds and tests the chapter with each one switched off. The service sees only
//! [`Notifications`], which sends through every provider at once, waits for none of them, and gives
//! each a deadline, so a provider that is down or slow costs a log line and a counter, never a
//! registration.

#[cfg(feature = "email")]
mod email;
mod fan_out;
#[cfg(feature = "in-app")]
mod in_app;
mod plug;
#[cfg(feature = "sms")]
mod sms;

use futures::future::BoxFuture;

#[cfg(feature = "email")]
pub use email::Email;
pub use fan_out::Notifications;
#[cfg(feature = "in-app")]
pub use in_app::InApp;
pub use plug::{Providers, plug};
#[cfg(feature = "sms")]
pub use sms::Sms;

use crate::user::{User, UserId};

/// What to tell a user, and where they can be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub user_id: UserId,
    pub email: String,
    pub phone: Option<String>,
    pub title: String,
    pub body: String,
}

impl Notification {
    /// The welcome every new user gets.
    pub fn welcome(user: &User) -> Self {
        Self {
            user_id: user.id,
            email: user.email.clone(),
            phone: user.phone.clone(),
            title: format!("Welcome to the shop, {}", user.first_name),
            body: "Your account is ready. Happy shopping!".to_owned(),
        }
    }
}

/// What a provider did with a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// Nothing to do: an SMS for a user who gave no phone number.
    Skipped,
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("the provider answered {status}")]
    Rejected { status: u16 },
    #[error("the provider could not be reached: {0}")]
    Unreachable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

// ANCHOR: notifier
/// One way of reaching a user.
///
/// `send` returns a `'static` future because the fan-out runs it on a task of its own, after the
/// request that caused it has been answered; a provider clones what it needs into the future.
#[cfg_attr(test, mockall::automock)]
pub trait Notifier: Send + Sync + 'static {
    /// The provider's name in logs and metrics: `email`, `sms`, `in_app`.
    fn name(&self) -> &'static str;

    fn send(&self, notification: Notification) -> BoxFuture<'static, Result<Delivery, NotifyError>>;
}
// ANCHOR_END: notifier

/// Sends an HTTP provider's request: any 2xx is `Sent`, any other status `Rejected`.
async fn post(request: reqwest::RequestBuilder) -> Result<Delivery, NotifyError> {
    let response = request
        .send()
        .await
        .map_err(|error| NotifyError::Unreachable(error.into()))?;
    match response.status() {
        status if status.is_success() => Ok(Delivery::Sent),
        status => Err(NotifyError::Rejected {
            status: status.as_u16(),
        }),
    }
}
