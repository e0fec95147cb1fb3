//! Inbound messenger updates, stored before they are acknowledged.
//!
//! A webhook handler records the update with the messenger's own id
//! (Telegram's `update_id`, …): a redelivered update finds its row and is
//! dropped, and an update whose handling was cut short (a crash, a run busy
//! with a slow step) is picked up again by the engine's sweep once its
//! lease ends. Handled rows are kept for a week, long enough to recognise
//! any redelivery.

use super::{now_millis, Store, StoreResult};
use crate::{BotId, Millis};

/// How long handled updates are remembered.
pub const KEEP_MS: Millis = 7 * 24 * 3600 * 1000;

/// An update whose handling is due.
#[derive(Debug, Clone)]
pub struct PendingUpdate {
    pub bot_id: BotId,
    pub channel: String,
    pub external_id: String,
    pub event_json: String,
    pub lease_until: Millis,
}

impl Store {
    /// Records an update and leases it to the caller for `lease_ms`;
    /// `None` if it was recorded before (a redelivery).
    pub async fn accept_update(&self, bot: &BotId, channel: &str, external_id: &str, event_json: &str, lease_ms: i64) -> StoreResult<Option<PendingUpdate>> {
        let now = now_millis();
        let lease_until = now + lease_ms;
        let inserted = sqlx::query(
            "INSERT INTO inbound_updates (bot_id, channel, external_id, event_json, status, lease_until, received_at) \
             VALUES ($1, $2, $3, $4, 'pending', $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(bot.as_str())
        .bind(channel)
        .bind(external_id)
        // The event carries what the person wrote (and their number on
        // WhatsApp): sealed like other personal data.
        .bind(self.keyring.seal(&super::sealing::inbound_place(bot.as_str(), channel, external_id), event_json))
        .bind(lease_until)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok((inserted.rows_affected() > 0).then(|| PendingUpdate {
            bot_id: bot.clone(),
            channel: channel.into(),
            external_id: external_id.into(),
            event_json: event_json.into(),
            lease_until,
        }))
    }

    /// Claims up to `limit` pending updates whose lease ended, oldest first.
    pub async fn claim_due_updates(&self, limit: i64, lease_ms: i64) -> StoreResult<Vec<PendingUpdate>> {
        let now = now_millis();
        let candidates: Vec<(String, String, String, String, i64)> = sqlx::query_as(
            "SELECT bot_id, channel, external_id, event_json, lease_until FROM inbound_updates \
             WHERE status = 'pending' AND lease_until < $1 ORDER BY received_at LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut claimed = Vec::new();
        for (bot_id, channel, external_id, event_json, old_lease) in candidates {
            let lease_until = now + lease_ms;
            let done = sqlx::query(
                "UPDATE inbound_updates SET lease_until = $1 WHERE bot_id = $2 AND channel = $3 AND external_id = $4 \
                 AND status = 'pending' AND lease_until = $5",
            )
            .bind(lease_until)
            .bind(&bot_id)
            .bind(&channel)
            .bind(&external_id)
            .bind(old_lease)
            .execute(&self.pool)
            .await?;
            if done.rows_affected() == 1 {
                let event_json = self.keyring.open(&super::sealing::inbound_place(&bot_id, &channel, &external_id), &event_json)?;
                claimed.push(PendingUpdate { bot_id: BotId::from_store(bot_id), channel, external_id, event_json, lease_until });
            }
        }
        Ok(claimed)
    }

    /// The update was handled (or can never be): it stays only to recognise
    /// redeliveries.
    pub async fn finish_update(&self, update: &PendingUpdate) -> StoreResult<()> {
        sqlx::query("UPDATE inbound_updates SET status = 'done' WHERE bot_id = $1 AND channel = $2 AND external_id = $3")
            .bind(update.bot_id.as_str())
            .bind(&update.channel)
            .bind(&update.external_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Try the update again after `delay_ms` (the run it resumes is busy).
    pub async fn retry_update(&self, update: &PendingUpdate, delay_ms: i64) -> StoreResult<()> {
        sqlx::query("UPDATE inbound_updates SET lease_until = $1 WHERE bot_id = $2 AND channel = $3 AND external_id = $4 AND status = 'pending'")
            .bind(now_millis() + delay_ms)
            .bind(update.bot_id.as_str())
            .bind(&update.channel)
            .bind(&update.external_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forgets handled updates older than [`KEEP_MS`].
    pub async fn purge_updates(&self) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM inbound_updates WHERE status = 'done' AND received_at < $1")
            .bind(now_millis() - KEEP_MS)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
