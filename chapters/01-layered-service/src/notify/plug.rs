//! The one place where notification providers are plugged in.
//!
//! To add a provider: write its module, add its setting to [`Providers`] and its line to [`plug`].
//! To delete one: delete the three. The service, the handlers and the other providers never name a
//! provider, so they do not change.

use std::time::Duration;

use sqlx::PgPool;

use super::{Email, InApp, Notifications, Sms};
use crate::metrics::Metrics;

/// Which providers to use and where they are. `None` leaves a provider out.
#[derive(Debug, Clone)]
pub struct Providers {
    /// The email provider's base URL, e.g. `https://mail.example.net`.
    pub email: Option<String>,
    /// The SMS provider's base URL.
    pub sms: Option<String>,
    /// The database that holds the in-app inbox.
    pub in_app: Option<PgPool>,
    /// How long one provider may take with one notification.
    pub deadline: Duration,
}

impl Default for Providers {
    fn default() -> Self {
        Self {
            email: None,
            sms: None,
            in_app: None,
            deadline: Duration::from_secs(2),
        }
    }
}

// ANCHOR: plug
pub fn plug(providers: &Providers, metrics: &Metrics) -> Notifications {
    Notifications::new(providers.deadline, metrics.clone())
        .with_some(providers.email.as_deref().map(Email::new))
        .with_some(providers.sms.as_deref().map(Sms::new))
        .with_some(providers.in_app.clone().map(InApp::new))
}
// ANCHOR_END: plug

#[cfg(test)]
mod tests {
    use sqlx::postgres::PgPoolOptions;

    use super::*;

    #[tokio::test]
    async fn each_configured_provider_is_plugged_in_once_and_in_order() {
        let metrics = Metrics::new();
        let inbox = PgPoolOptions::new()
            .connect_lazy("postgres://localhost/unused")
            .unwrap();
        let all = Providers {
            email: Some("http://mail.test/".into()),
            sms: Some("http://sms.test".into()),
            in_app: Some(inbox),
            ..Providers::default()
        };
        assert_eq!(plug(&all, &metrics).providers(), ["email", "sms", "in_app"]);

        let sms_only = Providers {
            sms: Some("http://sms.test".into()),
            ..Providers::default()
        };
        assert_eq!(plug(&sms_only, &metrics).providers(), ["sms"]);
        assert!(plug(&Providers::default(), &metrics).providers().is_empty());
    }
}
