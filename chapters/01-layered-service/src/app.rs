//! Wiring: one service, served over HTTP and gRPC, each on its own port.
//!
//! This is the only module that knows every layer. It builds the service from a repository and the
//! notification providers, starts both handlers on loopback ports chosen by the OS, and stops them
//! gracefully: requests in progress finish, then the notifications still in flight are given their
//! deadline before `stop` returns.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;
use crate::notify::{Notifications, Providers, plug};
use crate::repository::UserRepository;
use crate::service::UserService;
use crate::{grpc, http};

/// The servers of a running users service.
pub struct Running {
    pub http: SocketAddr,
    pub grpc: SocketAddr,
    pub metrics: Metrics,
    pub notifications: Notifications,
    shutdown: CancellationToken,
    http_server: JoinHandle<http::Stopped>,
    grpc_server: JoinHandle<anyhow::Result<()>>,
}

// ANCHOR: start
/// Builds the service on `users` with `providers`, and serves it.
pub async fn start<R: UserRepository>(users: R, providers: &Providers) -> io::Result<Running> {
    let metrics = Metrics::new();
    let service = Arc::new(UserService::new(users, plug(providers, &metrics)));
    serve(service, metrics).await
}
// ANCHOR_END: start

/// Serves an already built service on two loopback ports, with the default [`http::Limits`].
pub async fn serve<R: UserRepository>(service: Arc<UserService<R>>, metrics: Metrics) -> io::Result<Running> {
    serve_with(service, metrics, http::Limits::DEFAULT).await
}

/// The same, with the HTTP server's limits given.
pub async fn serve_with<R: UserRepository>(
    service: Arc<UserService<R>>,
    metrics: Metrics,
    limits: http::Limits,
) -> io::Result<Running> {
    let http_listener = TcpListener::bind("127.0.0.1:0").await?;
    let grpc_listener = TcpListener::bind("127.0.0.1:0").await?;
    let (http_addr, grpc_addr) = (http_listener.local_addr()?, grpc_listener.local_addr()?);
    let shutdown = CancellationToken::new();
    let notifications = service.notifications().clone();

    let router = http::router(Arc::clone(&service), metrics.clone());
    let http_server = tokio::spawn(http::serve(http_listener, router, limits, shutdown.clone()));
    let users = grpc::server(service, metrics.clone());
    let metrics_for_grpc = metrics.clone();
    let stop = shutdown.clone().cancelled_owned();
    let grpc_server = tokio::spawn(async move {
        let incoming = tonic::transport::server::TcpIncoming::from(grpc_listener).with_nodelay(Some(true));
        tonic::transport::Server::builder()
            .layer(grpc::CountRejected::new(metrics_for_grpc))
            .add_service(users)
            .serve_with_incoming_shutdown(incoming, stop)
            .await?;
        Ok(())
    });

    Ok(Running {
        http: http_addr,
        grpc: grpc_addr,
        metrics,
        notifications,
        shutdown,
        http_server,
        grpc_server,
    })
}

impl Running {
    pub fn http_url(&self) -> String {
        format!("http://{}", self.http)
    }

    pub fn grpc_url(&self) -> String {
        format!("http://{}", self.grpc)
    }

    /// Stops accepting, lets requests in progress finish (HTTP ones for up to the limits'
    /// `shutdown_grace`, then their connections are closed), then waits for the notifications.
    /// Says how many HTTP connections it had to cut off.
    pub async fn stop(mut self) -> anyhow::Result<http::Stopped> {
        self.shutdown.cancel();
        let stopped = (&mut self.http_server).await?;
        (&mut self.grpc_server).await??;
        self.notifications.idle().await;
        Ok(stopped)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
