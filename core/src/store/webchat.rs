//! The web chat's visitors and conversation log (`webchat_visitors`,
//! `webchat_messages`).
//!
//! Every message of a web chat conversation — what the bot sent and what
//! the visitor typed or pressed — is a row numbered 1, 2, 3… per chat. The
//! number is assigned by the insert itself (`MAX(seq) + 1` under the
//! primary key): two writers racing for the same number collide on the key
//! and the loser simply takes the next one. On PostgreSQL a number becomes
//! visible only after every smaller one has been committed (the loser waits
//! on the key until the winner commits), so a reader that has seen `n` and
//! asks for rows after `n` never skips one — whichever `comops` process
//! wrote them. That is what lets the live stream poll the table instead of
//! trusting an in-process broadcast.

use super::{now_millis, Store, StoreResult};
use crate::scenario::Button;
use crate::{BotId, Millis};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

/// How often an insert tries for a number. Each round of a race has one
/// winner, and a chat has few writers (the dispatcher sends one message
/// per chat at a time; a visitor is rate-limited), so this is never reached
/// in practice.
const INSERT_ATTEMPTS: usize = 16;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    Bot,
    Visitor,
}

impl Author {
    fn as_str(self) -> &'static str {
        match self {
            Author::Bot => "bot",
            Author::Visitor => "visitor",
        }
    }

    fn from_store(raw: &str) -> Self {
        if raw == "visitor" {
            Author::Visitor
        } else {
            Author::Bot
        }
    }
}

/// One message of a conversation, as the widget receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebChatMessage {
    /// Its place in the conversation (1, 2, 3…): the history's page key and
    /// the stream's event id.
    pub id: i64,
    pub from: Author,
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<Button>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_url: Option<String>,
    pub at: Millis,
}

/// What [`Store::append_webchat_message`] writes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewWebChatMessage {
    pub text: String,
    pub buttons: Vec<Button>,
    pub media_url: Option<String>,
    /// Set for bot messages from the outbox: the same key twice stores
    /// nothing new and returns the first row.
    pub delivery_key: Option<String>,
}

/// The part of a message kept as JSON.
#[derive(Serialize, Deserialize)]
struct Body {
    text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    buttons: Vec<Button>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    media_url: Option<String>,
}

/// A widget session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebChatVisitor {
    /// The channel address (`wc_…`).
    pub chat_id: String,
    pub bot_id: BotId,
    /// SHA-256 (hex) of the visitor's secret token.
    pub token_hash: String,
    /// What the visitor said to call them (may be empty).
    pub name: String,
}

impl Store {
    /// Records a new visitor of `visitor.bot_id`.
    pub async fn create_webchat_visitor(&self, visitor: &WebChatVisitor) -> StoreResult<()> {
        sqlx::query("INSERT INTO webchat_visitors (chat_id, bot_id, token_hash, name, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&visitor.chat_id)
            .bind(visitor.bot_id.as_str())
            .bind(&visitor.token_hash)
            .bind(&visitor.name)
            .bind(now_millis())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The visitor at this address, if any.
    pub async fn webchat_visitor(&self, chat_id: &str) -> StoreResult<Option<WebChatVisitor>> {
        let row = sqlx::query("SELECT chat_id, bot_id, token_hash, name FROM webchat_visitors WHERE chat_id = $1")
            .bind(chat_id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(WebChatVisitor {
            chat_id: row.try_get("chat_id")?,
            bot_id: BotId::from_store(row.try_get("bot_id")?),
            token_hash: row.try_get("token_hash")?,
            name: row.try_get("name")?,
        }))
    }

    /// Appends a message to the conversation at `chat_id` and returns it
    /// with its number; `None` when no visitor has that address. A
    /// `delivery_key` seen before returns the row stored the first time.
    pub async fn append_webchat_message(&self, chat_id: &str, from: Author, message: &NewWebChatMessage) -> StoreResult<Option<WebChatMessage>> {
        let body = Body { text: message.text.clone(), buttons: message.buttons.clone(), media_url: message.media_url.clone() };
        let body_json = serde_json::to_string(&body).unwrap_or_else(|_| "{}".into());
        // What a visitor writes may name them (a phone, an email): sealed,
        // as every channel's inbound updates are; the bot's own words are not.
        let body_json = match from {
            Author::Visitor => self.keyring.seal(&super::sealing::webchat_place(chat_id), &body_json),
            Author::Bot => body_json,
        };
        let mut last_error = None;
        for _ in 0..INSERT_ATTEMPTS {
            if let Some(key) = &message.delivery_key {
                let stored = sqlx::query(&format!("{SELECT} WHERE delivery_key = $1"))
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await?;
                if let Some(row) = stored {
                    return Ok(Some(self.message_of(&row)?));
                }
            }
            let now = now_millis();
            let inserted = sqlx::query(
                "INSERT INTO webchat_messages (chat_id, seq, bot_id, author, body_json, delivery_key, created_at) \
                 SELECT v.chat_id, COALESCE((SELECT MAX(m.seq) FROM webchat_messages m WHERE m.chat_id = v.chat_id), 0) + 1, \
                        v.bot_id, $2, $3, $4, $5 \
                 FROM webchat_visitors v WHERE v.chat_id = $1 \
                 RETURNING seq",
            )
            .bind(chat_id)
            .bind(from.as_str())
            .bind(&body_json)
            .bind(message.delivery_key.as_deref())
            .bind(now)
            .fetch_optional(&self.pool)
            .await;
            match inserted {
                Ok(None) => return Ok(None),
                Ok(Some(row)) => {
                    let id: i64 = row.try_get("seq")?;
                    return Ok(Some(WebChatMessage { id, from, text: body.text, buttons: body.buttons, media_url: body.media_url, at: now }));
                }
                // Lost the race for the number (or for the delivery key,
                // which the next round finds): try again.
                Err(sqlx::Error::Database(db)) if db.is_unique_violation() => last_error = Some(sqlx::Error::Database(db)),
                Err(other) => return Err(other.into()),
            }
        }
        Err(last_error.map(Into::into).unwrap_or(super::StoreError::Unavailable("web chat numbering")))
    }

    /// Up to `limit` messages numbered above `after`, oldest first.
    pub async fn webchat_messages_after(&self, chat_id: &str, after: i64, limit: i64) -> StoreResult<Vec<WebChatMessage>> {
        let rows = sqlx::query(&format!("{SELECT} WHERE chat_id = $1 AND seq > $2 ORDER BY seq LIMIT {}", limit.clamp(1, 500)))
            .bind(chat_id)
            .bind(after)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| self.message_of(row)).collect()
    }

    /// The last `limit` messages numbered below `before` (all, when
    /// `None`), oldest first: one page of history scrolling back.
    pub async fn webchat_messages_before(&self, chat_id: &str, before: Option<i64>, limit: i64) -> StoreResult<Vec<WebChatMessage>> {
        let rows = sqlx::query(&format!("{SELECT} WHERE chat_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT {}", limit.clamp(1, 500)))
            .bind(chat_id)
            .bind(before.unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        let mut messages = rows.iter().map(|row| self.message_of(row)).collect::<StoreResult<Vec<_>>>()?;
        messages.reverse();
        Ok(messages)
    }

    /// A stored message, what a visitor wrote opened.
    fn message_of(&self, row: &AnyRow) -> StoreResult<WebChatMessage> {
        let chat_id: String = row.try_get("chat_id")?;
        let stored: String = row.try_get("body_json")?;
        let body = self.keyring.open(&super::sealing::webchat_place(&chat_id), &stored)?;
        let body: Body = serde_json::from_str(&body).unwrap_or(Body { text: String::new(), buttons: Vec::new(), media_url: None });
        let author: String = row.try_get("author")?;
        Ok(WebChatMessage {
            id: row.try_get("seq")?,
            from: Author::from_store(&author),
            text: body.text,
            buttons: body.buttons,
            media_url: body.media_url,
            at: row.try_get("created_at")?,
        })
    }
}

const SELECT: &str = "SELECT chat_id, seq, author, body_json, created_at FROM webchat_messages";

#[cfg(test)]
mod tests {
    use super::*;

    /// A migrated store with the demo bots and a visitor `wc_anna` of
    /// bot_shop.
    async fn store_with_visitor(url: &str) -> Store {
        let store = Store::connect(url).await.expect("connect");
        store.migrate().await.expect("migrate");
        crate::demo::seed(&store, false).await.expect("demo bots");
        let visitor = WebChatVisitor { chat_id: "wc_anna".into(), bot_id: BotId::parse("bot_shop").unwrap(), token_hash: "h".into(), name: "Анна".into() };
        store.create_webchat_visitor(&visitor).await.unwrap();
        store
    }

    fn text(text: &str, key: Option<&str>) -> NewWebChatMessage {
        NewWebChatMessage { text: text.into(), delivery_key: key.map(str::to_string), ..Default::default() }
    }

    async fn numbering_holds(store: Store) {
        assert_eq!(store.webchat_visitor("wc_anna").await.unwrap().unwrap().name, "Анна");
        assert_eq!(store.append_webchat_message("wc_nobody", Author::Bot, &text("hi", None)).await.unwrap(), None);
        let first = store.append_webchat_message("wc_anna", Author::Bot, &text("Здравствуйте!", Some("out_1/0"))).await.unwrap().unwrap();
        assert_eq!((first.id, first.from), (1, Author::Bot));
        let again = store.append_webchat_message("wc_anna", Author::Bot, &text("Здравствуйте!", Some("out_1/0"))).await.unwrap().unwrap();
        assert_eq!(again.id, 1, "the same delivery key stores nothing new");
        // Writers racing for numbers all get one, without gaps.
        let writers: Vec<_> = (0..12)
            .map(|n| {
                let store = store.clone();
                tokio::spawn(async move { store.append_webchat_message("wc_anna", Author::Visitor, &text(&format!("m{n}"), None)).await })
            })
            .collect();
        for writer in writers {
            writer.await.unwrap().unwrap().unwrap();
        }
        let all = store.webchat_messages_after("wc_anna", 0, 100).await.unwrap();
        assert_eq!(all.iter().map(|m| m.id).collect::<Vec<_>>(), (1..=13).collect::<Vec<_>>());
        let page = store.webchat_messages_before("wc_anna", Some(13), 3).await.unwrap();
        assert_eq!(page.iter().map(|m| m.id).collect::<Vec<_>>(), [10, 11, 12]);
        let newest = store.webchat_messages_before("wc_anna", None, 2).await.unwrap();
        assert_eq!(newest.iter().map(|m| m.id).collect::<Vec<_>>(), [12, 13]);
        assert_eq!(store.webchat_messages_after("wc_anna", 12, 10).await.unwrap().len(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn messages_are_numbered_without_gaps_on_sqlite() {
        let dir = std::env::temp_dir().join(format!("comops-webchat-{}", crate::id::random_suffix()));
        let store = store_with_visitor(&format!("sqlite://{}/comops.db", dir.display())).await;
        numbering_holds(store).await;
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn messages_are_numbered_without_gaps_on_postgres() {
        let Some(url) = crate::store::scratch::test_postgres("webchat").await else { return };
        numbering_holds(store_with_visitor(&url).await).await;
    }
}
