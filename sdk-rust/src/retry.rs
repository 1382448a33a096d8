//! Exponential backoff with full jitter for link downloads (WIRE.md section 6): attempt `k`
//! waits a random time in `[0, min(max_delay, base_delay * 2^k)]` before it starts.

use std::time::Duration;

/// How link downloads retry transient failures (connection errors, 5xx, 429). The default
/// is the contract's ([`contract::MAX_RETRIES`](crate::contract::MAX_RETRIES),
/// [`BASE_DELAY_MS`](crate::contract::BASE_DELAY_MS),
/// [`MAX_DELAY_MS`](crate::contract::MAX_DELAY_MS)).
///
/// ```
/// use std::time::Duration;
/// use natsbridge::RetryPolicy;
///
/// let policy = RetryPolicy::default();
/// assert_eq!(policy.max_retries, 5);
/// assert!(policy.delay_before(3) <= Duration::from_millis(800));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included (at least one is always made).
    pub max_retries: u32,
    /// The delay cap of the first retry.
    pub base_delay: Duration,
    /// The largest delay cap.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        use crate::contract::{BASE_DELAY_MS, MAX_DELAY_MS, MAX_RETRIES};
        RetryPolicy {
            max_retries: u32::try_from(MAX_RETRIES).unwrap_or(u32::MAX),
            base_delay: Duration::from_millis(BASE_DELAY_MS),
            max_delay: Duration::from_millis(MAX_DELAY_MS),
        }
    }
}

impl RetryPolicy {
    /// At most `max_retries` attempts, delay caps doubling from `base_delay` up to
    /// `max_delay`.
    pub const fn new(max_retries: u32, base_delay: Duration, max_delay: Duration) -> Self {
        RetryPolicy {
            max_retries,
            base_delay,
            max_delay,
        }
    }

    /// The upper bound of the delay before retry number `retry` (0 for the first retry).
    pub fn delay_cap(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry).unwrap_or(u32::MAX);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// A delay drawn uniformly from `[0, delay_cap(retry)]` (full jitter).
    pub fn delay_before(&self, retry: u32) -> Duration {
        let cap = self.delay_cap(retry).as_micros() as u64;
        Duration::from_micros(fastrand::u64(0..=cap))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_double_from_the_base_up_to_the_maximum() {
        let policy = RetryPolicy::default();
        let caps: Vec<u128> = (0..8).map(|k| policy.delay_cap(k).as_millis()).collect();
        assert_eq!(caps, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
        assert_eq!(policy.delay_cap(200), policy.max_delay);
    }

    #[test]
    fn delays_stay_within_their_cap_and_vary() {
        let policy = RetryPolicy::default();
        let delays: Vec<Duration> = (0..200).map(|_| policy.delay_before(2)).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_millis(400)));
        assert!(
            delays.iter().any(|d| *d != delays[0]),
            "full jitter draws different delays"
        );
    }
}
