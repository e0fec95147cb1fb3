//! What people send the bot: a `/start <code>` binds them to their business
//! identity; a reply resumes the run waiting for it; anything else starts
//! the bot's entry scenario, if it has one (SPEC §4 "Inbound").
//!
//! Every update is first stored (`inbound_updates`) under the messenger's
//! own id, then handled: a redelivered update is recognised and dropped,
//! and one whose handling could not finish (the run is busy with a slow
//! step, the process died) is handled again by [`spawn_sweeper`]. Webhook
//! handlers wait briefly for the result so the common case answers after
//! the work is done, but a slow scenario never holds the messenger's
//! request open.

use super::executor;
use comops_core::channel::InboundEvent;
use comops_core::scenario::{Input, SharedContact};
use comops_core::store::identities::IdentityLink;
use comops_core::store::inbound::PendingUpdate;
use comops_core::store::{now_millis, Store, StoreResult};
use comops_core::trace::detail::{Detail, ReplyOutcome};
use comops_core::{BotId, TraceEvent, TraceId};
use std::time::Duration;

/// Lease for a run resumed by a reply (the executor's steps are short).
const LEASE_MS: i64 = 120_000;
/// How long an accepted update is ours before the sweep may take it.
const UPDATE_LEASE_MS: i64 = 30_000;
/// How long a webhook waits for the handling before it acknowledges.
const ANSWER_WITHIN: Duration = Duration::from_secs(2);
/// When a busy run is tried again.
const BUSY_RETRY_MS: i64 = 500;

/// How handling an update ended.
enum Handled {
    /// Done; what the message did (for the trace and logs).
    Done(ReplyOutcome),
    /// The run waiting for this reply is being advanced right now: try
    /// again shortly (the update stays pending).
    Busy,
}

/// Handles one inbound event that carries no id of its messenger's (it is
/// recorded under a fresh one, so it is never taken for a redelivery).
pub async fn handle(store: &Store, http: &reqwest::Client, bot: &BotId, channel: &str, event: InboundEvent) -> StoreResult<String> {
    let id = format!("local-{}", TraceId::generate());
    Ok(handle_update(store, http, bot, channel, &id, event).await?.unwrap_or_default())
}

/// Stores and handles one update of `channel` whose messenger id is
/// `external_id`. `None`: the update was seen before and is dropped.
pub async fn handle_update(
    store: &Store,
    http: &reqwest::Client,
    bot: &BotId,
    channel: &str,
    external_id: &str,
    event: InboundEvent,
) -> StoreResult<Option<String>> {
    let json = serde_json::to_string(&event).unwrap_or_default();
    let Some(update) = store.accept_update(bot, channel, external_id, &json, UPDATE_LEASE_MS).await? else {
        tracing::info!(bot = %bot, channel, external_id, "redelivered update dropped");
        return Ok(None);
    };
    let (store, http) = (store.clone(), http.clone());
    let task = tokio::spawn(async move { process(&store, &http, &update, event).await });
    match tokio::time::timeout(ANSWER_WITHIN, task).await {
        Ok(Ok(result)) => result.map(Some),
        Ok(Err(_)) => Ok(Some("handling failed".into())),
        Err(_) => Ok(Some("still being handled".into())),
    }
}

/// Hands due updates (a busy run, a crash mid-handling) to [`process`]
/// again, every second.
pub fn spawn_sweeper(store: Store, http: reqwest::Client) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let updates = match store.claim_due_updates(20, UPDATE_LEASE_MS).await {
                Ok(updates) => updates,
                Err(err) => {
                    tracing::error!(error = %err, "cannot claim inbound updates");
                    continue;
                }
            };
            for update in updates {
                match serde_json::from_str::<InboundEvent>(&update.event_json) {
                    Ok(event) => {
                        if let Err(err) = process(&store, &http, &update, event).await {
                            tracing::error!(error = %err, "cannot handle an inbound update");
                        }
                    }
                    Err(err) => {
                        tracing::error!(error = %err, "unreadable inbound update dropped");
                        let _ = store.finish_update(&update).await;
                    }
                }
            }
        }
    });
}

/// Handles a leased update and files the result.
async fn process(store: &Store, http: &reqwest::Client, update: &PendingUpdate, event: InboundEvent) -> StoreResult<String> {
    match handle_event(store, http, &update.bot_id, &update.channel, event).await? {
        Handled::Done(outcome) => {
            store.finish_update(update).await?;
            Ok(outcome.to_string())
        }
        Handled::Busy => {
            store.retry_update(update, BUSY_RETRY_MS).await?;
            Ok("the waiting run is busy; the reply will be handled shortly".into())
        }
    }
}

async fn handle_event(store: &Store, http: &reqwest::Client, bot: &BotId, channel: &str, event: InboundEvent) -> StoreResult<Handled> {
    let chat_id = event.chat_id().to_string();
    let known = match store.address_lead(bot, channel, &chat_id).await? {
        Some((lead, active)) => {
            if !active {
                // They write from an address that went inactive (they
                // unblocked the bot): reachable again, so answered again.
                store.reactivate_address(bot, channel, &chat_id).await?;
            }
            Some(lead)
        }
        None => None,
    };
    let lead = match &known {
        Some(lead) => lead.clone(),
        None => store.new_lead_id_for_address(channel, &chat_id),
    };
    // An operator has the conversation: what the person says is kept (the
    // stored update) for the operator, and the bot stays out of it.
    if let Some(lead) = &known {
        if let Some(found) = store.lead(bot, lead).await? {
            if !found.operator.is_empty() && !matches!(event, InboundEvent::Start { payload: Some(_), .. }) {
                let outcome = ReplyOutcome::OperatorHas;
                record(store, bot, channel, &chat_id, lead, None, &outcome).await?;
                return Ok(Handled::Done(outcome));
            }
        }
    }
    let (outcome, trace_id) = match event {
        InboundEvent::Start { payload: Some(code), .. } => match store.redeem_link_code(bot, &code, &lead, channel, &chat_id).await? {
            Some(user) => (ReplyOutcome::Linked { user }, None),
            None => (ReplyOutcome::BadLinkCode, None),
        },
        InboundEvent::Start { payload: None, .. } => {
            if known.is_none() {
                remember_address(store, bot, &lead, channel, &chat_id).await?;
            }
            (start_entry(store, bot, &lead).await?, None)
        }
        other => {
            if known.is_none() {
                remember_address(store, bot, &lead, channel, &chat_id).await?;
            }
            let input = match other {
                InboundEvent::Text { text, .. } => Input::Reply { text, contact: None },
                InboundEvent::Button { data, .. } => Input::Reply { text: data, contact: None },
                InboundEvent::Contact { phone, first_name, user_id, from, .. } => Input::Reply {
                    text: phone.clone(),
                    contact: Some(SharedContact { phone, first_name: Some(first_name), last_name: None, user_id: user_id.or(Some(from.id)) }),
                },
                InboundEvent::Start { .. } => Input::Reply { text: "/start".into(), contact: None },
            };
            match store.waiting_run_of_lead(bot, &lead).await? {
                None => (start_entry(store, bot, &lead).await?, None),
                Some(run_id) => match store.claim_run(&run_id, now_millis(), LEASE_MS).await? {
                    None => return Ok(Handled::Busy),
                    Some(run) => {
                        let trace_id = run.trace_id.clone();
                        executor::step(store, http, &run, Some(input)).await?;
                        (ReplyOutcome::Resumed { run: run.id.to_string() }, Some(trace_id))
                    }
                },
            }
        }
    };
    record(store, bot, channel, &chat_id, &lead, trace_id, &outcome).await?;
    Ok(Handled::Done(outcome))
}

/// Someone the bot does not know wrote in: they become a lead with this
/// address (no business user yet), so the entry scenario can talk to them
/// and a later deep link or `POST /identities` joins them to their user.
async fn remember_address(store: &Store, bot: &BotId, lead: &str, channel: &str, chat_id: &str) -> StoreResult<()> {
    let link = IdentityLink {
        user_id: String::new(),
        lead_id: lead.into(),
        channel: channel.into(),
        chat_id: chat_id.into(),
        is_active: true,
        source: "inbound".into(),
        connected_at: 0,
    };
    store.link_identity(bot, &link).await
}

/// Starts the bot's entry scenario (its `entry` settings) for the lead, if
/// it has one; says what happened.
async fn start_entry(store: &Store, bot: &BotId, lead: &str) -> StoreResult<ReplyOutcome> {
    let scenario = store
        .bot_channel(bot, "entry")
        .await?
        .and_then(|settings| settings.get("scenario").and_then(|v| v.as_str()).map(str::to_string))
        .filter(|name| !name.is_empty());
    match scenario {
        None => Ok(ReplyOutcome::NoEntry),
        Some(name) => {
            let user = store.user_of_lead(bot, lead).await?;
            store.start_run(bot, lead, &user, &name, TraceId::generate().as_str()).await?;
            Ok(ReplyOutcome::EntryStarted { scenario: name })
        }
    }
}

async fn record(store: &Store, bot: &BotId, channel: &str, chat_id: &str, lead: &str, trace_id: Option<String>, outcome: &ReplyOutcome) -> StoreResult<()> {
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
        // Traces name no phone number or email address (the lead says who).
        detail: Detail::Reply { chat: (!comops_core::store::sealing::is_personal_channel(channel)).then(|| chat_id.to_string()), outcome: outcome.clone() }.to_string(),
        at: 0,
    };
    store.record_trace(&event).await
}
