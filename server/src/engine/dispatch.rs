//! The dispatcher: outbox → channel adapter, at the messenger's pace.
//!
//! It claims due messages (oldest first per chat, so each chat's order
//! holds), paces them with per-bot and per-chat budgets so the messenger
//! never has to throttle us (Telegram: 30 msg/s per bot, 1 msg/s per chat),
//! and files each attempt: sent; retried later (throttled: after
//! `retry_after`, not counted; transient: exponential backoff with jitter,
//! counted); or dead-lettered with the reason (bad request, blocked — the
//! address goes inactive — or 8 failed attempts).
//! Sends run concurrently (up to 256 in flight), never two of one chat.
//! A send leaves only while the messenger's windows hold fewer than their
//! limit of the moments this process's sends actually left
//! ([`Departures`]): a late one holds back the send thirty turns after it,
//! instead of making 31 in a second. On the shared clocks a late one also
//! moves the bot's clock on (`BotPause::after_late_send`), for the other
//! processes' sends.
//! A message becomes `sending` only once its send slot is reserved, so a
//! crash dead-letters as interrupted only what was about to go out, and
//! the rest is queued again: on PostgreSQL a pass claims, and the commit
//! that reserves the pass's slots marks its messages; in memory (SQLite) a pass reads the due
//! messages, reserves their slots, and takes the admitted ones straight to
//! `sending` in one turn of the write lane.
//! On PostgreSQL the budgets are send clocks in the database, shared by
//! every process; on SQLite (one process) they are kept in memory.
//! On SQLite most messages skip the pass: the executor reserves a run's
//! messages their slots on these clocks before the save ([`DirectSends`]),
//! the save writes them `sending` and hands them here after its commit
//! (`comops_core::store::send_hand_off`), and they are sent at their slots
//! without a read or a turn of the write lane of their own.

use super::channels::{ChannelContext, Channels, Unavailable};
use super::pacing::{Departures, Pacers, Window};
use comops_core::channel::{Channel, ChannelError, OutboundMessage};
use comops_core::scenario::{Button, Input};
use comops_core::store::outbox::{DeliveryResult, OutboxMessage};
use comops_core::store::runs::NewOutboxMessage;
use comops_core::store::send_clocks::{Held, SendToReserve};
use comops_core::store::send_hand_off::{HandedSends, SendPlan};
use comops_core::store::{now_millis, Store};
use comops_core::trace::Detail;
use comops_core::{BotId, TraceEvent};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Attempts before a message is dead-lettered.
pub const MAX_ATTEMPTS: i64 = 8;
/// Sends in flight at once, over all bots and channels of the process.
const MAX_IN_FLIGHT: usize = 256;
/// Messages claimed per pass (every 20 ms, or when a run queued some):
/// the claim's cost grows with the backlog, not with this number.
const CLAIM_BATCH: usize = 128;
/// How far ahead a shared send clock may be reserved (the send waits for
/// its slot), so the dispatcher's polling does not stretch the spacing.
const RESERVE_AHEAD_MS: i64 = 250;
/// The same for one process's in-memory clocks (SQLite): a pass slowed by
/// a large backlog must not leave the bot's clock behind (that lost ~3 % of
/// the budget in the 10,000 fan-out at 250 ms); at most a quarter of the
/// send lease, so a reserved message is sent well within its lease.
const LOCAL_RESERVE_AHEAD_MS: i64 = 1_000;

#[derive(Clone, Debug)]
pub struct DispatchConfig {
    /// Base URL of the Telegram Bot API (a fake in tests).
    pub telegram_api_base: String,
    /// How long a claimed message stays ours while we call the messenger;
    /// after it, a row still `sending` is taken as interrupted.
    pub lease_ms: i64,
    /// The first retry delay after a transient failure (triples per attempt).
    pub retry_base_ms: i64,
    /// The process's web chat hub (the routes listen on it).
    pub webchat: comops_core::channel::webchat::WebChatHub,
}

/// How far ahead a send slot is reserved on this process's own clocks: at
/// most [`LOCAL_RESERVE_AHEAD_MS`], and a quarter of the send lease.
fn local_ahead_ms(lease_ms: i64) -> i64 {
    LOCAL_RESERVE_AHEAD_MS.min(lease_ms / 4)
}

/// SQLite: what the executor needs to plan a run's messages on the
/// dispatcher's clocks before the save (see the module doc).
#[derive(Clone, Debug)]
pub struct DirectSends {
    pacers: Pacers,
    ahead_ms: i64,
}

impl DirectSends {
    /// Plans on `pacers` (the dispatcher's) with the send lease `lease_ms`.
    pub fn new(pacers: Pacers, lease_ms: i64) -> Self {
        DirectSends { pacers, ahead_ms: local_ahead_ms(lease_ms) }
    }

    /// Plans the `messages` of one save of `bot`'s run: the first of each
    /// chat gets a slot on the clocks ([`SendPlan::At`]) or, paced, the
    /// time it may be tried ([`SendPlan::After`]); the others of a chat
    /// stay queued behind it (each chat's order).
    pub fn plan(&self, store: &Store, bot: &BotId, messages: &mut [NewOutboxMessage]) {
        let now = now_millis();
        let mut chats = HashSet::new();
        for message in messages {
            if !chats.insert((message.channel.clone(), message.chat_id.clone())) {
                continue;
            }
            let chat_key = store.address_key(&message.channel, &message.chat_id);
            message.plan = match self.pacers.with(&message.channel, |pacer| pacer.reserve(&message.channel, bot.as_str(), &chat_key, now, self.ahead_ms)) {
                Ok(slot) => SendPlan::At(slot),
                Err(at) => SendPlan::After(at),
            };
        }
    }
}

/// Starts the dispatcher loop: every 20 ms, at once when `bell` rings (a
/// run queued messages), and when run saves hand it messages they took
/// to `sending` (`handed`, SQLite; see the module doc). `pacers` are its
/// clocks, shared with the executor's [`DirectSends`].
pub fn spawn(store: Store, config: DispatchConfig, bell: Arc<tokio::sync::Notify>, pacers: Pacers, mut handed: Option<UnboundedReceiver<HandedSends>>) {
    tokio::spawn(async move {
        let channels = Channels::new(ChannelContext { store: store.clone(), telegram_api_base: config.telegram_api_base.clone(), webchat: config.webchat.clone() });
        // Processes sharing a PostgreSQL share their budgets through it.
        let shared = store.dialect() == comops_core::store::Dialect::Postgres;
        let mut dispatcher = Dispatcher {
            store,
            config,
            channels,
            pause: Arc::new(BotPause { pacers: pacers.clone(), shared }),
            pacers,
            departures: Arc::new(Mutex::new(Departures::default())),
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
        };
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let mut pass = true;
            tokio::select! {
                _ = tick.tick() => {}
                _ = bell.notified() => {}
                Some(first) = next_handed(&mut handed) => {
                    match dispatcher.send_handed(first, &mut handed).await {
                        Some(queued_due) => pass = queued_due,
                        None => return,
                    }
                }
            }
            if !pass {
                continue;
            }
            // Only as many as can start now: each must be sent within its lease.
            let free = dispatcher.in_flight.available_permits().min(CLAIM_BATCH);
            if free == 0 {
                continue;
            }
            let went_on = if shared { dispatcher.shared_pass(free).await } else { dispatcher.local_pass(free).await };
            if !went_on {
                return;
            }
        }
    });
}

/// The next messages run saves handed over; never, without a hand-off.
async fn next_handed(handed: &mut Option<UnboundedReceiver<HandedSends>>) -> Option<HandedSends> {
    match handed {
        Some(handed) => handed.recv().await,
        None => std::future::pending().await,
    }
}

/// The dispatcher's state between passes.
struct Dispatcher {
    store: Store,
    config: DispatchConfig,
    channels: Channels,
    /// One pacer per channel kind, with that messenger's limits.
    pacers: Pacers,
    /// When this process's sends actually left, so a late one does not
    /// make the messenger count one too many in its second.
    departures: Arc<Mutex<Departures>>,
    /// Sends run concurrently (a messenger's latency must not cap the
    /// rate); a pass never hands out two messages of one chat at once, so
    /// per-chat order holds.
    in_flight: Arc<Semaphore>,
    /// Where a messenger's pause holds a bot's clock.
    pause: Arc<BotPause>,
}

impl Dispatcher {
    /// Sends what run saves handed over (`first` and whatever else is
    /// queued by now), each at its slot; a message whose channel cannot be
    /// had is filed instead. Whether a queued message is due now (a pass
    /// should look), or None when the process is shutting down.
    async fn send_handed(&mut self, first: HandedSends, handed: &mut Option<UnboundedReceiver<HandedSends>>) -> Option<bool> {
        let mut batches = vec![first];
        if let Some(handed) = handed {
            while let Ok(more) = handed.try_recv() {
                batches.push(more);
            }
        }
        let mut queued_due = false;
        for batch in batches {
            queued_due |= batch.queued_due;
            for (message, slot) in batch.sending {
                match self.channels.get(&message.bot_id, &message.channel).await {
                    Err(unavailable) => file(&self.store, &message, unsendable(unavailable, now_millis()), 0).await,
                    Ok(channel) => {
                        let permit = self.in_flight.clone().acquire_owned().await.ok()?;
                        self.launch(channel, message, slot, permit);
                    }
                }
            }
        }
        Some(queued_due)
    }

    /// A pass on this process's own clocks (SQLite): reads the due
    /// messages, reserves their send slots in memory, then takes them in
    /// one turn — the admitted ones straight to `sending`, the paced ones
    /// left pending until their time — and sends what it took. False when
    /// the process is shutting down.
    async fn local_pass(&mut self, free: usize) -> bool {
        let now = now_millis();
        let due = match self.store.due_messages(now, free as i64).await {
            Ok(due) => due,
            Err(err) => {
                tracing::error!(error = %err, "cannot read the due outbox messages");
                return true;
            }
        };
        if due.is_empty() {
            return true;
        }
        let ahead_ms = local_ahead_ms(self.config.lease_ms);
        let (mut sending, mut claiming, mut later) = (Vec::new(), Vec::new(), Vec::new());
        // Per message: its channel and slot, or why it is filed instead.
        let mut plans: HashMap<String, Result<(Arc<dyn Channel>, i64), DeliveryResult>> = HashMap::new();
        for message in due {
            let now = now_millis();
            let plan = match self.channels.get(&message.bot_id, &message.channel).await {
                Err(unavailable) => Err(unsendable(unavailable, now)),
                Ok(channel) => match self.pacers.with(&message.channel, |pacer| pacer.reserve(&message.channel, message.bot_id.as_str(), &message.chat_key, now, ahead_ms)) {
                    Ok(slot) => Ok((channel, slot)),
                    Err(at) => {
                        // Paced by us, not attempted: it waits, quietly.
                        later.push((message.id, at));
                        continue;
                    }
                },
            };
            match &plan {
                Ok(_) => sending.push(message.id.clone()),
                Err(_) => claiming.push(message.id.clone()),
            }
            plans.insert(message.id, plan);
        }
        // One lease for the pass, from when its messages are taken.
        let lease_until = now_millis() + self.config.lease_ms;
        // A slot reserved for a message the take no longer finds pending
        // (another writer got there first: rare in one process) goes unused.
        let taken = match self.store.take_due_messages(&sending, &claiming, &later, lease_until).await {
            Ok(taken) => taken,
            Err(err) => {
                // Still pending (or handed back at the next pass, if the
                // take may have committed unheard): nothing was sent.
                tracing::error!(error = %err, "cannot take this pass's outbox messages");
                return true;
            }
        };
        // The sends first: filing the others waits for commits, and a
        // message `sending` must not wait on them (a crash meanwhile would
        // take it for interrupted).
        for message in taken.sending {
            let Some(Ok((channel, slot))) = plans.remove(&message.id) else { continue };
            let Ok(permit) = self.in_flight.clone().acquire_owned().await else { return false };
            self.launch(channel, message, slot, permit);
        }
        for message in taken.claimed {
            if let Some(Err(result)) = plans.remove(&message.id) {
                file(&self.store, &message, result, 0).await;
            }
        }
        true
    }

    /// A pass on the clocks shared through PostgreSQL: claims the due
    /// messages, reserves each send slot in the database (which marks the
    /// message `sending`), sends the admitted ones and puts the paced ones
    /// back in one commit. False when the process is shutting down.
    async fn shared_pass(&mut self, free: usize) -> bool {
        let store = self.store.clone();
        let messages = match store.claim_due_messages(now_millis(), free as i64, self.config.lease_ms).await {
            Ok(messages) => messages,
            Err(err) => {
                tracing::error!(error = %err, "cannot claim outbox messages");
                return true;
            }
        };
        let lease_until = messages.first().map_or(0, |m| m.lease_until);
        let mut postponed = Vec::new();
        // Each message's channel and clocks; those whose channel cannot be
        // had are filed.
        let mut going = Vec::new();
        for message in messages {
            match self.channels.get(&message.bot_id, &message.channel).await {
                Err(unavailable) => file(&store, &message, unsendable(unavailable, now_millis()), 0).await,
                Ok(channel) => {
                    let clocks = self.pacers.with(&message.channel, |pacer| pacer.clocks(&message.channel, message.bot_id.as_str(), &message.chat_key));
                    going.push((message, channel, clocks));
                }
            }
        }
        // When to send: at a reserved slot, or later (paced: back to the
        // queue). One commit reserves the pass's slots and marks the
        // messages given one `sending`.
        let sends: Vec<SendToReserve> = going.iter().map(|(message, _, clocks)| SendToReserve { message: &message.id, clocks }).collect();
        let answers = match store.reserve_sends_of(&sends, RESERVE_AHEAD_MS, lease_until).await {
            Ok(answers) => answers,
            Err(err) => {
                // Reserved or not (a lost commit answer), nothing was
                // sent: they go back with the paced ones.
                tracing::error!(error = %err, "cannot reserve this pass's send slots");
                let at = now_millis() + 100;
                going.iter().map(|_| Err(Held { at, by: None })).collect()
            }
        };
        drop(sends);
        for ((message, channel, clocks), answer) in going.into_iter().zip(answers) {
            match answer {
                Ok(slot) => {
                    let Ok(permit) = self.in_flight.clone().acquire_owned().await else { return false };
                    self.launch(channel, message, slot, permit);
                }
                // Held by the bot's clock: this message's own turn (as in
                // memory); by its chat's: that clock's time.
                Err(held) if held.by == Some(0) => {
                    let at = self.pacers.with(&message.channel, |pacer| pacer.turn(&clocks[0], held.at + RESERVE_AHEAD_MS)) - RESERVE_AHEAD_MS;
                    postponed.push((message, at));
                }
                Err(held) => postponed.push((message, held.at)),
            }
        }
        // One commit puts the paced ones back. A crash before it leaves
        // them `claimed`: queued again, not taken for interrupted.
        if let Err(err) = super::persist(lease_until, || store.start_sends(&[], &postponed)).await {
            // Still claimed: queued again when the lease ends.
            tracing::error!(error = %err, "cannot put this pass's paced messages back");
        }
        true
    }

    /// Sends `message` at its `slot`, once its windows let it leave, and
    /// files the result; `permit` is its place among the sends in flight.
    fn launch(&mut self, channel: Arc<dyn Channel>, message: OutboxMessage, slot: i64, permit: OwnedSemaphorePermit) {
        let store = self.store.clone();
        let retry_base_ms = self.config.retry_base_ms;
        let departures = self.departures.clone();
        let windows = self.pacers.with(&message.channel, |pacer| pacer.windows(&message.channel, message.bot_id.as_str(), &message.chat_key));
        let pause = self.pause.clone();
        // A send held by its windows longer than this goes anyway (a 429
        // is retried), well within the lease.
        let latest = (slot + 2_000).min(message.lease_until - self.config.lease_ms / 2);
        tokio::spawn(async move {
            let early = slot - now_millis();
            if early > 0 {
                tokio::time::sleep(Duration::from_millis(early as u64)).await;
            }
            depart(&departures, &windows, latest).await;
            let left = now_millis();
            // Told while the send is on its way, long before the turn it
            // moves is handed out.
            tokio::join!(pause.after_late_send(&store, &message, slot, left), deliver(&store, channel.as_ref(), &message, retry_base_ms, &pause));
            drop(permit);
        });
    }
}

/// What is filed for a message whose channel cannot be had: tried again
/// in a second when its settings could not be read, a dead letter (which
/// an admin can re-drive) when they are missing or wrong.
fn unsendable(unavailable: Unavailable, now: i64) -> DeliveryResult {
    match unavailable {
        Unavailable::Store => DeliveryResult::Retry { at: now + 1_000, error: "channel settings unavailable".into(), count: false },
        Unavailable::Misconfigured(why) => DeliveryResult::Dead { error: why },
    }
}

/// Waits until a send may leave without any of its `windows` holding more
/// than its limit of this process's departures, then counts it; after
/// `latest` (Unix ms) it leaves regardless.
async fn depart(departures: &Mutex<Departures>, windows: &[Window], latest: i64) {
    loop {
        let now = now_millis();
        let wait_until = {
            let Ok(mut left) = departures.lock() else { return };
            match left.leave(windows, now) {
                Ok(()) => return,
                Err(at) if at <= latest => at,
                Err(_) => {
                    left.count(windows, now);
                    return;
                }
            }
        };
        tokio::time::sleep(Duration::from_millis((wait_until - now).max(1) as u64)).await;
    }
}

/// The shortest text an adapter splits into parts (Telegram: a photo's
/// caption, 1,024 characters).
const SPLIT_FROM: usize = 1_024;

/// Sends one admitted message and files the result.
async fn deliver(store: &Store, channel: &dyn Channel, message: &OutboxMessage, retry_base_ms: i64, pause: &BotPause) {
    let now = now_millis();
    let started = Instant::now();
    // Only a text long enough to be split (a photo's caption holds 1,024
    // characters at most) can have parts out already: tried before, or
    // re-driven from the dead letters.
    let text = message.payload["text"].as_str().unwrap_or_default();
    let parts_sent = if text.chars().count() > SPLIT_FROM {
        store.parts_sent(&message.id).await.unwrap_or_else(|err| {
            tracing::error!(error = %err, message = %message.id, "cannot read how far a split message got; sending it whole");
            0
        })
    } else {
        0
    };
    let outbound = OutboundMessage {
        id: message.id.clone(),
        chat_id: message.chat_id.clone(),
        text: text.to_string(),
        buttons: serde_json::from_value::<Vec<Button>>(message.payload["buttons"].clone()).unwrap_or_default(),
        media_url: message.payload["media_url"].as_str().map(str::to_string),
        parts_sent,
    };
    let result = match channel.send(&outbound).await {
        Ok(delivered) => DeliveryResult::Sent { provider_message_id: delivered.provider_message_id },
        Err(error) => {
            if let Some(wait) = error.retry_after() {
                pause.hold(store, message, now_millis() + wait.as_millis() as i64).await;
            }
            classify(store, message, error, now, retry_base_ms).await
        }
    };
    file(store, message, result, started.elapsed().as_millis() as i64).await;
}

/// The messenger asked a bot to pause (`retry_after`, SPEC §5 "throttled →
/// retry later"): its send clock is held until then, so its other
/// messages wait too instead of meeting the same 429 — on this process's
/// clocks, or on the shared ones every process reserves on. And on the
/// shared clocks, a send that left late moves the bot's clock on, so no
/// process's send makes one too many in the messenger's window.
struct BotPause {
    pacers: Pacers,
    shared: bool,
}

impl BotPause {
    async fn hold(&self, store: &Store, message: &OutboxMessage, until: i64) {
        let bot = self.pacers.with(&message.channel, |pacer| {
            let bot = pacer.clocks(&message.channel, message.bot_id.as_str(), &message.chat_key).swap_remove(0);
            if !self.shared {
                pacer.hold(&bot, until);
            }
            bot
        });
        if self.shared {
            if let Err(err) = store.hold_clock(&bot.key, until).await {
                tracing::warn!(error = %err, bot = %message.bot_id, "cannot hold the bot's send clock for the messenger's pause");
            }
        }
    }
}

impl BotPause {
    /// A send of `message` due at `slot` left at `left`: on the shared
    /// clocks, when that was late enough to matter, the bot's clock moves
    /// on so that the send a window's count of turns after it comes a
    /// whole window after this one, whichever process sends it
    /// (`Pacer::after_late_send`; a process's own sends keep this by their
    /// departures, the others could not know). Measured before this: the
    /// first sends of three processes left up to 61 ms late, and the
    /// strict fake refused the 30th after them.
    async fn after_late_send(&self, store: &Store, message: &OutboxMessage, slot: i64, left: i64) {
        if !self.shared {
            return;
        }
        let (bot, late) = self.pacers.with(&message.channel, |pacer| {
            (pacer.clocks(&message.channel, message.bot_id.as_str(), &message.chat_key).swap_remove(0), pacer.left_late(slot, left))
        });
        if !late {
            return;
        }
        let moved = store.move_clock_on(&bot.key, |next| self.pacers.with(&message.channel, |pacer| pacer.after_late_send(slot, left, next))).await;
        if let Err(err) = moved {
            tracing::warn!(error = %err, bot = %message.bot_id, "cannot move the bot's send clock on after a late send");
        }
    }
}

/// Records how an attempt ended, with its trace event.
async fn file(store: &Store, message: &OutboxMessage, result: DeliveryResult, latency_ms: i64) {
    let (status, detail) = match &result {
        DeliveryResult::Sent { provider_message_id } => ("success", Detail::Delivered { message_id: provider_message_id.to_string() }.to_string()),
        DeliveryResult::Retry { error, .. } => ("retry", error.clone()),
        DeliveryResult::Dead { error } => ("fail", Detail::DeadLetter { reason: error.clone() }.to_string()),
    };
    let event = trace(message, status, detail, latency_ms);
    if let Err(err) = super::persist(message.lease_until, || store.finish_delivery(message, &result, &event)).await {
        tracing::error!(error = %err, message = %message.id, "cannot record a delivery");
        return;
    }
    if matches!(result, DeliveryResult::Dead { .. }) {
        tell_the_run(store, message).await;
    }
}

/// A run's message is a dead letter: a run waiting for a reply takes its
/// ask's `on_delivery_failed` branch (SPEC §4); any other state ignores it.
/// A run busy right now is tried a few times over a few seconds.
async fn tell_the_run(store: &Store, message: &OutboxMessage) {
    if message.run_id.is_empty() || message.run_id.starts_with("operator:") {
        return;
    }
    for _ in 0..10 {
        match store.claim_run(&message.run_id, now_millis(), 120_000).await {
            Ok(Some(run)) => {
                let http = reqwest::Client::new();
                if let Err(err) = super::executor::step(store, &http, &run, Some(Input::DeliveryFailed)).await {
                    tracing::error!(run = %run.id, error = %err, "cannot report a failed delivery to its run");
                }
                return;
            }
            Ok(None) => {
                // Busy, or no longer pending/waiting (then there is nothing to tell).
                match store.run_status(&message.run_id).await {
                    Ok(Some((status, _))) if status == "waiting" || status == "pending" => {}
                    _ => return,
                }
            }
            Err(err) => tracing::error!(error = %err, "cannot claim a run to report a failed delivery"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn classify(store: &Store, message: &OutboxMessage, error: ChannelError, now: i64, retry_base_ms: i64) -> DeliveryResult {
    match error {
        // Some parts went out: remembered, so the retry sends the rest.
        ChannelError::PartlySent { sent, cause } => {
            if let Err(err) = store.record_parts_sent(&message.id, sent).await {
                tracing::error!(error = %err, message = %message.id, "cannot record the parts of a split message sent; a retry sends them again");
            }
            Box::pin(classify(store, message, *cause, now, retry_base_ms)).await
        }
        ChannelError::Throttled { retry_after } => {
            DeliveryResult::Retry { at: now + retry_after.as_millis() as i64, error: "throttled by the messenger".into(), count: false }
        }
        ChannelError::Blocked => {
            let deactivate = || store.deactivate_address(&message.bot_id, &message.channel, &message.chat_id, &message.run_id);
            if let Err(err) = super::persist(message.lease_until, deactivate).await {
                tracing::error!(error = %err, "cannot deactivate a blocked address");
            }
            DeliveryResult::Dead { error: "blocked by the user".into() }
        }
        ChannelError::BadRequest(reason) => DeliveryResult::Dead { error: reason },
        ChannelError::Transient(reason) if message.attempts + 1 >= MAX_ATTEMPTS => {
            DeliveryResult::Dead { error: format!("{reason} (after {MAX_ATTEMPTS} attempts)") }
        }
        ChannelError::Transient(reason) => DeliveryResult::Retry { at: now + backoff_ms(retry_base_ms, message.attempts), error: reason, count: true },
    }
}

/// `base_ms` (1.65 s by default), then three times as long per attempt —
/// 5 s, 15 s, 45 s, 2.2 min, 6.7 min, 20 min — with ±25 % jitter: the 8th
/// attempt of a message comes about 30 minutes after its first (SPEC §5),
/// so a messenger out for up to that long loses nothing to dead letters.
fn backoff_ms(base_ms: i64, attempts: i64) -> i64 {
    let delay = retry_delay_ms(base_ms, attempts);
    delay + rand_jitter::jitter(delay / 4)
}

/// The delay after `attempts` failed attempts, before jitter.
fn retry_delay_ms(base_ms: i64, attempts: i64) -> i64 {
    base_ms.saturating_mul(3_i64.pow(attempts.clamp(0, 10) as u32))
}

/// The first retry delay unless `--send-retry-base-ms` says otherwise.
pub const DEFAULT_RETRY_BASE_MS: i64 = 1_650;

/// A small, dependency-free jitter source (time-seeded) for backoff only.
mod rand_jitter {
    pub fn jitter(span: i64) -> i64 {
        if span <= 0 {
            return 0;
        }
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0) as i64;
        nanos % (2 * span + 1) - span
    }
}

fn trace(message: &OutboxMessage, status: &str, detail: String, latency_ms: i64) -> TraceEvent {
    TraceEvent {
        id: String::new(),
        trace_id: message.trace_id.clone(),
        source_system: "comops".into(),
        bot_id: message.bot_id.to_string(),
        endpoint: message.channel.clone(),
        user_id: String::new(),
        lead_id: message.lead_id.clone(),
        step: "messenger.send".into(),
        status: status.into(),
        http_status: 0,
        latency_ms,
        dry_run: false,
        detail,
        at: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retries_of_a_message_span_about_half_an_hour() {
        let waits: Vec<i64> = (0..MAX_ATTEMPTS - 1).map(|n| retry_delay_ms(DEFAULT_RETRY_BASE_MS, n)).collect();
        assert_eq!(waits[..3], [1_650, 4_950, 14_850]);
        let total: i64 = waits.iter().sum();
        assert!((29 * 60_000..31 * 60_000).contains(&total), "{total} ms from the first attempt to the last");
        for n in 0..MAX_ATTEMPTS {
            let (delay, drawn) = (retry_delay_ms(DEFAULT_RETRY_BASE_MS, n), backoff_ms(DEFAULT_RETRY_BASE_MS, n));
            assert!((delay - delay / 4..=delay + delay / 4).contains(&drawn), "attempt {n}: {drawn} ms for {delay}");
        }
    }
}
