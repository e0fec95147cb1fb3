//! The identities API of a bot (SPEC §3): look up, link and deactivate the
//! `userId` ↔ `leadId` ↔ `chatId` links, and read a lead.
//!
//! - `GET  /bots/{botId}/identities?userId=&leadId=&channel=&chatId=`
//!   (`admin_read`): the matching links (newest first, 100 a page: `more`,
//!   and `next` to pass as `before` for the page after) and their leads
//!   with attributes, tags and status
//! - `POST /bots/{botId}/identities` (`admin_write`, or a `call` token not
//!   limited to some aliases): `{"userId", "channel", "chatId", "leadId"?,
//!   "source"?}` links an address; `{"userId", "leadId"}` links every
//!   active address of that lead; `{"action": "deactivate", "userId"|"leadId"|"chatId",
//!   "channel"?}` deactivates

use comops_core::audit_detail::Detail;
use super::admin_api::{authorize, parse_json};
use super::{ApiError, AppState};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use comops_core::identity::IdentityCommand;
use comops_core::store::identities::IdentityLink;
use comops_core::store::leads::IdentityFilter;
use comops_core::store::Store;
use comops_core::token::TokenAction;
use comops_core::BotId;
use serde_json::{json, Value};
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new().route("/bots/{bot_id}/identities", get(lookup).post(change))
}

/// Links in the API's field names.
fn link_json(link: &IdentityLink) -> Value {
    json!({
        "userId": link.user_id,
        "leadId": link.lead_id,
        "channel": link.channel,
        "chatId": link.chat_id,
        "isActive": link.is_active,
        "source": link.source,
        "connected_at": link.connected_at,
    })
}

/// Links a lookup answers at most; `more` and `next` lead on.
const IDENTITIES_PAGE: i64 = 100;

async fn lookup(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let (_, bot) = authorize(&state, &headers, &bot_id, &[TokenAction::AdminRead]).await?;
    let field = |names: [&str; 2]| names.iter().find_map(|n| query.get(*n)).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let filter = IdentityFilter {
        user_id: field(["userId", "user_id"]),
        lead_id: field(["leadId", "lead_id"]),
        channel: field(["channel", "channel"]),
        chat_id: field(["chatId", "chat_id"]),
    };
    // `before`: where the previous page ended (its `next`), `<connected_at>-<link id>`.
    let after = match query.get("before").map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => None,
        Some(cursor) => Some(
            cursor
                .split_once('-')
                .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id)))
                .filter(|(_, id)| !id.is_empty())
                .ok_or_else(|| ApiError::BadRequest("before must be the next of an earlier page".into()))?,
        ),
    };
    let store = &state.backend.store;
    let (links, next) = store.identities_after(&bot, &filter, after, IDENTITIES_PAGE).await?;
    let (more, next) = (next.is_some(), next.map(|(at, id)| format!("{at}-{id}")));
    let mut leads = Vec::new();
    let mut seen = Vec::new();
    for link in &links {
        if !seen.contains(&link.lead_id) {
            seen.push(link.lead_id.clone());
            if let Some(lead) = store.lead(&bot, &link.lead_id).await? {
                leads.push(json!({ "leadId": lead.id, "attributes": lead.attributes, "tags": lead.tags, "status": lead.status, "updated_at": lead.updated_at }));
            }
        }
    }
    Ok(Json(json!({ "success": true, "identities": links.iter().map(link_json).collect::<Vec<_>>(), "leads": leads, "more": more, "next": next })))
}

async fn change(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let (token, bot) = authorize(&state, &headers, &bot_id, &[TokenAction::Call, TokenAction::AdminWrite]).await?;
    if !token.scope.actions.contains(&TokenAction::AdminWrite) && !token.scope.aliases.is_empty() {
        return Err(ApiError::Forbidden("A token limited to some aliases cannot change identities".into()));
    }
    let command = IdentityCommand::parse(&parse_json(&body)?)
        .map_err(|errors| ApiError::Unprocessable { message: "Invalid identity request".into(), errors })?;
    let store = &state.backend.store;
    let actor = format!("token:{}", token.name);
    match command {
        IdentityCommand::Link { user_id, lead_id, channel, chat_id, source } => {
            let lead_id = match lead_id {
                Some(lead) => lead,
                None => lead_for(store, &bot, &user_id, &channel, &chat_id).await?,
            };
            let link = IdentityLink { user_id, lead_id, channel, chat_id, is_active: true, source, connected_at: 0 };
            store.link_identity(&bot, &link).await?;
            store.audit(&actor, "identity.link", bot.as_str(), &Detail::Linked { user: link.user_id.to_string(), lead: link.lead_id.to_string(), channel: link.channel.to_string() }.to_string()).await?;
            Ok(Json(json!({ "success": true, "message": "Identity linked", "leadId": link.lead_id })))
        }
        IdentityCommand::LinkLead { user_id, lead_id, source } => {
            let addresses = store.addresses_of_lead(&bot, &lead_id).await?;
            if addresses.is_empty() {
                return Err(ApiError::NotFound("Lead not found or without an active address"));
            }
            for (channel, chat_id) in &addresses {
                let link = IdentityLink { user_id: user_id.clone(), lead_id: lead_id.clone(), channel: channel.clone(), chat_id: chat_id.clone(), is_active: true, source: source.clone(), connected_at: 0 };
                store.link_identity(&bot, &link).await?;
            }
            store.audit(&actor, "identity.link", bot.as_str(), &Detail::LinkedAddresses { user: user_id.to_string(), lead: lead_id.to_string(), addresses: addresses.len() }.to_string()).await?;
            Ok(Json(json!({ "success": true, "message": "Identity linked", "leadId": lead_id, "addresses": addresses.len() })))
        }
        IdentityCommand::Deactivate { user_id, lead_id, channel, chat_id } => {
            let filter = IdentityFilter { user_id, lead_id, channel, chat_id };
            let count = store.deactivate_identities(&bot, &filter).await?;
            store.audit(&actor, "identity.deactivate", bot.as_str(), &Detail::Deactivated { links: count as usize }.to_string()).await?;
            Ok(Json(json!({ "success": true, "message": "Identities deactivated", "deactivated": count })))
        }
    }
}

/// The lead a new link joins: the one already at the address, else the
/// user's, else a new one named after the address (`TG-9072612`).
async fn lead_for(store: &Store, bot: &BotId, user_id: &str, channel: &str, chat_id: &str) -> Result<String, ApiError> {
    if let Some(lead) = store.lead_at_address(bot, channel, chat_id).await? {
        return Ok(lead);
    }
    if let Some(lead) = store.leads_of_user(bot, user_id).await?.into_iter().next() {
        return Ok(lead);
    }
    Ok(store.new_lead_id_for_address(channel, chat_id))
}
