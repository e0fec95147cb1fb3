//! One-time deep-link codes that bind a business `userId` to the person who
//! presses Start (`t.me/<bot>?start=<code>`). The store keeps the code's
//! hash; a code works once and expires.

use super::{now_millis, Store, StoreResult};
use crate::auth::hash_secret;
use crate::store::identities::IdentityLink;
use crate::BotId;

/// How long a deep link stays valid.
pub const LINK_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

impl Store {
    /// A new code for `user_id` (24 url-safe characters); returns it and
    /// its expiry.
    pub async fn create_link_code(&self, bot: &BotId, user_id: &str) -> StoreResult<(String, crate::Millis)> {
        self.bot(bot).await?;
        // Telegram start payloads allow A-Z a-z 0-9 _ - up to 64 chars.
        let code = crate::auth::new_secret().0[..24].to_string();
        let now = now_millis();
        let expires_at = now + LINK_TTL_MS;
        sqlx::query("INSERT INTO link_codes (code_hash, bot_id, user_id, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(hash_secret(&code))
            .bind(bot.as_str())
            .bind(user_id)
            .bind(expires_at)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok((code, expires_at))
    }

    /// Uses a code: when valid and unused, links its user to `lead_id` at
    /// this channel address and returns the user id. Atomic: a code binds
    /// once even if two Starts race.
    pub async fn redeem_link_code(&self, bot: &BotId, code: &str, lead_id: &str, channel: &str, chat_id: &str) -> StoreResult<Option<String>> {
        let now = now_millis();
        let hash = hash_secret(code);
        let claimed = sqlx::query("UPDATE link_codes SET used_at = $1 WHERE code_hash = $2 AND bot_id = $3 AND used_at IS NULL AND expires_at > $1")
            .bind(now)
            .bind(&hash)
            .bind(bot.as_str())
            .execute(&self.pool)
            .await?;
        if claimed.rows_affected() == 0 {
            return Ok(None);
        }
        let user_id: String = sqlx::query_scalar("SELECT user_id FROM link_codes WHERE code_hash = $1").bind(&hash).fetch_one(&self.pool).await?;
        let link = IdentityLink {
            user_id: user_id.clone(),
            lead_id: lead_id.into(),
            channel: channel.into(),
            chat_id: chat_id.into(),
            is_active: true,
            source: "deep_link".into(),
            connected_at: now,
        };
        self.link_identity(bot, &link).await?;
        Ok(Some(user_id))
    }

    /// The lead of this channel address, if any link has it (an active
    /// link's first, then the newest).
    pub async fn lead_at_address(&self, bot: &BotId, channel: &str, chat_id: &str) -> StoreResult<Option<String>> {
        Ok(self.address_lead(bot, channel, chat_id).await?.map(|(lead, _)| lead))
    }

    /// [`Store::lead_at_address`] with whether that link is active.
    pub async fn address_lead(&self, bot: &BotId, channel: &str, chat_id: &str) -> StoreResult<Option<(String, bool)>> {
        let candidates = self.address_candidates(chat_id);
        let sql = format!(
            "SELECT lead_id, is_active FROM identity_links WHERE bot_id = $1 AND channel = $2 AND chat_idx IN ({}) ORDER BY is_active DESC, connected_at DESC LIMIT 1",
            super::placeholders(3, candidates.len())
        );
        let mut query = sqlx::query_as::<_, (String, i64)>(&sql).bind(bot.as_str()).bind(channel);
        for candidate in &candidates {
            query = query.bind(candidate);
        }
        Ok(query.fetch_optional(&self.pool).await?.map(|(lead, active)| (lead, active != 0)))
    }
}
