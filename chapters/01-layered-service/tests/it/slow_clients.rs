//! Slow and stalled clients, from outside, over real TCP connections: each holds only what the
//! server's `Limits` grant, and ordinary requests are served meanwhile.

use std::sync::Arc;
use std::time::Duration;

use ch01_layered_service::http::Limits;
use ch01_layered_service::notify::{Providers, plug};
use ch01_layered_service::{InMemoryUsers, Metrics, Running, UserService, app};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

/// Short limits, so that each test takes a few seconds.
const QUICK: Limits = Limits {
    header_read: Duration::from_millis(800),
    body_read: Duration::from_millis(800),
    max_connections: 1024,
    shutdown_grace: Duration::from_millis(500),
};

/// How long a test waits for the server to act on a limit: the limit and a margin for a busy
/// machine. Far longer than that, and the limit is not enforced.
const ENFORCED_WITHIN: Duration = Duration::from_secs(5);

async fn running(limits: Limits) -> anyhow::Result<Running> {
    let metrics = Metrics::new();
    let service = Arc::new(UserService::new(
        InMemoryUsers::new(),
        plug(&Providers::default(), &metrics),
    ));
    Ok(app::serve_with(service, metrics, limits).await?)
}

/// Reads until the server closes the connection; what it sent before.
async fn until_closed(stream: &mut TcpStream) -> anyhow::Result<String> {
    let mut answer = Vec::new();
    tokio::time::timeout(ENFORCED_WITHIN, stream.read_to_end(&mut answer))
        .await
        .map_err(|_| anyhow::anyhow!("the server kept the connection open"))??;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

/// An ordinary request on a connection of its own: its status.
async fn ordinary_request(running: &Running) -> anyhow::Result<u16> {
    let response = reqwest::get(format!(
        "{}/users/0190b4f8-0000-7000-8000-000000000000",
        running.http_url()
    ))
    .await?;
    Ok(response.status().as_u16())
}

// ANCHOR: slow_headers
#[tokio::test]
async fn three_hundred_clients_stalled_in_their_headers_are_closed_while_others_are_served() -> anyhow::Result<()> {
    let running = running(QUICK).await?;
    let mut stalled = Vec::new();
    for _ in 0..300 {
        let mut stream = TcpStream::connect(running.http).await?;
        stream
            .write_all(b"POST /users HTTP/1.1\r\nHost: users\r\nContent-Type: app")
            .await?;
        stalled.push(stream);
    }
    assert_eq!(ordinary_request(&running).await?, 404, "served while 300 clients stall");
    for stream in &mut stalled {
        until_closed(stream).await?;
    }
    assert_eq!(ordinary_request(&running).await?, 404);
    stop_cleanly(running).await
}
// ANCHOR_END: slow_headers

#[tokio::test]
async fn a_body_that_stops_arriving_is_answered_408_in_the_apis_error_shape() -> anyhow::Result<()> {
    let running = running(QUICK).await?;
    let mut stream = TcpStream::connect(running.http).await?;
    stream
        .write_all(b"POST /users HTTP/1.1\r\nHost: users\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\":")
        .await?;
    let answer = until_closed(&mut stream).await?;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""code":"request_timeout""#), "{answer}");
    assert_eq!(
        running.metrics.requests("POST /users", "408"),
        1,
        "counted like any answer"
    );
    stop_cleanly(running).await
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() -> anyhow::Result<()> {
    let running = running(QUICK).await?;
    let mut stream = TcpStream::connect(running.http).await?;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: users\r\n\r\n")
        .await?;
    let mut first = [0u8; 12];
    stream.read_exact(&mut first).await?;
    assert_eq!(
        &first, b"HTTP/1.1 200",
        "the first request is answered, and the connection kept"
    );
    // Then nothing: the server closes it.
    until_closed(&mut stream).await?;
    stop_cleanly(running).await
}

#[tokio::test]
async fn connections_past_the_bound_wait_until_one_closes() -> anyhow::Result<()> {
    let limits = Limits {
        header_read: Duration::from_secs(30),
        max_connections: 5,
        ..QUICK
    };
    let running = running(limits).await?;
    let mut holders = Vec::new();
    for _ in 0..5 {
        holders.push(TcpStream::connect(running.http).await?);
    }
    // Let the server accept the five before the sixth comes.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sixth = tokio::spawn({
        let url = running.http_url();
        async move {
            reqwest::get(format!("{url}/metrics"))
                .await
                .map(|r| r.status().as_u16())
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!sixth.is_finished(), "the sixth connection waits while five are open");
    drop(holders.pop());
    let status = tokio::time::timeout(ENFORCED_WITHIN, sixth).await???;
    assert_eq!(status, 200, "served once a connection closed");
    drop(holders);
    stop_cleanly(running).await
}

// ANCHOR: shutdown_deadline
#[tokio::test]
async fn stop_waits_for_a_half_sent_request_only_until_its_deadline() -> anyhow::Result<()> {
    let limits = Limits {
        body_read: Duration::from_secs(60),
        ..QUICK
    };
    let running = running(limits).await?;
    let mut stream = TcpStream::connect(running.http).await?;
    stream
        .write_all(
            b"POST /users HTTP/1.1\r\nHost: users\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
        )
        .await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stopped = tokio::time::timeout(ENFORCED_WITHIN, running.stop())
        .await
        .map_err(|_| anyhow::anyhow!("stop waited past its deadline"))??;
    assert_eq!(
        stopped.cut_off, 1,
        "the half-sent request's connection, closed at the deadline"
    );
    until_closed(&mut stream).await?;
    Ok(())
}
// ANCHOR_END: shutdown_deadline
