//! Exponential backoff with full jitter (WIRE.md section 6), for download retries and for the
//! caller's reconnect loop; the caller supplies the random numbers and does the waiting.

use crate::contract;

/// How often and how long to wait between attempts: the delay before retry `n` (0-based) is
/// drawn uniformly from `[0, min(max_delay_ms, base_delay_ms * 2^n)]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Attempts in all, the first one included (WIRE.md default 5).
    pub max_attempts: u32,
    /// The first retry waits up to this long (default 100 ms).
    pub base_delay_ms: u32,
    /// No wait is longer than this (default 5000 ms).
    pub max_delay_ms: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        // The schema's x-constants are small enough for u32 (checked at compile time).
        const MAX_ATTEMPTS: u32 = contract::MAX_RETRIES as u32;
        const BASE_DELAY_MS: u32 = contract::BASE_DELAY_MS as u32;
        const MAX_DELAY_MS: u32 = contract::MAX_DELAY_MS as u32;
        const _: () = assert!(contract::MAX_RETRIES <= u32::MAX as u64);
        const _: () = assert!(contract::BASE_DELAY_MS <= u32::MAX as u64);
        const _: () = assert!(contract::MAX_DELAY_MS <= u32::MAX as u64);
        Backoff {
            max_attempts: MAX_ATTEMPTS,
            base_delay_ms: BASE_DELAY_MS,
            max_delay_ms: MAX_DELAY_MS,
        }
    }
}

impl Backoff {
    /// The wait before retry `retry` (0 for the first retry), from a uniformly random `random`.
    ///
    /// ```
    /// use natsbridge_embedded::backoff::Backoff;
    /// let backoff = Backoff::default();
    /// assert!(backoff.delay_ms(0, 12345) <= 100);
    /// assert!(backoff.delay_ms(3, u32::MAX) <= 800);
    /// assert!(backoff.delay_ms(30, u32::MAX) <= 5000);
    /// ```
    #[must_use]
    pub fn delay_ms(&self, retry: u32, random: u32) -> u32 {
        let ceiling = self
            .base_delay_ms
            .checked_shl(retry)
            .filter(|d| d >> retry == self.base_delay_ms)
            .unwrap_or(u32::MAX)
            .min(self.max_delay_ms);
        if ceiling == u32::MAX {
            random
        } else {
            random % (ceiling + 1)
        }
    }
}
