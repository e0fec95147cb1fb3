//! Telegram through the Bot API (<https://core.telegram.org/bots/api>).
//!
//! Outbound: `sendMessage`, or with a media URL `sendPhoto`, `sendVideo`,
//! `sendAudio`, `sendAnimation` or `sendDocument` by what it points at.
//! Buttons become a `reply_markup`: inline and url buttons an
//! `inline_keyboard` under the message, reply and contact buttons a one-time
//! `keyboard` replacing the person's keyboard. A Telegram message carries one
//! markup, so when a scenario mixes both kinds the inline ones win.
//!
//! Every answer is an envelope, `{"ok": true, "result": …}` or `{"ok": false,
//! "error_code": N, "description": "…", "parameters": {"retry_after": S}}`;
//! [`classify`] maps it onto the [`ChannelError`] taxonomy in one place.
//!
//! Inbound: [`parse_update`] reads one `Update` (from the webhook or from
//! [`TelegramChannel::get_updates`]) into an [`InboundEvent`].
//!
//! The bot token is part of every URL (`/bot<token>/<method>`), so no URL is
//! ever logged or put into an error: transport errors are stripped of their
//! URL and anything that might still carry the token is redacted.

use std::fmt;
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::{
    split_text, Channel, ChannelError, Delivered, InboundEvent, OutboundMessage, SendFuture, Sender,
};
use crate::scenario::{Button, ButtonKind};

/// The public Bot API.
pub const DEFAULT_BASE_URL: &str = "https://api.telegram.org";
/// Telegram's limit on a message text, in characters.
pub const TEXT_LIMIT: usize = 4096;
/// Telegram's limit on a media caption, in characters.
pub const CAPTION_LIMIT: usize = 1024;
/// How long one API call may take before it counts as a transient failure.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Telegram's limit on an inline button's `callback_data`, in bytes.
const CALLBACK_DATA_LIMIT: usize = 64;
/// How often a later part of a split text waits out a 429 before giving up
/// (the first part already went out, so failing would resend it on retry).
const PART_THROTTLE_RETRIES: u32 = 5;
/// The longest 429 pause a later part waits out in place.
const PART_THROTTLE_MAX_WAIT: Duration = Duration::from_secs(60);

/// One bot on the Telegram Bot API.
#[derive(Clone)]
pub struct TelegramChannel {
    base_url: String,
    token: String,
    http: reqwest::Client,
}

impl fmt::Debug for TelegramChannel {
    // Never print the token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelegramChannel")
            .field("base_url", &self.base_url)
            .field("token", &"<redacted>")
            .finish()
    }
}

impl TelegramChannel {
    /// A channel for the bot with `token` on the public Bot API.
    pub fn new(token: impl Into<String>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self {
            base_url: DEFAULT_BASE_URL.to_string(),
            token: token.into(),
            http,
        }
    }

    /// Uses another Bot API server (a local `telegram-bot-api`, or a fake in
    /// tests). A trailing `/` is ignored.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into().trim_end_matches('/').to_string();
        self
    }

    /// The Bot API base URL in use.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Long polling: updates after `offset` (pass the last `update_id` + 1 to
    /// confirm everything before it), waiting up to `timeout_secs` for one.
    /// Returns `(update_id, update)` pairs for [`parse_update`].
    pub async fn get_updates(
        &self,
        offset: i64,
        timeout_secs: u64,
    ) -> Result<Vec<(i64, Value)>, ChannelError> {
        let params = json!({ "offset": offset, "timeout": timeout_secs });
        // The server holds the request for up to `timeout_secs`.
        let timeout = REQUEST_TIMEOUT + Duration::from_secs(timeout_secs);
        let result = self.call("getUpdates", &params, Some(timeout)).await?;
        let updates = result
            .as_array()
            .ok_or_else(|| ChannelError::Transient("getUpdates returned no list".into()))?;
        Ok(updates
            .iter()
            .filter_map(|u| Some((u.get("update_id")?.as_i64()?, u.clone())))
            .collect())
    }

    /// Points Telegram at our webhook `url`; with `secret_token`, Telegram
    /// sends it in `X-Telegram-Bot-Api-Secret-Token` on every delivery.
    pub async fn set_webhook(
        &self,
        url: &str,
        secret_token: Option<&str>,
    ) -> Result<(), ChannelError> {
        let mut params = json!({ "url": url });
        if let Some(secret) = secret_token {
            params["secret_token"] = json!(secret);
        }
        self.call("setWebhook", &params, None).await.map(drop)
    }

    /// Removes the webhook (needed before long polling can start).
    pub async fn delete_webhook(&self) -> Result<(), ChannelError> {
        self.call("deleteWebhook", &json!({}), None).await.map(drop)
    }

    /// Acknowledges a button press, so the person's client stops its
    /// spinner. Telegram expects this within seconds of the press.
    pub async fn answer_callback_query(&self, callback_id: &str) -> Result<(), ChannelError> {
        let params = json!({ "callback_query_id": callback_id });
        self.call("answerCallbackQuery", &params, None)
            .await
            .map(drop)
    }

    async fn send_message(&self, message: &OutboundMessage) -> Result<Delivered, ChannelError> {
        let chat_id = chat_id_param(&message.chat_id);
        let markup = reply_markup(&message.buttons)?;
        let mut texts = split_text(&message.text, TEXT_LIMIT);
        let mut sends: Vec<(&str, Value)> = Vec::new();
        if let Some(media) = &message.media_url {
            let (method, field) = media_method(super::MediaKind::of(media));
            let mut params = json!({ "chat_id": chat_id });
            params[field] = json!(media);
            // A short text rides along as the caption; a longer one follows
            // the photo as text messages.
            if message.text.chars().count() <= CAPTION_LIMIT {
                if !message.text.trim().is_empty() {
                    params["caption"] = json!(message.text);
                }
                texts.clear();
            }
            sends.push((method, params));
        }
        sends.extend(
            texts
                .into_iter()
                .map(|text| ("sendMessage", json!({ "chat_id": chat_id, "text": text }))),
        );
        if let (Some(markup), Some((_, last))) = (markup, sends.last_mut()) {
            last["reply_markup"] = markup;
        }

        let mut delivered = None;
        // Parts an earlier attempt delivered are not sent again.
        for (part, (method, params)) in sends.iter().enumerate().skip(message.parts_sent) {
            let result = if part == 0 {
                self.call(method, params, None).await
            } else {
                self.call_waiting_out_throttling(method, params).await
            };
            let result = result.map_err(|cause| match part {
                0 => cause,
                sent => ChannelError::PartlySent { sent, cause: Box::new(cause) },
            })?;
            let id = result
                .get("message_id")
                .and_then(Value::as_i64)
                .ok_or_else(|| {
                    ChannelError::Transient(format!("{method} returned no message_id"))
                })?;
            delivered = Some(Delivered {
                provider_message_id: id.to_string(),
            });
        }
        tracing::debug!(chat_id = %message.chat_id, parts = sends.len(), "telegram: sent");
        delivered.ok_or_else(|| ChannelError::BadRequest("message text is empty".into()))
    }

    /// A later part of a split message: the earlier parts are out, so a 429
    /// is waited out here rather than failing the whole message (a retry would
    /// send the earlier parts twice).
    async fn call_waiting_out_throttling(
        &self,
        method: &str,
        params: &Value,
    ) -> Result<Value, ChannelError> {
        let mut attempt = 0;
        loop {
            match self.call(method, params, None).await {
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

    /// Calls `method` with JSON `params`; the `result` on success.
    async fn call(
        &self,
        method: &str,
        params: &Value,
        timeout: Option<Duration>,
    ) -> Result<Value, ChannelError> {
        let url = format!("{}/bot{}/{method}", self.base_url, self.token);
        let mut request = self.http.post(url).json(params);
        if let Some(timeout) = timeout {
            request = request.timeout(timeout);
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.transport_error(method, e))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(method, e))?;
        let envelope = serde_json::from_slice::<Value>(&body).ok();
        classify(status, envelope).map_err(|e| {
            let e = self.redact_error(e);
            tracing::debug!(method, status, error = %e, "telegram: call failed");
            e
        })
    }

    fn transport_error(&self, method: &str, e: reqwest::Error) -> ChannelError {
        let what = if e.is_timeout() {
            format!("{method}: no answer from Telegram within the timeout")
        } else if e.is_connect() {
            format!(
                "{method}: cannot connect to Telegram: {}",
                error_chain(&e.without_url())
            )
        } else {
            format!("{method}: {}", error_chain(&e.without_url()))
        };
        let e = ChannelError::Transient(self.redact(&what));
        tracing::debug!(error = %e, "telegram: call failed");
        e
    }

    fn redact(&self, text: &str) -> String {
        if self.token.is_empty() {
            text.to_string()
        } else {
            text.replace(&self.token, "<token>")
        }
    }

    fn redact_error(&self, e: ChannelError) -> ChannelError {
        match e {
            ChannelError::BadRequest(why) => ChannelError::BadRequest(self.redact(&why)),
            ChannelError::Transient(why) => ChannelError::Transient(self.redact(&why)),
            other => other,
        }
    }
}

impl Channel for TelegramChannel {
    fn kind(&self) -> &'static str {
        "telegram"
    }

    fn text_limit(&self) -> usize {
        TEXT_LIMIT
    }

    fn send<'a>(&'a self, message: &'a OutboundMessage) -> SendFuture<'a> {
        Box::pin(self.send_message(message))
    }
}

/// Maps an HTTP status and the (possibly unreadable) envelope to the result
/// or the taxonomy.
fn classify(status: u16, envelope: Option<Value>) -> Result<Value, ChannelError> {
    let envelope = envelope.unwrap_or(Value::Null);
    if (200..300).contains(&status) && envelope["ok"] == json!(true) {
        return Ok(envelope.get("result").cloned().unwrap_or(Value::Null));
    }
    let code = envelope["error_code"]
        .as_u64()
        .and_then(|c| u16::try_from(c).ok())
        .filter(|_| (200..300).contains(&status))
        .unwrap_or(status);
    let description = envelope["description"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("HTTP {code}"));
    Err(match code {
        429 => ChannelError::Throttled {
            retry_after: Duration::from_secs(
                envelope["parameters"]["retry_after"]
                    .as_u64()
                    .unwrap_or(1)
                    .max(1),
            ),
        },
        401 => ChannelError::BadRequest("Unauthorized: check the bot token".into()),
        // "bot was blocked by the user", "user is deactivated", "bot was
        // kicked from the group chat", "bot can't initiate conversation":
        // all mean this chat cannot be reached any more.
        403 => ChannelError::Blocked,
        400..=499 => ChannelError::BadRequest(description),
        200..=299 => ChannelError::Transient("unreadable answer from Telegram".into()),
        _ => ChannelError::Transient(format!("Telegram answered {code}: {description}")),
    })
}

/// The Bot API method that sends a file of `kind` by URL, and its field.
fn media_method(kind: super::MediaKind) -> (&'static str, &'static str) {
    use super::MediaKind;
    match kind {
        MediaKind::Picture => ("sendPhoto", "photo"),
        MediaKind::Animation => ("sendAnimation", "animation"),
        MediaKind::Video => ("sendVideo", "video"),
        MediaKind::Audio => ("sendAudio", "audio"),
        MediaKind::Document => ("sendDocument", "document"),
    }
}

/// `chat_id` as Telegram wants it: a number, or an `@channelname` string.
fn chat_id_param(chat_id: &str) -> Value {
    chat_id
        .trim()
        .parse::<i64>()
        .map_or_else(|_| json!(chat_id), |id| json!(id))
}

/// The `reply_markup` for `buttons`, if any.
fn reply_markup(buttons: &[Button]) -> Result<Option<Value>, ChannelError> {
    let inline: Vec<&Button> = buttons
        .iter()
        .filter(|b| matches!(b.kind, ButtonKind::Inline | ButtonKind::Url))
        .collect();
    if !inline.is_empty() {
        if inline.len() < buttons.len() {
            tracing::warn!("telegram: a message carries one keyboard; keyboard buttons dropped for the inline ones");
        }
        let buttons = inline
            .into_iter()
            .map(inline_button)
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Some(json!({ "inline_keyboard": rows(buttons) })));
    }
    if buttons.is_empty() {
        return Ok(None);
    }
    let keys = buttons
        .iter()
        .map(|b| {
            let mut key = Map::new();
            key.insert("text".into(), json!(b.label));
            if b.kind == ButtonKind::Contact {
                key.insert("request_contact".into(), json!(true));
            }
            Value::Object(key)
        })
        .collect();
    Ok(Some(json!({
        "keyboard": rows(keys),
        "resize_keyboard": true,
        "one_time_keyboard": true,
    })))
}

fn inline_button(button: &Button) -> Result<Value, ChannelError> {
    if button.kind == ButtonKind::Url {
        let url = button
            .url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| {
                ChannelError::BadRequest(format!("button \"{}\" has no url", button.label))
            })?;
        return Ok(json!({ "text": button.label, "url": url }));
    }
    let data = button.value.as_deref().unwrap_or(&button.label);
    if data.is_empty() || data.len() > CALLBACK_DATA_LIMIT {
        return Err(ChannelError::BadRequest(format!(
            "button \"{}\": Telegram takes 1 to {CALLBACK_DATA_LIMIT} bytes of button data",
            button.label
        )));
    }
    Ok(json!({ "text": button.label, "callback_data": data }))
}

/// Lays buttons out: short labels (ratings, "Да"/"Нет") side by side, up to
/// eight a row as Telegram allows; longer ones one per row so they stay
/// readable on a phone.
fn rows(buttons: Vec<Value>) -> Vec<Vec<Value>> {
    let short = buttons
        .iter()
        .all(|b| b["text"].as_str().is_some_and(|t| t.chars().count() <= 4));
    let per_row = if short { 8 } else { 1 };
    let mut rows: Vec<Vec<Value>> = Vec::new();
    for button in buttons {
        match rows.last_mut() {
            Some(row) if row.len() < per_row => row.push(button),
            _ => rows.push(vec![button]),
        }
    }
    rows
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

/// Reads one Telegram `Update` into what a scenario understands: a text (or a
/// `/start [payload]` command), a shared contact, or an inline button press.
/// Anything else (edits, channel posts, photos, stickers, …) is `None`.
pub fn parse_update(update: &Value) -> Option<InboundEvent> {
    if let Some(query) = update.get("callback_query") {
        let from = sender(query.get("from")?)?;
        let message = query.get("message");
        // Without the message (inline mode) the press came from the person's
        // private chat, whose id is their user id.
        let chat_id = message
            .and_then(|m| id_string(&m["chat"]["id"]))
            .unwrap_or_else(|| from.id.clone());
        return Some(InboundEvent::Button {
            chat_id,
            from,
            data: query.get("data")?.as_str()?.to_string(),
            callback_id: query.get("id")?.as_str()?.to_string(),
            message_id: message.and_then(|m| id_string(&m["message_id"])),
        });
    }
    let message = update.get("message")?;
    let chat_id = id_string(&message["chat"]["id"])?;
    let from = sender(message.get("from")?)?;
    if let Some(contact) = message.get("contact") {
        return Some(InboundEvent::Contact {
            chat_id,
            from,
            phone: contact.get("phone_number")?.as_str()?.to_string(),
            first_name: contact["first_name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            user_id: id_string(&contact["user_id"]),
        });
    }
    let text = message.get("text")?.as_str()?;
    if let Some(payload) = start_payload(text) {
        return Some(InboundEvent::Start {
            chat_id,
            from,
            payload,
        });
    }
    Some(InboundEvent::Text {
        chat_id,
        from,
        text: text.to_string(),
    })
}

/// For `/start`, `/start@SomeBot` and `/start <payload>`: the payload, if any.
fn start_payload(text: &str) -> Option<Option<String>> {
    let rest = text.strip_prefix("/start")?;
    let rest = match rest.strip_prefix('@') {
        Some(mention) => mention
            .split_once(char::is_whitespace)
            .map_or("", |(_, after)| after),
        None if rest.is_empty() || rest.starts_with(char::is_whitespace) => rest,
        None => return None, // `/started` is just text
    };
    let payload = rest.trim();
    Some((!payload.is_empty()).then(|| payload.to_string()))
}

fn sender(user: &Value) -> Option<Sender> {
    Some(Sender {
        id: id_string(&user["id"])?,
        first_name: user["first_name"].as_str().unwrap_or_default().to_string(),
        username: user["username"].as_str().map(str::to_string),
    })
}

fn id_string(id: &Value) -> Option<String> {
    match id {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn button(label: &str, kind: ButtonKind) -> Button {
        Button {
            label: label.into(),
            kind,
            value: None,
            url: None,
        }
    }

    #[test]
    fn envelope_errors_map_onto_the_taxonomy() {
        let err = |status, body: Value| classify(status, Some(body)).unwrap_err();
        assert_eq!(
            err(
                429,
                json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 7", "parameters": {"retry_after": 7}})
            ),
            ChannelError::Throttled {
                retry_after: Duration::from_secs(7)
            }
        );
        assert_eq!(
            err(
                403,
                json!({"ok": false, "error_code": 403, "description": "Forbidden: user is deactivated"})
            ),
            ChannelError::Blocked
        );
        assert_eq!(
            err(
                400,
                json!({"ok": false, "error_code": 400, "description": "Bad Request: chat not found"})
            ),
            ChannelError::BadRequest("Bad Request: chat not found".into())
        );
        assert!(
            matches!(err(401, json!({"ok": false})), ChannelError::BadRequest(m) if m.contains("bot token"))
        );
        assert!(matches!(
            classify(502, None),
            Err(ChannelError::Transient(_))
        ));
        assert_eq!(
            classify(200, Some(json!({"ok": true, "result": {"message_id": 5}}))).unwrap()
                ["message_id"],
            5
        );
    }

    #[test]
    fn start_payloads() {
        assert_eq!(start_payload("/start"), Some(None));
        assert_eq!(
            start_payload("/start order-42"),
            Some(Some("order-42".into()))
        );
        assert_eq!(
            start_payload("/start@comops_bot abc"),
            Some(Some("abc".into()))
        );
        assert_eq!(start_payload("/started"), None);
        assert_eq!(start_payload("hello"), None);
    }

    #[test]
    fn keyboards() {
        let markup = reply_markup(&[
            button("Да", ButtonKind::Inline),
            button("Нет", ButtonKind::Inline),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(
            markup,
            json!({"inline_keyboard": [[{"text": "Да", "callback_data": "Да"}, {"text": "Нет", "callback_data": "Нет"}]]})
        );
        let markup = reply_markup(&[button("Поделиться номером", ButtonKind::Contact)])
            .unwrap()
            .unwrap();
        assert_eq!(
            markup["keyboard"][0][0],
            json!({"text": "Поделиться номером", "request_contact": true})
        );
        assert!(reply_markup(&[]).unwrap().is_none());
        assert!(reply_markup(&[button("Сайт", ButtonKind::Url)]).is_err());
        let long = Button {
            value: Some("x".repeat(65)),
            ..button("x", ButtonKind::Inline)
        };
        assert!(matches!(
            reply_markup(&[long]),
            Err(ChannelError::BadRequest(_))
        ));
    }

    #[test]
    fn debug_hides_the_token() {
        let channel = TelegramChannel::new("123:SECRET");
        assert!(!format!("{channel:?}").contains("SECRET"));
    }
}
