//! Pacing of outgoing messages: sliding one-second (and one-minute) windows
//! per bot and per chat, so we send at the messenger's limit but never
//! over it (Telegram: 30 msg/s per bot, 1 msg/s per chat).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Pacer {
    per_bot: (usize, Duration),
    per_chat: (usize, Duration),
    bots: HashMap<String, VecDeque<Instant>>,
    chats: HashMap<(String, String), VecDeque<Instant>>,
}

impl Pacer {
    /// Telegram's documented limits, with a small margin per chat.
    pub fn telegram() -> Self {
        Self::new((30, Duration::from_secs(1)), (1, Duration::from_millis(1050)))
    }

    pub fn new(per_bot: (usize, Duration), per_chat: (usize, Duration)) -> Self {
        Self { per_bot, per_chat, bots: HashMap::new(), chats: HashMap::new() }
    }

    /// Takes a slot for one message to `chat` of `bot` now, or says how
    /// long until one frees up.
    pub fn reserve(&mut self, bot: &str, chat: &str, now: Instant) -> Result<(), Duration> {
        let bot_window = self.bots.entry(bot.to_string()).or_default();
        let bot_wait = wait(bot_window, self.per_bot, now);
        let chat_window = self.chats.entry((bot.to_string(), chat.to_string())).or_default();
        let chat_wait = wait(chat_window, self.per_chat, now);
        match bot_wait.max(chat_wait) {
            Some(wait) => Err(wait),
            None => {
                chat_window.push_back(now);
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
        assert!(pacer.reserve("bot_shop", "31", start + Duration::from_secs(1)).is_ok());
    }
}
