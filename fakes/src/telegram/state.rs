//! What the fake Telegram server remembers: chats, the update queue, the
//! webhook, what the bot sent, and the test's failure switches.
//!
//! One `std::sync::Mutex` guards it all; no lock is held across an `.await`.
//! Two `Notify`s wake waiters: long polls and the webhook sender wait on
//! `updates_changed`, `wait_for_messages` on `sent_changed`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::sync::Notify;

use super::error::TgError;
use super::limits::{Limiter, Limits};
use super::types::{AnsweredCallback, Chat, Message, SentMessage, Update, User};

/// Shared by the HTTP handlers, the webhook sender and the test handle.
pub(crate) struct State {
    pub(crate) token: String,
    pub(crate) bot: User,
    pub(crate) inner: std::sync::Mutex<Inner>,
    pub(crate) updates_changed: Notify,
    pub(crate) sent_changed: Notify,
    pub(crate) down: Arc<AtomicBool>,
}

/// A chat the bot can write to.
pub(crate) struct ChatState {
    pub(crate) chat: Chat,
    /// Message ids are per chat and shared by both sides, as in Telegram.
    pub(crate) next_message_id: i64,
    /// The bot's messages, so a button press can carry its message.
    pub(crate) bot_messages: HashMap<i64, Message>,
    pub(crate) blocked: bool,
}

/// A webhook set with `setWebhook`.
pub(crate) struct Webhook {
    pub(crate) url: String,
    pub(crate) secret_token: Option<String>,
    pub(crate) last_error_date: Option<i64>,
    pub(crate) last_error_message: Option<String>,
}

/// The mutable part of [`State`].
pub(crate) struct Inner {
    pub(crate) chats: HashMap<i64, ChatState>,
    pub(crate) next_update_id: i64,
    /// Updates not yet confirmed (getUpdates) or delivered (webhook).
    pub(crate) queue: VecDeque<Update>,
    pub(crate) webhook: Option<Webhook>,
    pub(crate) sent: Vec<SentMessage>,
    pub(crate) limits: Limits,
    pub(crate) limiter: Limiter,
    pub(crate) throttled: u64,
    /// `(remaining, status)` from `fail_next` / `fail_after`.
    pub(crate) failures: (u32, u16),
    /// Calls that still succeed before `failures` start (`fail_after`).
    pub(crate) failures_after: u32,
    /// The `retry_after` a simulated 429 asks for (`throttle_next`).
    pub(crate) flood_wait_secs: u64,
    /// An outage and when it ends, from `outage`.
    pub(crate) outage: Option<(super::Outage, Instant)>,
    pub(crate) open_callbacks: HashSet<String>,
    pub(crate) next_callback: u64,
    pub(crate) answered: Vec<AnsweredCallback>,
    /// When set, only chats a person opened (or `add_user`) are known.
    pub(crate) require_known_chats: bool,
    /// Bumped by each getUpdates call; an older long poll then ends in 409.
    pub(crate) poll_generation: u64,
}

/// What a bot send carries (`sendMessage` or a media send).
pub(crate) struct Outgoing {
    pub(crate) text: Option<String>,
    pub(crate) caption: Option<String>,
    /// The media's field (`photo`, `video`, …) and its URL or file id.
    pub(crate) media: Option<(&'static str, String)>,
    pub(crate) parse_mode: Option<String>,
    pub(crate) reply_markup: Option<Value>,
}

/// Unix time now, in seconds.
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Inner {
    pub(crate) fn new() -> Self {
        Self {
            chats: HashMap::new(),
            // Real update ids are large; starting high catches clients that
            // assume small numbers.
            next_update_id: 100_000_001,
            queue: VecDeque::new(),
            webhook: None,
            sent: Vec::new(),
            limits: Limits::default(),
            limiter: Limiter::default(),
            throttled: 0,
            failures: (0, 500),
            failures_after: 0,
            flood_wait_secs: 1,
            outage: None,
            open_callbacks: HashSet::new(),
            next_callback: 1,
            answered: Vec::new(),
            require_known_chats: false,
            poll_generation: 0,
        }
    }

    /// Resolves a `chat_id` parameter (integer, numeric string or `@username`).
    pub(crate) fn resolve_chat(&mut self, raw: Option<&Value>) -> Result<i64, TgError> {
        let not_found = || TgError::bad_request("chat not found");
        let id = match raw {
            None => return Err(TgError::bad_request("chat_id is empty")),
            Some(Value::Number(n)) => n.as_i64().ok_or_else(not_found)?,
            Some(Value::String(s)) if s.trim().is_empty() => {
                return Err(TgError::bad_request("chat_id is empty"))
            }
            Some(Value::String(s)) => {
                let s = s.trim();
                if let Some(name) = s.strip_prefix('@') {
                    return self
                        .chats
                        .values()
                        .find(|c| c.chat.username.as_deref() == Some(name))
                        .map(|c| c.chat.id)
                        .ok_or_else(not_found);
                }
                s.parse::<i64>().map_err(|_| not_found())?
            }
            Some(_) => return Err(not_found()),
        };
        if id == 0 || (self.require_known_chats && !self.chats.contains_key(&id)) {
            return Err(not_found());
        }
        self.chat_entry(id, None);
        Ok(id)
    }

    /// The chat with `id`, created on first sight (from `user` if private).
    pub(crate) fn chat_entry(&mut self, id: i64, user: Option<&User>) -> &mut ChatState {
        self.chats.entry(id).or_insert_with(|| ChatState {
            chat: match user {
                Some(u) if u.id == id => Chat::private(u),
                _ => Chat::from_id(id),
            },
            next_message_id: 1,
            bot_messages: HashMap::new(),
            blocked: false,
        })
    }

    /// Sends a bot message: blocked check, rate limits, then records it.
    pub(crate) fn bot_send(
        &mut self,
        bot: &User,
        chat_id: i64,
        out: Outgoing,
    ) -> Result<Message, TgError> {
        let now = Instant::now();
        let chat = self.chat_entry(chat_id, None);
        if chat.blocked {
            return Err(TgError::forbidden("bot was blocked by the user"));
        }
        let is_group = chat.chat.is_group();
        let limits = self.limits;
        if let Err(retry_after) = self.limiter.admit(&limits, chat_id, is_group, now) {
            self.throttled += 1;
            return Err(TgError::too_many_requests(retry_after));
        }
        let chat = self.chat_entry(chat_id, None);
        let message_id = chat.next_message_id;
        chat.next_message_id += 1;
        let (photo, file) = match &out.media {
            Some(("photo", p)) => (Some(super::methods::photo_sizes(p, chat_id, message_id)), None),
            Some((kind, f)) => (None, Some((*kind, super::methods::media_file(kind, f, chat_id, message_id)))),
            None => (None, None),
        };
        let file_of = |kind: &str| file.as_ref().filter(|(k, _)| *k == kind || (kind == "document" && *k == "animation")).map(|(_, f)| f.clone());
        // Telegram echoes only inline keyboards on the returned Message.
        let echoed_markup = out
            .reply_markup
            .clone()
            .filter(|m| m.get("inline_keyboard").is_some());
        let message = Message {
            message_id,
            from: Some(bot.clone()),
            date: unix_now(),
            chat: chat.chat.clone(),
            text: out.text.clone(),
            entities: None,
            contact: None,
            photo,
            video: file_of("video"),
            audio: file_of("audio"),
            animation: file_of("animation"),
            document: file_of("document"),
            caption: out.caption.clone(),
            reply_markup: echoed_markup,
        };
        chat.bot_messages.insert(message_id, message.clone());
        self.sent.push(SentMessage {
            chat_id,
            message_id,
            text: out.text.or(out.caption).unwrap_or_default(),
            parse_mode: out.parse_mode,
            reply_markup: out.reply_markup,
            photo: out.media.as_ref().filter(|(kind, _)| *kind == "photo").map(|(_, p)| p.clone()),
            media: out.media.map(|(kind, file)| (kind.to_string(), file)),
            at: now,
        });
        Ok(message)
    }

    /// A new message from a person in `chat_id`, with the next message id.
    pub(crate) fn person_message(&mut self, chat_id: i64, from: &User) -> Message {
        let chat = self.chat_entry(chat_id, Some(from));
        let message_id = chat.next_message_id;
        chat.next_message_id += 1;
        Message {
            message_id,
            from: Some(from.clone()),
            date: unix_now(),
            chat: chat.chat.clone(),
            text: None,
            entities: None,
            contact: None,
            photo: None,
            video: None,
            audio: None,
            animation: None,
            document: None,
            caption: None,
            reply_markup: None,
        }
    }

    /// Queues an update with the next update id.
    pub(crate) fn push_update(&mut self, mut update: Update) -> Update {
        update.update_id = self.next_update_id;
        self.next_update_id += 1;
        self.queue.push_back(update.clone());
        update
    }

    /// Applies a getUpdates `offset`: earlier updates count as confirmed.
    pub(crate) fn confirm(&mut self, offset: Option<i64>) {
        match offset {
            Some(o) if o > 0 => self.queue.retain(|u| u.update_id >= o),
            Some(o) if o < 0 => {
                let keep = o.unsigned_abs() as usize;
                while self.queue.len() > keep {
                    self.queue.pop_front();
                }
            }
            _ => {}
        }
    }

    /// Takes one simulated failure, if any are left.
    pub(crate) fn take_failure(&mut self) -> Option<u16> {
        let (remaining, status) = &mut self.failures;
        if *remaining == 0 {
            return None;
        }
        if self.failures_after > 0 {
            self.failures_after -= 1;
            return None;
        }
        *remaining -= 1;
        Some(*status)
    }
}
