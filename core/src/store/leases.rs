//! Named leases for work only one `comops` process may do at a time (long
//! polling a bot's Telegram updates: the Bot API refuses two concurrent
//! `getUpdates`). A holder renews its lease while it works; when it dies,
//! the lease runs out and another process takes over.

use super::{now_millis, Store, StoreResult};

impl Store {
    /// Takes or renews the lease `name` for `holder` for `lease_ms`; false
    /// while someone else holds it.
    pub async fn acquire_lease(&self, name: &str, holder: &str, lease_ms: i64) -> StoreResult<bool> {
        let now = now_millis();
        sqlx::query("INSERT INTO worker_leases (name, holder, lease_until) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING")
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await?;
        let taken = sqlx::query("UPDATE worker_leases SET holder = $1, lease_until = $2 WHERE name = $3 AND (holder = $1 OR lease_until < $4)")
            .bind(holder)
            .bind(now + lease_ms)
            .bind(name)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(taken.rows_affected() == 1)
    }

    /// Gives the lease up (a clean stop), so another process need not wait.
    pub async fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()> {
        sqlx::query("UPDATE worker_leases SET lease_until = 0 WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every bot's settings of one kind, e.g. all Telegram channels.
    pub async fn channels_of_kind(&self, kind: &str) -> StoreResult<Vec<(crate::BotId, serde_json::Value)>> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT bot_id, config_json FROM bot_channels WHERE kind = $1 AND enabled = 1")
            .bind(kind)
            .fetch_all(&self.pool)
            .await?;
        let mut channels = Vec::with_capacity(rows.len());
        for (bot, config) in rows {
            // One unreadable row must not stop every other bot's channel.
            match self.keyring.open(&super::sealing::channel_place(&bot, kind), &config) {
                Ok(config) => channels.push((crate::BotId::from_store(bot), serde_json::from_str(&config).unwrap_or_default())),
                Err(err) => tracing::error!(bot = %bot, kind, "channel settings unreadable: {err}"),
            }
        }
        Ok(channels)
    }
}
