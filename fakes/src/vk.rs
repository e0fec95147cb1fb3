//! A fake VK API for one community, and the Callback API deliveries VK
//! makes to a community's server.
//!
//! The community side is HTTP, as a client sees VK: `POST
//! /method/messages.send` with form-encoded (or query) parameters —
//! `access_token`, `v`, `peer_id`, `random_id`, `message`, `keyboard`. The
//! answer is always HTTP 200 with `{"response": <message id>}` or
//! `{"error": {"error_code", "error_msg", "request_params"}}` (the access
//! token is never echoed), as VK does. The fake checks the token, the
//! version, the required parameters, the 4,096-character limit (914) and the
//! keyboard format (911), and honours `random_id`: a second send with the
//! same `random_id` to the same peer answers the first message's id and
//! delivers nothing.
//!
//! The person side is Rust: `confirm_server` performs VK's Callback API
//! confirmation, and `user_sends_text`, `user_presses_button`,
//! `user_starts` POST `message_new` events (API 5.199 shape: `object:
//! {message, client_info}`) with the server's secret key. `fail_next` makes
//! the next send fail with VK's rate-limit, privacy or internal errors, or an
//! HTTP 5xx.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::sync::Notify;

use crate::gate::{lock, TaskGuard};

/// One message the community sent.
#[derive(Debug, Clone)]
pub struct VkSent {
    /// The message id the fake assigned.
    pub id: i64,
    pub peer_id: i64,
    pub random_id: i64,
    pub text: String,
    /// The parsed `keyboard`, when one was sent.
    pub keyboard: Option<Value>,
    pub at: Instant,
}

impl VkSent {
    /// `(label, payload)` of every text button; `(label, link)` of link
    /// buttons.
    pub fn buttons(&self) -> Vec<(String, String)> {
        let Some(keyboard) = &self.keyboard else {
            return Vec::new();
        };
        keyboard["buttons"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_array)
            .flatten()
            .map(|b| {
                let action = &b["action"];
                let extra = action["payload"].as_str().or_else(|| action["link"].as_str()).unwrap_or_default();
                (str_of(&action["label"]), extra.to_string())
            })
            .collect()
    }
}

/// How the next `messages.send` fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VkFailure {
    /// Error 6, "Too many requests per second".
    TooManyRequests,
    /// Error 9, "Flood control".
    FloodControl,
    /// Error 901, "Can't send messages for users without permission".
    NoPermission,
    /// Error 902, "Can't send messages to this user due to their privacy
    /// settings".
    Privacy,
    /// Error 10, "Internal server error".
    InternalError,
    /// HTTP 502 from VK's front (no JSON).
    BadGateway,
}

/// Where VK delivers Callback API events.
#[derive(Debug, Clone)]
struct CallbackServer {
    url: String,
    secret: String,
}

struct Inner {
    sent: Vec<VkSent>,
    failures: VecDeque<VkFailure>,
    /// (peer_id, random_id) → message id
    delivered: HashMap<(i64, i64), i64>,
    deduplicated: u64,
    throttled: u64,
    server: Option<CallbackServer>,
    next_id: i64,
    event_seq: u64,
}

struct State {
    access_token: String,
    group_id: i64,
    inner: std::sync::Mutex<Inner>,
    sent_changed: Notify,
}

/// A running fake VK API. Clones share the server; it stops with the last
/// clone.
#[derive(Clone)]
pub struct FakeVk {
    state: Arc<State>,
    addr: SocketAddr,
    http: reqwest::Client,
    _tasks: Arc<TaskGuard>,
}

impl FakeVk {
    /// Starts the API for community `group_id` accepting the community
    /// token `access_token`, on `127.0.0.1` with a free port.
    ///
    /// # Panics
    /// If no local port can be bound.
    pub async fn start(access_token: impl Into<String>, group_id: i64) -> Self {
        let state = Arc::new(State {
            access_token: access_token.into(),
            group_id,
            inner: std::sync::Mutex::new(Inner {
                sent: Vec::new(),
                failures: VecDeque::new(),
                delivered: HashMap::new(),
                deduplicated: 0,
                throttled: 0,
                server: None,
                next_id: 1,
                event_seq: 0,
            }),
            sent_changed: Notify::new(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("fake vk: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("fake vk: local address");
        let app = Router::new().fallback(handle).with_state(state.clone());
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "fake vk stopped");
            }
        });
        Self { state, addr, http: reqwest::Client::new(), _tasks: Arc::new(TaskGuard(vec![server])) }
    }

    /// `http://127.0.0.1:PORT` — the API base URL for a client.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The community id.
    pub fn group_id(&self) -> i64 {
        self.state.group_id
    }

    /// Everything the community sent so far, in order (deduplicated sends
    /// are not repeated here).
    pub fn sent(&self) -> Vec<VkSent> {
        lock(&self.state.inner).sent.clone()
    }

    /// Waits until at least `n` messages were sent or `timeout` passes;
    /// returns all sent messages (fewer than `n` on timeout).
    pub async fn wait_for_messages(&self, n: usize, timeout: Duration) -> Vec<VkSent> {
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

    /// The next send fails this way (queued: call again for the one after).
    pub fn fail_next(&self, failure: VkFailure) {
        lock(&self.state.inner).failures.push_back(failure);
    }

    /// How many sends VK dropped as repeats of a `random_id`.
    pub fn deduplicated(&self) -> u64 {
        lock(&self.state.inner).deduplicated
    }

    /// How many sends were refused with a rate-limit error.
    pub fn throttled(&self) -> u64 {
        lock(&self.state.inner).throttled
    }

    /// Adds our server in the community's Callback API settings: VK POSTs
    /// `{"type": "confirmation", "group_id": …}` and expects the
    /// `confirmation` string back as the body; `Ok` once it matches (then
    /// events flow to `url` with `secret`).
    pub async fn confirm_server(&self, url: &str, secret: &str, confirmation: &str) -> Result<(), String> {
        let body = json!({ "type": "confirmation", "group_id": self.state.group_id, "event_id": self.event_id(), "v": "5.199", "secret": secret });
        let response = self.http.post(url).json(&body).send().await.map_err(|e| e.to_string())?;
        let status = response.status();
        let text = response.text().await.map_err(|e| e.to_string())?;
        if status != StatusCode::OK || text != confirmation {
            return Err(format!("confirmation failed: {status} {text:?}"));
        }
        lock(&self.state.inner).server = Some(CallbackServer { url: url.to_string(), secret: secret.to_string() });
        Ok(())
    }

    /// A person writes `text` in their private chat with the community;
    /// returns our server's status and body (VK wants `ok`).
    pub async fn user_sends_text(&self, from_id: i64, text: &str) -> (u16, String) {
        self.message_new(from_id, json!({ "text": text })).await
    }

    /// A person presses a text button: VK sends its label as the text and
    /// its payload alongside.
    pub async fn user_presses_button(&self, from_id: i64, label: &str, payload: &str) -> (u16, String) {
        self.message_new(from_id, json!({ "text": label, "payload": payload })).await
    }

    /// A person opens the chat through `https://vk.me/club<group>?ref=<reference>`
    /// and presses «Начать»: the message carries the start payload and the
    /// reference.
    pub async fn user_starts(&self, from_id: i64, reference: &str) -> (u16, String) {
        let mut message = json!({ "text": "Начать", "payload": "{\"command\":\"start\"}" });
        if !reference.is_empty() {
            message["ref"] = json!(reference);
            message["ref_source"] = json!("link");
        }
        self.message_new(from_id, message).await
    }

    /// The `message_new` event body VK sends for a person's message with
    /// `fields` (text, payload, ref, …), secret included.
    pub fn message_new_event(&self, from_id: i64, fields: Value) -> Value {
        let secret = lock(&self.state.inner).server.as_ref().map(|s| s.secret.clone()).unwrap_or_default();
        let event_id = self.event_id();
        let id = {
            let mut inner = lock(&self.state.inner);
            inner.next_id += 1;
            inner.next_id
        };
        let mut message = json!({
            "date": unix_now(),
            "from_id": from_id,
            "id": id,
            "out": 0,
            "version": 10_000_000 + id,
            "attachments": [],
            "conversation_message_id": id,
            "fwd_messages": [],
            "important": false,
            "is_hidden": false,
            "peer_id": from_id,
            "random_id": 0,
            "text": "",
        });
        if let (Some(message), Some(fields)) = (message.as_object_mut(), fields.as_object()) {
            message.extend(fields.clone());
        }
        json!({
            "group_id": self.state.group_id,
            "type": "message_new",
            "event_id": event_id,
            "v": "5.199",
            "object": {
                "message": message,
                "client_info": {
                    "button_actions": ["text", "vkpay", "open_app", "location", "open_link", "callback", "intent_subscribe", "intent_unsubscribe"],
                    "keyboard": true,
                    "inline_keyboard": true,
                    "carousel": true,
                    "lang_id": 0,
                },
            },
            "secret": secret,
        })
    }

    async fn message_new(&self, from_id: i64, fields: Value) -> (u16, String) {
        let Some(server) = lock(&self.state.inner).server.clone() else {
            return (0, "no confirmed callback server".into());
        };
        let body = self.message_new_event(from_id, fields);
        match self.http.post(&server.url).json(&body).send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                (status, response.text().await.unwrap_or_default())
            }
            Err(e) => (0, e.to_string()),
        }
    }

    fn event_id(&self) -> String {
        let mut inner = lock(&self.state.inner);
        inner.event_seq += 1;
        format!("{:040x}", inner.event_seq)
    }
}

async fn handle(AxumState(state): AxumState<Arc<State>>, uri: Uri, body: Bytes) -> Response {
    let Some(method) = uri.path().strip_prefix("/method/") else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    // VK reads parameters from the query string and the form body alike.
    let mut params: Vec<(String, String)> = uri.query().and_then(|q| serde_urlencoded::from_str(q).ok()).unwrap_or_default();
    params.extend(serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body).unwrap_or_default());
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let echo: Vec<Value> = params
        .iter()
        .filter(|(k, _)| k != "access_token")
        .map(|(k, v)| json!({ "key": k, "value": v }))
        .chain(std::iter::once(json!({ "key": "method", "value": method })))
        .collect();
    let error = |code: u64, msg: &str| Json(json!({ "error": { "error_code": code, "error_msg": msg, "request_params": echo } })).into_response();
    if param("access_token") != Some(state.access_token.as_str()) {
        return error(5, "User authorization failed: invalid access_token (4).");
    }
    let Some(version) = param("v") else {
        return error(8, "Invalid request: v (version) is required");
    };
    if version.split_once('.').is_none_or(|(a, b)| a.parse::<u32>().is_err() || b.parse::<u32>().is_err()) {
        return error(8, "Invalid request: invalid version");
    }
    if method != "messages.send" {
        return error(3, "Unknown method passed");
    }
    let Some(peer_id) = param("peer_id").and_then(|p| p.parse::<i64>().ok()) else {
        return error(100, "One of the parameters specified was missing or invalid: peer_id is undefined");
    };
    let Some(random_id) = param("random_id").and_then(|p| p.parse::<i64>().ok()) else {
        return error(100, "One of the parameters specified was missing or invalid: random_id is a required parameter");
    };
    if i32::try_from(random_id).is_err() {
        return error(100, "One of the parameters specified was missing or invalid: random_id should be int32");
    }
    let text = param("message").unwrap_or_default().to_string();
    if text.is_empty() && param("attachment").is_none_or(str::is_empty) {
        return error(100, "One of the parameters specified was missing or invalid: message is empty or invalid");
    }
    if text.chars().count() > 4096 {
        return error(914, "Message is too long");
    }
    let keyboard = match param("keyboard") {
        None => None,
        Some(raw) => match serde_json::from_str::<Value>(raw).ok().filter(valid_keyboard) {
            Some(keyboard) => Some(keyboard),
            None => return error(911, "Keyboard format is invalid"),
        },
    };
    let failure = {
        let mut inner = lock(&state.inner);
        let failure = inner.failures.pop_front();
        if matches!(failure, Some(VkFailure::TooManyRequests | VkFailure::FloodControl)) {
            inner.throttled += 1;
        }
        failure
    };
    match failure {
        Some(VkFailure::TooManyRequests) => return error(6, "Too many requests per second"),
        Some(VkFailure::FloodControl) => return error(9, "Flood control"),
        Some(VkFailure::NoPermission) => return error(901, "Can't send messages for users without permission"),
        Some(VkFailure::Privacy) => return error(902, "Can't send messages to this user due to their privacy settings"),
        Some(VkFailure::InternalError) => return error(10, "Internal server error"),
        Some(VkFailure::BadGateway) => return (StatusCode::BAD_GATEWAY, "<html>502 Bad Gateway</html>").into_response(),
        None => {}
    }
    let id = {
        let mut inner = lock(&state.inner);
        if let Some(id) = inner.delivered.get(&(peer_id, random_id)).copied() {
            inner.deduplicated += 1;
            id
        } else {
            inner.next_id += 1;
            let id = inner.next_id;
            inner.delivered.insert((peer_id, random_id), id);
            inner.sent.push(VkSent { id, peer_id, random_id, text, keyboard, at: Instant::now() });
            id
        }
    };
    state.sent_changed.notify_waiters();
    Json(json!({ "response": id })).into_response()
}

/// VK's keyboard rules that matter here: `buttons` rows of `action`s of
/// type `text` (label ≤ 40, optional JSON payload ≤ 255) or `open_link`
/// (label, link); inline keyboards hold at most 10 buttons, 6 rows, 5 a row.
fn valid_keyboard(keyboard: &Value) -> bool {
    let Some(rows) = keyboard["buttons"].as_array() else {
        return false;
    };
    let inline = keyboard["inline"] == true;
    let total: usize = rows.iter().map(|r| r.as_array().map_or(0, Vec::len)).sum();
    if inline && (total > 10 || rows.len() > 6) || rows.len() > 10 {
        return false;
    }
    rows.iter().all(|row| {
        row.as_array().is_some_and(|row| {
            !row.is_empty()
                && row.len() <= 5
                && row.iter().all(|button| {
                    let action = &button["action"];
                    let label = action["label"].as_str().map_or(0, |l| l.chars().count());
                    let payload_ok = match action.get("payload") {
                        None => true,
                        Some(Value::String(p)) => p.chars().count() <= 255 && serde_json::from_str::<Value>(p).is_ok(),
                        Some(_) => false,
                    };
                    match action["type"].as_str() {
                        Some("text") => (1..=40).contains(&label) && payload_ok,
                        Some("open_link") => (1..=40).contains(&label) && action["link"].as_str().is_some_and(|l| l.starts_with("http")) && payload_ok,
                        _ => false,
                    }
                })
        })
    })
}

fn str_of(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}
