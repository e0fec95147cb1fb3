//! Telegram's broadcast limits as sliding windows.
//!
//! Telegram documents (Bots FAQ, "My bot is hitting limits"): no more than one
//! message per second to a chat, about 30 messages per second overall, and at
//! most 20 messages per minute to a group. The real server tolerates short
//! bursts; the fake is strict on purpose, so a dispatcher that passes here
//! never gets throttled in production. A refused send is not counted in any
//! window (nothing was sent), and its `retry_after` is the time until the
//! oldest send leaves the full window, rounded up to whole seconds.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Rate limits the fake enforces on sends (`sendMessage` and the media sends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Messages per second to one chat.
    pub per_chat_per_sec: u32,
    /// Messages per second across all chats of the bot.
    pub global_per_sec: u32,
    /// Messages per minute to one group chat.
    pub group_per_min: u32,
    /// When false, sends are never refused.
    pub enforce: bool,
}

impl Limits {
    /// Telegram's documented limits, enforced.
    pub fn telegram() -> Self {
        Self {
            enforce: true,
            ..Self::default()
        }
    }
}

impl Default for Limits {
    /// Telegram's documented limits, *not* enforced (a fresh fake accepts
    /// everything so simple tests need no pacing).
    fn default() -> Self {
        Self {
            per_chat_per_sec: 1,
            global_per_sec: 30,
            group_per_min: 20,
            enforce: false,
        }
    }
}

const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);

/// Send times per window.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    per_chat: HashMap<i64, VecDeque<Instant>>,
    per_group: HashMap<i64, VecDeque<Instant>>,
    global: VecDeque<Instant>,
}

impl Limiter {
    /// Admits a send to `chat_id` at `now`, or returns `retry_after` seconds.
    pub(crate) fn admit(
        &mut self,
        limits: &Limits,
        chat_id: i64,
        is_group: bool,
        now: Instant,
    ) -> Result<(), u64> {
        if !limits.enforce {
            return Ok(());
        }
        let chat = self.per_chat.entry(chat_id).or_default();
        let mut wait = full_window_wait(chat, limits.per_chat_per_sec, SECOND, now);
        wait = wait.max(full_window_wait(
            &mut self.global,
            limits.global_per_sec,
            SECOND,
            now,
        ));
        if is_group {
            let group = self.per_group.entry(chat_id).or_default();
            wait = wait.max(full_window_wait(group, limits.group_per_min, MINUTE, now));
        }
        if let Some(wait) = wait {
            return Err(wait.as_secs_f64().ceil().max(1.0) as u64);
        }
        self.per_chat.entry(chat_id).or_default().push_back(now);
        self.global.push_back(now);
        if is_group {
            self.per_group.entry(chat_id).or_default().push_back(now);
        }
        Ok(())
    }
}

/// Drops sends older than `window`; if `limit` sends remain, how long until
/// the oldest one leaves the window.
fn full_window_wait(
    sends: &mut VecDeque<Instant>,
    limit: u32,
    window: Duration,
    now: Instant,
) -> Option<Duration> {
    while sends
        .front()
        .is_some_and(|t| now.duration_since(*t) >= window)
    {
        sends.pop_front();
    }
    if sends.len() < limit as usize {
        return None;
    }
    sends
        .front()
        .map(|oldest| window.saturating_sub(now.duration_since(*oldest)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_message_to_a_chat_within_a_second_waits() {
        let mut l = Limiter::default();
        let now = Instant::now();
        let limits = Limits::telegram();
        assert!(l.admit(&limits, 1, false, now).is_ok());
        assert_eq!(
            l.admit(&limits, 1, false, now + Duration::from_millis(200)),
            Err(1)
        );
        assert!(l.admit(&limits, 2, false, now).is_ok());
        assert!(l.admit(&limits, 1, false, now + SECOND).is_ok());
    }

    #[test]
    fn group_gets_twenty_a_minute() {
        let mut l = Limiter::default();
        let t0 = Instant::now();
        let limits = Limits::telegram();
        for i in 0..20 {
            assert!(l.admit(&limits, -5, true, t0 + SECOND * (i * 2)).is_ok());
        }
        let retry = l.admit(&limits, -5, true, t0 + SECOND * 40).unwrap_err();
        assert_eq!(retry, 20);
    }

    #[test]
    fn global_limit_spans_chats() {
        let mut l = Limiter::default();
        let t0 = Instant::now();
        let limits = Limits::telegram();
        for chat in 0..30 {
            assert!(l.admit(&limits, chat, false, t0).is_ok());
        }
        assert_eq!(l.admit(&limits, 99, false, t0), Err(1));
        assert!(!Limits::default().enforce);
    }
}
