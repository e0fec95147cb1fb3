//! Channels: how a message reaches a person, whatever the messenger.
//!
//! The dispatch engine (SPEC §5) hands an [`OutboundMessage`] to a
//! [`Channel`] and gets back either [`Delivered`] or a [`ChannelError`]. It
//! never learns which messenger it talked to: each adapter is one small
//! module implementing this one trait ([`telegram`] first; web chat, generic
//! webhook, WhatsApp, VK and email follow the same shape).
//!
//! The error taxonomy is borrowed from nyaruka/courier, so the engine decides
//! what to do from the *kind* of failure rather than from a messenger's
//! wording:
//!
//! | [`ChannelError`]        | meaning                                  | engine does            |
//! |-------------------------|------------------------------------------|------------------------|
//! | `Throttled{retry_after}`| the messenger asked us to slow down      | retry after the pause  |
//! | `Blocked`               | the person blocked the bot / is gone     | identity inactive, lead `stopped` |
//! | `BadRequest(why)`       | the message itself is wrong              | fail, no retry         |
//! | `Transient(why)`        | network error, timeout, 5xx              | retry with backoff     |
//!
//! Inbound traffic goes the other way: an adapter turns a messenger's update
//! into an [`InboundEvent`] (a text, a shared contact, a button press or a
//! deep-link start) that the scenario runner understands.
//!
//! [`split_text`] is shared by every adapter: each messenger has a length
//! limit ([`Channel::text_limit`]), and a longer text goes out as several
//! messages split at paragraph, line or word boundaries.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::scenario::Button;

pub mod email;
pub mod setting_issue;
pub mod settings;
pub mod telegram;
pub mod webchat;
pub mod vk;
pub mod webhook;
pub mod whatsapp;

pub use telegram::{parse_update, TelegramChannel};

/// One message to one chat, already rendered (templates filled in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundMessage {
    /// Our id for the message, the same on every retry: adapters whose
    /// messenger deduplicates pass it on (VK `random_id`, a webhook's
    /// `Idempotency-Key`), so a retry after a lost answer is not a second
    /// message.
    #[serde(default)]
    pub id: String,
    /// The messenger's chat id (for Telegram a number, or `@channelname`).
    pub chat_id: String,
    pub text: String,
    /// Buttons under the message; an adapter maps each [`ButtonKind`]
    /// (`crate::scenario::ButtonKind`) to what its messenger offers.
    pub buttons: Vec<Button>,
    /// A file sent with the text as its caption: a picture, a video, an
    /// audio or a document, by its extension ([`MediaKind::of`]).
    pub media_url: Option<String>,
    /// Parts of a split message an earlier attempt delivered
    /// ([`ChannelError::PartlySent`]): this attempt sends the rest only.
    #[serde(default)]
    pub parts_sent: usize,
}

/// What a message's media URL points at, read from the extension of its
/// path (`invoice.pdf`, `demo.mp4`): each messenger sends each kind its own
/// way, and a PDF sent as a photo is refused. A URL whose path has no
/// extension (an image service's `…/render?id=7`) is taken for a picture,
/// as every media URL was before; any extension not listed is a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Picture,
    /// A GIF: Telegram plays it as an animation.
    Animation,
    /// MP4, which the messengers play in the chat.
    Video,
    /// MP3 or M4A, which Telegram shows as a track.
    Audio,
    Document,
}

impl MediaKind {
    pub fn of(url: &str) -> Self {
        let Some((_, extension)) = file_name(url).rsplit_once('.') else { return Self::Picture };
        match extension.to_ascii_lowercase().as_str() {
            "jpg" | "jpeg" | "png" | "webp" => Self::Picture,
            "gif" => Self::Animation,
            "mp4" | "m4v" => Self::Video,
            "mp3" | "m4a" => Self::Audio,
            _ => Self::Document,
        }
    }
}

/// The last segment of a URL's path as written (`invoice%209821.pdf`);
/// empty when the path has none (`https://img.example.com?id=7`: the host
/// is not a file name).
pub fn file_name(url: &str) -> &str {
    let url = url.split(['?', '#']).next().unwrap_or(url);
    let after_host = match url.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map_or("", |(_, path)| path),
        None => url,
    };
    after_host.rsplit('/').next().unwrap_or_default()
}

/// `%XX` escapes decoded (`invoice%209821.pdf` → `invoice 9821.pdf`), for
/// a file name shown to a person; text that does not decode to UTF-8 is
/// kept as written.
pub fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

/// A message the messenger accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivered {
    /// The messenger's id for the message (for a split text: the last part,
    /// the one carrying the buttons).
    pub provider_message_id: String,
}

/// Why a send failed, as the engine needs to know it (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// The messenger refused because of its rate limits; nothing was sent.
    #[error("throttled by the messenger: retry after {} s", retry_after.as_secs_f64())]
    Throttled { retry_after: Duration },
    /// The person blocked the bot or the account is gone: stop talking to
    /// this identity.
    #[error("the person blocked the bot or the account is deactivated")]
    Blocked,
    /// The message or the configuration is wrong; retrying cannot help.
    #[error("rejected by the messenger: {0}")]
    BadRequest(String),
    /// Network trouble, a timeout or a server error; retry with backoff.
    #[error("temporary failure: {0}")]
    Transient(String),
    /// The first `sent` parts of a split message went out, then `cause`
    /// stopped it: a retry passes `sent` as
    /// [`OutboundMessage::parts_sent`] and sends the rest only.
    #[error("{cause} (after {sent} parts were sent)")]
    PartlySent { sent: usize, cause: Box<ChannelError> },
}

impl ChannelError {
    /// Whether the same send may succeed later (throttled or transient).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::PartlySent { cause, .. } => cause.is_retryable(),
            other => matches!(other, Self::Throttled { .. } | Self::Transient(_)),
        }
    }

    /// The pause the messenger asked for, if it asked.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Throttled { retry_after } => Some(*retry_after),
            Self::PartlySent { cause, .. } => cause.retry_after(),
            _ => None,
        }
    }
}

/// The boxed future a [`Channel::send`] returns (object-safe without the
/// `async-trait` crate).
pub type SendFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Delivered, ChannelError>> + Send + 'a>>;

/// One messenger. Implementations are cheap to share (`Arc<dyn Channel>`)
/// and safe to call from many workers at once.
pub trait Channel: Send + Sync {
    /// A stable name for logs, metrics and rate-limit buckets: `"telegram"`.
    fn kind(&self) -> &'static str;

    /// The longest text one message may carry, in characters.
    fn text_limit(&self) -> usize;

    /// Sends one message (several, if the text is over [`Self::text_limit`]).
    fn send<'a>(&'a self, message: &'a OutboundMessage) -> SendFuture<'a>;
}

/// Who wrote an inbound message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    /// The messenger's user id.
    pub id: String,
    pub first_name: String,
    pub username: Option<String>,
}

/// What a person did, as a scenario sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InboundEvent {
    /// A plain text message.
    Text {
        chat_id: String,
        from: Sender,
        text: String,
    },
    /// A shared phone contact (the answer to a contact button).
    Contact {
        chat_id: String,
        from: Sender,
        phone: String,
        first_name: String,
        /// The contact's own user id, when the contact is a messenger user
        /// (equal to `from.id` when people share their own number).
        user_id: Option<String>,
    },
    /// A press on an inline button.
    Button {
        chat_id: String,
        from: Sender,
        /// What the button sends back (its `value`).
        data: String,
        /// The id to acknowledge the press with (Telegram:
        /// `answerCallbackQuery`).
        callback_id: String,
        /// The bot message the button is under, when the messenger says.
        message_id: Option<String>,
    },
    /// The person opened the bot, possibly through a deep link carrying a
    /// payload (Telegram: `/start <payload>`).
    Start {
        chat_id: String,
        from: Sender,
        payload: Option<String>,
    },
}

impl InboundEvent {
    /// The chat the event happened in (where a reply goes).
    pub fn chat_id(&self) -> &str {
        match self {
            Self::Text { chat_id, .. }
            | Self::Contact { chat_id, .. }
            | Self::Button { chat_id, .. }
            | Self::Start { chat_id, .. } => chat_id,
        }
    }

    /// Who did it.
    pub fn from(&self) -> &Sender {
        match self {
            Self::Text { from, .. }
            | Self::Contact { from, .. }
            | Self::Button { from, .. }
            | Self::Start { from, .. } => from,
        }
    }
}

impl fmt::Display for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.username {
            Some(username) => write!(f, "{} (@{username}, {})", self.first_name, self.id),
            None => write!(f, "{} ({})", self.first_name, self.id),
        }
    }
}

/// Splits `text` into parts of at most `limit` characters (Unicode scalar
/// values, as Telegram counts them; never bytes, so a Cyrillic letter is never
/// cut in half).
///
/// Where a cut is needed it prefers, in order, a paragraph break (`\n\n`), a
/// line break and a space, dropping the break itself; a break counts only if
/// the part before it is at least half the limit, so one early blank line does
/// not produce a tiny message. Failing that, any break at all; failing that
/// (one very long word), a hard cut. Blank lines around a cut are dropped, and
/// so are parts that would be only whitespace. A text within the limit comes
/// back as it is.
pub fn split_text(text: &str, limit: usize) -> Vec<String> {
    let limit = limit.max(1);
    let mut parts = Vec::new();
    let mut rest = text;
    loop {
        // Byte offset just past the first `limit` characters, if the rest is
        // longer than that.
        let Some((window_end, _)) = rest.char_indices().nth(limit) else {
            if !rest.trim().is_empty() || parts.is_empty() {
                parts.push(rest.to_string());
            }
            return parts;
        };
        let window = &rest[..window_end];
        let (cut, skip) = find_cut(window, limit);
        // Blank lines at a cut would only pad the messages.
        let part = rest[..cut].trim_end_matches('\n');
        if !part.trim().is_empty() {
            parts.push(part.to_string());
        }
        rest = rest[cut + skip..].trim_start_matches('\n');
    }
}

/// Where to cut `window` (at most `limit` characters, and the text goes on
/// after it): `(byte offset of the cut, bytes of separator to drop)`.
fn find_cut(window: &str, limit: usize) -> (usize, usize) {
    // A byte offset of at least half the limit, in characters.
    let half = window
        .char_indices()
        .nth(limit / 2)
        .map_or(window.len(), |(i, _)| i);
    for min in [half.max(1), 1] {
        if let Some(i) = window.rfind("\n\n").filter(|&i| i >= min) {
            return (i, 2);
        }
        if let Some(i) = window.rfind('\n').filter(|&i| i >= min) {
            return (i, 1);
        }
        if let Some((i, c)) = window
            .char_indices()
            .rev()
            .find(|&(i, c)| c.is_whitespace() && i >= min)
        {
            return (i, c.len_utf8());
        }
    }
    // One unbroken run of characters: cut at the limit, on a char boundary
    // (the window ends on one by construction).
    (window.len(), 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_name_is_the_paths_last_segment_decoded_for_people() {
        assert_eq!(file_name("https://cdn.example/files/invoice%209821.pdf?sig=a/b"), "invoice%209821.pdf");
        assert_eq!(file_name("https://img.example.com?id=7"), "");
        assert_eq!(percent_decoded("invoice%209821.pdf"), "invoice 9821.pdf");
        assert_eq!(percent_decoded("%D1%81%D1%87%D1%91%D1%82.pdf"), "счёт.pdf");
        assert_eq!(percent_decoded("100%.pdf"), "100%.pdf");
        assert_eq!(percent_decoded("%FF.pdf"), "%FF.pdf", "not UTF-8: kept as written");
    }

    #[test]
    fn a_media_url_is_read_by_its_extension() {
        let kinds = [
            ("https://cdn.example/a/photo.JPG", MediaKind::Picture),
            ("https://img.example/render?id=7", MediaKind::Picture),
            ("https://cdn.example/invoice-9821.pdf?token=x.png", MediaKind::Document),
            ("https://cdn.example/demo.mp4#t=3", MediaKind::Video),
            ("https://cdn.example/podcast.mp3", MediaKind::Audio),
            ("https://cdn.example/hello.gif", MediaKind::Animation),
            ("https://cdn.example/price.xlsx", MediaKind::Document),
            ("https://cdn.example.com/", MediaKind::Picture),
            ("https://img.example.com", MediaKind::Picture),
            ("https://img.example.com?id=7", MediaKind::Picture),
        ];
        for (url, kind) in kinds {
            assert_eq!(MediaKind::of(url), kind, "{url}");
        }
    }

    fn chars(s: &str) -> usize {
        s.chars().count()
    }

    #[test]
    fn a_short_text_is_one_part() {
        assert_eq!(
            split_text("Спасибо за покупку!", 4096),
            vec!["Спасибо за покупку!"]
        );
        assert_eq!(split_text("", 10), vec![""]);
    }

    #[test]
    fn a_text_exactly_at_the_limit_is_not_split() {
        let text = "я".repeat(4096);
        assert_eq!(split_text(&text, 4096), vec![text]);
    }

    #[test]
    fn long_cyrillic_text_splits_on_char_boundaries_within_the_limit() {
        let text = "Привет, мир! ".repeat(400); // 5,200 characters, ~9,600 bytes
        let parts = split_text(&text, 4096);
        assert_eq!(parts.len(), 2);
        for part in &parts {
            assert!(chars(part) <= 4096, "{} chars", chars(part));
        }
        // Only the separating space was dropped.
        assert_eq!(parts.join(" ").trim_end(), text.trim_end());
    }

    #[test]
    fn prefers_paragraph_then_line_then_space() {
        let text = "aaaa bbbb\ncccc\n\ndddd eeee";
        assert_eq!(split_text(text, 20), vec!["aaaa bbbb\ncccc", "dddd eeee"]);
        let text = "aaaa bbbb cccc\ndddd eeee";
        assert_eq!(split_text(text, 20), vec!["aaaa bbbb cccc", "dddd eeee"]);
        let text = "aaaa bbbb cccc dddd eeee";
        assert_eq!(split_text(text, 12), vec!["aaaa bbbb", "cccc dddd", "eeee"]);
    }

    #[test]
    fn an_early_paragraph_break_does_not_make_a_tiny_part() {
        let text = "Hi\n\nthis is a long line of words";
        let parts = split_text(text, 20);
        assert_eq!(parts[0], "Hi\n\nthis is a long");
        assert!(parts.iter().all(|p| chars(p) <= 20));
    }

    #[test]
    fn a_word_longer_than_the_limit_is_cut_hard_between_chars() {
        let text = "ё".repeat(25);
        let parts = split_text(&text, 10);
        assert_eq!(
            parts.iter().map(|p| chars(p)).collect::<Vec<_>>(),
            vec![10, 10, 5]
        );
        assert_eq!(parts.concat(), text);
        // Emoji are single characters too.
        let parts = split_text(&"😀".repeat(5), 2);
        assert_eq!(parts, vec!["😀😀", "😀😀", "😀"]);
    }

    #[test]
    fn whitespace_only_parts_are_dropped() {
        let text = format!("{}\n\n\n\n{}", "a".repeat(8), "b".repeat(8));
        let parts = split_text(&text, 10);
        assert_eq!(parts, vec!["a".repeat(8), "b".repeat(8)]);
    }

    #[test]
    fn taxonomy_says_what_to_retry() {
        let throttled = ChannelError::Throttled {
            retry_after: Duration::from_secs(3),
        };
        assert!(throttled.is_retryable());
        assert_eq!(throttled.retry_after(), Some(Duration::from_secs(3)));
        assert!(ChannelError::Transient("502".into()).is_retryable());
        assert!(!ChannelError::Blocked.is_retryable());
        assert!(!ChannelError::BadRequest("chat not found".into()).is_retryable());
        assert_eq!(
            throttled.to_string(),
            "throttled by the messenger: retry after 3 s"
        );
    }
}
