//! Identity links (`userId` ↔ `leadId` ↔ `chatId` per channel): what the
//! integration API needs to turn business ids into leads.

use super::{now_millis, Store, StoreResult};
use crate::BotId;

/// One identity link as the methodology's table shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IdentityLink {
    pub user_id: String,
    pub lead_id: String,
    pub channel: String,
    pub chat_id: String,
    pub is_active: bool,
    pub source: String,
    pub connected_at: crate::Millis,
}

impl IdentityLink {
    /// An active Telegram link connected now (the common case: a chat id).
    pub fn telegram(user_id: &str, lead_id: &str, chat_id: &str, source: &str) -> Self {
        IdentityLink {
            user_id: user_id.into(),
            lead_id: lead_id.into(),
            channel: "telegram".into(),
            chat_id: chat_id.into(),
            is_active: true,
            source: source.into(),
            connected_at: 0,
        }
    }
}

impl Store {
    /// Links a lead's channel address to a business user: the same link
    /// again is re-activated (with the new source and time), not doubled.
    /// The lead's row is created on its first link; a lead a block left
    /// `stopped` with no active address is `active` again.
    pub async fn link_identity(&self, bot: &BotId, link: &IdentityLink) -> StoreResult<()> {
        let now = if link.connected_at == 0 { now_millis() } else { link.connected_at };
        // Personal addresses are found by their blind index (sealing.rs).
        let candidates = self.address_candidates(&link.chat_id);
        let mut tx = self.pool.begin().await?;
        super::leads::ensure_lead(&mut *tx, bot, &link.lead_id, now).await?;
        if link.is_active {
            // A lead left `stopped` with no address (a block) has one again.
            let sql = format!(
                "UPDATE leads SET status = 'active', updated_at = $1 WHERE bot_id = $2 AND id = $3 AND status = $4 AND {}",
                super::blocked::NO_ACTIVE_ADDRESS
            );
            sqlx::query(&sql)
            .bind(now_millis())
            .bind(bot.as_str())
            .bind(&link.lead_id)
            .bind(super::leads::STOPPED)
            .execute(&mut *tx)
            .await?;
        }
        let sql = format!(
            "UPDATE identity_links SET is_active = $1, source = $2, connected_at = $3 \
             WHERE bot_id = $4 AND user_id = $5 AND lead_id = $6 AND channel = $7 AND chat_idx IN ({})",
            super::placeholders(8, candidates.len())
        );
        let mut update = sqlx::query(&sql)
            .bind(link.is_active as i64)
            .bind(&link.source)
            .bind(now)
            .bind(bot.as_str())
            .bind(&link.user_id)
            .bind(&link.lead_id)
            .bind(&link.channel);
        for candidate in &candidates {
            update = update.bind(candidate);
        }
        let updated = update.execute(&mut *tx).await?;
        if updated.rows_affected() == 0 {
            let id = format!("idl_{}", crate::id::random_suffix());
            sqlx::query(
                "INSERT INTO identity_links (id, bot_id, user_id, lead_id, channel, chat_id, chat_idx, is_active, source, connected_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&id)
            .bind(bot.as_str())
            .bind(&link.user_id)
            .bind(&link.lead_id)
            .bind(&link.channel)
            .bind(self.seal_address(&link.channel, &super::sealing::link_place(&id), &link.chat_id))
            .bind(self.address_key(&link.channel, &link.chat_id))
            .bind(link.is_active as i64)
            .bind(&link.source)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.cache.leads.clear();
        Ok(())
    }

    /// The distinct leads with an active link for `user_id` on `bot`
    /// (through the short-lived cache: hot on every API call).
    pub async fn leads_of_user(&self, bot: &BotId, user_id: &str) -> StoreResult<Vec<String>> {
        if user_id.is_empty() {
            // Strangers who wrote in have links without a business user;
            // "" is nobody's id.
            return Ok(Vec::new());
        }
        let key = (bot.to_string(), user_id.to_string());
        if let Some(cached) = self.cache.leads.get(&key) {
            return Ok(cached);
        }
        let leads: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT lead_id FROM identity_links WHERE bot_id = $1 AND user_id = $2 AND is_active = 1 ORDER BY lead_id",
        )
        .bind(bot.as_str())
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        self.cache.leads.put(key, leads.clone());
        Ok(leads)
    }

    /// [`Store::leads_of_user`] for many users at once (uncached): user →
    /// its leads, sorted; users without a lead are absent.
    pub async fn leads_of_users(&self, bot: &BotId, users: &[String]) -> StoreResult<std::collections::HashMap<String, Vec<String>>> {
        let mut found: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
        for chunk in users.chunks(500) {
            let placeholders = super::placeholders(2, chunk.len());
            let sql = format!(
                "SELECT DISTINCT user_id, lead_id FROM identity_links WHERE bot_id = $1 AND is_active = 1 AND user_id IN ({placeholders}) ORDER BY user_id, lead_id"
            );
            let mut query = sqlx::query_as::<_, (String, String)>(&sql).bind(bot.as_str());
            for user in chunk {
                query = query.bind(user);
            }
            for (user, lead) in query.fetch_all(&self.pool).await? {
                if !user.is_empty() {
                    found.entry(user).or_default().push(lead);
                }
            }
        }
        Ok(found)
    }

    /// Of `ids` (business user ids, or lead ids when `leads`) that resolve
    /// to no lead, those known on `bot` whose every address is inactive —
    /// the person blocked the bot, or was deactivated — rather than never
    /// linked: a call's answer tells the business system which is which.
    /// One query per 500 ids; the result keeps the order of `ids`.
    pub async fn inactive_among(&self, bot: &BotId, ids: &[String], leads: bool) -> StoreResult<Vec<String>> {
        let column = if leads { "lead_id" } else { "user_id" };
        let mut known = std::collections::HashSet::new();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT DISTINCT {column} FROM identity_links WHERE bot_id = $1 AND {column} IN ({}) \
                 AND NOT EXISTS (SELECT 1 FROM identity_links a WHERE a.bot_id = $1 AND a.{column} = identity_links.{column} AND a.is_active = 1)",
                super::placeholders(2, chunk.len())
            );
            let mut query = sqlx::query_scalar::<_, String>(&sql).bind(bot.as_str());
            for id in chunk {
                query = query.bind(id);
            }
            known.extend(query.fetch_all(&self.pool).await?);
        }
        Ok(ids.iter().filter(|id| !id.is_empty() && known.contains(id.as_str())).cloned().collect())
    }

    /// Whether `lead_id` has any active link on `bot`.
    pub async fn lead_exists(&self, bot: &BotId, lead_id: &str) -> StoreResult<bool> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM identity_links WHERE bot_id = $1 AND lead_id = $2 AND is_active = 1")
            .bind(bot.as_str())
            .bind(lead_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(count > 0)
    }
}
