//! The one place where notification providers are plugged in.
//!
//! To add a provider: write its module, add its setting to [`Providers`] and its line to [`plug`].
//! To delete one: delete the three. The service, the handlers and the other providers never name a
//! provider, so they do not change. Each provider's lines carry its cargo feature, which is how the
//! tests switch it off.

use std::time::Duration;

#[cfg(feature = "email")]
use super::Email;
#[cfg(feature = "in-app")]
use super::InApp;
use super::Notifications;
#[cfg(feature = "sms")]
use super::Sms;
use crate::metrics::Metrics;

/// Which providers to use and where they are. `None` leaves a provider out.
#[derive(Debug, Clone)]
pub struct Providers {
    /// The email provider's base URL, e.g. `https://mail.example.net`.
    #[cfg(feature = "email")]
    pub email: Option<String>,
    /// The SMS provider's base URL.
    #[cfg(feature = "sms")]
    pub sms: Option<String>,
    /// The database that holds the in-app inbox.
    #[cfg(feature = "in-app")]
    pub in_app: Option<sqlx::PgPool>,
    /// How long one provider may take with one notification.
    pub deadline: Duration,
}

impl Default for Providers {
    fn default() -> Self {
        Self {
            #[cfg(feature = "email")]
            email: None,
            #[cfg(feature = "sms")]
            sms: None,
            #[cfg(feature = "in-app")]
            in_app: None,
            deadline: Duration::from_secs(2),
        }
    }
}

// ANCHOR: plug
pub fn plug(providers: &Providers, metrics: &Metrics) -> Notifications {
    let notifications = Notifications::new(providers.deadline, metrics.clone());
    #[cfg(feature = "email")]
    let notifications = notifications.with_some(providers.email.as_deref().map(Email::new));
    #[cfg(feature = "sms")]
    let notifications = notifications.with_some(providers.sms.as_deref().map(Sms::new));
    #[cfg(feature = "in-app")]
    let notifications = notifications.with_some(providers.in_app.clone().map(InApp::new));
    notifications
}
// ANCHOR_END: plug

#[cfg(test)]
mod tests {
    use super::*;

    /// Every provider compiled in is plugged in once, in the order of `plug`; with a provider's
    /// feature off, the others still are.
    #[tokio::test]
    async fn each_configured_provider_is_plugged_in_once_and_in_order() {
        let metrics = Metrics::new();
        let mut all = Providers::default();
        let mut expected: Vec<&str> = Vec::new();
        #[cfg(feature = "email")]
        {
            all.email = Some("http://mail.test/".into());
            expected.push("email");
        }
        #[cfg(feature = "sms")]
        {
            all.sms = Some("http://sms.test".into());
            expected.push("sms");
        }
        #[cfg(feature = "in-app")]
        {
            let inbox = sqlx::postgres::PgPoolOptions::new()
                .connect_lazy("postgres://localhost/unused")
                .unwrap();
            all.in_app = Some(inbox);
            expected.push("in_app");
        }
        assert_eq!(plug(&all, &metrics).providers(), expected);
        assert!(plug(&Providers::default(), &metrics).providers().is_empty());
    }

    #[cfg(feature = "sms")]
    #[tokio::test]
    async fn an_unset_provider_is_not_plugged_in() {
        let sms_only = Providers {
            sms: Some("http://sms.test".into()),
            ..Providers::default()
        };
        assert_eq!(plug(&sms_only, &Metrics::new()).providers(), ["sms"]);
    }
}
