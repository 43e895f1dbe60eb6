//! Serving a remote service on a loopback port of its own, and the faults a test can ask of one
//! request.
//!
//! A request asks for a fault with the `X-Fault` header: `status=503` is answered with that
//! status and nothing done; `delay-ms=300` is held that long after its key is taken (while it is
//! in flight) before the work is done; `answer-delay-ms=300` is held that long after the work is
//! done, before it is answered, which is when a test cuts the connection through the harness's
//! fault proxy to lose the answer of work that was done.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::http::HeaderMap;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A service running on loopback; stopped when dropped.
pub struct Running {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Running {
    /// Serves `router` on a free port of 127.0.0.1.
    pub async fn serve(router: Router) -> std::io::Result<Running> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            // An error here is the listener's: the test that started it sees its calls fail.
            let _ = axum::serve(listener, router).await;
        });
        Ok(Running { addr, task })
    }

    /// `http://127.0.0.1:port`, the base of the service's paths.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What one request asked to go wrong.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// Answer with this status, and do nothing.
    pub status: Option<u16>,
    /// Hold the request this long once its key is taken.
    pub delay: Option<Duration>,
    /// Hold the answer this long once the work is done.
    pub answer_delay: Option<Duration>,
}

impl Fault {
    /// The fault in `headers`' `X-Fault`, if any; an unreadable one is no fault, so that a typo
    /// shows as a test that does not see its fault.
    pub fn from_headers(headers: &HeaderMap) -> Fault {
        let Some(text) = headers.get("x-fault").and_then(|value| value.to_str().ok()) else {
            return Fault::default();
        };
        let mut fault = Fault::default();
        for part in text.split(',').map(str::trim) {
            match part.split_once('=') {
                Some(("status", code)) => fault.status = code.parse().ok(),
                Some(("delay-ms", ms)) => fault.delay = ms.parse().ok().map(Duration::from_millis),
                Some(("answer-delay-ms", ms)) => fault.answer_delay = ms.parse().ok().map(Duration::from_millis),
                _ => {}
            }
        }
        fault
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn a_fault_is_read_from_its_header() {
        let mut headers = HeaderMap::new();
        assert_eq!(Fault::from_headers(&headers), Fault::default());
        headers.insert(
            "x-fault",
            HeaderValue::from_static("status=503, delay-ms=250, answer-delay-ms=40"),
        );
        assert_eq!(
            Fault::from_headers(&headers),
            Fault {
                status: Some(503),
                delay: Some(Duration::from_millis(250)),
                answer_delay: Some(Duration::from_millis(40)),
            }
        );
        headers.insert("x-fault", HeaderValue::from_static("delay-ms=soon"));
        assert_eq!(Fault::from_headers(&headers), Fault::default());
    }
}
