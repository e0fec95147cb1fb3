//! Send clocks: messenger rate limits kept in the database, so that every
//! `comops` process sharing it (PostgreSQL scale-out) draws from one budget
//! per bot and per chat.
//!
//! Each clock (`bot:telegram:bot_shop`, `chat:telegram:bot_shop:125`) holds
//! the earliest time its next message may go out. Reserving a send looks at
//! all the message's clocks under row locks (taken in key order, so two
//! processes cannot deadlock): the slot is the latest of them and now; if
//! it is close enough (`ahead_ms`) every clock moves to slot + its own
//! interval and the caller sends at the slot, otherwise nothing changes and
//! the caller tries again at the time it is told. Messages go out evenly
//! spaced (Telegram: one per 33.8 ms per bot), which never makes a burst a
//! strict sliding window would refuse, and reserving a little ahead keeps
//! the polling delay of the dispatcher out of the spacing.

use super::{now_millis, Dialect, Store, StoreResult};
use crate::Millis;

/// A clock and the spacing it enforces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clock {
    pub key: String,
    pub interval_ms: Millis,
}

impl Store {
    /// Reserves one send on every clock (all or none). `Ok(slot)`: send at
    /// `slot` (≤ now + `ahead_ms`); `Err(at)`: nothing reserved, try again
    /// at `at`.
    pub async fn reserve_send(&self, clocks: &[Clock], ahead_ms: Millis) -> StoreResult<Result<Millis, Millis>> {
        self.reserve(clocks, ahead_ms, None).await
    }

    /// [`Store::reserve_send`] for a claimed outbox message (its id and
    /// lease), which becomes `sending` in the same transaction: a slot is
    /// never reserved for a message that is not marked as going out, nor
    /// the other way round. A message the claim no longer holds reserves
    /// nothing (`Err(now)`).
    pub async fn reserve_send_of(&self, clocks: &[Clock], ahead_ms: Millis, message: &str, lease_until: Millis) -> StoreResult<Result<Millis, Millis>> {
        self.reserve(clocks, ahead_ms, Some((message, lease_until))).await
    }

    async fn reserve(&self, clocks: &[Clock], ahead_ms: Millis, message: Option<(&str, Millis)>) -> StoreResult<Result<Millis, Millis>> {
        let mut clocks = clocks.to_vec();
        clocks.sort_by(|a, b| a.key.cmp(&b.key));
        let mut tx = self.pool.begin().await?;
        for clock in &clocks {
            sqlx::query("INSERT INTO send_clocks (key, next_at) VALUES ($1, 0) ON CONFLICT DO NOTHING")
                .bind(&clock.key)
                .execute(&mut *tx)
                .await?;
        }
        let lock = if self.dialect == Dialect::Postgres { " FOR UPDATE" } else { "" };
        let now = now_millis();
        let mut slot = now;
        for clock in &clocks {
            let next: i64 = sqlx::query_scalar(&format!("SELECT next_at FROM send_clocks WHERE key = $1{lock}"))
                .bind(&clock.key)
                .fetch_one(&mut *tx)
                .await?;
            slot = slot.max(next);
        }
        if slot > now + ahead_ms {
            tx.rollback().await?;
            return Ok(Err(slot - ahead_ms));
        }
        if let Some((id, lease_until)) = message {
            let marked = sqlx::query("UPDATE outbox SET status = 'sending' WHERE id = $1 AND status = 'claimed' AND lease_until = $2")
                .bind(id)
                .bind(lease_until)
                .execute(&mut *tx)
                .await?;
            if marked.rows_affected() == 0 {
                tx.rollback().await?;
                return Ok(Err(now));
            }
        }
        for clock in &clocks {
            sqlx::query("UPDATE send_clocks SET next_at = $1 WHERE key = $2")
                .bind(slot + clock.interval_ms)
                .bind(&clock.key)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Ok(slot))
    }
}
