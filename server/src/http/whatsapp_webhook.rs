//! `/whatsapp/{botId}/webhook`: where Meta delivers a bot's WhatsApp Cloud
//! API events (the callback URL in the Meta App Dashboard).
//!
//! - `GET` is Meta's subscription handshake: `hub.mode=subscribe`, our
//!   `verify_token` (compared in constant time) and a `hub.challenge` we
//!   echo as plain text. Anything else is a 403.
//! - `POST` carries events. `X-Hub-Signature-256` must be the HMAC-SHA256 of
//!   the raw body under the bot's `app_secret` (checked in constant time
//!   before the body is even parsed), else 401. Each person's message goes
//!   to `engine::inbound`; statuses and messages for another business number
//!   of the same Meta app are acknowledged and dropped. Meta retries
//!   deliveries that do not get a 200.

use comops_core::call::answer;
use super::{ApiError, AppState};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use comops_core::auth::constant_time_eq;
use comops_core::channel::whatsapp::{updates_for, verify_signature};
use comops_core::store::Store;
use comops_core::BotId;
use serde_json::{json, Value};
use std::collections::HashMap;

/// The largest notification body taken: Meta documents webhook payloads
/// of up to 3 MB.
pub const BODY_LIMIT: usize = 3 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new().route("/whatsapp/{bot_id}/webhook", get(verify).post(deliver))
}

/// The bot and its `whatsapp` settings; 404 when either is missing.
async fn settings(store: &Store, bot_id: &str) -> Result<(BotId, Value), ApiError> {
    let bot = BotId::in_path(bot_id).ok_or(ApiError::NotFound(answer::BOT_NOT_FOUND))?;
    let settings = store.bot_channel(&bot, "whatsapp").await?.ok_or(ApiError::NotFound("Bot has no WhatsApp channel"))?;
    Ok((bot, settings))
}

fn setting<'a>(settings: &'a Value, name: &str) -> &'a str {
    settings.get(name).and_then(Value::as_str).unwrap_or_default()
}

async fn verify(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let (_, settings) = settings(&state.backend.store, &bot_id).await?;
    let expected = setting(&settings, "verify_token");
    let presented = query.get("hub.verify_token").map(String::as_str).unwrap_or_default();
    let subscribe = query.get("hub.mode").is_some_and(|m| m == "subscribe");
    if !subscribe || expected.is_empty() || !constant_time_eq(expected.as_bytes(), presented.as_bytes()) {
        return Err(ApiError::Forbidden("Webhook verification failed".into()));
    }
    let challenge = query.get("hub.challenge").cloned().unwrap_or_default();
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], challenge).into_response())
}

async fn deliver(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let store = &state.backend.store;
    let (bot, settings) = settings(store, &bot_id).await?;
    let signature = headers.get("x-hub-signature-256").and_then(|v| v.to_str().ok());
    if !verify_signature(setting(&settings, "app_secret"), &body, signature) {
        return Err(ApiError::Unauthorized("Invalid webhook signature".into()));
    }
    let payload: Value = serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("Malformed JSON: {e}")))?;
    let number = setting(&settings, "phone_number_id");
    for (id, event) in updates_for(&payload, Some(number).filter(|n| !n.is_empty())) {
        match id {
            // A redelivered message (same wamid) is dropped there.
            Some(id) => {
                crate::engine::inbound::handle_update(store, &state.http, &bot, "whatsapp", &id, event).await?;
            }
            None => {
                crate::engine::inbound::handle(store, &state.http, &bot, "whatsapp", event).await?;
            }
        }
    }
    Ok(Json(json!({ "success": true })))
}
