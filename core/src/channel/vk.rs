//! VK (VKontakte) community messages through the VK API
//! (<https://dev.vk.com/method/messages.send>) and the Callback API.
//!
//! **Outbound.** Every message is one `POST {api_base}/method/messages.send`,
//! form-encoded: `peer_id`, `message`, `random_id`, `access_token` (the
//! community token) and `v` (the API version), plus `keyboard` on the last
//! part. The token travels in the body, never in a URL, so no URL we could
//! log carries it.
//!
//! - `random_id` is VK's deduplication key: a second send with the same one
//!   is not delivered again. [`random_id`] derives it from
//!   [`OutboundMessage::id`] (and the part number of a split text), so a
//!   retry of the same outbox message — after a lost answer or a throttle
//!   halfway through a split text — never reaches the person twice.
//! - Texts over 4,096 characters are split ([`split_text`]).
//! - Buttons become an inline keyboard under the last part: `text` buttons
//!   whose `payload` is `{"button": <value>}` and `open_link` buttons for
//!   URL buttons. VK cannot ask a person for their phone number, so a
//!   contact button is an ordinary text button.
//! - A picture's URL is appended to the text (VK shows a link preview).
//!   Uploading it as a real attachment (`photos.getMessagesUploadServer` →
//!   upload → `photos.saveMessagesPhoto`) is out of scope.
//!
//! **Errors.** VK answers HTTP 200 with `{"response": <message id>}` or
//! `{"error": {"error_code": N, "error_msg": …}}`; [`classify`] maps the
//! code (source: VK's own machine-readable error list,
//! github.com/VKCOM/vk-api-schema `errors.json`, v5.199, and the errors
//! `messages.send` declares in `messages/methods.json`):
//!
//! | code | VK's description                                        | taxonomy |
//! |------|---------------------------------------------------------|----------|
//! | 6    | Too many requests per second                            | `Throttled`, 1 s |
//! | 9    | Flood control                                           | `Throttled`, 1 s |
//! | 29   | Rate limit reached                                      | `Throttled`, 1 s |
//! | 900  | Can't send messages for users from blacklist            | `Blocked` |
//! | 901  | Can't send messages for users without permission        | `Blocked` |
//! | 902  | Can't send messages to this user due to their privacy settings | `Blocked` |
//! | 18, 3610 | User was deleted or banned / User is deactivated    | `Blocked` |
//! | 917, 922, 945 | no access to this chat / you left this chat / chat was disabled | `Blocked` |
//! | 1, 10, 36 | Unknown error / Internal server error / timeout    | `Transient` |
//! | 5, 27, 28 | User / group / application authorization failed    | `BadRequest` (fix `access_token`) |
//! | 7, 15 | Permission denied / Access denied (token scope)        | `BadRequest` |
//! | 100, 911, 914 | bad parameter / keyboard format invalid / message too long | `BadRequest` |
//! | any other code | —                                             | `BadRequest` |
//! | HTTP 5xx, network, timeout | —                                 | `Transient` |
//!
//! Code 7 is VK's generic "permission denied" for the *token* (e.g. it
//! lacks the `messages` scope), not a person refusing messages, so it is a
//! configuration error rather than a block.
//!
//! **Inbound** ([`parse_callback`]): the Callback API POSTs `{type,
//! group_id, event_id, v, secret, object}`. `confirmation` asks for the
//! configured confirmation string; `message_new` carries `object.message`
//! (`from_id`, `peer_id`, `text`, `payload`, `ref`). A press on one of our
//! buttons arrives as a message whose `payload` holds the value
//! ([`InboundEvent::Button`]); the community's «Начать» button sends
//! `{"command": "start"}` and a `vk.me/<community>?ref=<code>` link adds
//! `ref`, which together make a deep-link [`InboundEvent::Start`], as does a
//! typed `/start <code>`.

use std::fmt;
use std::time::Duration;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{
    split_text, Channel, ChannelError, Delivered, InboundEvent, OutboundMessage, SendFuture, Sender,
};
use crate::scenario::{Button, ButtonKind};

/// The public VK API host.
pub const DEFAULT_API_BASE: &str = "https://api.vk.com";
/// The API version (`v`) used unless the settings name one.
pub const DEFAULT_API_VERSION: &str = "5.199";
/// VK's limit on a message text, in characters.
pub const TEXT_LIMIT: usize = 4096;
/// How long one API call may take before it counts as a transient failure.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The pause after VK's rate-limit errors (its limits are per second).
const THROTTLE_PAUSE: Duration = Duration::from_secs(1);
/// A button's `payload` (a JSON string), in characters.
const PAYLOAD_LIMIT: usize = 255;
/// A button's label, in characters.
const LABEL_LIMIT: usize = 40;
/// An inline keyboard: at most 10 buttons, 6 rows, 5 a row.
const INLINE_BUTTONS_MAX: usize = 10;
const INLINE_ROWS_MAX: usize = 6;
const ROW_WIDTH_MAX: usize = 5;

/// One community on the VK API.
#[derive(Clone)]
pub struct VkChannel {
    api_base: String,
    api_version: String,
    access_token: String,
    http: reqwest::Client,
}

impl fmt::Debug for VkChannel {
    // Never print the token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VkChannel")
            .field("api_base", &self.api_base)
            .field("api_version", &self.api_version)
            .field("access_token", &"<redacted>")
            .finish()
    }
}

impl VkChannel {
    /// A channel for the community whose token is `access_token`, on the
    /// public API.
    pub fn new(access_token: impl Into<String>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self {
            api_base: DEFAULT_API_BASE.to_string(),
            api_version: DEFAULT_API_VERSION.to_string(),
            access_token: access_token.into(),
            http,
        }
    }

    /// Built from a bot's `vk` settings (see README "VK"); `Err` says what
    /// is missing.
    pub fn from_settings(settings: &Value) -> Result<Self, String> {
        let text = |name: &str| {
            settings
                .get(name)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let token = text("access_token").ok_or("the bot has no VK community token")?;
        let mut channel = Self::new(token);
        if let Some(base) = text("api_base") {
            channel = channel.with_api_base(base);
        }
        if let Some(version) = text("api_version") {
            channel = channel.with_api_version(version);
        }
        Ok(channel)
    }

    /// Uses another API host (a fake in tests). A trailing `/` is ignored.
    pub fn with_api_base(mut self, api_base: impl Into<String>) -> Self {
        self.api_base = api_base.into().trim_end_matches('/').to_string();
        self
    }

    /// Uses another API version (`5.199`).
    pub fn with_api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = version.into();
        self
    }

    async fn send_message(&self, message: &OutboundMessage) -> Result<Delivered, ChannelError> {
        let parts = plan(message)?;
        let mut delivered = None;
        for params in &parts {
            // A throttle on a later part fails the whole message: the retry
            // sends every part again with the same random_id, and VK drops
            // the ones it already delivered.
            let id = self.call("messages.send", params).await?;
            delivered = Some(Delivered {
                provider_message_id: id,
            });
        }
        tracing::debug!(parts = parts.len(), "vk: sent");
        delivered.ok_or_else(|| ChannelError::BadRequest("message text is empty".into()))
    }

    /// One API method call; the `response` as a string (the message id).
    async fn call(&self, method: &str, params: &[(&'static str, String)]) -> Result<String, ChannelError> {
        let mut form: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        form.push(("access_token", &self.access_token));
        form.push(("v", &self.api_version));
        let response = self
            .http
            .post(format!("{}/method/{method}", self.api_base))
            .form(&form)
            .send()
            .await
            .map_err(|e| ChannelError::Transient(format!("VK unreachable: {}", error_chain(&e.without_url()))))?;
        let status = response.status().as_u16();
        let answer = response.json::<Value>().await.ok();
        classify(status, answer)
    }
}

impl Channel for VkChannel {
    fn kind(&self) -> &'static str {
        "vk"
    }

    fn text_limit(&self) -> usize {
        TEXT_LIMIT
    }

    fn send<'a>(&'a self, message: &'a OutboundMessage) -> SendFuture<'a> {
        Box::pin(self.send_message(message))
    }
}

/// VK's `random_id` for part `part` of the message with our id
/// `message_id`: a positive 31-bit number, the same on every retry. A
/// message without an id (never the case for outbox messages) gets a random
/// one.
pub fn random_id(message_id: &str, part: usize) -> i32 {
    let n = if message_id.is_empty() {
        rand::random::<u32>()
    } else {
        let digest = Sha256::digest(format!("{message_id}#{part}").as_bytes());
        u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
    };
    // Within i32 and never 0 (0 means "no deduplication" to VK).
    ((n & 0x7fff_ffff) as i32).max(1)
}

/// The `messages.send` parameters (without `access_token` and `v`) of each
/// part of `message`, in order; `Err` when VK could not show it.
pub fn plan(message: &OutboundMessage) -> Result<Vec<Vec<(&'static str, String)>>, ChannelError> {
    let peer_id = message.chat_id.trim();
    if peer_id.parse::<i64>().is_err() {
        return Err(ChannelError::BadRequest(format!("\"{peer_id}\" is not a VK peer id")));
    }
    let mut text = message.text.trim_end().to_string();
    if let Some(url) = message.media_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(url);
    }
    if text.trim().is_empty() {
        return Err(ChannelError::BadRequest("message text is empty".into()));
    }
    let keyboard = keyboard(&message.buttons)?;
    let texts = split_text(&text, TEXT_LIMIT);
    let last = texts.len() - 1;
    Ok(texts
        .into_iter()
        .enumerate()
        .map(|(part, text)| {
            let mut params = vec![
                ("peer_id", peer_id.to_string()),
                ("message", text),
                ("random_id", random_id(&message.id, part).to_string()),
            ];
            if let (true, Some(keyboard)) = (part == last, &keyboard) {
                params.push(("keyboard", keyboard.to_string()));
            }
            params
        })
        .collect())
}

/// The inline keyboard for `buttons`, if any.
fn keyboard(buttons: &[Button]) -> Result<Option<Value>, ChannelError> {
    if buttons.is_empty() {
        return Ok(None);
    }
    if buttons.len() > INLINE_BUTTONS_MAX {
        return Err(ChannelError::BadRequest(format!(
            "VK shows at most {INLINE_BUTTONS_MAX} buttons under a message, the message has {}",
            buttons.len()
        )));
    }
    let keys = buttons.iter().map(key).collect::<Result<Vec<_>, _>>()?;
    // Short labels (ratings, «Да»/«Нет») side by side, longer ones one a row.
    // More long ones than rows go two a row.
    let short = buttons.iter().all(|b| b.label.chars().count() <= 4);
    let width = if short {
        ROW_WIDTH_MAX
    } else if keys.len() <= INLINE_ROWS_MAX {
        1
    } else {
        2
    };
    let rows: Vec<Vec<Value>> = keys.chunks(width).map(<[Value]>::to_vec).collect();
    Ok(Some(json!({ "inline": true, "buttons": rows })))
}

fn key(button: &Button) -> Result<Value, ChannelError> {
    let label = cut(&button.label, LABEL_LIMIT);
    if button.kind == ButtonKind::Url {
        let link = button.url.as_deref().map(str::trim).filter(|u| !u.is_empty()).ok_or_else(|| {
            ChannelError::BadRequest(format!("button \"{}\" has no url", button.label))
        })?;
        return Ok(json!({ "action": { "type": "open_link", "link": link, "label": label } }));
    }
    let value = button.value.as_deref().filter(|v| !v.is_empty()).unwrap_or(&button.label);
    let payload = json!({ "button": value }).to_string();
    if payload.chars().count() > PAYLOAD_LIMIT {
        return Err(ChannelError::BadRequest(format!(
            "button \"{}\": its value is too long for VK's {PAYLOAD_LIMIT}-character payload",
            button.label
        )));
    }
    Ok(json!({ "action": { "type": "text", "label": label, "payload": payload }, "color": "primary" }))
}

/// `text` cut to `limit` characters, with an ellipsis when cut.
fn cut(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let mut short: String = text.chars().take(limit.saturating_sub(1)).collect();
    short.push('…');
    short
}

/// Maps an HTTP status and the (possibly unreadable) answer onto the
/// `response` or the taxonomy (table in the module docs).
pub fn classify(status: u16, answer: Option<Value>) -> Result<String, ChannelError> {
    if status >= 500 {
        return Err(ChannelError::Transient(format!("VK answered {status}")));
    }
    if status == 429 {
        return Err(ChannelError::Throttled { retry_after: THROTTLE_PAUSE });
    }
    if !(200..300).contains(&status) {
        return Err(ChannelError::BadRequest(format!("VK answered {status}")));
    }
    let answer = answer.unwrap_or(Value::Null);
    if let Some(response) = answer.get("response") {
        // `peer_id` → the message id; `peer_ids` → [{peer_id, message_id}].
        let id = match response {
            Value::Number(n) => Some(n.to_string()),
            Value::Array(items) => items.first().and_then(|i| i.get("message_id")).map(Value::to_string),
            _ => None,
        };
        return id.ok_or_else(|| ChannelError::Transient("unreadable answer from VK".into()));
    }
    let error = &answer["error"];
    let Some(code) = error["error_code"].as_u64() else {
        return Err(ChannelError::Transient("unreadable answer from VK".into()));
    };
    let what = error["error_msg"].as_str().unwrap_or("no description");
    Err(match code {
        6 | 9 | 29 => ChannelError::Throttled { retry_after: THROTTLE_PAUSE },
        18 | 900 | 901 | 902 | 917 | 922 | 945 | 3610 => ChannelError::Blocked,
        1 | 10 | 36 => ChannelError::Transient(format!("VK error {code}: {what}")),
        5 | 27 | 28 => ChannelError::BadRequest(format!("community token rejected ({code}): check access_token")),
        _ => ChannelError::BadRequest(format!("{what} ({code})")),
    })
}

/// One Callback API request, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    /// The event type: `confirmation`, `message_new`, …
    pub kind: String,
    /// The community the event is for.
    pub group_id: Option<i64>,
    /// The secret key configured for the server, when VK sent one.
    pub secret: Option<String>,
    /// VK's id of the event (the same on VK's retries).
    pub event_id: Option<String>,
    /// What the person did, for the events a scenario understands.
    pub event: Option<InboundEvent>,
}

/// Reads one Callback API body; `None` when it is not one (no `type`).
pub fn parse_callback(body: &Value) -> Option<Callback> {
    let kind = body.get("type")?.as_str()?.to_string();
    let event = match kind.as_str() {
        // Since API 5.103 the message sits in `object.message`; before, the
        // object was the message itself.
        "message_new" => {
            let object = &body["object"];
            let message = object.get("message").unwrap_or(object);
            parse_message(message)
        }
        _ => None,
    };
    Some(Callback {
        kind,
        group_id: body["group_id"].as_i64(),
        secret: body["secret"].as_str().map(str::to_string),
        event_id: body["event_id"].as_str().map(str::to_string),
        event,
    })
}

/// One VK message object as what a scenario understands.
pub fn parse_message(message: &Value) -> Option<InboundEvent> {
    let from_id = id_string(&message["from_id"])?;
    let chat_id = id_string(&message["peer_id"]).unwrap_or_else(|| from_id.clone());
    let from = Sender { id: from_id, first_name: String::new(), username: None };
    let text = message["text"].as_str().unwrap_or_default();
    let reference = message["ref"].as_str().map(str::trim).filter(|r| !r.is_empty());
    let payload: Option<Value> = message["payload"].as_str().and_then(|p| serde_json::from_str(p).ok());
    let start_button = payload.as_ref().is_some_and(|p| p["command"] == "start");
    if let Some(code) = reference {
        return Some(InboundEvent::Start { chat_id, from, payload: Some(code.to_string()) });
    }
    if let Some(payload) = start_payload(text) {
        return Some(InboundEvent::Start { chat_id, from, payload });
    }
    if start_button {
        return Some(InboundEvent::Start { chat_id, from, payload: None });
    }
    if let Some(payload) = payload {
        let data = match &payload {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => o.get("button").and_then(|b| match b {
                Value::String(s) => Some(s.clone()),
                Value::Null => None,
                other => Some(other.to_string()),
            }),
            _ => None,
        };
        if let Some(data) = data {
            return Some(InboundEvent::Button {
                chat_id,
                from,
                data,
                callback_id: id_string(&message["conversation_message_id"]).unwrap_or_default(),
                message_id: id_string(&message["id"]),
            });
        }
    }
    if text.is_empty() {
        return None; // stickers, attachments, service messages
    }
    Some(InboundEvent::Text { chat_id, from, text: text.to_string() })
}

/// For `/start` and `/start <payload>`: the payload, if any.
fn start_payload(text: &str) -> Option<Option<String>> {
    let rest = text.trim().strip_prefix("/start")?;
    if !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
        return None;
    }
    let payload = rest.trim();
    Some((!payload.is_empty()).then(|| payload.to_string()))
}

fn id_string(id: &Value) -> Option<String> {
    match id {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// An error and its causes, `outer: inner: …`.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_are_stable_positive_and_differ_per_part() {
        assert_eq!(random_id("msg_1", 0), random_id("msg_1", 0));
        assert_ne!(random_id("msg_1", 0), random_id("msg_1", 1));
        assert_ne!(random_id("msg_1", 0), random_id("msg_2", 0));
        assert!(random_id("msg_1", 0) > 0);
    }

    #[test]
    fn ten_long_buttons_are_packed_within_six_rows() {
        let buttons: Vec<Button> = (0..10)
            .map(|i| Button { label: format!("Вариант {i}"), kind: ButtonKind::Inline, value: None, url: None })
            .collect();
        let keyboard = keyboard(&buttons).unwrap().unwrap();
        let rows = keyboard["buttons"].as_array().unwrap();
        assert!(rows.len() <= INLINE_ROWS_MAX);
        assert_eq!(rows.iter().map(|r| r.as_array().unwrap().len()).sum::<usize>(), 10);
    }

    #[test]
    fn debug_hides_the_token() {
        assert!(!format!("{:?}", VkChannel::new("vk1.a.SECRET")).contains("SECRET"));
    }
}
