//! Waiting for something that happens on its own time: a consumer catching up, a relay publishing.
//!
//! A fixed `sleep` in a test is either too long (slow suite) or too short (flaky suite).
//! [`eventually`] asks again and again, a little less often each time, until the check passes or
//! the time is up, and then fails with the last reason it heard, so a failure explains itself.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// Runs `check` until it returns `Ok`, and returns that value; panics after `timeout` with the
/// last error and the number of attempts.
///
/// ```no_run
/// # async fn example(pool: sqlx::PgPool) {
/// use std::time::Duration;
/// let delivered: i64 = harness::eventually(Duration::from_secs(10), || async {
///     let n: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox").fetch_one(&pool).await.map_err(|e| e.to_string())?;
///     if n == 3 { Ok(n) } else { Err(format!("{n} of 3 messages delivered")) }
/// })
/// .await;
/// # }
/// ```
#[track_caller]
pub fn eventually<T, E, F, Fut>(timeout: Duration, check: F) -> impl Future<Output = T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: Display,
{
    let caller = std::panic::Location::caller();
    async move {
        match try_eventually(timeout, check).await {
            Ok(value) => value,
            Err(Gave { attempts, last }) => {
                panic!(
                    "eventually (at {caller}): not true after {timeout:?} and {attempts} attempts; last failure: {last}"
                )
            }
        }
    }
}

/// Why [`try_eventually`] gave up.
#[derive(Debug)]
pub struct Gave<E> {
    /// How many times the check ran.
    pub attempts: u32,
    /// What the last run of the check said.
    pub last: E,
}

/// [`eventually`] without the panic, for code that wants to handle the timeout itself.
pub async fn try_eventually<T, E, F, Fut>(timeout: Duration, mut check: F) -> Result<T, Gave<E>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(5);
    let mut attempts = 0;
    loop {
        attempts += 1;
        match check().await {
            Ok(value) => return Ok(value),
            Err(last) if Instant::now() + pause > deadline => return Err(Gave { attempts, last }),
            Err(_) => {}
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(250));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn returns_the_value_once_the_check_passes() {
        let calls = AtomicU32::new(0);
        let value = eventually(Duration::from_secs(5), || async {
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            if n >= 4 {
                Ok(n * 10)
            } else {
                Err(format!("only {n} calls"))
            }
        })
        .await;
        assert_eq!(value, 40);
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_the_timeout_with_the_last_failure() {
        let calls = AtomicU32::new(0);
        let started = Instant::now();
        let gave = try_eventually(Duration::from_secs(2), || async {
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            Err::<(), _>(format!("attempt {n} failed"))
        })
        .await
        .unwrap_err();
        assert_eq!(gave.attempts, calls.load(Ordering::SeqCst));
        assert_eq!(gave.last, format!("attempt {} failed", gave.attempts));
        assert!(
            started.elapsed() <= Duration::from_secs(2),
            "waited {:?}",
            started.elapsed()
        );
        assert!(
            started.elapsed() >= Duration::from_millis(1500),
            "gave up early: {:?}",
            started.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    #[should_panic(expected = "last failure: still 0")]
    async fn eventually_panics_with_the_last_failure() {
        eventually(Duration::from_millis(100), || async { Err::<(), _>("still 0") }).await;
    }
}
