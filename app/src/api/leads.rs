//! Leads of a bot for the studio (SPEC §6 "Identities and leads", §1
//! operator, §5 dead letters): search, one lead with its links, runs and
//! conversation, deactivating a link and setting the status; the operator
//! queue, taking a conversation over, replying by hand and handing it back;
//! dead letters and their re-drive.
//!
//! Reading needs `View`; everything that changes a lead or sends a message
//! needs `Operate` (operators and admins). The operator is always the
//! session user: nobody acts in another's name. The store's types live
//! behind the `backend` feature, so the browser gets the small wire types
//! below, converted on the server.

use crate::error::AppError;
use comops_core::Millis;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Rows per page of the lead search and of the dead letters.
pub const PAGE_SIZE: i64 = 50;
/// Longest hand-written reply (Telegram's message limit; longer channels
/// split anyway, but an operator's reply that long is a paste accident).
pub const REPLY_MAX: usize = 4096;
/// Statuses a person may set by hand: the bot may reach the lead, or not.
pub const SETTABLE_STATUSES: [&str; 2] = ["active", "stopped"];

/// A lead as the studio shows it. `operator`: '' the bot talks, `*`
/// waiting for an operator, else the operator's email.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadView {
    pub id: String,
    /// Attribute name and its value as text (strings as they are, other
    /// JSON values as JSON), in name order.
    pub attributes: Vec<(String, String)>,
    pub tags: Vec<String>,
    pub status: String,
    pub operator: String,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// A row of the search table: the lead and its channels (`active`: some
/// address on that channel still reaches the person).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadRow {
    pub lead: LeadView,
    pub channels: Vec<(String, bool)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadPage {
    pub rows: Vec<LeadRow>,
    /// Another page follows.
    pub more: bool,
    /// Leads the search finds in all, on every page.
    pub total: i64,
}

/// One identity link `userId ↔ leadId ↔ chatId`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkView {
    pub user_id: String,
    pub lead_id: String,
    pub channel: String,
    pub chat_id: String,
    pub is_active: bool,
    pub source: String,
    pub connected_at: Millis,
}

/// One run of a scenario for the lead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunView {
    pub id: String,
    pub scenario: String,
    pub scenario_version: i64,
    pub status: String,
    pub outcome: String,
    pub trace_id: String,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// One message of a conversation: `direction` `in` (from the person) or
/// `out`; `status` the delivery of an outbound one; `author` `bot` or
/// `operator <email>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageView {
    pub at: Millis,
    pub direction: String,
    pub channel: String,
    pub chat_id: String,
    pub text: String,
    pub status: String,
    pub author: String,
}

/// Everything the detail panel shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadDetail {
    pub lead: LeadView,
    pub links: Vec<LinkView>,
    /// The latest [`DETAIL_RUNS`]; `older_runs`: there are more.
    pub runs: Vec<RunView>,
    pub older_runs: bool,
    /// The latest [`DETAIL_MESSAGES`]; `older_messages`: there are more.
    pub conversation: Vec<MessageView>,
    pub older_messages: bool,
}

/// Runs and messages a lead's detail shows, the latest.
pub const DETAIL_RUNS: usize = 50;
pub const DETAIL_MESSAGES: usize = 200;

/// The operator's view of one lead, refreshed while it is open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub lead_id: String,
    pub status: String,
    pub operator: String,
    /// How many active addresses a reply would go to.
    pub active_addresses: usize,
    pub messages: Vec<MessageView>,
}

/// A lead in the operator queue; `waiting`: handed over, nobody took it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueEntry {
    pub lead_id: String,
    pub operator: String,
    pub waiting: bool,
    pub since: Millis,
}

/// The queue as shown: the first [`QUEUE_SHOWN`] entries, and how many
/// leads are handed over or taken in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuePage {
    pub entries: Vec<QueueEntry>,
    pub total: i64,
}

/// A message that could not be delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetterView {
    pub id: String,
    pub lead_id: String,
    pub channel: String,
    pub chat_id: String,
    pub text: String,
    pub last_error: String,
    pub attempts: i64,
    pub created_at: Millis,
    pub trace_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetterPage {
    pub letters: Vec<DeadLetterView>,
    pub more: bool,
}

/// Leads of a bot, newest change first. `query` is found in a lead id or
/// a business user id (any part, any case) or is a whole chat id; empty
/// lists all.
#[server(prefix = "/api", endpoint = "leads/search")]
pub async fn search_leads(bot_id: String, query: String, offset: i64) -> Result<LeadPage, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::View)?;
    let bot = server::bot(&bot_id)?;
    let store = backend()?.store;
    let found = store.leads(&bot, query.trim(), PAGE_SIZE + 1, offset.max(0)).await?;
    let (mut leads, total) = (found.leads, found.total);
    let more = leads.len() as i64 > PAGE_SIZE;
    leads.truncate(PAGE_SIZE as usize);
    let ids: Vec<String> = leads.iter().map(|l| l.id.clone()).collect();
    let channels = store.channels_of_leads(&bot, &ids).await?;
    let rows = leads
        .into_iter()
        .map(|lead| LeadRow {
            channels: channels.iter().filter(|c| c.lead_id == lead.id).map(|c| (c.channel.clone(), c.active)).collect(),
            lead: server::lead_view(lead),
        })
        .collect();
    Ok(LeadPage { rows, more, total })
}

/// One lead with its identity links, latest runs and conversation.
#[server(prefix = "/api", endpoint = "leads/detail")]
pub async fn load_lead(bot_id: String, lead_id: String) -> Result<LeadDetail, AppError> {
    use crate::session::{backend, require};
    use comops_core::store::leads::IdentityFilter;
    require(comops_core::Permission::View)?;
    let bot = server::bot(&bot_id)?;
    let store = backend()?.store;
    let lead = store.lead(&bot, lead_id.trim()).await?.ok_or(AppError::NotFound)?;
    let filter = IdentityFilter { lead_id: Some(lead.id.clone()), ..Default::default() };
    let links = store.identities(&bot, &filter, 100).await?.into_iter().map(server::link_view).collect();
    // One more than shown of each: whether older ones exist.
    let mut runs: Vec<RunView> = store.runs_of_lead(&bot, &lead.id, DETAIL_RUNS as i64 + 1).await?.into_iter().map(server::run_view).collect();
    let older_runs = runs.len() > DETAIL_RUNS;
    runs.truncate(DETAIL_RUNS);
    let mut conversation: Vec<MessageView> = store.conversation(&bot, &lead.id, DETAIL_MESSAGES as i64 + 1).await?.into_iter().map(server::message_view).collect();
    let older_messages = conversation.len() > DETAIL_MESSAGES;
    if older_messages {
        // Oldest first: the oldest goes.
        conversation.remove(0);
    }
    Ok(LeadDetail { lead: server::lead_view(lead), links, runs, older_runs, conversation, older_messages })
}

/// Deactivates one identity link (the address stops receiving messages).
#[server(prefix = "/api", endpoint = "leads/deactivate-link")]
pub async fn deactivate_link(bot_id: String, lead_id: String, user_id: String, channel: String, chat_id: String) -> Result<u64, AppError> {
    use crate::session::{backend, require};
    use comops_core::store::leads::IdentityFilter;
    use comops_core::{FieldError, Problem};
    let user = require(comops_core::Permission::Operate)?;
    let bot = server::bot(&bot_id)?;
    let mut errors = Vec::new();
    for (field, value) in [("lead_id", &lead_id), ("channel", &channel), ("chat_id", &chat_id)] {
        if value.trim().is_empty() {
            errors.push(FieldError::new(field, Problem::Required));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    // All four fields: exactly the one link the row showed.
    let filter = IdentityFilter { user_id: Some(user_id), lead_id: Some(lead_id), channel: Some(channel), chat_id: Some(chat_id) };
    let store = backend()?.store;
    let count = store.deactivate_identities(&bot, &filter).await?;
    // The lead and the channel, never the address: a chat id may be a
    // phone or an email, kept sealed in the identities table.
    let detail = comops_core::audit_detail::Detail::LeadUnlinked {
        lead: filter.lead_id.clone().unwrap_or_default(),
        channel: filter.channel.clone().unwrap_or_default(),
        links: count as usize,
    };
    store.audit(user.email.as_str(), "identity.deactivate", bot.as_str(), &detail.to_string()).await?;
    Ok(count)
}

/// Sets a lead's status by hand: `active` (reachable again) or `stopped`.
#[server(prefix = "/api", endpoint = "leads/status")]
pub async fn set_lead_status(bot_id: String, lead_id: String, status: String) -> Result<(), AppError> {
    use crate::session::{backend, require};
    use comops_core::{FieldError, Problem};
    let user = require(comops_core::Permission::Operate)?;
    let bot = server::bot(&bot_id)?;
    let status = status.trim();
    if !SETTABLE_STATUSES.contains(&status) {
        return Err(AppError::Invalid(vec![FieldError::new("status", Problem::Unknown)]));
    }
    let store = backend()?.store;
    if !store.set_lead_status(&bot, lead_id.trim(), status).await? {
        return Err(AppError::NotFound);
    }
    let detail = comops_core::audit_detail::Detail::LeadStatus { lead: lead_id.trim().to_string(), status: status.to_string() };
    store.audit(user.email.as_str(), "lead.status", bot.as_str(), &detail.to_string()).await?;
    Ok(())
}

/// Leads the queue shows at most; `total` says how many there are.
pub const QUEUE_SHOWN: i64 = 200;

/// Leads handed over to operators: waiting ones first, the longest
/// waiting at the top, then taken ones.
#[server(prefix = "/api", endpoint = "leads/queue")]
pub async fn operator_queue(bot_id: String) -> Result<QueuePage, AppError> {
    use crate::session::{backend, require};
    use comops_core::store::leads::AWAITING_OPERATOR;
    require(comops_core::Permission::View)?;
    let bot = server::bot(&bot_id)?;
    let (queue, total) = backend()?.store.operator_queue(&bot, QUEUE_SHOWN).await?;
    let entries = queue
        .into_iter()
        .map(|(lead_id, operator, since)| QueueEntry { waiting: operator == AWAITING_OPERATOR, lead_id, operator, since })
        .collect();
    Ok(QueuePage { entries, total })
}

/// One lead's conversation for the operator panel (polled while open).
#[server(prefix = "/api", endpoint = "leads/conversation")]
pub async fn lead_conversation(bot_id: String, lead_id: String) -> Result<Conversation, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::View)?;
    let bot = server::bot(&bot_id)?;
    let store = backend()?.store;
    let lead = store.lead(&bot, lead_id.trim()).await?.ok_or(AppError::NotFound)?;
    let active_addresses = store.addresses_of_lead(&bot, &lead.id).await?.len();
    let messages = store.conversation(&bot, &lead.id, 200).await?.into_iter().map(server::message_view).collect();
    Ok(Conversation { lead_id: lead.id, status: lead.status, operator: lead.operator, active_addresses, messages })
}

/// The session user takes the conversation: the bot pauses for this lead.
#[server(prefix = "/api", endpoint = "leads/take-over")]
pub async fn take_over(bot_id: String, lead_id: String) -> Result<(), AppError> {
    use crate::session::{backend, require};
    let user = require(comops_core::Permission::Operate)?;
    let bot = server::bot(&bot_id)?;
    let store = backend()?.store;
    if !store.take_over(&bot, lead_id.trim(), user.email.as_str()).await? {
        return Err(AppError::NotFound);
    }
    store.audit(user.email.as_str(), "lead.take_over", bot.as_str(), lead_id.trim()).await?;
    Ok(())
}

/// Sends a hand-written message to every active address of the lead;
/// returns how many it went to. Replying by hand takes the conversation
/// over first if the session user does not hold it yet: a bot talking at
/// the same time would interleave with the operator.
#[server(prefix = "/api", endpoint = "leads/reply")]
pub async fn operator_reply(bot_id: String, lead_id: String, text: String) -> Result<usize, AppError> {
    use crate::session::{backend, require};
    use comops_core::{FieldError, Problem};
    let user = require(comops_core::Permission::Operate)?;
    let bot = server::bot(&bot_id)?;
    let text = text.trim();
    if text.is_empty() {
        return Err(AppError::Invalid(vec![FieldError::new("text", Problem::Required)]));
    }
    if text.chars().count() > REPLY_MAX {
        return Err(AppError::Invalid(vec![FieldError::new("text", Problem::TooLong { max: REPLY_MAX })]));
    }
    let store = backend()?.store;
    let lead = store.lead(&bot, lead_id.trim()).await?.ok_or(AppError::NotFound)?;
    let me = user.email.as_str();
    if lead.operator != me {
        store.take_over(&bot, &lead.id, me).await?;
        store.audit(me, "lead.take_over", bot.as_str(), &lead.id).await?;
    }
    Ok(store.operator_send(&bot, &lead.id, me, text).await?)
}

/// The bot talks to the lead again; its paused runs go on.
#[server(prefix = "/api", endpoint = "leads/hand-back")]
pub async fn hand_back(bot_id: String, lead_id: String) -> Result<(), AppError> {
    use crate::session::{backend, require};
    let user = require(comops_core::Permission::Operate)?;
    let bot = server::bot(&bot_id)?;
    let store = backend()?.store;
    // `false` also when nobody held it: handing back twice is not an error.
    store.lead(&bot, lead_id.trim()).await?.ok_or(AppError::NotFound)?;
    if store.hand_back(&bot, lead_id.trim()).await? {
        store.audit(user.email.as_str(), "lead.hand_back", bot.as_str(), lead_id.trim()).await?;
    }
    Ok(())
}

/// Dead letters of a bot, newest first.
#[server(prefix = "/api", endpoint = "leads/dead-letters")]
pub async fn dead_letters(bot_id: String, offset: i64) -> Result<DeadLetterPage, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::View)?;
    let bot = server::bot(&bot_id)?;
    let mut letters = backend()?.store.dead_letters(&bot, PAGE_SIZE + 1, offset.max(0)).await?;
    let more = letters.len() as i64 > PAGE_SIZE;
    letters.truncate(PAGE_SIZE as usize);
    Ok(DeadLetterPage { letters: letters.into_iter().map(server::dead_letter_view).collect(), more })
}

/// Queues a dead letter again as if new and re-activates its address.
#[server(prefix = "/api", endpoint = "leads/redrive")]
pub async fn redrive(bot_id: String, message_id: String) -> Result<(), AppError> {
    use crate::session::{backend, require};
    let user = require(comops_core::Permission::Operate)?;
    let bot = server::bot(&bot_id)?;
    let store = backend()?.store;
    if !store.redrive(&bot, message_id.trim()).await? {
        return Err(AppError::NotFound);
    }
    store.audit(user.email.as_str(), "outbox.redrive", bot.as_str(), message_id.trim()).await?;
    Ok(())
}

/// Conversions from the store's types (server only).
#[cfg(feature = "ssr")]
mod server {
    use super::*;
    use comops_core::store::conversations::{ConversationEntry, DeadLetter};
    use comops_core::store::identities::IdentityLink;
    use comops_core::store::leads::Lead;
    use comops_core::store::runs::RunSummary;
    use comops_core::BotId;

    /// A bot id from the browser; an unreadable one is simply not found.
    pub fn bot(raw: &str) -> Result<BotId, AppError> {
        BotId::parse(raw.trim()).ok_or(AppError::NotFound)
    }

    pub fn lead_view(lead: Lead) -> LeadView {
        let mut attributes: Vec<(String, String)> = lead
            .attributes
            .into_iter()
            .map(|(name, value)| {
                let text = match value {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                (name, text)
            })
            .collect();
        attributes.sort();
        LeadView {
            id: lead.id,
            attributes,
            tags: lead.tags,
            status: lead.status,
            operator: lead.operator,
            created_at: lead.created_at,
            updated_at: lead.updated_at,
        }
    }

    pub fn link_view(link: IdentityLink) -> LinkView {
        LinkView {
            user_id: link.user_id,
            lead_id: link.lead_id,
            channel: link.channel,
            chat_id: link.chat_id,
            is_active: link.is_active,
            source: link.source,
            connected_at: link.connected_at,
        }
    }

    pub fn run_view(run: RunSummary) -> RunView {
        RunView {
            id: run.id,
            scenario: run.scenario,
            scenario_version: run.scenario_version,
            status: run.status,
            outcome: run.outcome,
            trace_id: run.trace_id,
            created_at: run.created_at,
            updated_at: run.updated_at,
        }
    }

    pub fn message_view(entry: ConversationEntry) -> MessageView {
        MessageView {
            at: entry.at,
            direction: entry.direction,
            channel: entry.channel,
            chat_id: entry.chat_id,
            text: entry.text,
            status: entry.status,
            author: entry.author,
        }
    }

    pub fn dead_letter_view(letter: DeadLetter) -> DeadLetterView {
        DeadLetterView {
            id: letter.id,
            lead_id: letter.lead_id,
            channel: letter.channel,
            chat_id: letter.chat_id,
            text: letter.text,
            last_error: letter.last_error,
            attempts: letter.attempts,
            created_at: letter.created_at,
            trace_id: letter.trace_id,
        }
    }
}
