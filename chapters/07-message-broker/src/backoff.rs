//! How long to wait before trying again after a failure: exponential, bounded, with jitter.
//!
//! Exponential, so that a broker or a database that is down is not hammered; bounded, so that
//! when it comes back the relay or consumer notices within `max`; with jitter, so that a hundred
//! relays that failed together do not all retry in the same millisecond. This is "full jitter":
//! the wait is drawn uniformly from zero to the exponential ceiling.

use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling after the first failure.
    pub base: Duration,
    /// The ceiling never grows past this.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(50),
            max: Duration::from_secs(2),
        }
    }
}

impl Backoff {
    /// The ceiling of the wait after `failures` consecutive failures (1 for the first):
    /// `base * 2^(failures - 1)`, capped at `max`.
    pub fn ceiling(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(30);
        self.base.saturating_mul(1 << doublings).min(self.max)
    }

    /// The wait after `failures` consecutive failures: uniform in `[0, ceiling]`.
    pub fn delay(&self, failures: u32) -> Duration {
        self.ceiling(failures).mul_f64(random_fraction())
    }
}

/// A number in `[0, 1]`, random enough for jitter: `RandomState` is seeded per instance from
/// the operating system, so hashing anything with a new one gives an unpredictable value.
fn random_fraction() -> f64 {
    let bits = RandomState::new().hash_one(0u8);
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case(1, 50)]
    #[case(2, 100)]
    #[case(3, 200)]
    #[case(6, 1_600)]
    #[case(7, 2_000)]
    #[case(40, 2_000)]
    #[case(u32::MAX, 2_000)]
    fn the_ceiling_doubles_per_failure_up_to_the_maximum(#[case] failures: u32, #[case] millis: u64) {
        assert_eq!(Backoff::default().ceiling(failures), Duration::from_millis(millis));
    }

    #[test]
    fn delays_spread_over_the_whole_range_below_the_ceiling() {
        let backoff = Backoff::default();
        let delays: Vec<Duration> = (0..200).map(|_| backoff.delay(3)).collect();
        assert!(delays.iter().all(|delay| *delay <= Duration::from_millis(200)));
        let low = delays.iter().filter(|d| **d < Duration::from_millis(100)).count();
        assert!(
            (40..=160).contains(&low),
            "about half below the middle, got {low} of 200"
        );
    }
}
