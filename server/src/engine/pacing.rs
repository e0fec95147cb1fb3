//! Pacing of outgoing messages, so we send at the messenger's limit but
//! never over it (Telegram: 30 msg/s per bot, 1 msg/s per chat, 20/min per
//! group).
//!
//! One process on its own (SQLite) paces in memory with sliding windows
//! ([`Pacer`]); processes sharing a PostgreSQL draw from send clocks in the
//! database ([`Pacer::clocks`] → `comops_core::store::send_clocks`), so
//! their sum keeps the limit.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Pacer {
    per_bot: (usize, Duration),
    per_chat: (usize, Duration),
    /// A second, longer window for group chats (ids starting with `-`).
    per_group: Option<(usize, Duration)>,
    groups: HashMap<(String, String), VecDeque<Instant>>,
    bots: HashMap<String, VecDeque<Instant>>,
    chats: HashMap<(String, String), VecDeque<Instant>>,
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
        let spacing = |(limit, span): (usize, Duration)| (span.as_millis() as i64 + limit as i64 - 1) / limit.max(1) as i64;
        let mut chat_ms = spacing(self.per_chat);
        if let Some(group) = self.per_group.filter(|_| chat.starts_with('-')) {
            chat_ms = chat_ms.max(spacing(group));
        }
        vec![
            Clock { key: format!("bot:{kind}:{bot}"), interval_ms: spacing(self.per_bot) },
            Clock { key: format!("chat:{kind}:{bot}:{chat}"), interval_ms: chat_ms },
        ]
    }

    pub fn new(per_bot: (usize, Duration), per_chat: (usize, Duration)) -> Self {
        Self { per_bot, per_chat, per_group: None, groups: HashMap::new(), bots: HashMap::new(), chats: HashMap::new() }
    }

    /// Takes a slot for one message to `chat` of `bot` now, or says how
    /// long until one frees up.
    pub fn reserve(&mut self, bot: &str, chat: &str, now: Instant) -> Result<(), Duration> {
        let bot_window = self.bots.entry(bot.to_string()).or_default();
        let bot_wait = wait(bot_window, self.per_bot, now);
        let group_wait = match self.per_group.filter(|_| chat.starts_with('-')) {
            Some(limit) => wait(self.groups.entry((bot.to_string(), chat.to_string())).or_default(), limit, now),
            None => None,
        };
        let chat_window = self.chats.entry((bot.to_string(), chat.to_string())).or_default();
        let chat_wait = wait(chat_window, self.per_chat, now);
        match bot_wait.max(chat_wait).max(group_wait) {
            Some(wait) => Err(wait),
            None => {
                chat_window.push_back(now);
                if let Some(window) = self.groups.get_mut(&(bot.to_string(), chat.to_string())) {
                    window.push_back(now);
                }
                if let Some(window) = self.bots.get_mut(bot) {
                    window.push_back(now);
                }
                if self.chats.len() > 100_000 {
                    let span = self.per_chat.1;
                    self.chats.retain(|_, w| w.back().is_some_and(|t| now.saturating_duration_since(*t) < span));
                }
                Ok(())
            }
        }
    }
}

/// Drops expired entries; `Some(wait)` if the window is full.
fn wait(window: &mut VecDeque<Instant>, (limit, span): (usize, Duration), now: Instant) -> Option<Duration> {
    while window.front().is_some_and(|t| now.saturating_duration_since(*t) >= span) {
        window.pop_front();
    }
    if window.len() < limit {
        None
    } else {
        window.front().map(|oldest| span.saturating_sub(now.saturating_duration_since(*oldest)).max(Duration::from_millis(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_message_per_chat_per_second_and_thirty_per_bot() {
        let mut pacer = Pacer::telegram();
        let start = Instant::now();
        assert!(pacer.reserve("bot_shop", "1", start).is_ok());
        let wait = pacer.reserve("bot_shop", "1", start).unwrap_err();
        assert!(wait > Duration::from_millis(1000));
        for chat in 2..=30 {
            assert!(pacer.reserve("bot_shop", &chat.to_string(), start).is_ok());
        }
        assert!(pacer.reserve("bot_shop", "31", start).is_err(), "the 31st in a second waits");
        assert!(pacer.reserve("bot_rehau", "31", start).is_ok(), "other bots have their own budget");
        assert!(pacer.reserve("bot_shop", "31", start + Duration::from_millis(1015)).is_ok());
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
        let start = Instant::now();
        for second in 0..20 {
            assert!(pacer.reserve("bot_fmlst", "-100200", start + Duration::from_secs(second * 2)).is_ok());
        }
        let wait = pacer.reserve("bot_fmlst", "-100200", start + Duration::from_secs(40)).unwrap_err();
        assert!(wait > Duration::from_secs(20), "{wait:?}");
        assert!(pacer.reserve("bot_fmlst", "100200", start + Duration::from_secs(40)).is_ok(), "private chats are not groups");
    }
}
