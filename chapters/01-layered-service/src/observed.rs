//! One request as the service observes it, whatever its protocol: its request id, its span, and its
//! outcome and latency in the metrics.
//!
//! The HTTP middleware and the gRPC handler both start an `Observed` when a request arrives, run
//! the request inside its span, and finish it when the answer leaves, so both protocols log and
//! count alike.

use tokio::time::Instant;
use tracing::Span;

use crate::metrics::Metrics;
use crate::request_id::RequestId;

pub struct Observed {
    request_id: RequestId,
    span: Span,
    protocol: &'static str,
    route: String,
    started: Instant,
}

impl Observed {
    /// `sent_id` is the caller's `x-request-id`, if any; `route` a template, never a raw path.
    pub fn start(protocol: &'static str, route: String, sent_id: Option<&str>) -> Self {
        let request_id = RequestId::from_caller(sent_id);
        let span = tracing::info_span!("request", protocol, %route, %request_id, outcome = tracing::field::Empty);
        Self {
            request_id,
            span,
            protocol,
            route,
            started: Instant::now(),
        }
    }

    /// The span to run the request in: the service's and the repository's spans nest inside it.
    pub fn span(&self) -> Span {
        self.span.clone()
    }

    /// Records the outcome (HTTP status or gRPC code) and the latency; returns the request id, for
    /// the response to carry.
    pub fn finish(self, metrics: &Metrics, outcome: &str) -> RequestId {
        self.span.record("outcome", outcome);
        metrics.observe_request(self.protocol, &self.route, outcome, self.started.elapsed());
        self.request_id
    }
}
