//! The gRPC calls that never reach a handler, counted like the rest.
//!
//! tonic answers some calls itself: a message larger than the server decodes (4 MB by default)
//! gets `OUT_OF_RANGE`, a body that is not the message `INTERNAL`, an unknown method
//! `UNIMPLEMENTED`. Those answers leave before [`UsersGrpc`](super::UsersGrpc)'s `handle` runs,
//! so without this layer they are missing from `users_requests_total`: a dashboard would show a
//! client's failures as silence. The layer marks each request; a handler that sees the mark counts
//! the call itself, and the layer counts the rest, with the status tonic sent (a call answered
//! without a handler has only headers, so its `grpc-status` is there).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use tokio::time::Instant;
use tonic::Code;
use tonic::codegen::http;

use super::{RPCS, code_name, route_of};
use crate::metrics::Metrics;

/// Put in a request's extensions by the layer, set by the handler that counts the call.
#[derive(Clone, Default)]
pub(crate) struct Reached(Arc<AtomicBool>);

impl Reached {
    pub(crate) fn mark(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Wraps the gRPC server: see the module's documentation.
#[derive(Clone)]
pub struct CountRejected {
    metrics: Metrics,
}

impl CountRejected {
    pub fn new(metrics: Metrics) -> Self {
        Self { metrics }
    }
}

impl<S> tower::Layer<S> for CountRejected {
    type Service = CountRejectedService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CountRejectedService {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

#[derive(Clone)]
pub struct CountRejectedService<S> {
    inner: S,
    metrics: Metrics,
}

impl<S, B, A> tower::Service<http::Request<B>> for CountRejectedService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<A>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let reached = Reached::default();
        request.extensions_mut().insert(reached.clone());
        // A route label from the fixed list, never the raw path: a client choosing paths must
        // not be able to grow the metrics without bound.
        let rpc = request.uri().path().rsplit('/').next().unwrap_or_default();
        let route = match RPCS.iter().find(|known| **known == rpc) {
            Some(known) => route_of(known),
            None => route_of("unknown"),
        };
        let (metrics, started) = (self.metrics.clone(), Instant::now());
        let answered = self.inner.call(request);
        Box::pin(async move {
            let response = answered.await?;
            if !reached.0.load(Ordering::Relaxed) {
                let code = response
                    .headers()
                    .get("grpc-status")
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.parse::<i32>().ok())
                    .map_or(Code::Unknown, Code::from_i32);
                tracing::info!(%route, code = code_name(code), "gRPC call answered before a handler saw it");
                metrics.observe_request("grpc", &route, code_name(code), started.elapsed());
            }
            Ok(response)
        })
    }
}
