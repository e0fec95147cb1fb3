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

/// A send the clocks could not take now: nothing was reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    /// When to try again (the slot, `ahead_ms` early).
    pub at: Millis,
    /// Which clock held it: its index in the clocks as given (the one
    /// furthest ahead; the first of them on a tie); None when the message
    /// to mark is no longer claimed.
    pub by: Option<usize>,
}

impl Store {
    /// Reserves one send on every clock (all or none). `Ok(slot)`: send at
    /// `slot` (≤ now + `ahead_ms`); `Err(held)`: nothing reserved, try
    /// again at `held.at`.
    pub async fn reserve_send(&self, clocks: &[Clock], ahead_ms: Millis) -> StoreResult<Result<Millis, Held>> {
        self.reserve(clocks, ahead_ms, None).await
    }

    /// [`Store::reserve_send`] for a claimed outbox message (its id and
    /// lease), which becomes `sending` in the same transaction: a slot is
    /// never reserved for a message that is not marked as going out, nor
    /// the other way round. A message the claim no longer holds reserves
    /// nothing (`Err` at now).
    pub async fn reserve_send_of(&self, clocks: &[Clock], ahead_ms: Millis, message: &str, lease_until: Millis) -> StoreResult<Result<Millis, Held>> {
        self.reserve(clocks, ahead_ms, Some((message, lease_until))).await
    }

    async fn reserve(&self, given: &[Clock], ahead_ms: Millis, message: Option<(&str, Millis)>) -> StoreResult<Result<Millis, Held>> {
        let mut clocks: Vec<(usize, &Clock)> = given.iter().enumerate().collect();
        clocks.sort_by(|a, b| a.1.key.cmp(&b.1.key));
        let mut tx = self.pool.begin().await?;
        for (_, clock) in &clocks {
            sqlx::query("INSERT INTO send_clocks (key, next_at) VALUES ($1, 0) ON CONFLICT DO NOTHING")
                .bind(&clock.key)
                .execute(&mut *tx)
                .await?;
        }
        let lock = if self.dialect == Dialect::Postgres { " FOR UPDATE" } else { "" };
        let now = now_millis();
        let (mut slot, mut by) = (now, 0);
        let mut furthest = i64::MIN;
        for (index, clock) in &clocks {
            let next: i64 = sqlx::query_scalar(&format!("SELECT next_at FROM send_clocks WHERE key = $1{lock}"))
                .bind(&clock.key)
                .fetch_one(&mut *tx)
                .await?;
            slot = slot.max(next);
            if next > furthest || (next == furthest && *index < by) {
                (furthest, by) = (next, *index);
            }
        }
        if slot > now + ahead_ms {
            tx.rollback().await?;
            return Ok(Err(Held { at: slot - ahead_ms, by: Some(by) }));
        }
        if let Some((id, lease_until)) = message {
            let marked = sqlx::query("UPDATE outbox SET status = 'sending' WHERE id = $1 AND status = 'claimed' AND lease_until = $2")
                .bind(id)
                .bind(lease_until)
                .execute(&mut *tx)
                .await?;
            if marked.rows_affected() == 0 {
                tx.rollback().await?;
                return Ok(Err(Held { at: now, by: None }));
            }
        }
        for (_, clock) in &clocks {
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
