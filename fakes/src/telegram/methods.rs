//! The Bot API methods the fake implements, one function each.
//!
//! Each returns the `result` (plus an optional `description`, which Telegram
//! adds on webhook calls) or a [`TgError`]. Validation happens before any
//! state changes, so a refused call leaves no trace except in `throttled()`.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::error::TgError;
use super::params::Params;
use super::state::{Outgoing, State, Webhook};
use super::types::{AnsweredCallback, MediaFile, PhotoSize};
use crate::gate::lock;

/// Telegram's limit on a text message, in characters after entity parsing.
pub(crate) const MAX_TEXT: usize = 4096;
/// Telegram's limit on a media caption.
pub(crate) const MAX_CAPTION: usize = 1024;

/// A successful call.
pub(crate) struct Reply {
    pub(crate) result: Value,
    pub(crate) description: Option<&'static str>,
}

impl From<Value> for Reply {
    fn from(result: Value) -> Self {
        Self {
            result,
            description: None,
        }
    }
}

/// Dispatches `method` (already lower-cased: method names are
/// case-insensitive in the Bot API).
pub(crate) async fn call(state: &Arc<State>, method: &str, p: Params) -> Result<Reply, TgError> {
    match method {
        "getme" => Ok(get_me(state).into()),
        "sendmessage" => send_message(state, &p).map(Reply::from),
        "sendphoto" => send_media(state, &p, "photo").map(Reply::from),
        "sendvideo" => send_media(state, &p, "video").map(Reply::from),
        "sendaudio" => send_media(state, &p, "audio").map(Reply::from),
        "sendanimation" => send_media(state, &p, "animation").map(Reply::from),
        "senddocument" => send_media(state, &p, "document").map(Reply::from),
        "sendchataction" => send_chat_action(state, &p).map(Reply::from),
        "answercallbackquery" => answer_callback_query(state, &p).map(Reply::from),
        "getupdates" => get_updates(state, &p).await.map(Reply::from),
        "setwebhook" => set_webhook(state, &p),
        "deletewebhook" => delete_webhook(state, &p),
        "getwebhookinfo" => Ok(get_webhook_info(state).into()),
        _ => Err(TgError::not_found()),
    }
}

fn get_me(state: &State) -> Value {
    let mut me = serde_json::to_value(&state.bot).unwrap_or_else(|_| json!({}));
    me["can_join_groups"] = json!(true);
    me["can_read_all_group_messages"] = json!(false);
    me["supports_inline_queries"] = json!(false);
    me
}

fn send_message(state: &State, p: &Params) -> Result<Value, TgError> {
    let parse_mode = parse_mode(p)?;
    let reply_markup = reply_markup(p)?;
    let mut inner = lock(&state.inner);
    let chat_id = inner.resolve_chat(p.raw("chat_id"))?;
    let text = p.str("text").unwrap_or_default();
    if text.trim().is_empty() {
        return Err(TgError::bad_request("message text is empty"));
    }
    if text.chars().count() > MAX_TEXT {
        return Err(TgError::bad_request("message is too long"));
    }
    let out = Outgoing {
        text: Some(text),
        caption: None,
        media: None,
        parse_mode,
        reply_markup,
    };
    let message = inner.bot_send(&state.bot, chat_id, out)?;
    drop(inner);
    state.sent_changed.notify_waiters();
    Ok(serde_json::to_value(message).unwrap_or(Value::Null))
}

/// `sendPhoto`, `sendVideo`, `sendAudio`, `sendAnimation`, `sendDocument`:
/// the file (a URL or a file id) in the field named `kind`, an optional
/// caption.
fn send_media(state: &State, p: &Params, kind: &'static str) -> Result<Value, TgError> {
    let parse_mode = parse_mode(p)?;
    let reply_markup = reply_markup(p)?;
    let mut inner = lock(&state.inner);
    let chat_id = inner.resolve_chat(p.raw("chat_id"))?;
    let file = p
        .str(kind)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| TgError::bad_request(&format!("there is no {kind} in the request")))?;
    let caption = p.str("caption").filter(|c| !c.is_empty());
    if caption
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_CAPTION)
    {
        return Err(TgError::bad_request("message caption is too long"));
    }
    let out = Outgoing {
        text: None,
        caption,
        media: Some((kind, file)),
        parse_mode,
        reply_markup,
    };
    let message = inner.bot_send(&state.bot, chat_id, out)?;
    drop(inner);
    state.sent_changed.notify_waiters();
    Ok(serde_json::to_value(message).unwrap_or(Value::Null))
}

/// What Telegram would store for a file of `kind` sent by URL (not a
/// photo): its ids, and the sizes its kind requires.
pub(crate) fn media_file(kind: &str, file: &str, chat_id: i64, message_id: i64) -> MediaFile {
    let sized = matches!(kind, "video" | "animation");
    MediaFile {
        file_id: format!("BAAC{}_{chat_id}_{message_id}", file.len()),
        file_unique_id: format!("AgAD{chat_id}{message_id}"),
        width: sized.then_some(640),
        height: sized.then_some(360),
        duration: matches!(kind, "video" | "animation" | "audio").then_some(12),
        file_name: (kind == "document").then(|| file.split(['?', '#']).next().unwrap_or(file).rsplit('/').next().unwrap_or_default().to_string()),
    }
}

/// The sizes Telegram would store for a photo sent by URL.
pub(crate) fn photo_sizes(photo: &str, chat_id: i64, message_id: i64) -> Vec<PhotoSize> {
    let base = format!("AgAC{}_{chat_id}_{message_id}", photo.len());
    [(90, 90), (320, 320), (800, 800)]
        .into_iter()
        .enumerate()
        .map(|(i, (w, h))| PhotoSize {
            file_id: format!("{base}_{i}"),
            file_unique_id: format!("AQAD{chat_id}{message_id}{i}"),
            width: w,
            height: h,
            file_size: Some(u64::from(w * h / 4)),
        })
        .collect()
}

fn send_chat_action(state: &State, p: &Params) -> Result<Value, TgError> {
    let mut inner = lock(&state.inner);
    let chat_id = inner.resolve_chat(p.raw("chat_id"))?;
    if p.str("action").is_none_or(|a| a.is_empty()) {
        return Err(TgError::bad_request("action is empty"));
    }
    if inner.chat_entry(chat_id, None).blocked {
        return Err(TgError::forbidden("bot was blocked by the user"));
    }
    Ok(json!(true))
}

fn answer_callback_query(state: &State, p: &Params) -> Result<Value, TgError> {
    let invalid = || {
        TgError::bad_request("query is too old and response timeout expired or query ID is invalid")
    };
    let id = p
        .str("callback_query_id")
        .filter(|s| !s.is_empty())
        .ok_or_else(invalid)?;
    let mut inner = lock(&state.inner);
    if !inner.open_callbacks.remove(&id) {
        return Err(invalid());
    }
    inner.answered.push(AnsweredCallback {
        callback_query_id: id,
        text: p.str("text").filter(|t| !t.is_empty()),
        show_alert: p.bool("show_alert"),
    });
    Ok(json!(true))
}

/// Long polling: returns pending updates at once, otherwise waits up to
/// `timeout` seconds for one. A newer getUpdates call ends this one with 409,
/// as Telegram does when two bot instances poll.
async fn get_updates(state: &State, p: &Params) -> Result<Value, TgError> {
    let offset = p.i64("offset")?;
    let limit = p.i64("limit")?.unwrap_or(100).clamp(1, 100) as usize;
    let timeout = p.i64("timeout")?.unwrap_or(0).clamp(0, 3600) as u64;
    let webhook_active = || {
        TgError::conflict(
            "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
        )
    };
    let generation = {
        let mut inner = lock(&state.inner);
        if inner.webhook.is_some() {
            return Err(webhook_active());
        }
        inner.confirm(offset);
        inner.poll_generation += 1;
        inner.poll_generation
    };
    state.updates_changed.notify_waiters();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    loop {
        let changed = state.updates_changed.notified();
        {
            let inner = lock(&state.inner);
            if inner.poll_generation != generation {
                return Err(TgError::conflict(
                    "terminated by other getUpdates request; make sure that only one bot instance is running",
                ));
            }
            if inner.webhook.is_some() {
                return Err(webhook_active());
            }
            if !inner.queue.is_empty() || tokio::time::Instant::now() >= deadline {
                let updates: Vec<_> = inner.queue.iter().take(limit).collect();
                return Ok(serde_json::to_value(updates).unwrap_or_else(|_| json!([])));
            }
        }
        let _ = tokio::time::timeout_at(deadline, changed).await;
    }
}

fn set_webhook(state: &State, p: &Params) -> Result<Reply, TgError> {
    let url = p.str("url").unwrap_or_default();
    if url.trim().is_empty() {
        return delete_webhook(state, p);
    }
    // Telegram demands HTTPS; the fake also takes plain HTTP so tests can
    // point it at a local server.
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(TgError::bad_request(
            "bad webhook: An HTTPS URL must be provided for webhook",
        ));
    }
    let secret_token = p.str("secret_token").filter(|s| !s.is_empty());
    if let Some(secret) = &secret_token {
        let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        if secret.len() > 256 || !secret.chars().all(allowed) {
            return Err(TgError::bad_request(
                "secret token contains unallowed characters",
            ));
        }
    }
    let mut inner = lock(&state.inner);
    if p.bool("drop_pending_updates") {
        inner.queue.clear();
    }
    let same = inner
        .webhook
        .as_ref()
        .is_some_and(|w| w.url == url && w.secret_token == secret_token);
    if !same {
        inner.webhook = Some(Webhook {
            url,
            secret_token,
            last_error_date: None,
            last_error_message: None,
        });
    }
    drop(inner);
    state.updates_changed.notify_waiters();
    let description = if same {
        "Webhook is already set"
    } else {
        "Webhook was set"
    };
    Ok(Reply {
        result: json!(true),
        description: Some(description),
    })
}

fn delete_webhook(state: &State, p: &Params) -> Result<Reply, TgError> {
    let mut inner = lock(&state.inner);
    if p.bool("drop_pending_updates") {
        inner.queue.clear();
    }
    let had = inner.webhook.take().is_some();
    drop(inner);
    state.updates_changed.notify_waiters();
    let description = if had {
        "Webhook was deleted"
    } else {
        "Webhook is already deleted"
    };
    Ok(Reply {
        result: json!(true),
        description: Some(description),
    })
}

fn get_webhook_info(state: &State) -> Value {
    let inner = lock(&state.inner);
    let mut info = json!({
        "url": inner.webhook.as_ref().map(|w| w.url.as_str()).unwrap_or(""),
        "has_custom_certificate": false,
        "pending_update_count": inner.queue.len(),
    });
    if let Some(w) = &inner.webhook {
        info["max_connections"] = json!(40);
        info["ip_address"] = json!("127.0.0.1");
        if let Some(date) = w.last_error_date {
            info["last_error_date"] = json!(date);
        }
        if let Some(message) = &w.last_error_message {
            info["last_error_message"] = json!(message);
        }
    }
    info
}

fn parse_mode(p: &Params) -> Result<Option<String>, TgError> {
    match p.str("parse_mode").filter(|m| !m.is_empty()) {
        None => Ok(None),
        Some(m)
            if ["html", "markdown", "markdownv2"].contains(&m.to_ascii_lowercase().as_str()) =>
        {
            Ok(Some(m))
        }
        Some(_) => Err(TgError::bad_request("unsupported parse_mode")),
    }
}

/// Parses and checks `reply_markup` the way Telegram does.
fn reply_markup(p: &Params) -> Result<Option<Value>, TgError> {
    let cant_parse = || TgError::bad_request("can't parse reply keyboard markup JSON object");
    let Some(markup) = p.object("reply_markup").map_err(|_| cant_parse())? else {
        return Ok(None);
    };
    if let Some(rows) = markup.get("inline_keyboard") {
        for button in buttons(rows).ok_or_else(cant_parse)? {
            check_inline_button(button)?;
        }
    } else if let Some(rows) = markup.get("keyboard") {
        for button in buttons(rows).ok_or_else(cant_parse)? {
            let text = button
                .as_str()
                .or_else(|| button.get("text").and_then(Value::as_str));
            if text.is_none_or(str::is_empty) {
                return Err(TgError::bad_request(
                    "keyboard button text must be non-empty",
                ));
            }
        }
    } else if markup.get("remove_keyboard").is_none() && markup.get("force_reply").is_none() {
        return Err(cant_parse());
    }
    Ok(Some(markup))
}

/// The buttons of an array of button rows, or `None` if it is not one.
fn buttons(rows: &Value) -> Option<Vec<&Value>> {
    let mut all = Vec::new();
    for row in rows.as_array()? {
        all.extend(row.as_array()?);
    }
    Some(all)
}

const INLINE_ACTIONS: [&str; 10] = [
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
];

fn check_inline_button(button: &Value) -> Result<(), TgError> {
    let bad =
        |why: &str| TgError::bad_request(&format!("can't parse inline keyboard button: {why}"));
    if button
        .get("text")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(bad("Text must be non-empty"));
    }
    if !INLINE_ACTIONS.iter().any(|a| button.get(a).is_some()) {
        return Err(bad("Text buttons are unallowed in the inline keyboard"));
    }
    if let Some(data) = button.get("callback_data") {
        let len = data.as_str().map_or(0, str::len);
        if !(1..=64).contains(&len) {
            return Err(TgError::bad_request("BUTTON_DATA_INVALID"));
        }
    }
    Ok(())
}
