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

/// One claimed outbox message to reserve a send for, with its clocks
/// ([`Store::reserve_sends_of`]).
#[derive(Debug, Clone, Copy)]
pub struct SendToReserve<'a> {
    pub message: &'a str,
    pub clocks: &'a [Clock],
}

impl Store {
    /// Reserves one send on every clock (all or none). `Ok(slot)`: send at
    /// `slot` (≤ now + `ahead_ms`); `Err(held)`: nothing reserved, try
    /// again at `held.at`.
    pub async fn reserve_send(&self, clocks: &[Clock], ahead_ms: Millis) -> StoreResult<Result<Millis, Held>> {
        let answers = self.reserve_on_clocks(&[(None, clocks)], ahead_ms, 0).await?;
        Ok(answers.into_iter().next().unwrap_or(Err(Held { at: now_millis(), by: None })))
    }

    /// Holds clock `key` until `until` at the least (a messenger's
    /// `retry_after` for a bot): no send is reserved on it before then, by
    /// any process. A clock already further ahead stays.
    pub async fn hold_clock(&self, key: &str, until: Millis) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO send_clocks (key, next_at) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE \
             SET next_at = CASE WHEN send_clocks.next_at > excluded.next_at THEN send_clocks.next_at ELSE excluded.next_at END",
        )
        .bind(key)
        .bind(until)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Moves clock `key` on to what `after` makes of its next slot, under
    /// its row lock (None: it stays). A send that left late makes the
    /// send a window's count of turns after it wait (`Pacer::after_late_send`):
    /// the other processes reserve on this clock, so they wait too.
    /// Whether it moved.
    pub async fn move_clock_on(&self, key: &str, after: impl FnOnce(Millis) -> Option<Millis>) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        // Read by a write, so the row (PostgreSQL) or the database (SQLite,
        // which would otherwise refuse the upgrade from a read) is held.
        let next: Option<i64> =
            sqlx::query_scalar("UPDATE send_clocks SET next_at = next_at WHERE key = $1 RETURNING next_at").bind(key).fetch_optional(&mut *tx).await?;
        let Some(moved) = next.and_then(|next| after(next).filter(|at| *at > next)) else {
            return Ok(false);
        };
        sqlx::query("UPDATE send_clocks SET next_at = $1 WHERE key = $2").bind(moved).bind(key).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// [`Store::reserve_send`] for a claimed outbox message (its id and
    /// lease), which becomes `sending` in the same transaction: a slot is
    /// never reserved for a message that is not marked as going out, nor
    /// the other way round. A message the claim no longer holds reserves
    /// nothing (`Err` at now).
    pub async fn reserve_send_of(&self, clocks: &[Clock], ahead_ms: Millis, message: &str, lease_until: Millis) -> StoreResult<Result<Millis, Held>> {
        let answers = self.reserve_sends_of(&[SendToReserve { message, clocks }], ahead_ms, lease_until).await?;
        Ok(answers.into_iter().next().unwrap_or(Err(Held { at: now_millis(), by: None })))
    }

    /// [`Store::reserve_send_of`] for a dispatcher pass's messages, all
    /// claimed with `lease_until`, in one transaction: one commit instead
    /// of one per message (on PostgreSQL a pass of 200 messages took a
    /// second, one commit after another). The messages the claim still
    /// holds are locked first, then every clock they use, in byte order of
    /// their keys (so processes cannot deadlock); slots go
    /// to the messages in the order given, each moving its clocks as its
    /// own reservation would, and the messages given a slot become
    /// `sending` in the same commit. One answer per message, in order.
    pub async fn reserve_sends_of(&self, sends: &[SendToReserve<'_>], ahead_ms: Millis, lease_until: Millis) -> StoreResult<Vec<Result<Millis, Held>>> {
        let sends: Vec<(Option<&str>, &[Clock])> = sends.iter().map(|send| (Some(send.message), send.clocks)).collect();
        self.reserve_on_clocks(&sends, ahead_ms, lease_until).await
    }

    /// Reserves sends on their clocks in one transaction, in order: each
    /// one's message, if it names one, must still be claimed with
    /// `lease_until` and becomes `sending` with its slot
    /// ([`Store::reserve_sends_of`]); one without a message only moves
    /// the clocks ([`Store::reserve_send`]).
    async fn reserve_on_clocks(&self, sends: &[(Option<&str>, &[Clock])], ahead_ms: Millis, lease_until: Millis) -> StoreResult<Vec<Result<Millis, Held>>> {
        use std::collections::{HashMap, HashSet};
        if sends.is_empty() {
            return Ok(Vec::new());
        }
        let lock = if self.dialect == Dialect::Postgres { " FOR UPDATE" } else { "" };
        // Rows are locked in byte order of their keys, as sorted here (the
        // database's collation may order `-` and `_` otherwise, and two
        // processes locking one pair of clocks in opposite orders would
        // deadlock); SQLite compares bytes already.
        let in_key_order = if self.dialect == Dialect::Postgres { "ORDER BY key COLLATE \"C\"" } else { "ORDER BY key" };
        let mut tx = self.pool.begin().await?;
        let ids: Vec<&str> = sends.iter().filter_map(|(message, _)| *message).collect();
        let mut claimed = HashSet::new();
        for chunk in super::row_chunks(&ids) {
            let sql = format!(
                "SELECT id FROM outbox WHERE id IN ({}) AND status = 'claimed' AND lease_until = $1{lock}",
                super::placeholders(2, chunk.len())
            );
            let mut query = sqlx::query_scalar::<_, String>(&sql).bind(lease_until);
            for id in chunk {
                query = query.bind(*id);
            }
            claimed.extend(query.fetch_all(&mut *tx).await?);
        }
        let mut keys: Vec<&str> = sends.iter().flat_map(|(_, clocks)| clocks.iter().map(|clock| clock.key.as_str())).collect();
        keys.sort_unstable();
        keys.dedup();
        for chunk in super::row_chunks(&keys) {
            let sql = format!(
                "INSERT INTO send_clocks (key, next_at) VALUES {} ON CONFLICT DO NOTHING",
                super::values_rows(1, 1, chunk.len(), |b| format!("(${b}, 0)"))
            );
            let mut query = sqlx::query(&sql);
            for key in chunk {
                query = query.bind(*key);
            }
            query.execute(&mut *tx).await?;
        }
        let mut next: HashMap<String, Millis> = HashMap::new();
        for chunk in super::row_chunks(&keys) {
            let sql = format!("SELECT key, next_at FROM send_clocks WHERE key IN ({}) {in_key_order}{lock}", super::placeholders(1, chunk.len()));
            let mut query = sqlx::query_as::<_, (String, i64)>(&sql);
            for key in chunk {
                query = query.bind(*key);
            }
            next.extend(query.fetch_all(&mut *tx).await?);
        }
        let now = now_millis();
        let mut marked = Vec::new();
        let mut moved = HashSet::new();
        let answers: Vec<Result<Millis, Held>> = sends
            .iter()
            .map(|&(message, clocks)| {
                // Taken from the set: a message given twice goes once.
                if message.is_some_and(|id| !claimed.remove(id)) {
                    return Err(Held { at: now, by: None });
                }
                // The slot is the latest of the clocks and now; `by` the
                // clock furthest ahead (the first of them on a tie).
                let (mut slot, mut by, mut furthest) = (now, 0, i64::MIN);
                for (index, clock) in clocks.iter().enumerate() {
                    let at = next.get(&clock.key).copied().unwrap_or(0);
                    slot = slot.max(at);
                    if at > furthest {
                        (furthest, by) = (at, index);
                    }
                }
                if slot > now + ahead_ms {
                    return Err(Held { at: slot - ahead_ms, by: Some(by) });
                }
                for clock in clocks {
                    next.insert(clock.key.clone(), slot + clock.interval_ms);
                    moved.insert(clock.key.as_str());
                }
                marked.extend(message);
                Ok(slot)
            })
            .collect();
        for chunk in super::row_chunks(&marked) {
            let sql = format!(
                "UPDATE outbox SET status = 'sending' WHERE id IN ({}) AND status = 'claimed' AND lease_until = $1",
                super::placeholders(2, chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(lease_until);
            for id in chunk {
                query = query.bind(*id);
            }
            query.execute(&mut *tx).await?;
        }
        let mut moved: Vec<&str> = moved.into_iter().collect();
        moved.sort_unstable();
        for chunk in super::row_chunks(&moved) {
            let sql = format!(
                "WITH moved (key, next_at) AS (VALUES {}) UPDATE send_clocks SET next_at = moved.next_at FROM moved WHERE send_clocks.key = moved.key",
                super::values_rows(1, 2, chunk.len(), |b| format!("(${b}, CAST(${} AS BIGINT))", b + 1))
            );
            let mut query = sqlx::query(&sql);
            for key in chunk {
                query = query.bind(*key).bind(next.get(*key).copied().unwrap_or(0));
            }
            query.execute(&mut *tx).await?;
        }
        if let Err(err) = tx.commit().await {
            // Committed unheard, the messages given a slot may be
            // `sending`, never sent: handed back at the next pass.
            let err = super::StoreError::from(err);
            if err.is_unreachable() {
                self.doubt_take(&marked.iter().map(|id| id.to_string()).collect::<Vec<_>>(), lease_until);
            }
            return Err(err);
        }
        Ok(answers)
    }
}
