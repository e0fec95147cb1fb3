//! A fan-out to check faults against: the family bot (`bot_fmlst`) sends
//! «В семье новое событие» to every member named by one `post/new` call,
//! through a strict fake Telegram. After the fault, [`Settled`] reads what
//! the outbox says happened and [`Settled::check_exactly_once`] compares it
//! with what the messenger received.

use comops_core::endpoint::EndpointDraft;
use comops_core::scenario::Scenario;
use comops_core::store::identities::IdentityLink;
use comops_core::store::Store;
use comops_core::token::{TokenAction, TokenDraft};
use comops_core::BotId;
use comops_fakes::FakeTelegram;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

pub const TOKEN: &str = "123456:FMLST-fanout-token";
pub const ALIAS: &str = "post/new";

/// The family bot, its members and a CMS token, arranged on a database a
/// `comops serve --demo-bots` already migrated and seeded.
pub struct FanOut {
    pub store: Store,
    pub bot: BotId,
    pub token: String,
    /// Business user id = chat id of each member.
    pub family: Vec<i64>,
}

impl FanOut {
    pub async fn arrange(store: Store, members: usize) -> Self {
        let bot = BotId::parse("bot_fmlst").unwrap();
        store.set_bot_channel(&bot, "telegram", &json!({"token": TOKEN, "webhook_secret": "wh"})).await.unwrap();
        let scenario: Scenario = serde_json::from_value(json!({"name": "post_notice", "start": "s", "steps": [
            {"id": "s", "type": "message", "text": "В семье новое событие: пост №{{ params.postId }}", "next": "e"}, {"id": "e", "type": "end"}]}))
        .unwrap();
        store.save_scenario(&bot, &scenario, "", "t").await.unwrap();
        let endpoint = EndpointDraft { alias: ALIAS.into(), scenario: "post_notice".into(), enabled: true, ..Default::default() };
        store.create_endpoint(&bot, &endpoint.validate().unwrap()).await.unwrap();
        let family: Vec<i64> = (0..members as i64).map(|i| 7_000_001 + i).collect();
        for member in &family {
            let id = member.to_string();
            store.link_identity(&bot, &IdentityLink::telegram(&id, &format!("TG-{id}"), &id, "test")).await.unwrap();
        }
        let draft = TokenDraft { name: "CMS".into(), actions: vec![TokenAction::Call], ..Default::default() };
        let token = store.issue_token(&draft.validate().unwrap(), "t").await.unwrap().1;
        FanOut { store, bot, token, family }
    }

    /// `POST {base}/bots/bot_fmlst/call/post/new` for `members`; asserts the 200.
    pub async fn call(&self, base: &str, post: usize, members: &[i64]) {
        let answer = reqwest::Client::new()
            .post(format!("{base}/bots/bot_fmlst/call/{ALIAS}"))
            .bearer_auth(&self.token)
            .json(&json!({"postId": post, "userIds": members}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap_or_default());
    }

    /// Waits until every member has a message row and none is pending or
    /// being sent, then reads the outbox.
    pub async fn settle(&self, timeout: Duration) -> Settled {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let rows: Vec<(String, String, String)> = sqlx::query_as("SELECT chat_id, status, last_error FROM outbox WHERE bot_id = $1")
                .bind(self.bot.as_str())
                .fetch_all(self.store.pool())
                .await
                .unwrap();
            let open = rows.iter().filter(|(_, status, _)| status != "sent" && status != "dead").count();
            if (rows.len() >= self.family.len() && open == 0) || std::time::Instant::now() > deadline {
                let mut settled = Settled { rows: rows.len(), open, sent: BTreeSet::new(), dead: BTreeMap::new() };
                for (chat, status, error) in rows {
                    let chat: i64 = chat.parse().unwrap();
                    match status.as_str() {
                        "sent" => assert!(settled.sent.insert(chat), "two sent rows for {chat}"),
                        "dead" => assert!(settled.dead.insert(chat, error).is_none(), "two dead rows for {chat}"),
                        _ => {}
                    }
                }
                return settled;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// What the outbox says after the work is done.
#[derive(Debug)]
pub struct Settled {
    pub rows: usize,
    /// Rows still pending or sending (0 once settled).
    pub open: usize,
    pub sent: BTreeSet<i64>,
    /// chat → reason.
    pub dead: BTreeMap<i64, String>,
}

impl Settled {
    /// "Exactly once" as decided (docs/decisions.md): nobody received the
    /// message twice, every member not dead-lettered received it and is
    /// recorded as sent, and the dead letters are only messages interrupted
    /// mid-send, at most `in_flight_bound` of them. Returns how many were
    /// interrupted.
    pub fn check_exactly_once(&self, telegram: &FakeTelegram, family: &[i64], in_flight_bound: usize) -> usize {
        assert_eq!(self.open, 0, "messages still open: {self:?}");
        assert_eq!(self.rows, family.len(), "one message per member");
        let mut received: BTreeMap<i64, usize> = BTreeMap::new();
        for message in telegram.sent() {
            *received.entry(message.chat_id).or_default() += 1;
        }
        let twice: Vec<_> = received.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "sent twice: {twice:?}");
        for (chat, reason) in &self.dead {
            assert!(reason.starts_with("interrupted"), "dead letter for {chat} is not an interruption: {reason}");
        }
        for member in family {
            let delivered = received.contains_key(member);
            if self.sent.contains(member) {
                assert!(delivered, "{member} recorded as sent but never received");
            } else {
                // An interrupted send may or may not have reached the
                // messenger; either way it is a dead letter, never resent.
                assert!(self.dead.contains_key(member), "{member} neither sent nor dead-lettered");
            }
        }
        assert!(received.keys().all(|chat| family.contains(chat)), "a stranger received a message");
        assert!(self.dead.len() <= in_flight_bound, "{} interrupted > the in-flight bound {in_flight_bound}: {:?}", self.dead.len(), self.dead);
        self.dead.len()
    }
}
