//! Bot API objects with their documented field names
//! (<https://core.telegram.org/bots/api#available-types>).
//!
//! Only the fields ComOps reads or a test inspects are modelled; absent
//! optional fields are omitted from the JSON, as Telegram does.

use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A Telegram user or bot (`User`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub is_bot: bool,
    pub first_name: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub language_code: Option<String>,
}

impl User {
    /// A person (not a bot) with only the required fields.
    pub fn new(id: i64, first_name: impl Into<String>) -> Self {
        Self {
            id,
            is_bot: false,
            first_name: first_name.into(),
            last_name: None,
            username: None,
            language_code: None,
        }
    }

    /// Builder: sets `username` (without the `@`).
    pub fn with_username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// Builder: sets `language_code` (e.g. `"ru"`).
    pub fn with_language(mut self, code: impl Into<String>) -> Self {
        self.language_code = Some(code.into());
        self
    }
}

/// A chat (`Chat`). Private chats carry the person's names; groups a title.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chat {
    pub id: i64,
    /// `"private"`, `"group"`, `"supergroup"` or `"channel"`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_name: Option<String>,
}

impl Chat {
    /// The private chat with `user` (its id equals the user's id).
    pub fn private(user: &User) -> Self {
        Self {
            id: user.id,
            kind: "private".into(),
            title: None,
            username: user.username.clone(),
            first_name: Some(user.first_name.clone()),
            last_name: user.last_name.clone(),
        }
    }

    /// A chat first seen in a bot's send: positive ids are private chats,
    /// negative ids groups (Telegram's own convention).
    pub(crate) fn from_id(id: i64) -> Self {
        if id < 0 {
            Self {
                id,
                kind: if id < -1_000_000_000_000 {
                    "supergroup"
                } else {
                    "group"
                }
                .into(),
                title: Some(format!("Group {}", -id)),
                username: None,
                first_name: None,
                last_name: None,
            }
        } else {
            Self::private(&User::new(id, format!("User {id}")))
        }
    }

    /// Whether Telegram's group limit (20 messages a minute) applies.
    pub fn is_group(&self) -> bool {
        self.kind != "private"
    }
}

/// A special entity in a text (`MessageEntity`), e.g. a `bot_command`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageEntity {
    #[serde(rename = "type")]
    pub kind: String,
    pub offset: usize,
    pub length: usize,
}

/// A shared phone contact (`Contact`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub phone_number: String,
    pub first_name: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub user_id: Option<i64>,
}

/// One size of a photo (`PhotoSize`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoSize {
    pub file_id: String,
    pub file_unique_id: String,
    pub width: u32,
    pub height: u32,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub file_size: Option<u64>,
}

/// A file sent by URL as `Video`, `Audio`, `Animation` or `Document`: the
/// ids every kind has, and the kind's required sizes (`width`, `height`,
/// `duration`) or a document's name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaFile {
    pub file_id: String,
    pub file_unique_id: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub height: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub duration: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub file_name: Option<String>,
}

/// A message (`Message`), sent by the bot or by a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub message_id: i64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub from: Option<User>,
    /// Unix time in seconds.
    pub date: i64,
    pub chat: Chat,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub entities: Option<Vec<MessageEntity>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub contact: Option<Contact>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub photo: Option<Vec<PhotoSize>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub video: Option<MediaFile>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub audio: Option<MediaFile>,
    /// An animation also comes as a `document`, as Telegram sends it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub animation: Option<MediaFile>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub document: Option<MediaFile>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub caption: Option<String>,
    /// Only inline keyboards are echoed back on a message.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reply_markup: Option<Value>,
}

/// A press on an inline button (`CallbackQuery`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallbackQuery {
    pub id: String,
    pub from: User,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub message: Option<Message>,
    pub chat_instance: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub data: Option<String>,
}

/// An incoming update (`Update`): exactly one of the optional fields is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Update {
    pub update_id: i64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub message: Option<Message>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub callback_query: Option<CallbackQuery>,
}

/// What the bot sent, as a test sees it (`sendMessage` or a media send).
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    pub chat_id: i64,
    pub message_id: i64,
    /// The text, or a photo's caption (empty without one).
    pub text: String,
    pub parse_mode: Option<String>,
    pub reply_markup: Option<Value>,
    /// The photo URL or file_id for `sendPhoto`.
    pub photo: Option<String>,
    /// The file of any media send, and its kind: `photo`, `video`,
    /// `audio`, `animation` or `document` (the method's field).
    pub media: Option<(String, String)>,
    pub at: Instant,
}

/// A recorded `answerCallbackQuery` call.
#[derive(Debug, Clone, PartialEq)]
pub struct AnsweredCallback {
    pub callback_query_id: String,
    pub text: Option<String>,
    pub show_alert: bool,
}
