//! What operators work with (SPEC §1 "operator"): a lead's conversation
//! across channels, taking it over from the bot and handing it back,
//! replying by hand, and the dead letters they may re-drive.
//!
//! A conversation is read from what the engine already keeps: the outbox
//! (every message to the lead, with its delivery status) and the stored
//! inbound updates of the lead's addresses. While an operator has a lead
//! (`leads.operator`), the executor claims none of its runs and inbound
//! messages resume nothing: the bot is paused for that person only.

use super::traces::time_ordered_id;
use super::{now_millis, Store, StoreResult};
use crate::trace::TraceEvent;
use crate::{BotId, Millis};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationEntry {
    pub at: Millis,
    /// `in` from the person, `out` to them.
    pub direction: String,
    pub channel: String,
    pub chat_id: String,
    pub text: String,
    /// For `out`: `pending`, `sending`, `sent` or `dead`; for `in`: "".
    pub status: String,
    /// Who wrote an outbound message: `bot` or `operator <email>`.
    pub author: String,
}

/// A message that could not be delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub id: String,
    pub lead_id: String,
    pub channel: String,
    pub chat_id: String,
    pub text: String,
    pub last_error: String,
    pub attempts: i64,
    pub created_at: Millis,
    pub trace_id: String,
}

/// What the person sent, as a line of text for the operator.
fn inbound_text(event: &Value) -> (String, String) {
    let chat = event["chat_id"].as_str().unwrap_or_default().to_string();
    let text = match event["kind"].as_str().unwrap_or_default() {
        "text" => event["text"].as_str().unwrap_or_default().to_string(),
        "button" => format!("[{}]", event["data"].as_str().unwrap_or_default()),
        "contact" => format!("☎ {}", event["phone"].as_str().unwrap_or_default()),
        "start" => match event["payload"].as_str() {
            Some(_) => "/start …".to_string(), // the payload is a one-time secret
            None => "/start".to_string(),
        },
        other => format!("({other})"),
    };
    (chat, text)
}

impl Store {
    /// The last `limit` messages between the bot (or its operators) and a
    /// lead, oldest first.
    pub async fn conversation(&self, bot: &BotId, lead_id: &str, limit: i64) -> StoreResult<Vec<ConversationEntry>> {
        let limit = limit.clamp(1, 500);
        let outbound: Vec<(i64, String, String, String, String, String, String, String)> = sqlx::query_as(&format!(
            "SELECT created_at, channel, chat_id, payload_json, status, run_id, delivery_key, address FROM outbox WHERE bot_id = $1 AND lead_id = $2 \
             ORDER BY created_at DESC, id DESC LIMIT {limit}"
        ))
        .bind(bot.as_str())
        .bind(lead_id)
        .fetch_all(&self.pool)
        .await?;
        let inbound: Vec<(i64, String, String, String)> = sqlx::query_as(&format!(
            "SELECT u.received_at, u.channel, u.external_id, u.event_json FROM inbound_updates u WHERE u.bot_id = $1 AND EXISTS \
             (SELECT 1 FROM identity_links i WHERE i.bot_id = u.bot_id AND i.lead_id = $2 AND i.channel = u.channel) \
             ORDER BY u.received_at DESC LIMIT {}",
            limit * 4
        ))
        .bind(bot.as_str())
        .bind(lead_id)
        .fetch_all(&self.pool)
        .await?;
        let addresses: Vec<(String, String, String)> = sqlx::query_as("SELECT id, channel, chat_id FROM identity_links WHERE bot_id = $1 AND lead_id = $2")
            .bind(bot.as_str())
            .bind(lead_id)
            .fetch_all(&self.pool)
            .await?;
        let addresses = self.open_addresses(addresses)?;
        let mut entries: Vec<ConversationEntry> = Vec::with_capacity(outbound.len());
        for (at, channel, chat_id, payload, status, run_id, delivery_key, address) in outbound {
            let chat_id = self.outbox_address(&delivery_key, chat_id, &address)?;
            entries.push({
                let payload: Value = serde_json::from_str(&payload).unwrap_or_default();
                ConversationEntry {
                    at,
                    direction: "out".into(),
                    channel,
                    chat_id,
                    text: payload["text"].as_str().unwrap_or_default().to_string(),
                    status,
                    author: run_id.strip_prefix("operator:").map(|who| format!("operator {who}")).unwrap_or_else(|| "bot".into()),
                }
            });
        }
        for (at, channel, external_id, json) in inbound {
            let json = self.keyring.open(&super::sealing::inbound_place(bot.as_str(), &channel, &external_id), &json)?;
            let event: Value = serde_json::from_str(&json).unwrap_or_default();
            let (chat_id, text) = inbound_text(&event);
            if addresses.iter().any(|(c, chat)| *c == channel && *chat == chat_id) {
                entries.push(ConversationEntry { at, direction: "in".into(), channel, chat_id, text, status: String::new(), author: String::new() });
            }
        }
        entries.sort_by_key(|e| e.at);
        let skip = entries.len().saturating_sub(limit as usize);
        Ok(entries.split_off(skip))
    }

    /// Leads an operator should look at, at most `limit`: handed over and
    /// waiting, the longest waiting first (a queue: none is pushed out by
    /// newer ones), then those taken, the latest taken first; and how
    /// many there are in all.
    pub async fn operator_queue(&self, bot: &BotId, limit: i64) -> StoreResult<(Vec<(String, String, Millis)>, i64)> {
        // One scan: the count rides on each row (`COUNT(*) OVER ()`), as
        // in `Store::leads`.
        let rows: Vec<(String, String, Millis, i64)> = sqlx::query_as(&format!(
            "SELECT id, operator, COALESCE(operator_at, updated_at), COUNT(*) OVER () FROM leads WHERE bot_id = $1 AND operator <> '' \
             ORDER BY CASE WHEN operator = '*' THEN 0 ELSE 1 END, \
             CASE WHEN operator = '*' THEN COALESCE(operator_at, updated_at) ELSE -COALESCE(operator_at, updated_at) END, id LIMIT {}",
            limit.clamp(1, 1000)
        ))
        .bind(bot.as_str())
        .fetch_all(&self.pool)
        .await?;
        let total = rows.first().map_or(0, |row| row.3);
        Ok((rows.into_iter().map(|(id, operator, at, _)| (id, operator, at)).collect(), total))
    }

    /// An operator takes the conversation: the bot pauses for this lead.
    /// Taking one another operator holds is allowed (a supervisor may).
    pub async fn take_over(&self, bot: &BotId, lead_id: &str, operator: &str) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE leads SET operator = $1, operator_at = $2 WHERE bot_id = $3 AND id = $4")
            .bind(operator)
            .bind(now_millis())
            .bind(bot.as_str())
            .bind(lead_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The bot talks to the lead again; its paused runs go on.
    pub async fn hand_back(&self, bot: &BotId, lead_id: &str) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE leads SET operator = '', operator_at = $1 WHERE bot_id = $2 AND id = $3 AND operator <> ''")
            .bind(now_millis())
            .bind(bot.as_str())
            .bind(lead_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Queues an operator's hand-written `text` to every active address of
    /// the lead (it goes out through the same outbox, pacing and retries as
    /// the bot's messages); returns how many addresses it went to.
    pub async fn operator_send(&self, bot: &BotId, lead_id: &str, operator: &str, text: &str) -> StoreResult<usize> {
        let now = now_millis();
        let addresses = self.addresses_of_lead(bot, lead_id).await?;
        let trace_id = crate::TraceId::generate().to_string();
        let mut tx = self.pool.begin().await?;
        for (channel, chat_id) in &addresses {
            let delivery_key = format!("operator:{}", crate::id::random_suffix());
            let address = if super::sealing::is_personal_channel(channel) {
                self.keyring.seal(&super::sealing::outbox_place(&delivery_key), chat_id)
            } else {
                String::new()
            };
            sqlx::query(
                "INSERT INTO outbox (id, delivery_key, run_id, bot_id, lead_id, channel, chat_id, address, payload_json, trace_id, status, next_attempt_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', $11, $11)",
            )
            .bind(time_ordered_id("msg_", now))
            .bind(&delivery_key)
            .bind(format!("operator:{operator}"))
            .bind(bot.as_str())
            .bind(lead_id)
            .bind(channel)
            .bind(self.address_key(channel, chat_id))
            .bind(address)
            .bind(json!({ "text": text, "buttons": [], "media_url": null }).to_string())
            .bind(&trace_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        let trace = TraceEvent {
            id: String::new(),
            trace_id: trace_id.clone(),
            source_system: "studio".into(),
            bot_id: bot.to_string(),
            endpoint: "operator".into(),
            user_id: String::new(),
            lead_id: lead_id.into(),
            step: "operator.message".into(),
            status: if addresses.is_empty() { "fail".into() } else { "success".into() },
            http_status: 0,
            latency_ms: 0,
            dry_run: false,
            detail: crate::trace::Detail::OperatorSent { operator: operator.to_string(), addresses: addresses.len() }.to_string(),
            at: now,
        };
        super::traces::insert_traces(&mut tx, &[&trace]).await?;
        tx.commit().await?;
        Ok(addresses.len())
    }

    /// Dead letters of a bot, newest first.
    pub async fn dead_letters(&self, bot: &BotId, limit: i64, offset: i64) -> StoreResult<Vec<DeadLetter>> {
        let rows: Vec<(String, String, String, String, String, String, i64, i64, String, String, String)> = sqlx::query_as(
            "SELECT id, lead_id, channel, chat_id, payload_json, last_error, attempts, created_at, trace_id, delivery_key, address FROM outbox \
             WHERE bot_id = $1 AND status = 'dead' ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3",
        )
        .bind(bot.as_str())
        .bind(limit.clamp(1, 500))
        .bind(offset.max(0))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, lead_id, channel, chat_id, payload, last_error, attempts, created_at, trace_id, delivery_key, address)| {
                let chat_id = self.outbox_address(&delivery_key, chat_id, &address)?;
                let payload: Value = serde_json::from_str(&payload).unwrap_or_default();
                Ok(DeadLetter {
                    id,
                    lead_id,
                    channel,
                    chat_id,
                    text: payload["text"].as_str().unwrap_or_default().to_string(),
                    last_error,
                    attempts,
                    created_at,
                    trace_id,
                })
            })
            .collect()
    }

    /// Puts a dead letter back in the queue as if new (its attempts start
    /// over). The address is re-activated: whoever re-drives a "blocked"
    /// letter says the person is reachable again. `false` if it is not a
    /// dead letter of this bot.
    pub async fn redrive(&self, bot: &BotId, message_id: &str) -> StoreResult<bool> {
        let now = now_millis();
        let mut tx = self.pool.begin().await?;
        let target: Option<(String, String, String, String)> =
            sqlx::query_as("SELECT channel, chat_id, delivery_key, address FROM outbox WHERE id = $1 AND bot_id = $2 AND status = 'dead'")
                .bind(message_id)
                .bind(bot.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        let Some((channel, chat_id, delivery_key, address)) = target else {
            return Ok(false);
        };
        let candidates = self.address_candidates(&self.outbox_address(&delivery_key, chat_id, &address)?);
        sqlx::query("UPDATE outbox SET status = 'pending', attempts = 0, last_error = '', next_attempt_at = $1, lease_until = 0 WHERE id = $2")
            .bind(now)
            .bind(message_id)
            .execute(&mut *tx)
            .await?;
        super::blocked::reactivate(&mut tx, bot, &channel, &candidates, now).await?;
        tx.commit().await?;
        self.cache.leads.clear();
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::inbound_text;
    use serde_json::json;

    #[test]
    fn inbound_events_read_as_lines_and_start_codes_stay_secret() {
        assert_eq!(inbound_text(&json!({"kind": "text", "chat_id": "7", "text": "привет"})), ("7".into(), "привет".into()));
        assert_eq!(inbound_text(&json!({"kind": "button", "chat_id": "7", "data": "rating:5"})).1, "[rating:5]");
        assert_eq!(inbound_text(&json!({"kind": "start", "chat_id": "7", "payload": "S3CRET"})).1, "/start …");
    }
}
