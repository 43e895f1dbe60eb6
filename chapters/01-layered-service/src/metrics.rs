//! The service's metrics, served at `GET /metrics` in Prometheus's text format.
//!
//! Three families: requests by protocol, route and outcome; request latency as a histogram; and
//! notifications by provider and outcome. Written by hand rather than with a metrics crate because
//! there are only three and the format is simple enough to read in one screen.
//!
//! Routes are *templates* (`GET /users/{id}`), never the path a client sent: every distinct label
//! value is a new time series in Prometheus, and one per user id would swamp it.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// What became of one notification through one provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NotificationOutcome {
    Sent,
    /// The provider had nothing to do (an SMS for a user without a phone).
    Skipped,
    Failed,
    TimedOut,
}

impl NotificationOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Skipped => "skipped",
            Self::Failed => "failed",
            Self::TimedOut => "timed_out",
        }
    }
}

/// A handle on the service's metrics; clones share them.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    // A std mutex: every update is a few additions, and nothing awaits while it is held.
    registry: Arc<Mutex<Registry>>,
}

#[derive(Debug, Default)]
struct Registry {
    /// (protocol, route, outcome) → count.
    requests: BTreeMap<(String, String, String), u64>,
    /// (protocol, route) → latency.
    latency: BTreeMap<(String, String), Histogram>,
    /// (provider, outcome) → count.
    notifications: BTreeMap<(String, NotificationOutcome), u64>,
}

#[derive(Debug, Default)]
struct Histogram {
    /// Cumulative, as Prometheus reports them: `buckets[i]` counts observations ≤ `BUCKETS[i]`.
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one request and its latency. `outcome` is the HTTP status or the gRPC code.
    pub fn observe_request(&self, protocol: &str, route: &str, outcome: &str, elapsed: Duration) {
        let mut registry = self.registry.lock().expect("metrics lock poisoned");
        let key = (protocol.to_owned(), route.to_owned(), outcome.to_owned());
        *registry.requests.entry(key).or_default() += 1;
        let histogram = registry
            .latency
            .entry((protocol.to_owned(), route.to_owned()))
            .or_default();
        let seconds = elapsed.as_secs_f64();
        for (bucket, bound) in histogram.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        histogram.sum += seconds;
        histogram.count += 1;
    }

    pub fn count_notification(&self, provider: &str, outcome: NotificationOutcome) {
        let mut registry = self.registry.lock().expect("metrics lock poisoned");
        *registry
            .notifications
            .entry((provider.to_owned(), outcome))
            .or_default() += 1;
    }

    /// How many requests on `route` ended with `outcome`.
    pub fn requests(&self, route: &str, outcome: &str) -> u64 {
        let registry = self.registry.lock().expect("metrics lock poisoned");
        registry
            .requests
            .iter()
            .filter(|((_, r, o), _)| r == route && o == outcome)
            .map(|(_, count)| count)
            .sum()
    }

    /// How many notifications through `provider` ended with `outcome`.
    pub fn notifications(&self, provider: &str, outcome: NotificationOutcome) -> u64 {
        let registry = self.registry.lock().expect("metrics lock poisoned");
        registry
            .notifications
            .get(&(provider.to_owned(), outcome))
            .copied()
            .unwrap_or(0)
    }

    /// Every metric in Prometheus's text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let registry = self.registry.lock().expect("metrics lock poisoned");
        let mut out = String::new();
        family(
            &mut out,
            "users_requests_total",
            "counter",
            "Requests handled, by protocol, route and outcome (HTTP status or gRPC code).",
        );
        for ((protocol, route, outcome), count) in &registry.requests {
            let labels = labels(&[("protocol", protocol), ("route", route), ("outcome", outcome)]);
            let _ = writeln!(out, "users_requests_total{{{labels}}} {count}");
        }
        family(
            &mut out,
            "users_request_duration_seconds",
            "histogram",
            "Time from request to response.",
        );
        for ((protocol, route), histogram) in &registry.latency {
            let base = labels(&[("protocol", protocol), ("route", route)]);
            let name = "users_request_duration_seconds";
            for (count, bound) in histogram.buckets.iter().zip(BUCKETS) {
                let _ = writeln!(out, "{name}_bucket{{{base},le=\"{bound}\"}} {count}");
            }
            let _ = writeln!(out, "{name}_bucket{{{base},le=\"+Inf\"}} {}", histogram.count);
            let _ = writeln!(out, "{name}_sum{{{base}}} {}", histogram.sum);
            let _ = writeln!(out, "{name}_count{{{base}}} {}", histogram.count);
        }
        family(
            &mut out,
            "users_notifications_total",
            "counter",
            "Notifications after registration, by provider and outcome.",
        );
        for ((provider, outcome), count) in &registry.notifications {
            let labels = labels(&[("provider", provider), ("outcome", outcome.as_str())]);
            let _ = writeln!(out, "users_notifications_total{{{labels}}} {count}");
        }
        out
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// `a="x",b="y"`, with values escaped as the format requires.
fn labels(pairs: &[(&str, &str)]) -> String {
    let escape = |value: &str| value.replace('\\', r"\\").replace('"', "\\\"").replace('\n', r"\n");
    pairs
        .iter()
        .map(|(name, value)| format!("{name}=\"{}\"", escape(value)))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_route_and_outcome_with_a_cumulative_histogram() {
        let metrics = Metrics::new();
        metrics.observe_request("http", "GET /users/{id}", "200", Duration::from_millis(3));
        metrics.observe_request("http", "GET /users/{id}", "404", Duration::from_millis(30));
        metrics.observe_request("http", "GET /users/{id}", "200", Duration::from_secs(5));
        assert_eq!(metrics.requests("GET /users/{id}", "200"), 2);
        let text = metrics.render();
        for line in [
            r#"users_requests_total{protocol="http",route="GET /users/{id}",outcome="200"} 2"#,
            r#"users_requests_total{protocol="http",route="GET /users/{id}",outcome="404"} 1"#,
            r#"users_request_duration_seconds_bucket{protocol="http",route="GET /users/{id}",le="0.0025"} 0"#,
            r#"users_request_duration_seconds_bucket{protocol="http",route="GET /users/{id}",le="0.005"} 1"#,
            r#"users_request_duration_seconds_bucket{protocol="http",route="GET /users/{id}",le="0.05"} 2"#,
            r#"users_request_duration_seconds_bucket{protocol="http",route="GET /users/{id}",le="2.5"} 2"#,
            r#"users_request_duration_seconds_bucket{protocol="http",route="GET /users/{id}",le="+Inf"} 3"#,
            r#"users_request_duration_seconds_count{protocol="http",route="GET /users/{id}"} 3"#,
            "# TYPE users_request_duration_seconds histogram",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
        let sum = r#"users_request_duration_seconds_sum{protocol="http",route="GET /users/{id}"} "#;
        let sum: f64 = text.lines().find_map(|l| l.strip_prefix(sum)).unwrap().parse().unwrap();
        assert!((sum - 5.033).abs() < 1e-9, "{sum}");
    }

    #[test]
    fn notifications_are_counted_by_provider_and_outcome() {
        let metrics = Metrics::new();
        metrics.count_notification("sms", NotificationOutcome::TimedOut);
        metrics.count_notification("sms", NotificationOutcome::TimedOut);
        metrics.count_notification("email", NotificationOutcome::Sent);
        assert_eq!(metrics.notifications("sms", NotificationOutcome::TimedOut), 2);
        assert_eq!(metrics.notifications("sms", NotificationOutcome::Sent), 0);
        assert!(
            metrics
                .render()
                .contains(r#"users_notifications_total{provider="sms",outcome="timed_out"} 2"#)
        );
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(labels(&[("route", "a\"b\\c\nd")]), r#"route="a\"b\\c\nd""#);
    }
}
