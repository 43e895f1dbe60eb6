//! A TCP proxy that a test puts between its code and a service, to make the network fail on cue.
//!
//! The code under test connects to the proxy instead of the service. While the proxy forwards,
//! nothing is different. Then the test calls:
//! - [`FaultProxy::cut`]: open connections are reset and new ones are reset as soon as they are
//!   accepted, as when a server or a link goes down;
//! - [`FaultProxy::blackhole`]: connections are accepted and bytes are taken, but nothing comes
//!   back, as in a network partition: the client hangs until its own timeout. Nothing is lost;
//!   after a restore the held bytes flow on, as after a partition heals;
//! - [`FaultProxy::latency`]: every byte is delivered `d` later, in each direction;
//! - [`FaultProxy::restore`]: back to forwarding, without delay.
//!
//! The proxy's tasks run on the harness's background runtime, so a proxy works the same from a
//! test, a benchmark or the tour, and stops when it is dropped.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::AbortHandle;
use tokio::time::Instant;

use crate::error::Context;
use crate::{HarnessError, background};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Forward,
    Cut,
    Blackhole,
}

#[derive(Debug, Clone, Copy)]
struct State {
    mode: Mode,
    latency: Duration,
    /// Bumped by every `cut`; each connection resets itself when it sees a new value.
    cuts: u64,
}

struct Shared {
    state: watch::Sender<State>,
    open: AtomicUsize,
    closed: Notify,
}

/// A running proxy. Dropping it stops it and closes its connections.
pub struct FaultProxy {
    address: SocketAddr,
    upstream: String,
    shared: Arc<Shared>,
    accept_loop: AbortHandle,
}

impl FaultProxy {
    /// Starts a proxy on a free loopback port that forwards to `upstream` (`host:port`).
    pub async fn start(upstream: impl Into<String>) -> Result<Self, HarnessError> {
        let upstream = upstream.into();
        let listener = background::run(TcpListener::bind("127.0.0.1:0"))
            .await
            .context(|| "binding the fault proxy".into())?;
        Self::serve(listener, upstream)
    }

    /// Starts a proxy on an already bound listener (when its port had to be known in advance).
    pub(crate) fn serve(listener: TcpListener, upstream: String) -> Result<Self, HarnessError> {
        let address = listener
            .local_addr()
            .context(|| "reading the fault proxy's address".into())?;
        let (state, _) = watch::channel(State {
            mode: Mode::Forward,
            latency: Duration::ZERO,
            cuts: 0,
        });
        let shared = Arc::new(Shared {
            state,
            open: AtomicUsize::new(0),
            closed: Notify::new(),
        });
        let accept_loop = background::handle()
            .spawn(accept_loop(listener, upstream.clone(), shared.clone()))
            .abort_handle();
        Ok(Self {
            address,
            upstream,
            shared,
            accept_loop,
        })
    }

    /// A proxy in front of the server that `url` names, and the same URL pointing at the proxy.
    /// Works for `postgres://`, `mysql://` and `redis://` URLs. Kafka needs
    /// [`crate::DedicatedKafka`] instead: its clients learn the broker's own address from metadata
    /// and would go around a plain proxy.
    pub async fn route(url: &str) -> Result<(Self, String), HarnessError> {
        let mut parsed = url::Url::parse(url)
            .map_err(|e| HarnessError::Other(format!("{} is not a URL: {e}", crate::redact::masked(url))))?;
        let port = parsed.port().or_else(|| default_port(parsed.scheme()));
        let (Some(host), Some(port)) = (parsed.host_str(), port) else {
            return Err(HarnessError::Other(format!(
                "{} names no host and port the proxy could forward to",
                crate::redact::masked(url)
            )));
        };
        let proxy = Self::start(format!("{host}:{port}")).await?;
        parsed
            .set_host(Some("127.0.0.1"))
            .expect("a URL with a host takes another");
        parsed
            .set_port(Some(proxy.address.port()))
            .expect("a URL with a host takes a port");
        Ok((proxy, parsed.into()))
    }

    /// Where clients should connect.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Where the proxy forwards to.
    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    /// Resets every open connection and every new one until [`Self::restore`]. Returns when no
    /// connection through the proxy is open any more.
    pub async fn cut(&self) {
        self.shared.state.send_modify(|state| {
            state.mode = Mode::Cut;
            state.cuts += 1;
        });
        loop {
            let closed = self.shared.closed.notified();
            if self.open_connections() == 0 {
                return;
            }
            closed.await;
        }
    }

    /// Stops delivering bytes in both directions, without closing anything.
    pub fn blackhole(&self) {
        self.shared.state.send_modify(|state| state.mode = Mode::Blackhole);
    }

    /// Delivers every byte `delay` after it arrives, in each direction.
    pub fn latency(&self, delay: Duration) {
        self.shared.state.send_modify(|state| state.latency = delay);
    }

    /// Forwards again, without delay.
    pub fn restore(&self) {
        self.shared.state.send_modify(|state| {
            state.mode = Mode::Forward;
            state.latency = Duration::ZERO;
        });
    }

    /// How many client connections the proxy holds now.
    pub fn open_connections(&self) -> usize {
        self.shared.open.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept_loop.abort();
        // Connections end too: the cut below resets them, and nothing new is accepted.
        self.shared.state.send_modify(|state| {
            state.mode = Mode::Cut;
            state.cuts += 1;
        });
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "postgres" | "postgresql" => Some(5432),
        "mysql" | "mariadb" => Some(3306),
        "redis" => Some(6379),
        _ => None,
    }
}

async fn accept_loop(listener: TcpListener, upstream: String, shared: Arc<Shared>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            // Out of file descriptors, say: pause instead of spinning, and try again.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let _ = client.set_nodelay(true);
        if shared.state.borrow().mode == Mode::Cut {
            reset(client);
            continue;
        }
        shared.open.fetch_add(1, Ordering::SeqCst);
        let shared = shared.clone();
        let upstream = upstream.clone();
        tokio::spawn(async move {
            connection(client, &upstream, &shared).await;
            shared.open.fetch_sub(1, Ordering::SeqCst);
            shared.closed.notify_waiters();
        });
    }
}

/// Makes the eventual close of `stream` a TCP reset instead of an orderly FIN, as when a peer
/// crashes or a link drops: SO_LINGER with a zero timeout.
fn reset_on_close(stream: &TcpStream) {
    let _ = stream.set_zero_linger();
}

fn reset(stream: TcpStream) {
    reset_on_close(&stream);
    drop(stream);
}

async fn connection(client: TcpStream, upstream: &str, shared: &Shared) {
    let mut state = shared.state.subscribe();
    let cuts_at_start = state.borrow().cuts;
    // A connection accepted during a blackhole waits, as a SYN would wait for a healed network.
    let forward = match state
        .wait_for(|s| s.mode != Mode::Blackhole || s.cuts != cuts_at_start)
        .await
    {
        Ok(now) => now.mode == Mode::Forward && now.cuts == cuts_at_start,
        Err(_proxy_dropped) => false,
    };
    if !forward {
        return reset(client);
    }
    let Ok(server) = TcpStream::connect(upstream).await else {
        return reset(client);
    };
    let _ = server.set_nodelay(true);
    // Set now, because the sockets are split below: however this connection ends, a cut
    // (dropping the pumps mid-flight) resets both sides. An orderly end has sent its FINs by then.
    reset_on_close(&client);
    reset_on_close(&server);

    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let pumps = async {
        tokio::join!(
            pump(client_read, server_write, shared.state.subscribe()),
            pump(server_read, client_write, shared.state.subscribe())
        )
    };
    let cut = state.wait_for(|s| s.cuts != cuts_at_start);
    tokio::select! {
        _ = pumps => {}
        _ = cut => {}
    }
}

/// Copies one direction of a connection, honouring latency and blackholes.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, state: watch::Receiver<State>) {
    // A delay line: chunks are stamped when read and written when their time comes, so latency
    // delays the bytes without limiting how many can be in flight.
    let (line, mut arrivals) = mpsc::channel::<(Instant, Vec<u8>)>(256);
    let reader = {
        let state = state.clone();
        async move {
            let mut buffer = vec![0u8; 16 * 1024];
            loop {
                let n = match from.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let due = Instant::now() + state.borrow().latency;
                if line.send((due, buffer[..n].to_vec())).await.is_err() {
                    break;
                }
            }
        }
    };
    let writer = async move {
        let mut state = state;
        while let Some((due, chunk)) = arrivals.recv().await {
            tokio::time::sleep_until(due).await;
            if state.wait_for(|s| s.mode != Mode::Blackhole).await.is_err() || to.write_all(&chunk).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}
