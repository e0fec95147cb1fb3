//! `POST /vk/{botId}/callback`: a bot's server in its VK community's
//! Callback API settings.
//!
//! VK first sends `{"type": "confirmation", "group_id": …}` and expects the
//! community's confirmation string back as plain text; we answer it only
//! for the configured `group_id`. Every other event must carry the
//! configured secret key (compared in constant time), else 401. A
//! `message_new` from a person goes to `engine::inbound`; events we do not
//! use, and events for another community, are acknowledged and dropped.
//! Accepted events are answered with the plain text `ok` — VK retries an
//! event until it gets exactly that.

use comops_core::call::answer;
use super::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use comops_core::auth::constant_time_eq;
use comops_core::channel::vk::parse_callback;
use comops_core::BotId;
use serde_json::Value;

pub fn routes() -> Router<AppState> {
    Router::new().route("/vk/{bot_id}/callback", post(callback))
}

async fn callback(State(state): State<AppState>, Path(bot_id): Path<String>, body: axum::body::Bytes) -> Result<Response, ApiError> {
    let store = &state.backend.store;
    let bot = BotId::in_path(&bot_id).ok_or(ApiError::NotFound(answer::BOT_NOT_FOUND))?;
    let settings = store.bot_channel(&bot, "vk").await?.ok_or(ApiError::NotFound("Bot has no VK channel"))?;
    let body: Value = serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("Malformed JSON: {e}")))?;
    let callback = parse_callback(&body).ok_or_else(|| ApiError::BadRequest("Not a Callback API event".into()))?;
    let setting = |name: &str| settings.get(name).and_then(Value::as_str).unwrap_or_default();
    // `group_id` is stored as a string or a number (both pass validation).
    let group_id = match settings.get("group_id") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let ours = group_id.is_some() && callback.group_id == group_id;
    if callback.kind == "confirmation" {
        if !ours {
            return Err(ApiError::Forbidden("Unknown community".into()));
        }
        return Ok(plain(setting("confirmation").to_string()));
    }
    let expected = setting("secret");
    let presented = callback.secret.as_deref().unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), presented.as_bytes()) {
        return Err(ApiError::Unauthorized("Invalid callback secret".into()));
    }
    match callback.event {
        Some(event) if ours => {
            // VK resends an event until it gets "ok"; its event_id makes a
            // resend a no-op.
            match body.get("event_id").and_then(Value::as_str).filter(|id| !id.is_empty()) {
                Some(id) => {
                    crate::engine::inbound::handle_update(store, &state.http, &bot, "vk", id, event).await?;
                }
                None => {
                    crate::engine::inbound::handle(store, &state.http, &bot, "vk", event).await?;
                }
            }
        }
        Some(_) => tracing::warn!(bot = %bot, group = ?callback.group_id, "vk: event for another community dropped"),
        None => {}
    }
    Ok(plain("ok".into()))
}

fn plain(text: String) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}
