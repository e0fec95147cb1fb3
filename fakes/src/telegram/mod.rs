//! A fake Telegram Bot API server (<https://core.telegram.org/bots/api>).
//!
//! The bot side is HTTP, exactly as a client sees Telegram: point a client's
//! Bot API base URL at [`FakeTelegram::base_url`] and call
//! `/bot<token>/<method>` with JSON, form or query parameters. The person side
//! is Rust: `user_sends_text`, `user_presses_button`, `block`, … inject what a
//! person would do, and `sent()` / `wait_for_messages` show what the bot sent.
//!
//! Files: `types` (Bot API objects), `params` (reading parameters), `error`
//! (the error envelope), `methods` (one function per method), `state` (what
//! the server remembers), `limits` (rate limits), `webhook` (delivery).
//! Outages: `fail_next` (the next calls answer an error), `set_down` (until
//! switched back) and `outage` (for a while, as 5xx, refused connections
//! or silence).

mod error;
mod limits;
mod methods;
mod params;
mod state;
mod types;
mod webhook;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::json;

pub use limits::Limits;
pub use types::{
    AnsweredCallback, CallbackQuery, Chat, Contact, MediaFile, Message, MessageEntity, PhotoSize, SentMessage,
    Update, User,
};
pub use webhook::SECRET_HEADER;

use crate::gate::{lock, GatedListener, TaskGuard};
use error::TgError;
use params::Params;
use state::{Inner, State};

/// How the fake fails during an [`FakeTelegram::outage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// Every call answers this HTTP status (e.g. 502 from Telegram's front
    /// end), with the Bot API's error envelope.
    Status(u16),
    /// New connections are accepted and dropped at once (what a client
    /// sees as a refused or reset connection); requests on connections
    /// already open answer 503.
    Refused,
    /// Requests get no answer until the outage ends (a client with a
    /// shorter timeout times out), then 504.
    Silent,
}

/// A running fake Telegram server. Clones share the server; it stops when the
/// last clone is dropped.
#[derive(Clone)]
pub struct FakeTelegram {
    state: Arc<State>,
    addr: SocketAddr,
    _tasks: Arc<TaskGuard>,
}

impl FakeTelegram {
    /// Starts a server for the bot with `bot_token` (e.g.
    /// `"123456:ABC-DEF"`; the number before `:` becomes the bot's user id)
    /// on `127.0.0.1` with a free port.
    ///
    /// # Panics
    /// If no local port can be bound (a broken test machine, not bad input).
    pub async fn start(bot_token: impl Into<String>) -> Self {
        let token = bot_token.into();
        let bot_id = token
            .split(':')
            .next()
            .and_then(|id| id.parse().ok())
            .unwrap_or(1_000_000);
        let bot = User {
            is_bot: true,
            username: Some("comops_fake_bot".into()),
            ..User::new(bot_id, "ComOps Fake Bot")
        };
        let down = Arc::new(AtomicBool::new(false));
        let state = Arc::new(State {
            token,
            bot,
            inner: std::sync::Mutex::new(Inner::new()),
            updates_changed: tokio::sync::Notify::new(),
            sent_changed: tokio::sync::Notify::new(),
            down: down.clone(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("fake telegram: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("fake telegram: local address");
        let app = Router::new().fallback(handle).with_state(state.clone());
        let server = tokio::spawn(async move {
            let listener = GatedListener {
                inner: listener,
                down,
            };
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "fake telegram server stopped");
            }
        });
        let delivery = tokio::spawn(webhook::deliver_forever(state.clone()));
        Self {
            state,
            addr,
            _tasks: Arc::new(TaskGuard(vec![server, delivery])),
        }
    }

    /// `http://127.0.0.1:PORT` — the Bot API base URL for a client.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `{base_url}/bot{token}/{method}`.
    pub fn method_url(&self, method: &str) -> String {
        format!("{}/bot{}/{method}", self.base_url(), self.state.token)
    }

    /// The bot token the server accepts.
    pub fn token(&self) -> &str {
        &self.state.token
    }

    /// The bot's own `User` (what `getMe` returns).
    pub fn bot(&self) -> User {
        self.state.bot.clone()
    }

    /// Everything the bot sent so far, in order.
    pub fn sent(&self) -> Vec<SentMessage> {
        lock(&self.state.inner).sent.clone()
    }

    /// How many messages the bot sent so far, without copying them: a
    /// bench polling its progress with [`FakeTelegram::sent`] copies every
    /// message under the lock each send takes, which delays the arrivals
    /// that copy overlaps.
    pub fn sent_count(&self) -> usize {
        lock(&self.state.inner).sent.len()
    }

    /// What the bot sent to one chat, in order.
    pub fn sent_to(&self, chat_id: i64) -> Vec<SentMessage> {
        lock(&self.state.inner)
            .sent
            .iter()
            .filter(|m| m.chat_id == chat_id)
            .cloned()
            .collect()
    }

    /// Waits until at least `n` messages were sent or `timeout` passes, and
    /// returns all sent messages (fewer than `n` on timeout).
    pub async fn wait_for_messages(&self, n: usize, timeout: Duration) -> Vec<SentMessage> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.state.sent_changed.notified();
            {
                let inner = lock(&self.state.inner);
                if inner.sent.len() >= n || tokio::time::Instant::now() >= deadline {
                    return inner.sent.clone();
                }
            }
            let _ = tokio::time::timeout_at(deadline, changed).await;
        }
    }

    /// Makes a private chat known (with `require_known_chats`), as if `user`
    /// had opened the bot, without producing an update.
    pub fn add_user(&self, user: &User) {
        lock(&self.state.inner).chat_entry(user.id, Some(user));
    }

    /// When true, sends to chats no person opened answer
    /// `400 Bad Request: chat not found` (the default accepts any chat id).
    pub fn require_known_chats(&self, on: bool) {
        lock(&self.state.inner).require_known_chats = on;
    }

    /// A person writes `text` in `chat_id` (their own id for a private chat).
    pub fn user_sends_text(&self, chat_id: i64, from: User, text: &str) -> Update {
        self.person_update(chat_id, &from, |m| m.text = Some(text.to_string()))
    }

    /// A person shares a phone contact (a `request_contact` button press).
    pub fn user_shares_contact(
        &self,
        chat_id: i64,
        from: User,
        phone: &str,
        first_name: &str,
    ) -> Update {
        let contact = Contact {
            phone_number: phone.to_string(),
            first_name: first_name.to_string(),
            last_name: None,
            user_id: Some(from.id),
        };
        self.person_update(chat_id, &from, |m| m.contact = Some(contact))
    }

    /// A person opens the bot via a deep link: `/start <payload>` (just
    /// `/start` when `payload` is empty). This also unblocks the bot, as
    /// restarting a blocked bot does in Telegram.
    pub fn user_starts(&self, chat_id: i64, from: User, payload: &str) -> Update {
        let text = if payload.is_empty() {
            "/start".to_string()
        } else {
            format!("/start {payload}")
        };
        let update = self.person_update(chat_id, &from, |m| {
            m.text = Some(text);
            m.entities = Some(vec![MessageEntity {
                kind: "bot_command".into(),
                offset: 0,
                length: 6,
            }]);
        });
        lock(&self.state.inner).chat_entry(chat_id, None).blocked = false;
        update
    }

    /// A person presses an inline button with `data` under the bot's message
    /// `message_id`; produces a `callback_query` update.
    pub fn user_presses_button(
        &self,
        chat_id: i64,
        from: User,
        message_id: i64,
        data: &str,
    ) -> Update {
        let update = {
            let mut inner = lock(&self.state.inner);
            let chat = inner.chat_entry(chat_id, Some(&from));
            let message = chat.bot_messages.get(&message_id).cloned().or_else(|| {
                Some(Message {
                    message_id,
                    from: Some(self.state.bot.clone()),
                    date: state::unix_now(),
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
                })
            });
            let id = format!("{}{:06}", self.state.bot.id, inner.next_callback);
            inner.next_callback += 1;
            inner.open_callbacks.insert(id.clone());
            let query = CallbackQuery {
                id,
                from,
                message,
                chat_instance: format!(
                    "{}",
                    chat_id.wrapping_mul(31).wrapping_add(self.state.bot.id)
                ),
                data: Some(data.to_string()),
            };
            inner.push_update(Update {
                update_id: 0,
                message: None,
                callback_query: Some(query),
            })
        };
        self.state.updates_changed.notify_waiters();
        update
    }

    /// The person blocks the bot: further sends to `chat_id` answer
    /// `403 Forbidden: bot was blocked by the user`.
    pub fn block(&self, chat_id: i64) {
        lock(&self.state.inner).chat_entry(chat_id, None).blocked = true;
    }

    /// The person unblocks the bot.
    pub fn unblock(&self, chat_id: i64) {
        lock(&self.state.inner).chat_entry(chat_id, None).blocked = false;
    }

    /// Sets the rate limits; with `enforce`, sends over a limit answer 429.
    pub fn set_limits(&self, limits: Limits) {
        lock(&self.state.inner).limits = limits;
    }

    /// How many sends were refused with 429 so far.
    pub fn throttled(&self) -> u64 {
        lock(&self.state.inner).throttled
    }

    /// The next `n` API calls (any method) answer `status` (e.g. 500, 502),
    /// as during a Telegram outage.
    pub fn fail_next(&self, n: u32, status: u16) {
        self.fail_after(0, n, status);
    }

    /// The next API call answers 429 "Too Many Requests" with
    /// `parameters.retry_after` = `secs` (Telegram's flood control).
    pub fn throttle_next(&self, secs: u64) {
        let mut inner = lock(&self.state.inner);
        inner.failures = (1, 429);
        inner.failures_after = 0;
        inner.flood_wait_secs = secs;
    }

    /// The next `ok` API calls work, then `n` answer `status` (an outage
    /// that starts between the parts of a split message).
    pub fn fail_after(&self, ok: u32, n: u32, status: u16) {
        let mut inner = lock(&self.state.inner);
        inner.failures = (n, status);
        inner.failures_after = ok;
    }

    /// While down, new connections are dropped and requests on open
    /// connections answer 503.
    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }

    /// Fails every call as `kind` says for `duration`, then works again by
    /// itself (an outage of the Bot API; [`FakeTelegram::recover`] ends it
    /// early).
    pub fn outage(&self, kind: Outage, duration: Duration) {
        let until = Instant::now() + duration;
        lock(&self.state.inner).outage = Some((kind, until));
        if kind == Outage::Refused {
            self.set_down(true);
            let state = self.state.clone();
            tokio::spawn(async move {
                tokio::time::sleep_until(until.into()).await;
                let mut inner = lock(&state.inner);
                // Unless another outage (or a recovery) came meanwhile.
                if inner.outage.is_some_and(|(_, u)| u == until) {
                    inner.outage = None;
                    state.down.store(false, Ordering::SeqCst);
                }
            });
        }
    }

    /// Ends an [`FakeTelegram::outage`] now.
    pub fn recover(&self) {
        lock(&self.state.inner).outage = None;
        self.set_down(false);
    }

    /// Updates not yet confirmed by getUpdates or delivered to the webhook.
    pub fn pending_updates(&self) -> usize {
        lock(&self.state.inner).queue.len()
    }

    /// The webhook URL, if one is set.
    pub fn webhook_url(&self) -> Option<String> {
        lock(&self.state.inner)
            .webhook
            .as_ref()
            .map(|w| w.url.clone())
    }

    /// Every `answerCallbackQuery` so far.
    pub fn answered_callbacks(&self) -> Vec<AnsweredCallback> {
        lock(&self.state.inner).answered.clone()
    }

    fn person_update(&self, chat_id: i64, from: &User, fill: impl FnOnce(&mut Message)) -> Update {
        let update = {
            let mut inner = lock(&self.state.inner);
            let mut message = inner.person_message(chat_id, from);
            fill(&mut message);
            inner.push_update(Update {
                update_id: 0,
                message: Some(message),
                callback_query: None,
            })
        };
        self.state.updates_changed.notify_waiters();
        update
    }
}

/// Every request lands here: `/bot<token>/<method>`, any HTTP method.
async fn handle(
    AxumState(state): AxumState<Arc<State>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match answer(&state, &uri, &headers, &body).await {
        Ok(reply) => {
            let mut body = json!({ "ok": true, "result": reply.result });
            if let Some(description) = reply.description {
                body["description"] = json!(description);
            }
            Json(body).into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn answer(
    state: &Arc<State>,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<methods::Reply, TgError> {
    if state.down.load(Ordering::SeqCst) {
        return Err(TgError::server(503));
    }
    let outage = lock(&state.inner).outage.filter(|(_, until)| Instant::now() < *until);
    match outage {
        Some((Outage::Status(status), _)) => return Err(TgError::server(status)),
        Some((Outage::Refused, _)) => return Err(TgError::server(503)),
        Some((Outage::Silent, until)) => {
            tokio::time::sleep_until(until.into()).await;
            return Err(TgError::server(504));
        }
        None => {}
    }
    let failure = {
        let mut inner = lock(&state.inner);
        inner.take_failure().map(|status| (status, inner.flood_wait_secs))
    };
    match failure {
        Some((429, secs)) => return Err(TgError::too_many_requests(secs)),
        Some((status, _)) => return Err(TgError::server(status)),
        None => {}
    }
    let (token, method) = uri
        .path()
        .strip_prefix("/bot")
        .and_then(|rest| rest.split_once('/'))
        .filter(|(_, method)| !method.is_empty() && !method.contains('/'))
        .ok_or_else(TgError::not_found)?;
    if token != state.token {
        return Err(TgError::unauthorized());
    }
    let params = Params::parse(uri.query(), headers, body)?;
    methods::call(state, &method.to_ascii_lowercase(), params).await
}
