//! The dispatcher: outbox → channel adapter, at the messenger's pace.
//!
//! It claims due messages (oldest first per chat, so each chat's order
//! holds), paces them with per-bot and per-chat budgets so the messenger
//! never has to throttle us (Telegram: 30 msg/s per bot, 1 msg/s per chat),
//! and files each attempt: sent; retried later (throttled: after
//! `retry_after`, not counted; transient: exponential backoff with jitter,
//! counted); or dead-lettered with the reason (bad request, blocked — the
//! address goes inactive — or 8 failed attempts).
//! Budgets are per process for now (see docs/decisions.md).

use super::pacing::Pacer;
use comops_core::channel::{Channel, ChannelError, OutboundMessage, TelegramChannel};
use comops_core::scenario::Button;
use comops_core::store::outbox::{DeliveryResult, OutboxMessage};
use comops_core::store::{now_millis, Store};
use comops_core::{BotId, TraceEvent};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Attempts before a message is dead-lettered.
pub const MAX_ATTEMPTS: i64 = 8;

#[derive(Clone, Debug)]
pub struct DispatchConfig {
    /// Base URL of the Telegram Bot API (a fake in tests).
    pub telegram_api_base: String,
    /// How long a claimed message stays ours while we call the messenger;
    /// after it, a row still `sending` is taken as interrupted.
    pub lease_ms: i64,
}

/// Starts the dispatcher loop.
pub fn spawn(store: Store, config: DispatchConfig) {
    tokio::spawn(async move {
        let mut channels: HashMap<BotId, Option<Arc<TelegramChannel>>> = HashMap::new();
        let mut pacer = Pacer::telegram();
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut refreshed = Instant::now();
        loop {
            tick.tick().await;
            if refreshed.elapsed() > Duration::from_secs(5) {
                channels.clear(); // pick up changed tokens
                refreshed = Instant::now();
            }
            let messages = match // Few at a time: each must be sent within its lease.
            store.claim_due_messages(now_millis(), 10, config.lease_ms).await {
                Ok(messages) => messages,
                Err(err) => {
                    tracing::error!(error = %err, "cannot claim outbox messages");
                    continue;
                }
            };
            for message in messages {
                let channel = match channels.get(&message.bot_id) {
                    Some(channel) => channel.clone(),
                    None => {
                        let channel = telegram_channel(&store, &message.bot_id, &config).await;
                        channels.insert(message.bot_id.clone(), channel.clone());
                        channel
                    }
                };
                deliver(&store, &mut pacer, channel.as_deref(), &message).await;
            }
        }
    });
}

async fn telegram_channel(store: &Store, bot: &BotId, config: &DispatchConfig) -> Option<Arc<TelegramChannel>> {
    let settings = store.bot_channel(bot, "telegram").await.ok().flatten()?;
    let token = settings.get("token")?.as_str()?.to_string();
    Some(Arc::new(TelegramChannel::new(token).with_base_url(config.telegram_api_base.clone())))
}

async fn deliver(store: &Store, pacer: &mut Pacer, channel: Option<&TelegramChannel>, message: &OutboxMessage) {
    let now = now_millis();
    let started = Instant::now();
    let result = match channel {
        None if message.channel == "telegram" => DeliveryResult::Dead { error: "the bot has no Telegram token".into() },
        None => DeliveryResult::Dead { error: format!("channel {} is not available", message.channel) },
        Some(channel) => match pacer.reserve(message.bot_id.as_str(), &message.chat_id, Instant::now()) {
            Err(wait) => DeliveryResult::Retry { at: now + wait.as_millis() as i64, error: String::new(), count: false },
            Ok(()) => {
                let outbound = OutboundMessage {
                    chat_id: message.chat_id.clone(),
                    text: message.payload["text"].as_str().unwrap_or_default().to_string(),
                    buttons: serde_json::from_value::<Vec<Button>>(message.payload["buttons"].clone()).unwrap_or_default(),
                    media_url: message.payload["media_url"].as_str().map(str::to_string),
                };
                match channel.send(&outbound).await {
                    Ok(delivered) => DeliveryResult::Sent { provider_message_id: delivered.provider_message_id },
                    Err(error) => classify(store, message, error, now).await,
                }
            }
        },
    };
    if let DeliveryResult::Retry { at, count: false, error } = &result {
        if error.is_empty() {
            // Paced by us, not attempted: put it back quietly.
            if let Err(err) = store.postpone_message(message, *at).await {
                tracing::error!(error = %err, "cannot postpone a paced message");
            }
            return;
        }
    }
    let (status, detail) = match &result {
        DeliveryResult::Sent { provider_message_id } => ("success", format!("message {provider_message_id}")),
        DeliveryResult::Retry { error, .. } => ("retry", error.clone()),
        DeliveryResult::Dead { error } => ("fail", format!("dead letter: {error}")),
    };
    let event = trace(message, status, detail, started.elapsed().as_millis() as i64);
    if let Err(err) = store.finish_delivery(message, &result, &event).await {
        tracing::error!(error = %err, message = %message.id, "cannot record a delivery");
    }
}

async fn classify(store: &Store, message: &OutboxMessage, error: ChannelError, now: i64) -> DeliveryResult {
    match error {
        ChannelError::Throttled { retry_after } => {
            DeliveryResult::Retry { at: now + retry_after.as_millis() as i64, error: "throttled by the messenger".into(), count: false }
        }
        ChannelError::Blocked => {
            if let Err(err) = store.deactivate_address(&message.bot_id, &message.channel, &message.chat_id).await {
                tracing::error!(error = %err, "cannot deactivate a blocked address");
            }
            DeliveryResult::Dead { error: "blocked by the user".into() }
        }
        ChannelError::BadRequest(reason) => DeliveryResult::Dead { error: reason },
        ChannelError::Transient(reason) if message.attempts + 1 >= MAX_ATTEMPTS => {
            DeliveryResult::Dead { error: format!("{reason} (after {MAX_ATTEMPTS} attempts)") }
        }
        ChannelError::Transient(reason) => DeliveryResult::Retry { at: now + backoff_ms(message.attempts), error: reason, count: true },
    }
}

/// 1 s, 2 s, 4 s … doubling per attempt up to ~17 min, with ±25 % jitter
/// (8 attempts span about 30 minutes).
fn backoff_ms(attempts: i64) -> i64 {
    use rand_jitter::jitter;
    let base = 1000i64 << attempts.clamp(0, 10);
    base + jitter(base / 4)
}

/// A small, dependency-free jitter source (time-seeded) for backoff only.
mod rand_jitter {
    pub fn jitter(span: i64) -> i64 {
        if span <= 0 {
            return 0;
        }
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0) as i64;
        nanos % (2 * span + 1) - span
    }
}

fn trace(message: &OutboxMessage, status: &str, detail: String, latency_ms: i64) -> TraceEvent {
    TraceEvent {
        id: String::new(),
        trace_id: message.trace_id.clone(),
        source_system: "comops".into(),
        bot_id: message.bot_id.to_string(),
        endpoint: message.channel.clone(),
        user_id: String::new(),
        lead_id: message.lead_id.clone(),
        step: "messenger.send".into(),
        status: status.into(),
        http_status: 0,
        latency_ms,
        dry_run: false,
        detail,
        at: 0,
    }
}
