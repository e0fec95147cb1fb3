//! Telegram long polling, for bots whose settings say `"mode": "polling"`
//! (no public URL needed: a laptop, a closed network).
//!
//! Every few seconds the process looks for such bots and, for each one it
//! can take the lease of (`telegram-poll:{botId}` — the Bot API allows one
//! `getUpdates` at a time per bot, and several processes may share the
//! database), runs a loop: `getUpdates` with a 25 s long poll, each update
//! handed to `inbound::handle_update` under its `update_id` (so an update
//! fetched twice is handled once), then the offset moves past it, which
//! confirms it to Telegram. The loop ends when the lease is lost or the
//! settings change; the next pass starts it again if still wanted.

use super::inbound;
use comops_core::channel::{parse_update, TelegramChannel};
use comops_core::store::Store;
use comops_core::BotId;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How long a poller's lease lasts; it renews it on every poll.
const LEASE_MS: i64 = 60_000;
/// Telegram holds a `getUpdates` open this long when there is nothing.
const LONG_POLL_SECS: u64 = 25;

/// The polling settings of a bot: its token, when it wants polling.
fn polling_token(settings: &Value) -> Option<String> {
    (settings.get("mode").and_then(Value::as_str) == Some("polling"))
        .then(|| settings.get("token").and_then(Value::as_str).map(str::to_string))
        .flatten()
        .filter(|t| !t.is_empty())
}

/// Starts the supervisor that keeps one poller per polling bot.
pub fn spawn(store: Store, http: reqwest::Client, api_base: String) {
    let holder = format!("{}-{}", std::process::id(), comops_core::TraceId::generate());
    tokio::spawn(async move {
        let mut pollers: HashMap<BotId, (String, JoinHandle<()>)> = HashMap::new();
        let mut tick = tokio::time::interval(Duration::from_secs(3));
        loop {
            tick.tick().await;
            let wanted = match store.channels_of_kind("telegram").await {
                Ok(all) => all.into_iter().filter_map(|(bot, settings)| polling_token(&settings).map(|token| (bot, token))).collect::<HashMap<_, _>>(),
                Err(err) => {
                    tracing::error!(error = %err, "cannot read Telegram settings");
                    continue;
                }
            };
            // Stop pollers that ended, are no longer wanted or use an old token.
            pollers.retain(|bot, (token, task)| {
                let keep = !task.is_finished() && wanted.get(bot) == Some(token);
                if !keep {
                    task.abort();
                }
                keep
            });
            for (bot, token) in wanted {
                if pollers.contains_key(&bot) {
                    continue;
                }
                let lease = format!("telegram-poll:{bot}");
                match store.acquire_lease(&lease, &holder, LEASE_MS).await {
                    Ok(true) => {
                        let channel = TelegramChannel::new(token.clone()).with_base_url(api_base.clone());
                        let task = tokio::spawn(poll(store.clone(), http.clone(), bot.clone(), channel, lease, holder.clone()));
                        pollers.insert(bot, (token, task));
                    }
                    Ok(false) => {} // another process polls this bot
                    Err(err) => tracing::error!(error = %err, "cannot take a polling lease"),
                }
            }
        }
    });
}

/// Polls one bot while this process holds its lease.
async fn poll(store: Store, http: reqwest::Client, bot: BotId, channel: TelegramChannel, lease: String, holder: String) {
    let mut offset = 0i64;
    loop {
        match store.acquire_lease(&lease, &holder, LEASE_MS).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(err) => {
                tracing::error!(error = %err, "cannot renew a polling lease");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        }
        let updates = match channel.get_updates(offset, LONG_POLL_SECS).await {
            Ok(updates) => updates,
            Err(err) => {
                // The error never carries the token (see the adapter).
                tracing::warn!(bot = %bot, error = %err, "getUpdates failed");
                tokio::time::sleep(err.retry_after().unwrap_or(Duration::from_secs(2))).await;
                continue;
            }
        };
        for (update_id, update) in updates {
            if let Some(event) = parse_update(&update) {
                if let comops_core::channel::InboundEvent::Button { callback_id, .. } = &event {
                    if let Err(err) = channel.answer_callback_query(callback_id).await {
                        tracing::warn!(error = %err, "cannot answer a callback query");
                    }
                }
                if let Err(err) = inbound::handle_update(&store, &http, &bot, "telegram", &update_id.to_string(), event).await {
                    // Not confirmed: the next getUpdates brings it again.
                    tracing::error!(bot = %bot, error = %err, "cannot store a polled update");
                    break;
                }
            }
            offset = offset.max(update_id + 1);
        }
    }
}
