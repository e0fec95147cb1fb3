//! A fake WhatsApp Cloud API (Meta Graph API) for one business number.
//!
//! The business side is HTTP, as a client sees Meta: `POST
//! /{version}/{phone_number_id}/messages` with `Authorization: Bearer
//! <token>` and the documented JSON bodies (`text`, `image`, `video`,
//! `audio`, `document` by link, `interactive`
//! `button` and `list`). The fake checks what Meta checks that matters to
//! us — the token, the number, the limits on texts, captions, button titles,
//! ids and counts — and answers `{"messaging_product": "whatsapp",
//! "contacts": [...], "messages": [{"id": "wamid…"}]}` or Meta's error
//! envelope `{"error": {"message", "type", "code", "error_data":
//! {"messaging_product", "details"}, "fbtrace_id"}}`.
//!
//! The person side is Rust: `user_sends_text`, `user_presses_button`, … POST
//! a webhook delivery shaped like Meta's (`object:
//! whatsapp_business_account`, `entry[].changes[].value.messages[]`) to the
//! configured URL, signed with `X-Hub-Signature-256` under the app secret;
//! `verify_webhook` performs Meta's subscription handshake. `fail_next`
//! makes the next send fail like Meta does when throttling, when a number
//! cannot receive, or during an outage.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use tokio::sync::Notify;

use crate::gate::{lock, TaskGuard};

/// One message the business sent.
#[derive(Debug, Clone)]
pub struct WhatsAppSent {
    /// The `wamid.…` the fake assigned.
    pub id: String,
    /// The recipient's WhatsApp id (`to`).
    pub to: String,
    /// `text`, `image` or `interactive`.
    pub kind: String,
    /// What the person reads: the text body, the image caption or the
    /// interactive body.
    pub text: String,
    /// The whole request body.
    pub body: Value,
    pub at: Instant,
}

impl WhatsAppSent {
    /// `(id, title)` of the reply buttons or list rows of an interactive
    /// message; empty otherwise.
    pub fn choices(&self) -> Vec<(String, String)> {
        let action = &self.body["interactive"]["action"];
        let pairs = |items: &Value, inner: Option<&str>| -> Vec<(String, String)> {
            items
                .as_array()
                .map(|list| {
                    list.iter()
                        .map(|item| inner.map_or(item, |key| &item[key]))
                        .map(|b| (str_of(&b["id"]), str_of(&b["title"])))
                        .collect()
                })
                .unwrap_or_default()
        };
        match self.body["interactive"]["type"].as_str() {
            Some("button") => pairs(&action["buttons"], Some("reply")),
            Some("list") => action["sections"]
                .as_array()
                .map(|sections| sections.iter().flat_map(|s| pairs(&s["rows"], None)).collect())
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

/// How the next send fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhatsAppFailure {
    /// `429`, code 130429 "Rate limit hit" (Cloud API throughput), with a
    /// `Retry-After` header when given.
    Throttled { retry_after_secs: Option<u64> },
    /// `400`, code 131056 "Pair rate limit hit".
    PairRateLimit,
    /// `400`, code 131026 "Message undeliverable" (not on WhatsApp, terms
    /// not accepted, app too old).
    Undeliverable,
    /// `400`, code 131047 "Re-engagement message" (24 h window closed).
    ReEngagement,
    /// `503`, code 2 "Service temporarily unavailable".
    ServerError,
}

struct Inner {
    sent: Vec<WhatsAppSent>,
    failures: VecDeque<WhatsAppFailure>,
    /// (callback URL, app secret)
    webhook: Option<(String, String)>,
    throttled: u64,
    seq: u64,
}

struct State {
    access_token: String,
    phone_number_id: String,
    display_phone_number: String,
    inner: std::sync::Mutex<Inner>,
    sent_changed: Notify,
}

/// A running fake Cloud API. Clones share the server; it stops with the
/// last clone.
#[derive(Clone)]
pub struct FakeWhatsApp {
    state: Arc<State>,
    addr: SocketAddr,
    http: reqwest::Client,
    _tasks: Arc<TaskGuard>,
}

impl FakeWhatsApp {
    /// Starts the API for the business number `phone_number_id` accepting
    /// `access_token`, on `127.0.0.1` with a free port.
    ///
    /// # Panics
    /// If no local port can be bound.
    pub async fn start(access_token: impl Into<String>, phone_number_id: impl Into<String>) -> Self {
        let state = Arc::new(State {
            access_token: access_token.into(),
            phone_number_id: phone_number_id.into(),
            display_phone_number: "15550783881".into(),
            inner: std::sync::Mutex::new(Inner {
                sent: Vec::new(),
                failures: VecDeque::new(),
                webhook: None,
                throttled: 0,
                seq: 0,
            }),
            sent_changed: Notify::new(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("fake whatsapp: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("fake whatsapp: local address");
        let app = Router::new().fallback(handle).with_state(state.clone());
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "fake whatsapp stopped");
            }
        });
        Self {
            state,
            addr,
            http: reqwest::Client::new(),
            _tasks: Arc::new(TaskGuard(vec![server])),
        }
    }

    /// `http://127.0.0.1:PORT` — the Graph API base URL for a client.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Everything the business sent so far, in order.
    pub fn sent(&self) -> Vec<WhatsAppSent> {
        lock(&self.state.inner).sent.clone()
    }

    /// Waits until at least `n` messages were sent or `timeout` passes;
    /// returns all sent messages (fewer than `n` on timeout).
    pub async fn wait_for_messages(&self, n: usize, timeout: Duration) -> Vec<WhatsAppSent> {
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
    pub fn fail_next(&self, failure: WhatsAppFailure) {
        lock(&self.state.inner).failures.push_back(failure);
    }

    /// How many sends were refused with a throttling error.
    pub fn throttled(&self) -> u64 {
        lock(&self.state.inner).throttled
    }

    /// Points the app's webhook at `url`, signing deliveries with
    /// `app_secret` (what an admin sets in the Meta App Dashboard).
    pub fn set_webhook(&self, url: impl Into<String>, app_secret: impl Into<String>) {
        lock(&self.state.inner).webhook = Some((url.into(), app_secret.into()));
    }

    /// Meta's subscription handshake: `GET url?hub.mode=subscribe&
    /// hub.challenge=…&hub.verify_token=…`; `Ok` when the answer is 200 and
    /// echoes the challenge.
    pub async fn verify_webhook(&self, url: &str, verify_token: &str) -> Result<(), String> {
        let challenge = format!("{}", 1_158_201_444 + lock(&self.state.inner).seq);
        let response = self
            .http
            .get(url)
            .query(&[("hub.mode", "subscribe"), ("hub.challenge", &challenge), ("hub.verify_token", verify_token)])
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response.text().await.map_err(|e| e.to_string())?;
        if status == StatusCode::OK && body == challenge {
            Ok(())
        } else {
            Err(format!("verification failed: {status} {body}"))
        }
    }

    /// A person writes `text` (their profile name is `name`); returns the
    /// HTTP status our webhook answered.
    pub async fn user_sends_text(&self, wa_id: &str, name: &str, text: &str) -> u16 {
        self.deliver(wa_id, name, json!({ "type": "text", "text": { "body": text } })).await
    }

    /// A person presses the reply button `id` (titled `title`) under the
    /// message `context_id`.
    pub async fn user_presses_button(&self, wa_id: &str, name: &str, id: &str, title: &str) -> u16 {
        let message = json!({
            "type": "interactive",
            "interactive": { "type": "button_reply", "button_reply": { "id": id, "title": title } },
            "context": { "from": self.state.display_phone_number, "id": self.last_sent_id() },
        });
        self.deliver(wa_id, name, message).await
    }

    /// A person picks the row `id` of a list message.
    pub async fn user_picks_from_list(&self, wa_id: &str, name: &str, id: &str, title: &str) -> u16 {
        let message = json!({
            "type": "interactive",
            "interactive": { "type": "list_reply", "list_reply": { "id": id, "title": title, "description": "" } },
            "context": { "from": self.state.display_phone_number, "id": self.last_sent_id() },
        });
        self.deliver(wa_id, name, message).await
    }

    /// A person shares a contact card.
    pub async fn user_shares_contact(&self, wa_id: &str, name: &str, phone: &str, first_name: &str) -> u16 {
        let contact_wa_id: String = phone.chars().filter(char::is_ascii_digit).collect();
        let message = json!({
            "type": "contacts",
            "contacts": [{
                "name": { "formatted_name": first_name, "first_name": first_name },
                "phones": [{ "phone": phone, "wa_id": contact_wa_id, "type": "CELL" }],
            }],
        });
        self.deliver(wa_id, name, message).await
    }

    /// The webhook body Meta sends for one person's `message` (the fields
    /// `from`, `id` and `timestamp` are filled in).
    pub fn webhook_payload(&self, wa_id: &str, name: &str, mut message: Value) -> Value {
        let seq = {
            let mut inner = lock(&self.state.inner);
            inner.seq += 1;
            inner.seq
        };
        message["from"] = json!(wa_id);
        message["id"] = json!(format!("wamid.IN{seq:08}"));
        message["timestamp"] = json!(unix_now().to_string());
        json!({
            "object": "whatsapp_business_account",
            "entry": [{
                "id": "102290129340398",
                "changes": [{
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {
                            "display_phone_number": self.state.display_phone_number,
                            "phone_number_id": self.state.phone_number_id,
                        },
                        "contacts": [{ "profile": { "name": name }, "wa_id": wa_id }],
                        "messages": [message],
                    },
                    "field": "messages",
                }],
            }],
        })
    }

    /// POSTs one signed delivery; the status our webhook answered (0 when
    /// no webhook is set or it is unreachable).
    pub async fn deliver(&self, wa_id: &str, name: &str, message: Value) -> u16 {
        let payload = self.webhook_payload(wa_id, name, message);
        let Some((url, secret)) = lock(&self.state.inner).webhook.clone() else {
            return 0;
        };
        let body = payload.to_string();
        let response = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("x-hub-signature-256", signature(&secret, body.as_bytes()))
            .body(body)
            .send()
            .await;
        response.map(|r| r.status().as_u16()).unwrap_or(0)
    }

    fn last_sent_id(&self) -> String {
        lock(&self.state.inner).sent.last().map(|m| m.id.clone()).unwrap_or_default()
    }
}

/// `sha256=<hex HMAC-SHA256 of body under secret>`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn handle(AxumState(state): AxumState<Arc<State>>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let segments: Vec<&str> = uri.path().trim_matches('/').split('/').collect();
    let [version, number, "messages"] = segments.as_slice() else {
        return graph_error(StatusCode::BAD_REQUEST, 100, "Unknown path components", "the fake serves only /{version}/{phone-number-id}/messages");
    };
    let bearer = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    if bearer != Some(state.access_token.as_str()) {
        return graph_error(StatusCode::UNAUTHORIZED, 190, "Invalid OAuth access token - Cannot parse access token", "");
    }
    if !is_version(version) {
        return graph_error(StatusCode::BAD_REQUEST, 100, "Unknown path components", &format!("unknown version {version}"));
    }
    if *number != state.phone_number_id {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            &format!("Unsupported post request. Object with ID '{number}' does not exist"),
            "",
        );
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return graph_error(StatusCode::BAD_REQUEST, 100, "Invalid parameter", "The request body is not JSON");
    };
    if let Err(details) = check_message(&request) {
        return graph_error(StatusCode::BAD_REQUEST, 100, "Invalid parameter", &details);
    }
    let failure = {
        let mut inner = lock(&state.inner);
        let failure = inner.failures.pop_front();
        if matches!(failure, Some(WhatsAppFailure::Throttled { .. } | WhatsAppFailure::PairRateLimit)) {
            inner.throttled += 1;
        }
        failure
    };
    if let Some(failure) = failure {
        return failure_response(failure);
    }
    let to = str_of(&request["to"]);
    let kind = str_of(&request["type"]);
    let text = match kind.as_str() {
        "text" => str_of(&request["text"]["body"]),
        media @ ("image" | "video" | "document") => str_of(&request[media]["caption"]),
        "audio" => String::new(),
        _ => str_of(&request["interactive"]["body"]["text"]),
    };
    let id = {
        let mut inner = lock(&state.inner);
        inner.seq += 1;
        let id = format!("wamid.HBgL{:08}", inner.seq);
        inner.sent.push(WhatsAppSent { id: id.clone(), to: to.clone(), kind, text, body: request, at: Instant::now() });
        id
    };
    state.sent_changed.notify_waiters();
    Json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{ "input": to, "wa_id": to }],
        "messages": [{ "id": id }],
    }))
    .into_response()
}

/// What Meta refuses with `(#100) Invalid parameter`.
fn check_message(request: &Value) -> Result<(), String> {
    if request["messaging_product"] != "whatsapp" {
        return Err("messaging_product must be \"whatsapp\"".into());
    }
    if str_of(&request["to"]).is_empty() {
        return Err("to is required".into());
    }
    let chars = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    match request["type"].as_str().unwrap_or("text") {
        "text" => {
            let n = chars(&request["text"]["body"]);
            if n == 0 || n > 4096 {
                return Err(format!("text.body must be 1-4096 characters, got {n}"));
            }
        }
        media @ ("image" | "video" | "document" | "audio") => {
            if chars(&request[media]["link"]) == 0 {
                return Err(format!("{media}.link is required"));
            }
            if media == "audio" && !request["audio"]["caption"].is_null() {
                return Err("audio messages have no caption".into());
            }
            if chars(&request[media]["caption"]) > 1024 {
                return Err(format!("{media}.caption is longer than 1024 characters"));
            }
        }
        "interactive" => check_interactive(&request["interactive"])?,
        other => return Err(format!("the fake does not send type {other}")),
    }
    Ok(())
}

fn check_interactive(interactive: &Value) -> Result<(), String> {
    let chars = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    let body = chars(&interactive["body"]["text"]);
    if body == 0 || body > 1024 {
        return Err(format!("interactive.body.text must be 1-1024 characters, got {body}"));
    }
    let action = &interactive["action"];
    match interactive["type"].as_str() {
        Some("button") => {
            let buttons = action["buttons"].as_array().cloned().unwrap_or_default();
            if buttons.is_empty() || buttons.len() > 3 {
                return Err(format!("action.buttons must hold 1-3 buttons, got {}", buttons.len()));
            }
            let mut ids = Vec::new();
            for button in &buttons {
                let reply = &button["reply"];
                if button["type"] != "reply" || !(1..=256).contains(&chars(&reply["id"])) || !(1..=20).contains(&chars(&reply["title"])) {
                    return Err(format!("invalid reply button {button}: id 1-256, title 1-20 characters"));
                }
                if ids.contains(&reply["id"]) {
                    return Err("button ids must be unique".into());
                }
                ids.push(reply["id"].clone());
            }
        }
        Some("list") => {
            if !(1..=20).contains(&chars(&action["button"])) {
                return Err("action.button must be 1-20 characters".into());
            }
            let rows: Vec<Value> = action["sections"]
                .as_array()
                .map(|s| s.iter().flat_map(|s| s["rows"].as_array().cloned().unwrap_or_default()).collect())
                .unwrap_or_default();
            if rows.is_empty() || rows.len() > 10 {
                return Err(format!("a list holds 1-10 rows, got {}", rows.len()));
            }
            if let Some(row) = rows.iter().find(|r| !(1..=200).contains(&chars(&r["id"])) || !(1..=24).contains(&chars(&r["title"]))) {
                return Err(format!("invalid row {row}: id 1-200, title 1-24 characters"));
            }
        }
        other => return Err(format!("unsupported interactive type {other:?}")),
    }
    Ok(())
}

fn failure_response(failure: WhatsAppFailure) -> Response {
    match failure {
        WhatsAppFailure::Throttled { retry_after_secs } => {
            let mut response = graph_error(
                StatusCode::TOO_MANY_REQUESTS,
                130429,
                "(#130429) Rate limit hit",
                "Message failed to send because there were too many messages sent from this phone number in a short period of time",
            );
            if let Some(secs) = retry_after_secs {
                if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
                    response.headers_mut().insert("retry-after", value);
                }
            }
            response
        }
        WhatsAppFailure::PairRateLimit => graph_error(
            StatusCode::BAD_REQUEST,
            131056,
            "(#131056) (Business Account, Consumer Account) pair rate limit hit",
            "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time",
        ),
        WhatsAppFailure::Undeliverable => graph_error(
            StatusCode::BAD_REQUEST,
            131026,
            "(#131026) Message undeliverable",
            "Message Undeliverable.",
        ),
        WhatsAppFailure::ReEngagement => graph_error(
            StatusCode::BAD_REQUEST,
            131047,
            "(#131047) Re-engagement message",
            "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
        ),
        WhatsAppFailure::ServerError => graph_error(
            StatusCode::SERVICE_UNAVAILABLE,
            2,
            "Service temporarily unavailable",
            "",
        ),
    }
}

/// Meta's error envelope.
fn graph_error(status: StatusCode, code: u64, message: &str, details: &str) -> Response {
    let mut error = json!({
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AazN0fakeTrace",
    });
    if !details.is_empty() {
        error["error_data"] = json!({ "messaging_product": "whatsapp", "details": details });
    }
    (status, Json(json!({ "error": error }))).into_response()
}

fn is_version(version: &str) -> bool {
    let Some((major, minor)) = version.strip_prefix('v').and_then(|v| v.split_once('.')) else {
        return false;
    };
    !major.is_empty() && !minor.is_empty() && major.chars().chain(minor.chars()).all(|c| c.is_ascii_digit())
}

fn str_of(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}
