//! The HTTP server's accept loop, with the [`Limits`] enforced on every connection.
//!
//! `axum::serve` is a fine default, but it has no header timeout, no bound on connections and no
//! deadline for its graceful shutdown. This loop is the same few steps, written out: take a permit
//! (at most `max_connections` are out), accept, serve the connection with hyper (its header-read
//! timeout doubles as the idle timeout), and on shutdown ask every connection to finish its
//! request in progress, wait up to `shutdown_grace`, then cut off the rest.

use std::sync::Arc;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::Limits;

/// How a server's shutdown went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stopped {
    /// Connections still busy when the grace period ended, closed without their answer.
    pub cut_off: usize,
}

// ANCHOR: serve
/// Serves `router` on `listener` until `stop` is cancelled.
pub async fn serve(listener: TcpListener, router: Router, limits: Limits, stop: CancellationToken) -> Stopped {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let mut connections = JoinSet::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read);
    let builder = builder.http1_only();
    // The body timeout is the JSON extractor's to enforce (it answers 408): it finds the limits
    // in each request.
    let router = router.layer(axum::Extension(limits));
    loop {
        // Finished connections are reaped as we go, so the set holds only open ones.
        while connections.try_join_next().is_some() {}
        let permit = tokio::select! {
            _ = stop.cancelled() => break,
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
        };
        let stream = tokio::select! {
            _ = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors, or a connection reset before it was accepted: the
                // listener itself is fine, so go on.
                Err(error) => {
                    tracing::warn!(%error, "http: accepting a connection failed");
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let connection = builder.serve_connection(TokioIo::new(stream), service).into_owned();
        let stop = stop.clone();
        connections.spawn(async move {
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = stop.cancelled() => {
                    // Finish the request in progress, take no new one.
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(permit);
        });
    }
    drain(connections, limits).await
}
// ANCHOR_END: serve

/// Waits up to the grace period for the open connections, then closes the rest.
async fn drain(mut connections: JoinSet<()>, limits: Limits) -> Stopped {
    let finished = tokio::time::timeout(limits.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    let cut_off = if finished.is_ok() { 0 } else { connections.len() };
    if cut_off > 0 {
        tracing::warn!(cut_off, grace = ?limits.shutdown_grace, "http: closing connections still busy after the grace period");
    }
    connections.shutdown().await;
    Stopped { cut_off }
}
