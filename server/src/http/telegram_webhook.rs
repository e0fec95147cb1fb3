//! `POST /telegram/{botId}/webhook`: Telegram delivers updates here. The
//! `X-Telegram-Bot-Api-Secret-Token` header must equal the bot's configured
//! webhook secret (compared in constant time); updates we do not use are
//! acknowledged and dropped, and a redelivered update (same `update_id`)
//! is acknowledged without being handled twice.

use comops_core::call::answer;
use super::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use comops_core::auth::constant_time_eq;
use comops_core::channel::parse_update;
use comops_core::BotId;
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new().route("/telegram/{bot_id}/webhook", post(webhook))
}

async fn webhook(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let store = &state.backend.store;
    let bot = BotId::in_path(&bot_id).ok_or(ApiError::NotFound(answer::BOT_NOT_FOUND))?;
    let settings = store.bot_channel(&bot, "telegram").await?.ok_or(ApiError::NotFound("Bot has no Telegram channel"))?;
    let expected = settings.get("webhook_secret").and_then(Value::as_str).unwrap_or_default();
    let presented = headers.get("x-telegram-bot-api-secret-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), presented.as_bytes()) {
        return Err(ApiError::Unauthorized("Invalid webhook secret".into()));
    }
    let update: Value = serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("Malformed JSON: {e}")))?;
    if let Some(event) = parse_update(&update) {
        // Telegram redelivers an update it got no 200 for; its update_id
        // makes the second delivery a no-op.
        let external_id = match update.get("update_id").and_then(Value::as_i64) {
            Some(id) => id.to_string(),
            None => return Err(ApiError::BadRequest("update_id is required".into())),
        };
        // A button press shows a spinner in the person's Telegram until it
        // is answered; answer it whatever the scenario does with it.
        if let comops_core::channel::InboundEvent::Button { callback_id, .. } = &event {
            if let Some(token) = settings.get("token").and_then(Value::as_str) {
                let channel = comops_core::channel::TelegramChannel::new(token).with_base_url(state.telegram_api_base.clone());
                let callback_id = callback_id.clone();
                tokio::spawn(async move {
                    if let Err(err) = channel.answer_callback_query(&callback_id).await {
                        tracing::warn!(error = %err, "cannot answer a callback query");
                    }
                });
            }
        }
        crate::engine::inbound::handle_update(store, &state.http, &bot, "telegram", &external_id, event).await?;
    }
    Ok(Json(json!({ "ok": true })))
}
