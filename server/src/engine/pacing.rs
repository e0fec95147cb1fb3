//! Pacing of outgoing messages, so we send at the messenger's limit but
//! never over it (Telegram: 30 msg/s per bot, 1 msg/s per chat, 20/min per
//! group).
//!
//! Both ways space messages evenly on "send clocks" (per bot and per chat,
//! Telegram: one per 34 ms per bot): one process on its own (SQLite) keeps
//! the clocks in memory ([`Pacer::reserve`]); processes sharing a
//! PostgreSQL draw from clocks in the database ([`Pacer::clocks`] →
//! `comops_core::store::send_clocks`), so their sum keeps the limit. Even
//! spacing matters: sliding windows let 30 messages leave at once, and the
//! arrival jitter of such a burst (new connections) made a strict
//! messenger refuse some (45 × 429 in the first seconds of a 10,000
//! fan-out).
//!
//! Clocks space the moments reserved, not the moments sends leave: one
//! send that leaves late (a busy core) and the one thirty turns after it,
//! on time, put 31 in a second at the messenger. [`Departures`] keeps the
//! windows on the moments this process's sends actually leave.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A process's pacers, one per channel kind with that messenger's limits
/// (as configured); shared by the dispatcher and, on SQLite, the executor,
/// which reserves a run's messages their slots before the save
/// (`dispatch::DirectSends`).
#[derive(Clone, Debug, Default)]
pub struct Pacers {
    pacers: Arc<Mutex<HashMap<String, Pacer>>>,
    limits: Arc<ChannelLimits>,
}

impl Pacers {
    /// Pacers whose channels keep `limits` where they name one.
    pub fn new(limits: ChannelLimits) -> Self {
        Self { pacers: Arc::default(), limits: Arc::new(limits) }
    }

    /// `use_pacer` on the pacer of `kind` (made on first use).
    pub fn with<R>(&self, kind: &str, use_pacer: impl FnOnce(&mut Pacer) -> R) -> R {
        let mut pacers = self.pacers.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        use_pacer(pacers.entry(kind.to_string()).or_insert_with(|| Pacer::for_channel(kind).limited(self.limits.of(kind))))
    }
}

/// Configured send limits (SPEC §5: "configurable"): per channel kind,
/// messages a second per bot and per chat, over the documented defaults
/// of [`Pacer::for_channel`]. Written `vk=20/3,telegram=25/1`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelLimits(HashMap<String, (usize, usize)>);

impl ChannelLimits {
    /// Parses `kind=per_bot/per_chat` pairs separated by commas; says what
    /// is wrong with the first pair that is.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut limits = HashMap::new();
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let wrong = |why: &str| format!("channel limit `{pair}`: {why} (write kind=per_bot/per_chat, e.g. vk=20/3)");
            let (kind, rates) = pair.split_once('=').ok_or_else(|| wrong("no `=`"))?;
            let kind = kind.trim();
            if !comops_core::identity::CHANNELS.contains(&kind) {
                return Err(wrong(&format!("unknown channel (one of {})", comops_core::identity::CHANNELS.join(", "))));
            }
            let (bot, chat) = rates.split_once('/').ok_or_else(|| wrong("no `/`"))?;
            let rate = |n: &str| n.trim().parse::<usize>().ok().filter(|n| (1..=1000).contains(n));
            let (Some(bot), Some(chat)) = (rate(bot), rate(chat)) else {
                return Err(wrong("messages a second are whole numbers from 1 to 1000"));
            };
            if chat > bot {
                return Err(wrong("a chat cannot get more than its bot"));
            }
            limits.insert(kind.to_string(), (bot, chat));
        }
        Ok(Self(limits))
    }

    /// (per bot, per chat) messages a second configured for `kind`.
    pub fn of(&self, kind: &str) -> Option<(usize, usize)> {
        self.0.get(kind).copied()
    }
}

/// A window of `limit` sends in `span` as (limit, span in ms, the
/// spacing that keeps it: span / limit, rounded up).
fn spacing((limit, span): (usize, Duration)) -> (i64, i64, i64) {
    let (limit, span) = (limit.max(1) as i64, span.as_millis() as i64);
    (limit, span, (span + limit - 1) / limit)
}

/// How late a send may leave before it may move the shared bot clock on
/// ([`Pacer::left_late`]).
pub const LATE_MS: i64 = 5;

/// A limit on departures: at most `limit` within any `span_ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub key: String,
    pub limit: usize,
    pub span_ms: i64,
}

#[derive(Debug)]
pub struct Pacer {
    per_bot: (usize, Duration),
    per_chat: (usize, Duration),
    /// A second, longer window for group chats (ids starting with `-`).
    per_group: Option<(usize, Duration)>,
    /// In-memory send clocks: key → earliest time (Unix ms) of the next send.
    next_at: HashMap<String, i64>,
    /// Per bot clock: the turn after the last one handed to a message put
    /// back (see [`Pacer::reserve`]).
    queued: HashMap<String, i64>,
}

impl Pacer {
    /// Telegram's documented limits, with small margins: the messenger
    /// counts arrivals, and concurrent sends arrive a few milliseconds
    /// apart from when we reserved them (30 per 1.015 s is 98.5 % of the
    /// budget). Group chats (negative ids) get 20 per minute.
    pub fn telegram() -> Self {
        let mut pacer = Self::new((30, Duration::from_millis(1015)), (1, Duration::from_millis(1050)));
        pacer.per_group = Some((20, Duration::from_millis(61_000)));
        pacer
    }

    /// The documented limits of a channel kind (SPEC §5): Telegram 30/s per
    /// bot and 1/s per chat; VK 20/s per community; WhatsApp Cloud API 80/s
    /// per number; email and generic webhooks 10/s and 50/s; the built-in
    /// web chat is ours and only guarded against floods.
    pub fn for_channel(kind: &str) -> Self {
        let second = Duration::from_secs(1);
        match kind {
            "telegram" => Self::telegram(),
            "vk" => Self::new((20, second), (3, second)),
            "whatsapp" => Self::new((80, second), (1, second)),
            "email" => Self::new((10, second), (1, second)),
            "webhook" => Self::new((50, second), (10, second)),
            _ => Self::new((200, second), (20, second)),
        }
    }

    /// The database send clocks of one message to `chat` of `bot` over
    /// this pacer's channel: evenly spaced sends that stay within every
    /// window (window / limit apart).
    pub fn clocks(&self, kind: &str, bot: &str, chat: &str) -> Vec<comops_core::store::send_clocks::Clock> {
        use comops_core::store::send_clocks::Clock;
        let apart = |window: (usize, Duration)| spacing(window).2;
        let mut chat_ms = apart(self.per_chat);
        if let Some(group) = self.per_group.filter(|_| chat.starts_with('-')) {
            chat_ms = chat_ms.max(apart(group));
        }
        vec![
            Clock { key: format!("bot:{kind}:{bot}"), interval_ms: apart(self.per_bot) },
            Clock { key: format!("chat:{kind}:{bot}:{chat}"), interval_ms: chat_ms },
        ]
    }

    /// The windows a send of `bot` to `chat` must keep when it leaves
    /// (the same limits the clocks space).
    pub fn windows(&self, kind: &str, bot: &str, chat: &str) -> Vec<Window> {
        let window = |key: String, (limit, span): (usize, Duration)| Window { key, limit, span_ms: span.as_millis() as i64 };
        let mut windows = vec![window(format!("bot:{kind}:{bot}"), self.per_bot), window(format!("chat:{kind}:{bot}:{chat}"), self.per_chat)];
        if let Some(group) = self.per_group.filter(|_| chat.starts_with('-')) {
            windows.push(window(format!("group:{kind}:{bot}:{chat}"), group));
        }
        windows
    }

    /// This pacer with `limits` (per bot, per chat) messages in its
    /// windows instead of the documented ones; the windows keep their
    /// length, margins included.
    pub fn limited(mut self, limits: Option<(usize, usize)>) -> Self {
        if let Some((bot, chat)) = limits {
            self.per_bot.0 = bot;
            self.per_chat.0 = chat;
        }
        self
    }

    pub fn new(per_bot: (usize, Duration), per_chat: (usize, Duration)) -> Self {
        Self { per_bot, per_chat, per_group: None, next_at: HashMap::new(), queued: HashMap::new() }
    }

    /// Reserves one send of `bot` to `chat` on the in-memory clocks (all or
    /// none), like `Store::reserve_send` does in the database. `Ok(slot)`:
    /// send at `slot` (Unix ms, ≤ now + `ahead_ms`); `Err(at)`: nothing
    /// reserved, try again at `at`.
    ///
    /// A message the bot's clock cannot take now is given its own turn,
    /// after those put back before it (`queued`), not the clock's next free
    /// slot: put back with that one slot, the messages of a fan-out came
    /// back due together within 34 ms, so every pass (50 a second) claimed
    /// a full batch of 128 and put back all but one or two of them, a
    /// write of 128 rows twice per pass for nothing. A message held back
    /// by its chat's clock (1 per second) just waits for that slot.
    pub fn reserve(&mut self, kind: &str, bot: &str, chat: &str, now: i64, ahead_ms: i64) -> Result<i64, i64> {
        let clocks = self.clocks(kind, bot, chat);
        let at = |key: &str| self.next_at.get(key).copied().unwrap_or(0);
        let (bot_free, chat_free) = (at(&clocks[0].key).max(now), at(&clocks[1].key).max(now));
        let slot = bot_free.max(chat_free);
        if slot > now + ahead_ms {
            if chat_free > bot_free {
                return Err(slot - ahead_ms);
            }
            return Err(self.turn(&clocks[0], slot) - ahead_ms);
        }
        for clock in clocks {
            self.next_at.insert(clock.key, slot + clock.interval_ms);
        }
        if self.next_at.len() > 100_000 {
            self.next_at.retain(|_, next| *next > now);
            self.queued.retain(|_, next| *next > now);
        }
        Ok(slot)
    }

    /// A send of a bot due at `slot` left at `left`: where the bot's clock,
    /// whose next slot is `next`, must go on to so that the send as many
    /// turns after it as the bot's window holds (Telegram: 30) arrives a
    /// whole window after it (None: it does already). Turns are counted by
    /// the time between `slot` and `next`, which over-counts a clock that
    /// was idle or moved on: counted at most a window's count (the next
    /// slot is then that turn, or later), the move is never skipped, only
    /// sometimes longer than needed.
    /// Sends of one process keep this by their departures
    /// ([`Departures`]); the other processes on shared clocks learn it
    /// through the clock (`BotPause::after_late_send`).
    pub fn after_late_send(&self, slot: i64, left: i64, next: i64) -> Option<i64> {
        let (limit, span, interval) = spacing(self.per_bot);
        // The turns from `slot` to `next` (each handed out once), and so
        // the slot `limit` turns after `slot` if the clock stays as it is.
        let handed = (next - slot).div_euclid(interval.max(1)).clamp(0, limit);
        let ahead = (limit - handed) * interval;
        (next + ahead < left + span).then_some(left + span - ahead)
    }

    /// Whether a send due at `slot` that left at `left` left so late that
    /// the send a window's count of turns after it could arrive within one
    /// window of it ([`Pacer::after_late_send`] may have to move the clock):
    /// later than the spacing's margin (Telegram: 30 × 34 ms − 1,015 ms =
    /// 5 ms), and never less than [`LATE_MS`] (channels spaced without a
    /// margin would otherwise count every send a timer woke a millisecond
    /// late).
    pub fn left_late(&self, slot: i64, left: i64) -> bool {
        let (limit, span, interval) = spacing(self.per_bot);
        left - slot > (limit * interval - span).max(LATE_MS)
    }

    /// Holds `clock` (a bot's) until `until` at the least: the messenger
    /// asked the bot to pause (`retry_after`), so none of its messages is
    /// given a slot before then.
    pub fn hold(&mut self, clock: &comops_core::store::send_clocks::Clock, until: i64) {
        let next = self.next_at.entry(clock.key.clone()).or_insert(0);
        *next = (*next).max(until);
    }

    /// The turn of a message held back by the bot's `clock`, free again at
    /// `free`: after the turns of those held back before it, one interval
    /// apart. The shared clocks (PostgreSQL) say when they are free; the
    /// turns are this process's.
    pub fn turn(&mut self, clock: &comops_core::store::send_clocks::Clock, free: i64) -> i64 {
        let queued = self.queued.entry(clock.key.clone()).or_insert(0);
        let turn = free.max(*queued);
        *queued = turn + clock.interval_ms;
        turn
    }
}

/// The moments this process's sends left, per window key: a send leaves
/// only while each of its windows holds fewer than its limit. It counts
/// departures, not answers: a messenger that answers slowly does not slow
/// the sends (a window counting sends until their answer capped a bot at
/// 30 per 1 s + the answer time).
#[derive(Debug, Default)]
pub struct Departures {
    left: HashMap<String, VecDeque<i64>>,
}

impl Departures {
    /// A send leaving `now` on every window (all or none): `Ok` it is
    /// counted; `Err(at)`: one window is full until `at`.
    pub fn leave(&mut self, windows: &[Window], now: i64) -> Result<(), i64> {
        let mut free_at = now;
        for window in windows {
            if let Some(left) = self.left.get_mut(&window.key) {
                while left.front().is_some_and(|&t| t <= now - window.span_ms) {
                    left.pop_front();
                }
                if left.len() >= window.limit {
                    let oldest = left[left.len() - window.limit];
                    free_at = free_at.max(oldest + window.span_ms);
                }
            }
        }
        if free_at > now {
            return Err(free_at);
        }
        self.count(windows, now);
        Ok(())
    }

    /// Counts a send that leaves `now` whatever the windows hold (one that
    /// waited as long as its lease allows).
    pub fn count(&mut self, windows: &[Window], now: i64) {
        for window in windows {
            let left = self.left.entry(window.key.clone()).or_default();
            left.push_back(now);
            while left.len() > window.limit {
                left.pop_front();
            }
        }
        if self.left.len() > 100_000 {
            let longest = windows.iter().map(|w| w.span_ms).max().unwrap_or(0).max(61_000);
            self.left.retain(|_, left| left.back().is_some_and(|&t| t > now - longest));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_limits_replace_the_documented_counts() {
        let limits = ChannelLimits::parse(" vk=10/2, telegram=15/1 ").unwrap();
        assert_eq!((limits.of("vk"), limits.of("telegram"), limits.of("email")), (Some((10, 2)), Some((15, 1)), None));
        let pacers = Pacers::new(limits);
        let intervals = |kind: &str| pacers.with(kind, |p| p.clocks(kind, "bot_shop", "7").iter().map(|c| c.interval_ms).collect::<Vec<_>>());
        assert_eq!(intervals("vk"), [100, 500], "10 a second per bot, 2 per chat");
        // Telegram keeps its margins: 15 per 1,015 ms.
        assert_eq!(intervals("telegram"), [68, 1050]);
        assert_eq!(intervals("email"), [100, 1000], "not configured: the documented 10/s and 1/s");
        assert_eq!(ChannelLimits::parse("").unwrap(), ChannelLimits::default());
        for (bad, says) in [
            ("vk", "no `=`"),
            ("icq=1/1", "unknown channel"),
            ("vk=20", "no `/`"),
            ("vk=0/1", "whole numbers from 1 to 1000"),
            ("vk=a/b", "whole numbers"),
            ("vk=2/3", "cannot get more than its bot"),
        ] {
            let err = ChannelLimits::parse(bad).unwrap_err();
            assert!(err.contains(says) && err.contains(bad), "{bad}: {err}");
        }
    }

    #[test]
    fn sends_of_a_bot_are_spaced_and_each_chat_waits_a_second() {
        let mut pacer = Pacer::telegram();
        let t = 1_000_000;
        assert_eq!(pacer.reserve("telegram", "bot_shop", "1", t, 250), Ok(t));
        // The same chat: a second later, too far ahead to reserve now.
        assert_eq!(pacer.reserve("telegram", "bot_shop", "1", t, 250), Err(t + 1050 - 250));
        // Other chats: one every 34 ms, reserved up to 250 ms ahead.
        let slots: Vec<i64> = (2..=8).map(|chat| pacer.reserve("telegram", "bot_shop", &chat.to_string(), t, 250).unwrap()).collect();
        assert_eq!(slots, (1..=7).map(|i| t + 34 * i).collect::<Vec<_>>());
        assert_eq!(pacer.reserve("telegram", "bot_shop", "10", t, 250), Err(t + 34 * 8 - 250), "beyond the reserve window: later");
        assert_eq!(pacer.reserve("telegram", "bot_rehau", "10", t, 250), Ok(t), "other bots have their own clock");
        // 30 sends never take less than 30 × 34 ms = 1,020 ms ≥ Telegram's 1 s window.
        let mut pacer = Pacer::telegram();
        let last = (0..31).map(|chat| loop_until_ok(&mut pacer, &chat.to_string(), t)).last().unwrap();
        assert!(last - t >= 1_015, "31 sends span {} ms", last - t);
    }

    fn loop_until_ok(pacer: &mut Pacer, chat: &str, mut now: i64) -> i64 {
        loop {
            match pacer.reserve("telegram", "bot_shop", chat, now, 250) {
                Ok(slot) => return slot,
                Err(at) => now = at,
            }
        }
    }

    #[test]
    fn messages_put_back_get_a_turn_each_in_the_order_they_came() {
        let mut pacer = Pacer::telegram();
        let t = 1_000_000;
        // A second's worth of one bot's sends fills its clock.
        let admitted = (0..).take_while(|chat| pacer.reserve("telegram", "bot_fmlst", &chat.to_string(), t, 1_000).is_ok()).count();
        assert_eq!(admitted, 30, "30 slots within the second ahead, 34 ms apart");
        // The next 100 are each put back until their own turn, 34 ms after
        // the one before, not all until the clock's next free slot.
        let back: Vec<i64> = (100..200).map(|chat| pacer.reserve("telegram", "bot_fmlst", &chat.to_string(), t, 1_000).unwrap_err()).collect();
        // (The 31st was the take_while's stop; its turn was the first.)
        let first = t + 34 * 31 - 1_000;
        assert_eq!(back, (0..100).map(|i| first + 34 * i).collect::<Vec<_>>());
        // Each one, back at its turn, is admitted.
        for (i, at) in back.iter().enumerate() {
            assert!(pacer.reserve("telegram", "bot_fmlst", &format!("{}", 100 + i), *at, 1_000).is_ok(), "message {i} back at {at}");
        }
        // Another bot is not in that queue.
        assert_eq!(pacer.reserve("telegram", "bot_shop", "1", t, 1_000), Ok(t));
        // Held back by its chat (1 per second), a message waits for that
        // slot only, not behind the bot's queue.
        let mut pacer = Pacer::telegram();
        assert_eq!(pacer.reserve("telegram", "bot_shop", "7", t, 250), Ok(t));
        assert_eq!(pacer.reserve("telegram", "bot_shop", "7", t, 250), Err(t + 1050 - 250));
        assert_eq!(pacer.reserve("telegram", "bot_shop", "7", t, 250), Err(t + 1050 - 250));
    }

    #[test]
    fn shared_clocks_space_sends_within_every_window() {
        let pacer = Pacer::telegram();
        let clocks = pacer.clocks("telegram", "bot_shop", "125");
        assert_eq!(clocks[0].key, "bot:telegram:bot_shop");
        assert_eq!(clocks[0].interval_ms, 34, "30 per 1015 ms");
        assert_eq!(clocks[1].interval_ms, 1050);
        assert_eq!(pacer.clocks("telegram", "bot_fmlst", "-100200")[1].interval_ms, 3050, "groups: 20 per 61 s");
    }

    #[test]
    fn a_group_gets_twenty_messages_a_minute() {
        let mut pacer = Pacer::telegram();
        let t = 1_000_000;
        assert_eq!(pacer.reserve("telegram", "bot_fmlst", "-100200", t, 250), Ok(t));
        assert_eq!(pacer.reserve("telegram", "bot_fmlst", "-100200", t + 3_000, 250), Ok(t + 3_050), "one per 3.05 s");
        assert!(pacer.reserve("telegram", "bot_fmlst", "-100200", t + 3_100, 250).is_err());
        assert!(pacer.reserve("telegram", "bot_fmlst", "100200", t + 3_100, 250).is_ok(), "private chats are not groups");
    }

    #[test]
    fn a_late_departure_holds_back_the_send_thirty_turns_after_it() {
        let pacer = Pacer::telegram();
        let mut departures = Departures::default();
        let t = 1_000_000;
        // Slots 34 ms apart; the first send leaves 30 ms late.
        let leave = |departures: &mut Departures, chat: i64, at: i64| departures.leave(&pacer.windows("telegram", "bot_shop", &chat.to_string()), at);
        assert_eq!(leave(&mut departures, 0, t + 30), Ok(()));
        for i in 1..30 {
            assert_eq!(leave(&mut departures, i, t + 34 * i), Ok(()), "send {i} on time");
        }
        // The 31st is due at t + 1,020, but 30 left within the 1,015 ms
        // before: it waits until the late one's window has passed.
        assert_eq!(leave(&mut departures, 30, t + 1_020), Err(t + 30 + 1_015));
        assert_eq!(leave(&mut departures, 30, t + 1_045), Ok(()));
        // Only that one: the 32nd leaves on time.
        assert_eq!(leave(&mut departures, 31, t + 34 * 31), Ok(()));
        // Sends on time are never held: another bot, 34 ms apart.
        let mut departures = Departures::default();
        for i in 0..300 {
            assert_eq!(departures.leave(&pacer.windows("telegram", "bot_rehau", &i.to_string()), t + 34 * i), Ok(()));
        }
    }

    #[test]
    fn a_chat_and_a_group_keep_their_own_windows_on_departures() {
        let pacer = Pacer::telegram();
        let mut departures = Departures::default();
        let t = 1_000_000;
        let chat = pacer.windows("telegram", "bot_shop", "7");
        // Left 200 ms after its slot: the chat's next, reserved 1,050 ms
        // after that slot, waits until 1,050 ms after it left.
        assert_eq!(departures.leave(&chat, t + 200), Ok(()));
        assert_eq!(departures.leave(&chat, t + 1_050), Err(t + 1_250));
        assert_eq!(departures.leave(&pacer.windows("telegram", "bot_shop", "8"), t + 1_050), Ok(()), "another chat is free");
        let group = pacer.windows("telegram", "bot_fmlst", "-100200");
        assert_eq!(group.len(), 3);
        for n in 0..20 {
            let at = t + 3_050 * n;
            assert_eq!(departures.leave(&group, at), Ok(()), "group send {n}");
        }
        assert_eq!(departures.leave(&group, t + 60_000), Err(t + 61_000), "20 per 61 s");
        // A send that waited as long as it may is counted anyway.
        departures.count(&group, t + 60_000);
        assert!(departures.leave(&group, t + 61_000).is_err());
    }

    #[test]
    fn a_late_send_moves_the_bots_clock_so_the_thirtieth_after_it_waits_a_window() {
        let pacer = Pacer::telegram();
        let t = 1_000_000;
        // On time, or late by less than the spacing's margin (30 × 34 ms =
        // 1,020 ms ≥ 1,015): nothing to do.
        assert!(!pacer.left_late(t, t) && !pacer.left_late(t, t + 5));
        assert_eq!(pacer.after_late_send(t, t + 5, t + 7 * 34), None);
        // 61 ms late, with 6 more slots handed out after it: the clock's
        // next slot goes 56 ms on, so the 30th send after it comes at
        // t + 61 + 1,015.
        assert!(pacer.left_late(t, t + 61));
        let next = pacer.after_late_send(t, t + 61, t + 7 * 34).unwrap();
        assert_eq!(next, t + 7 * 34 + 56);
        assert_eq!(next + 23 * 34, t + 61 + 1_015);
        // A second late send moves it no further than it needs: the first
        // move counts. (30 ms late: 25 ms on; the next, as late, nothing
        // more; 40 ms late, 10 ms more.)
        let next = pacer.after_late_send(t, t + 30, t + 7 * 34).unwrap();
        assert_eq!(next, t + 7 * 34 + 25);
        assert_eq!(pacer.after_late_send(t + 34, t + 34 + 30, next), None);
        assert_eq!(pacer.after_late_send(t + 34, t + 34 + 40, next), Some(next + 10));
        // A clock that went idle (its next slot long past the 30th turn) or
        // already far on needs nothing.
        assert_eq!(pacer.after_late_send(t, t + 61, t + 2_000), None);
        // One that moved on by more than 30 spacings in less time (a
        // chat's clock, earlier moves) still moves: its turns are not
        // known, so its next slot waits the whole window.
        assert_eq!(pacer.after_late_send(t, t + 61, t + 1_030), Some(t + 61 + 1_015));
        // Channels spaced without a margin count a send late from 5 ms on.
        let vk = Pacer::for_channel("vk");
        assert!(!vk.left_late(t, t + 5) && vk.left_late(t, t + 6));
    }

    #[test]
    fn turns_after_a_shared_clock_follow_those_handed_out_before() {
        let mut pacer = Pacer::telegram();
        let clock = pacer.clocks("telegram", "bot_shop", "1").remove(0);
        let t = 1_000_000;
        assert_eq!(pacer.turn(&clock, t), t);
        assert_eq!(pacer.turn(&clock, t), t + 34);
        assert_eq!(pacer.turn(&clock, t + 10), t + 68, "the clock free earlier than the queue: the queue's turn");
        assert_eq!(pacer.turn(&clock, t + 1_000), t + 1_000, "the clock free later: its time");
    }
}
