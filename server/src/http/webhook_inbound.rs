//! `POST /webhook/{botId}/inbound`: what people say on the generic webhook
//! channel, posted by the integrating system and signed like our outbound
//! calls — `X-ComOps-Timestamp` and `X-ComOps-Signature: sha256=<hex
//! HMAC-SHA256(secret, "<timestamp>.<raw body>")>` with the bot's webhook
//! secret.
//!
//! The order matters: the signature is checked (in constant time, with the
//! timestamp at most 5 minutes off, so a captured request cannot be replayed
//! later) before the body is even parsed, so an unsigned caller learns
//! nothing about what we accept. Then the body becomes an `InboundEvent`
//! (`comops_core::channel::webhook::parse_inbound`) and goes to the engine
//! like any messenger's, stored under the request's id
//! (`webhook::delivery_id`) so a repeated request is handled once.

use comops_core::call::answer;
use super::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use comops_core::channel::webhook::{self, InboundError, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use comops_core::BotId;
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new().route("/webhook/{bot_id}/inbound", post(inbound))
}

async fn inbound(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let store = &state.backend.store;
    let bot = BotId::in_path(&bot_id).ok_or(ApiError::NotFound(answer::BOT_NOT_FOUND))?;
    let settings = store.bot_channel(&bot, "webhook").await?.ok_or(ApiError::NotFound("Bot has no webhook channel"))?;
    let secret = settings.get("secret").and_then(Value::as_str).unwrap_or_default();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    webhook::verify(secret, header(TIMESTAMP_HEADER), header(SIGNATURE_HEADER), &body, unix_now())
        .map_err(|e| ApiError::Unauthorized(e.to_string()))?;
    let event = webhook::parse_inbound(&body).map_err(|e| match e {
        InboundError::Malformed(why) => ApiError::BadRequest(why),
        InboundError::Invalid(error) => ApiError::Unprocessable {
            message: format!("Invalid inbound message: {} {}", error.field, error.message),
            errors: vec![error],
        },
    })?;
    // Stored under its id: the same request twice (a sender's retry, a
    // replay within the window) is handled once.
    let id = webhook::delivery_id(header(TIMESTAMP_HEADER).unwrap_or_default(), &body);
    let handled = crate::engine::inbound::handle_update(store, &state.http, &bot, "webhook", &id, event).await?;
    Ok(Json(json!({ "success": true, "duplicate": handled.is_none() })))
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}
