//! What people send the bot: a `/start <code>` binds them to their business
//! identity; a reply resumes the run waiting for it.

use super::executor;
use comops_core::channel::InboundEvent;
use comops_core::scenario::{Input, SharedContact};
use comops_core::store::{now_millis, Store, StoreResult};
use comops_core::{BotId, TraceEvent, TraceId};

/// Lease for a run resumed by a reply (the executor's steps are short).
const LEASE_MS: i64 = 120_000;

/// Handles one inbound event of `channel` for `bot`; returns what happened
/// (for the trace and logs).
pub async fn handle(store: &Store, http: &reqwest::Client, bot: &BotId, channel: &str, event: InboundEvent) -> StoreResult<String> {
    let chat_id = event.chat_id().to_string();
    let known = store.lead_at_address(bot, channel, &chat_id).await?;
    let (outcome, lead, trace_id) = match event {
        InboundEvent::Start { payload: Some(code), .. } => {
            let lead = known.unwrap_or_else(|| format!("TG-{chat_id}"));
            match store.redeem_link_code(bot, &code, &lead, channel, &chat_id).await? {
                Some(user) => (format!("linked to user {user}"), lead, None),
                None => ("unknown, used or expired link code".to_string(), lead, None),
            }
        }
        InboundEvent::Start { payload: None, .. } => ("start without a code".to_string(), known.unwrap_or_default(), None),
        other => {
            let Some(lead) = known else {
                return record(store, bot, channel, &chat_id, "", None, "message from an unknown address").await;
            };
            let input = match other {
                InboundEvent::Text { text, .. } => Input::Reply { text, contact: None },
                InboundEvent::Button { data, .. } => Input::Reply { text: data, contact: None },
                InboundEvent::Contact { phone, first_name, user_id, from, .. } => Input::Reply {
                    text: phone.clone(),
                    contact: Some(SharedContact { phone, first_name: Some(first_name), last_name: None, user_id: user_id.or(Some(from.id)) }),
                },
                InboundEvent::Start { .. } => unreachable_start(),
            };
            match store.waiting_run_of_lead(bot, &lead).await? {
                None => ("no run is waiting for this lead".to_string(), lead, None),
                Some(run_id) => match store.claim_run(&run_id, now_millis(), LEASE_MS).await? {
                    None => ("the waiting run is busy; reply dropped".to_string(), lead, None),
                    Some(run) => {
                        let trace_id = run.trace_id.clone();
                        executor::step(store, http, &run, Some(input)).await?;
                        (format!("resumed {}", run.id), lead, Some(trace_id))
                    }
                },
            }
        }
    };
    record(store, bot, channel, &chat_id, &lead, trace_id, &outcome).await
}

/// `Start` is matched before; kept total without a panic path.
fn unreachable_start() -> Input {
    Input::Reply { text: "/start".into(), contact: None }
}

async fn record(store: &Store, bot: &BotId, channel: &str, chat_id: &str, lead: &str, trace_id: Option<String>, outcome: &str) -> StoreResult<String> {
    let event = TraceEvent {
        id: String::new(),
        trace_id: trace_id.unwrap_or_else(|| TraceId::generate().to_string()),
        source_system: channel.into(),
        bot_id: bot.to_string(),
        endpoint: format!("{channel}/inbound"),
        user_id: String::new(),
        lead_id: lead.into(),
        step: "user.reply".into(),
        status: "success".into(),
        http_status: 0,
        latency_ms: 0,
        dry_run: false,
        detail: format!("chat {chat_id}: {outcome}"),
        at: 0,
    };
    store.record_trace(&event).await?;
    Ok(outcome.to_string())
}
