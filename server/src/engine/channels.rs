//! Which adapter delivers a message: one [`Channel`] per bot and channel
//! kind, built from the bot's settings (`bot_channels`), kept for a few
//! seconds so changed credentials are picked up without a restart.
//!
//! Adding a messenger means one module in `comops_core::channel` and one arm
//! in [`build`]; the dispatcher never learns which messenger it talks to.

use comops_core::channel::{Channel, TelegramChannel};
use comops_core::store::Store;
use comops_core::BotId;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a built adapter is reused before the settings are read again.
const REFRESH: Duration = Duration::from_secs(5);

/// What adapters may need besides their own settings.
#[derive(Clone)]
pub struct ChannelContext {
    pub store: Store,
    /// Base URL of the Telegram Bot API (a fake in tests).
    pub telegram_api_base: String,
    /// Wakes this process's web chat listeners (shared with the routes).
    pub webchat: comops_core::channel::webchat::WebChatHub,
}

/// Builds the adapter of `kind` from a bot's settings for it, or says why
/// it cannot (the reason becomes the dead letter's).
pub fn build(kind: &str, settings: &Value, context: &ChannelContext) -> Result<Arc<dyn Channel>, String> {
    let text = |name: &str| settings.get(name).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    match kind {
        "telegram" => {
            let token = text("token").ok_or("the bot has no Telegram token")?;
            Ok(Arc::new(TelegramChannel::new(token).with_base_url(context.telegram_api_base.clone())))
        }
        "whatsapp" => Ok(Arc::new(comops_core::channel::whatsapp::WhatsAppChannel::from_settings(settings)?)),
        "vk" => Ok(Arc::new(comops_core::channel::vk::VkChannel::from_settings(settings)?)),
        "webhook" => Ok(Arc::new(comops_core::channel::webhook::WebhookChannel::from_settings(settings)?)),
        "email" => Ok(Arc::new(comops_core::channel::email::EmailChannel::from_settings(settings)?)),
        "webchat" => {
            if !comops_core::channel::webchat::WebChatSettings::from_value(settings).enabled {
                return Err("the bot's web chat is disabled".into());
            }
            Ok(Arc::new(comops_core::channel::webchat::WebChatChannel::new(context.store.clone(), context.webchat.clone())))
        }
        other => Err(format!("channel {other} is not available")),
    }
}

/// The adapters of every bot this process delivers for.
pub struct Channels {
    context: ChannelContext,
    built: HashMap<(BotId, String), (Result<Arc<dyn Channel>, String>, Instant)>,
}

impl Channels {
    pub fn new(context: ChannelContext) -> Self {
        Self { context, built: HashMap::new() }
    }

    /// The adapter for `bot`'s `kind` channel (read from the store at most
    /// every few seconds).
    pub async fn get(&mut self, bot: &BotId, kind: &str) -> Result<Arc<dyn Channel>, Unavailable> {
        let key = (bot.clone(), kind.to_string());
        if let Some((channel, at)) = self.built.get(&key) {
            if at.elapsed() < REFRESH {
                return channel.clone().map_err(Unavailable::Misconfigured);
            }
        }
        let channel = match self.context.store.bot_channel(bot, kind).await {
            Ok(Some(settings)) => build(kind, &settings, &self.context),
            Ok(None) => build(kind, &Value::Null, &self.context),
            Err(err) => {
                // Not cached: the next message tries the store again.
                tracing::error!(error = %err, "cannot read channel settings");
                return Err(Unavailable::Store);
            }
        };
        self.built.insert(key, (channel.clone(), Instant::now()));
        channel.map_err(Unavailable::Misconfigured)
    }
}

/// Why no adapter is at hand.
#[derive(Debug)]
pub enum Unavailable {
    /// The bot's settings for the channel are missing or wrong: the message
    /// cannot go out until an admin fixes them (dead letter, re-drivable).
    Misconfigured(String),
    /// The settings could not be read: try again later.
    Store,
}
