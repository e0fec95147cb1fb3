//! Login throttling. Failed attempts are counted per subject (an email and,
//! separately, a client address) in the database, so every `comops`
//! process sharing it sees the same count. After `free_attempts` failures
//! inside the window each further attempt waits twice as long as the last,
//! from 30 s up to 15 min.

use super::{Store, StoreResult};
use crate::Millis;

#[derive(Debug, Clone, Copy)]
pub struct LoginThrottle {
    pub window_ms: Millis,
    pub free_attempts: i64,
    pub base_lock_ms: Millis,
    pub max_lock_ms: Millis,
}

impl LoginThrottle {
    /// Five free attempts per email in 15 minutes.
    pub const PER_EMAIL: LoginThrottle =
        LoginThrottle { window_ms: 15 * 60_000, free_attempts: 5, base_lock_ms: 30_000, max_lock_ms: 15 * 60_000 };
    /// Twenty per client address, so one address cannot sweep many emails.
    pub const PER_ADDRESS: LoginThrottle =
        LoginThrottle { window_ms: 15 * 60_000, free_attempts: 20, base_lock_ms: 30_000, max_lock_ms: 15 * 60_000 };

    /// How long a subject with `failures` recent failures, the last at
    /// `last`, must still wait at `now` (0 = may try).
    pub fn wait_ms(&self, failures: i64, last: Millis, now: Millis) -> Millis {
        if failures < self.free_attempts {
            return 0;
        }
        let doublings = (failures - self.free_attempts).min(20) as u32;
        let lock = self.base_lock_ms.saturating_mul(1 << doublings).min(self.max_lock_ms);
        (last + lock - now).max(0)
    }
}

impl Store {
    /// Milliseconds the subject must wait before another login attempt.
    pub async fn login_wait_ms(&self, subject: &str, policy: LoginThrottle, now: Millis) -> StoreResult<Millis> {
        let (count, last): (i64, Option<i64>) =
            sqlx::query_as("SELECT COUNT(*), MAX(at) FROM login_failures WHERE subject = $1 AND at > $2")
                .bind(subject)
                .bind(now - policy.window_ms)
                .fetch_one(&self.pool)
                .await?;
        Ok(policy.wait_ms(count, last.unwrap_or(now), now))
    }

    pub async fn record_login_failure(&self, subject: &str, now: Millis) -> StoreResult<()> {
        sqlx::query("INSERT INTO login_failures (subject, at) VALUES ($1, $2)").bind(subject).bind(now).execute(&self.pool).await?;
        Ok(())
    }

    pub async fn clear_login_failures(&self, subject: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM login_failures WHERE subject = $1").bind(subject).execute(&self.pool).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_double_after_free_attempts() {
        let p = LoginThrottle::PER_EMAIL;
        assert_eq!(p.wait_ms(4, 1_000, 1_000), 0);
        assert_eq!(p.wait_ms(5, 1_000, 1_000), 30_000);
        assert_eq!(p.wait_ms(6, 1_000, 1_000), 60_000);
        assert_eq!(p.wait_ms(5, 1_000, 31_000), 0);
        assert_eq!(p.wait_ms(40, 0, 0), 15 * 60_000);
    }
}
