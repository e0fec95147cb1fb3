//! Request rate limits in process memory: a token bucket per key holding
//! `per_minute` requests, refilled continuously. The integration API keys
//! them by token (and records when this process last wrote the token's
//! use); the studio keys them by a user's email for its dry runs. Each
//! `comops` process enforces the limit on what it serves; a limit shared
//! across processes is future work (docs/decisions.md).

use crate::TokenId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct RateLimiter<K = TokenId> {
    buckets: Mutex<HashMap<K, Bucket>>,
    /// When this process last recorded each token's use in the store.
    touched: Mutex<HashMap<K, Instant>>,
}

impl<K> Default for RateLimiter<K> {
    fn default() -> Self {
        RateLimiter { buckets: Mutex::default(), touched: Mutex::default() }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl<K: Clone + Eq + std::hash::Hash> RateLimiter<K> {
    /// Takes one request from `token`'s bucket, or says how long to wait.
    /// `per_minute == 0` means unlimited.
    pub fn check(&self, token: &K, per_minute: u32, now: Instant) -> Result<(), Duration> {
        if per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(per_minute);
        let per_sec = capacity / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let bucket = buckets.entry(token.clone()).or_insert(Bucket { tokens: capacity, at: now });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_sec).min(capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_sec))
        }
    }
}

impl RateLimiter {
    /// Whether to record `token`'s last use now (once a second at most).
    pub fn should_touch(&self, token: &TokenId, now: Instant) -> bool {
        let mut touched = self.touched.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match touched.get(token) {
            Some(last) if now.saturating_duration_since(*last) < Duration::from_secs(1) => false,
            _ => {
                touched.insert(token.clone(), now);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_budget_then_asks_to_wait() {
        let limiter = RateLimiter::default();
        let token = TokenId::parse("tok_crm").unwrap();
        let start = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check(&token, 3, start).is_ok());
        }
        let wait = limiter.check(&token, 3, start).unwrap_err();
        assert!(wait > Duration::from_secs(19) && wait <= Duration::from_secs(20), "{wait:?}");
        assert!(limiter.check(&token, 3, start + Duration::from_secs(20)).is_ok());
        assert!(limiter.check(&token, 0, start).is_ok());
    }

    #[test]
    fn touches_at_most_once_a_second() {
        let limiter = RateLimiter::default();
        let token = TokenId::parse("tok_crm").unwrap();
        let start = Instant::now();
        assert!(limiter.should_touch(&token, start));
        assert!(!limiter.should_touch(&token, start + Duration::from_millis(500)));
        assert!(limiter.should_touch(&token, start + Duration::from_millis(1500)));
    }
}
