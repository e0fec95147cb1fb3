//! WhatsApp through Meta's Cloud API
//! (<https://developers.facebook.com/docs/whatsapp/cloud-api>).
//!
//! **Outbound.** Every message is one `POST
//! {api_base}/{api_version}/{phone_number_id}/messages` with `Authorization:
//! Bearer <access_token>` and a JSON body `{"messaging_product": "whatsapp",
//! "recipient_type": "individual", "to": <wa_id>, "type": …}`. [`plan`] turns
//! an [`OutboundMessage`] into those bodies, in order:
//!
//! - a picture goes first as an `image` by link; a short text (≤ 1,024
//!   characters, the caption limit) without buttons rides along as its
//!   caption;
//! - the text goes as `text` messages of at most 4,096 characters
//!   ([`split_text`]);
//! - URL buttons have no WhatsApp equivalent in a free-form message, so each
//!   is appended to the text as `label: url`;
//! - the other buttons make the last part an `interactive` message (whose
//!   body holds at most 1,024 characters): up to three become reply
//!   `button`s (titles cut to 20 characters, ids = the buttons' values), more
//!   become one `list` of at most ten rows (titles cut to 24);
//! - WhatsApp cannot ask for a phone contact, but the chat id *is* the
//!   person's number: a contact button becomes a reply button with the id
//!   [`CONTACT_BUTTON_ID`], and pressing it comes back as an
//!   [`InboundEvent::Contact`] carrying the sender's own number.
//!
//! A later part of a split text that is throttled is waited out in place
//! (the earlier parts are out; failing would send them twice on retry —
//! the Cloud API has no idempotency key).
//!
//! **Errors** ([`classify`]) are `{"error": {"code": N, "message": …,
//! "error_data": {"details": …}}}`; the Graph API error code, not the HTTP
//! status, says what happened (Meta: "build error handling around `code`").
//! Sources: Meta's Cloud API error-code reference
//! (developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes, as
//! mirrored by Kaleyra's and aivo's copies) and its throughput and pair-rate
//! documents.
//!
//! | code                       | Meta's title                                  | taxonomy |
//! |----------------------------|-----------------------------------------------|----------|
//! | 4                          | API Too Many Calls (app rate limit)           | `Throttled`, default 60 s |
//! | 80007                      | WABA rate limit                               | `Throttled`, default 60 s |
//! | 130429                     | Rate limit hit (Cloud API throughput)         | `Throttled`, default 1 s |
//! | 131048                     | Spam rate limit hit                           | `Throttled`, default 60 s |
//! | 131056                     | Pair rate limit hit (same sender + recipient) | `Throttled`, default 6 s (Meta: ~1 msg / 6 s per pair) |
//! | HTTP 429 without a code    |                                               | `Throttled`, default 1 s |
//! | 131026                     | Message undeliverable: not a WhatsApp number, terms not accepted, app too old | `Blocked` |
//! | 131050                     | User stopped (marketing) messages             | `Blocked` |
//! | 131047                     | Re-engagement: > 24 h since the person wrote, only templates allowed | `BadRequest` (the person is reachable; a template is needed — not a block) |
//! | 131051                     | Unsupported message type                      | `BadRequest` (the message, not the person) |
//! | 0, 190, HTTP 401           | AuthException, access token expired           | `BadRequest` (fix `access_token`) |
//! | 3, 10, 200–299             | permission missing                            | `BadRequest` |
//! | 1, 2, 131000, 131016, 133004 | unknown / service unavailable              | `Transient` |
//! | other codes, HTTP 4xx      |                                               | `BadRequest` |
//! | HTTP 5xx, network, timeout |                                               | `Transient` |
//!
//! A throttle's pause comes from `Retry-After` when Meta sends one, else from
//! `X-Business-Use-Case-Usage`'s `estimated_time_to_regain_access`
//! (minutes), else the defaults above.
//!
//! **Inbound.** Meta POSTs webhooks (`object: whatsapp_business_account`,
//! `entry[].changes[].value.messages[]`) signed with the app secret:
//! [`verify_signature`] checks `X-Hub-Signature-256: sha256=<hex HMAC-SHA256
//! of the raw body>` in constant time, and [`parse_webhook`] reads texts,
//! reply-button and list presses, template quick replies and shared contact
//! cards; delivery statuses and other message types are ignored. WhatsApp
//! has no `/start` command, but a click-to-chat link
//! (`https://wa.me/<number>?text=/start%20<code>`) pre-fills one, so a text
//! `/start <code>` is read as a deep-link [`InboundEvent::Start`] as on
//! Telegram.
//!
//! The access token travels only in the `Authorization` header; no URL,
//! log line or error carries it.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::{
    split_text, Channel, ChannelError, Delivered, InboundEvent, OutboundMessage, SendFuture, Sender,
};
use crate::scenario::{Button, ButtonKind};

/// Meta's Graph API host.
pub const DEFAULT_API_BASE: &str = "https://graph.facebook.com";
/// The Graph API version used unless the settings name one.
pub const DEFAULT_API_VERSION: &str = "v23.0";
/// The longest `text.body`, in characters.
pub const TEXT_LIMIT: usize = 4096;
/// The longest `interactive.body.text` and image caption, in characters.
pub const BODY_LIMIT: usize = 1024;
/// The id of the reply button standing in for "share my phone number".
pub const CONTACT_BUTTON_ID: &str = "comops:share-contact";
/// How long one API call may take before it counts as a transient failure.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Reply buttons an interactive `button` message holds.
const REPLY_BUTTONS_MAX: usize = 3;
const BUTTON_TITLE_LIMIT: usize = 20;
const BUTTON_ID_LIMIT: usize = 256;
/// Rows an interactive `list` holds (across all sections).
const LIST_ROWS_MAX: usize = 10;
const ROW_TITLE_LIMIT: usize = 24;
const ROW_ID_LIMIT: usize = 200;
/// The label of the button that opens a list (at most 20 characters).
const LIST_BUTTON_LABEL: &str = "Выбрать";
/// How often a later part of a split text waits out a throttle in place.
const PART_THROTTLE_RETRIES: u32 = 5;
const PART_THROTTLE_MAX_WAIT: Duration = Duration::from_secs(60);

/// One business phone number on the Cloud API.
#[derive(Clone)]
pub struct WhatsAppChannel {
    api_base: String,
    api_version: String,
    phone_number_id: String,
    access_token: String,
    http: reqwest::Client,
}

impl fmt::Debug for WhatsAppChannel {
    // Never print the token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WhatsAppChannel")
            .field("api_base", &self.api_base)
            .field("api_version", &self.api_version)
            .field("phone_number_id", &self.phone_number_id)
            .field("access_token", &"<redacted>")
            .finish()
    }
}

impl WhatsAppChannel {
    /// A channel for the number `phone_number_id` on the public Graph API.
    pub fn new(access_token: impl Into<String>, phone_number_id: impl Into<String>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self {
            api_base: DEFAULT_API_BASE.to_string(),
            api_version: DEFAULT_API_VERSION.to_string(),
            phone_number_id: phone_number_id.into(),
            access_token: access_token.into(),
            http,
        }
    }

    /// Built from a bot's `whatsapp` settings (see README "WhatsApp");
    /// `Err` says what is missing.
    pub fn from_settings(settings: &Value) -> Result<Self, String> {
        let text = |name: &str| {
            settings
                .get(name)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let token = text("access_token").ok_or("the bot has no WhatsApp access token")?;
        let number = text("phone_number_id").ok_or("the bot has no WhatsApp phone number id")?;
        let mut channel = Self::new(token, number);
        if let Some(base) = text("api_base") {
            channel = channel.with_api_base(base);
        }
        if let Some(version) = text("api_version") {
            channel = channel.with_api_version(version);
        }
        Ok(channel)
    }

    /// Uses another Graph API host (a fake in tests). A trailing `/` is
    /// ignored.
    pub fn with_api_base(mut self, api_base: impl Into<String>) -> Self {
        self.api_base = api_base.into().trim_end_matches('/').to_string();
        self
    }

    /// Uses another Graph API version (`v21.0`).
    pub fn with_api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = version.into().trim_matches('/').to_string();
        self
    }

    fn messages_url(&self) -> String {
        format!(
            "{}/{}/{}/messages",
            self.api_base, self.api_version, self.phone_number_id
        )
    }

    async fn send_message(&self, message: &OutboundMessage) -> Result<Delivered, ChannelError> {
        let bodies = plan(message)?;
        let mut delivered = None;
        for (part, body) in bodies.iter().enumerate() {
            let id = if part == 0 {
                self.post(body).await?
            } else {
                self.post_waiting_out_throttling(body).await?
            };
            delivered = Some(Delivered {
                provider_message_id: id,
            });
        }
        tracing::debug!(parts = bodies.len(), "whatsapp: sent");
        delivered.ok_or_else(|| ChannelError::BadRequest("message text is empty".into()))
    }

    async fn post_waiting_out_throttling(&self, body: &Value) -> Result<String, ChannelError> {
        let mut attempt = 0;
        loop {
            match self.post(body).await {
                Err(ChannelError::Throttled { retry_after })
                    if attempt < PART_THROTTLE_RETRIES && retry_after <= PART_THROTTLE_MAX_WAIT =>
                {
                    attempt += 1;
                    tokio::time::sleep(retry_after).await;
                }
                other => return other,
            }
        }
    }

    /// One `messages` call; the message id Meta assigned (`wamid.…`).
    async fn post(&self, body: &Value) -> Result<String, ChannelError> {
        let response = self
            .http
            .post(self.messages_url())
            .bearer_auth(&self.access_token)
            .json(body)
            .send()
            .await
            .map_err(|e| ChannelError::Transient(format!("WhatsApp unreachable: {}", error_chain(&e.without_url()))))?;
        let status = response.status().as_u16();
        let pause = retry_after(response.headers());
        let answer = response.json::<Value>().await.ok();
        classify(status, pause, answer)
    }
}

impl Channel for WhatsAppChannel {
    fn kind(&self) -> &'static str {
        "whatsapp"
    }

    fn text_limit(&self) -> usize {
        TEXT_LIMIT
    }

    fn send<'a>(&'a self, message: &'a OutboundMessage) -> SendFuture<'a> {
        Box::pin(self.send_message(message))
    }
}

/// The request bodies that deliver `message`, in order (see the module
/// docs); `Err` when WhatsApp could not show it.
pub fn plan(message: &OutboundMessage) -> Result<Vec<Value>, ChannelError> {
    let to = message.chat_id.trim();
    if to.is_empty() {
        return Err(ChannelError::BadRequest("no WhatsApp recipient".into()));
    }
    let (links, choices): (Vec<&Button>, Vec<&Button>) = message
        .buttons
        .iter()
        .partition(|b| b.kind == ButtonKind::Url);
    let mut text = message.text.trim_end().to_string();
    if !links.is_empty() {
        let lines = links
            .iter()
            .map(|b| {
                let url = b.url.as_deref().map(str::trim).filter(|u| !u.is_empty()).ok_or_else(|| {
                    ChannelError::BadRequest(format!("button \"{}\" has no url", b.label))
                })?;
                Ok(format!("{}: {url}", b.label))
            })
            .collect::<Result<Vec<_>, ChannelError>>()?;
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&lines.join("\n"));
    }
    let has_text = !text.trim().is_empty();
    let mut parts = if has_text { split_text(&text, TEXT_LIMIT) } else { Vec::new() };
    let mut bodies = Vec::new();
    if let Some(link) = message.media_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        let kind = media_type(link);
        let mut media = json!({ "link": link });
        if kind == "document" {
            // Shown as the file's name in the chat.
            let name = super::percent_decoded(super::file_name(link));
            if !name.is_empty() {
                media["filename"] = json!(name);
            }
        }
        // An audio message has no caption: its text follows it.
        if kind != "audio" && has_text && choices.is_empty() && text.chars().count() <= BODY_LIMIT {
            media["caption"] = json!(text);
            parts.clear();
        }
        bodies.push(envelope(to, kind, media));
    }
    if choices.is_empty() {
        bodies.extend(parts.into_iter().map(|body| envelope(to, "text", json!({ "body": body }))));
    } else {
        // The interactive body holds less than a text message: the last
        // part is cut again to fit it.
        let last = parts.pop().ok_or_else(|| {
            ChannelError::BadRequest("a WhatsApp message with buttons needs a text".into())
        })?;
        parts.extend(split_text(&last, BODY_LIMIT));
        let body = parts.pop().unwrap_or(last);
        bodies.extend(parts.into_iter().map(|part| envelope(to, "text", json!({ "body": part }))));
        bodies.push(envelope(to, "interactive", interactive(&body, &choices)?));
    }
    if bodies.is_empty() {
        return Err(ChannelError::BadRequest("message text is empty".into()));
    }
    Ok(bodies)
}

/// The Cloud API message type that sends the file at `link`: a GIF or a
/// WebP picture (WhatsApp takes only JPEG and PNG as an image) goes as a
/// document.
fn media_type(link: &str) -> &'static str {
    use super::MediaKind;
    let webp = super::file_name(link).to_ascii_lowercase().ends_with(".webp");
    match MediaKind::of(link) {
        MediaKind::Picture if webp => "document",
        MediaKind::Picture => "image",
        MediaKind::Video => "video",
        MediaKind::Audio => "audio",
        MediaKind::Animation | MediaKind::Document => "document",
    }
}

fn envelope(to: &str, kind: &str, content: Value) -> Value {
    let mut body = json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": kind,
    });
    body[kind] = content;
    body
}

/// Reply buttons (up to three) or a list (up to ten rows).
fn interactive(body: &str, buttons: &[&Button]) -> Result<Value, ChannelError> {
    let ids = buttons
        .iter()
        .map(|b| match b.kind {
            ButtonKind::Contact => CONTACT_BUTTON_ID.to_string(),
            _ => b.value.clone().filter(|v| !v.is_empty()).unwrap_or_else(|| b.label.clone()),
        })
        .collect::<Vec<_>>();
    if buttons.len() <= REPLY_BUTTONS_MAX {
        let mut replies = Vec::new();
        for (button, id) in buttons.iter().zip(ids) {
            check_id(&button.label, &id, BUTTON_ID_LIMIT)?;
            replies.push(json!({ "type": "reply", "reply": { "id": id, "title": cut(&button.label, BUTTON_TITLE_LIMIT) } }));
        }
        return Ok(json!({ "type": "button", "body": { "text": body }, "action": { "buttons": replies } }));
    }
    if buttons.len() > LIST_ROWS_MAX {
        return Err(ChannelError::BadRequest(format!(
            "WhatsApp shows at most {LIST_ROWS_MAX} choices in a list, the message has {}",
            buttons.len()
        )));
    }
    let mut rows = Vec::new();
    for (button, id) in buttons.iter().zip(ids) {
        check_id(&button.label, &id, ROW_ID_LIMIT)?;
        rows.push(json!({ "id": id, "title": cut(&button.label, ROW_TITLE_LIMIT) }));
    }
    Ok(json!({
        "type": "list",
        "body": { "text": body },
        "action": { "button": LIST_BUTTON_LABEL, "sections": [{ "rows": rows }] },
    }))
}

fn check_id(label: &str, id: &str, limit: usize) -> Result<(), ChannelError> {
    if id.is_empty() || id.chars().count() > limit {
        return Err(ChannelError::BadRequest(format!(
            "button \"{label}\": WhatsApp takes 1 to {limit} characters of button id"
        )));
    }
    Ok(())
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

/// The pause Meta asked for in the headers, if it did.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    if let Some(secs) = headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        return Some(Duration::from_secs(secs.max(1)));
    }
    // {"<business id>": [{"type": …, "estimated_time_to_regain_access": minutes}]}
    let usage: Value = headers
        .get("x-business-use-case-usage")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| serde_json::from_str(v).ok())?;
    let minutes = usage
        .as_object()?
        .values()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|u| u["estimated_time_to_regain_access"].as_u64())
        .max()
        .filter(|m| *m > 0)?;
    Some(Duration::from_secs(minutes * 60))
}

/// Maps an HTTP status, a pause from the headers and the (possibly
/// unreadable) answer onto the message id or the taxonomy (table in the
/// module docs).
pub fn classify(status: u16, pause: Option<Duration>, answer: Option<Value>) -> Result<String, ChannelError> {
    let answer = answer.unwrap_or(Value::Null);
    if (200..300).contains(&status) {
        return answer["messages"][0]["id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| ChannelError::Transient("unreadable answer from WhatsApp".into()));
    }
    let error = &answer["error"];
    let code = error["code"].as_u64();
    let what = error["error_data"]["details"]
        .as_str()
        .or_else(|| error["message"].as_str())
        .map(str::to_string)
        .unwrap_or_else(|| format!("HTTP {status}"));
    let throttled = |default_secs: u64| ChannelError::Throttled {
        retry_after: pause.unwrap_or(Duration::from_secs(default_secs)),
    };
    Err(match code {
        Some(130429) => throttled(1),
        Some(131056) => throttled(6),
        Some(4 | 80007 | 131048) => throttled(60),
        None if status == 429 => throttled(1),
        Some(131026 | 131050) => ChannelError::Blocked,
        Some(131047) => ChannelError::BadRequest(format!(
            "more than 24 hours since the person last wrote; WhatsApp allows only template messages now (131047): {what}"
        )),
        Some(0 | 190) => ChannelError::BadRequest(format!("access token rejected ({}): check access_token", code.unwrap_or_default())),
        None if status == 401 => ChannelError::BadRequest("access token rejected: check access_token".into()),
        Some(c @ (3 | 10 | 200..=299)) => ChannelError::BadRequest(format!("permission missing ({c}): {what}")),
        Some(c @ (1 | 2 | 131000 | 131016 | 133004)) => ChannelError::Transient(format!("WhatsApp error {c}: {what}")),
        _ if status >= 500 => ChannelError::Transient(format!("WhatsApp answered {status}: {what}")),
        Some(c) => ChannelError::BadRequest(format!("{what} ({c})")),
        None if (400..500).contains(&status) => ChannelError::BadRequest(what),
        None => ChannelError::Transient(format!("WhatsApp answered {status}: {what}")),
    })
}

/// `sha256=<hex>`: the `X-Hub-Signature-256` value Meta sends for `body`.
pub fn sign(app_secret: &str, body: &[u8]) -> String {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `header` (the `X-Hub-Signature-256` value) is the HMAC-SHA256 of
/// the raw `body` under `app_secret`; compared in constant time. A missing
/// secret or header never verifies.
pub fn verify_signature(app_secret: &str, body: &[u8], header: Option<&str>) -> bool {
    let Some(signature) = header
        .map(str::trim)
        .and_then(|h| h.strip_prefix("sha256="))
        .and_then(|h| hex::decode(h).ok())
    else {
        return false;
    };
    if app_secret.is_empty() {
        return false;
    }
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&signature).is_ok()
}

/// Every person's action in one webhook delivery, in order (see
/// [`parse_webhook_for`]).
pub fn parse_webhook(payload: &Value) -> Vec<InboundEvent> {
    parse_webhook_for(payload, None)
}

/// Like [`parse_webhook`], keeping only messages to the business number
/// `phone_number_id` when given: a Meta app has one webhook URL for all its
/// numbers, so a bot must skip messages meant for another number.
pub fn parse_webhook_for(payload: &Value, phone_number_id: Option<&str>) -> Vec<InboundEvent> {
    updates_for(payload, phone_number_id).into_iter().map(|(_, event)| event).collect()
}

/// [`parse_webhook_for`] with each message's WhatsApp id (`wamid.…`), under
/// which ComOps records it: Meta redelivers a webhook it thinks failed, and
/// a redelivered message must not be answered twice.
pub fn updates_for(payload: &Value, phone_number_id: Option<&str>) -> Vec<(Option<String>, InboundEvent)> {
    let mut events = Vec::new();
    for change in as_list(&payload["entry"]).iter().flat_map(|e| as_list(&e["changes"])) {
        if change.get("field").is_some_and(|f| f != "messages") {
            continue;
        }
        let value = &change["value"];
        if let Some(wanted) = phone_number_id {
            if id_string(&value["metadata"]["phone_number_id"]).as_deref() != Some(wanted) {
                continue;
            }
        }
        // wa_id → profile name, from the contacts that come with messages.
        let names: HashMap<String, String> = as_list(&value["contacts"])
            .iter()
            .filter_map(|c| Some((id_string(&c["wa_id"])?, c["profile"]["name"].as_str()?.to_string())))
            .collect();
        events.extend(
            as_list(&value["messages"])
                .iter()
                .filter_map(|m| parse_message(m, &names).map(|event| (m["id"].as_str().filter(|id| !id.is_empty()).map(str::to_string), event))),
        );
    }
    events
}

fn parse_message(message: &Value, names: &HashMap<String, String>) -> Option<InboundEvent> {
    let chat_id = id_string(&message["from"])?;
    let from = Sender {
        id: chat_id.clone(),
        first_name: names.get(&chat_id).cloned().unwrap_or_default(),
        username: None,
    };
    let button = |id: &str| {
        if id == CONTACT_BUTTON_ID {
            return InboundEvent::Contact {
                chat_id: chat_id.clone(),
                phone: format!("+{chat_id}"),
                first_name: from.first_name.clone(),
                user_id: Some(chat_id.clone()),
                from: from.clone(),
            };
        }
        InboundEvent::Button {
            chat_id: chat_id.clone(),
            from: from.clone(),
            data: id.to_string(),
            callback_id: message["id"].as_str().unwrap_or_default().to_string(),
            message_id: message["context"]["id"].as_str().map(str::to_string),
        }
    };
    match message["type"].as_str()? {
        "text" => {
            let text = message["text"]["body"].as_str()?;
            Some(match start_payload(text) {
                Some(payload) => InboundEvent::Start { chat_id, from, payload },
                None => InboundEvent::Text { chat_id, from, text: text.to_string() },
            })
        }
        "interactive" => {
            let interactive = &message["interactive"];
            let reply = match interactive["type"].as_str()? {
                "button_reply" => &interactive["button_reply"],
                "list_reply" => &interactive["list_reply"],
                _ => return None,
            };
            Some(button(reply["id"].as_str()?))
        }
        // A quick-reply button of a template message.
        "button" => {
            let pressed = &message["button"];
            Some(button(pressed["payload"].as_str().or_else(|| pressed["text"].as_str())?))
        }
        "contacts" => {
            let contact = as_list(&message["contacts"]).first().copied()?;
            let phones = as_list(&contact["phones"]);
            let phone = phones.iter().find(|p| p["phone"].is_string())?;
            let name = &contact["name"];
            Some(InboundEvent::Contact {
                phone: phone["phone"].as_str()?.to_string(),
                first_name: name["first_name"]
                    .as_str()
                    .or_else(|| name["formatted_name"].as_str())
                    .unwrap_or_default()
                    .to_string(),
                user_id: id_string(&phone["wa_id"]),
                chat_id,
                from,
            })
        }
        _ => None,
    }
}

/// For `/start` and `/start <payload>` (a click-to-chat link's pre-filled
/// text): the payload, if any.
fn start_payload(text: &str) -> Option<Option<String>> {
    let rest = text.trim().strip_prefix("/start")?;
    if !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
        return None; // `/started` is just text
    }
    let payload = rest.trim();
    Some((!payload.is_empty()).then(|| payload.to_string()))
}

fn as_list(value: &Value) -> Vec<&Value> {
    value.as_array().map(|a| a.iter().collect()).unwrap_or_default()
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

    fn message(text: &str, buttons: Vec<Button>) -> OutboundMessage {
        OutboundMessage {
            id: "m1".into(),
            chat_id: "79161234567".into(),
            text: text.into(),
            buttons,
            media_url: None,
            parts_sent: 0,
        }
    }

    fn button(label: &str, kind: ButtonKind) -> Button {
        Button { label: label.into(), kind, value: None, url: None }
    }

    #[test]
    fn a_short_text_is_one_text_message() {
        let bodies = plan(&message("Спасибо за покупку!", vec![])).unwrap();
        assert_eq!(
            bodies,
            vec![json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": "79161234567", "type": "text", "text": {"body": "Спасибо за покупку!"}})]
        );
    }

    #[test]
    fn contact_buttons_come_back_as_the_senders_number() {
        let bodies = plan(&message("Номер?", vec![button("Поделиться номером", ButtonKind::Contact)])).unwrap();
        let reply = &bodies[0]["interactive"]["action"]["buttons"][0]["reply"];
        assert_eq!(reply["id"], CONTACT_BUTTON_ID);
        assert_eq!(reply["title"], "Поделиться номером");
    }

    #[test]
    fn titles_are_cut_to_the_limit() {
        assert_eq!(cut("Короткий", 20), "Короткий");
        let long = cut("Очень длинная подпись кнопки", 20);
        assert_eq!(long.chars().count(), 20);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn debug_hides_the_token() {
        let channel = WhatsAppChannel::new("EAAG-SECRET", "1065");
        assert!(!format!("{channel:?}").contains("SECRET"));
    }

    #[test]
    fn start_payloads() {
        assert_eq!(start_payload("/start abc"), Some(Some("abc".into())));
        assert_eq!(start_payload("/start"), Some(None));
        assert_eq!(start_payload("/started"), None);
        assert_eq!(start_payload("hi"), None);
    }
}
