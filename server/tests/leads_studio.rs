//! The studio's Leads section over HTTP against the real `comops` process,
//! a fake Telegram Bot API behind it: an admin finds Анна's lead by her CRM
//! id and by her chat id and reads its links, runs and conversation; an
//! operator takes the conversation over, answers by hand (the answer
//! reaches Telegram) and hands it back, while a viewer may do none of it;
//! a message to a chat that blocked the bot dead-letters and, once the
//! chat is unblocked, is re-driven and delivered.

mod support;

use comops_core::endpoint::EndpointDraft;
use comops_core::scenario::Scenario;
use comops_core::store::identities::IdentityLink;
use comops_core::store::Store;
use comops_core::token::{TokenAction, TokenDraft};
use comops_core::BotId;
use comops_fakes::{FakeTelegram, User};
use serde_json::{json, Value};
use std::time::Duration;
use support::{Browser, TestServer, ADMIN_EMAIL, ADMIN_PASSWORD};

const TOKEN: &str = "123456:SHOP-test-token";
const CHAT: i64 = 540278913;
const LEAD: &str = "TG-540278913";
const OPERATOR: &str = "irina@shop.example";
const VIEWER: &str = "viewer@shop.example";
const PASSWORD: &str = "a-long-test-password";

/// A shop bot talking to a fake Telegram, Анна linked as CRM user
/// `crm-125`, an `order/status` endpoint and a token to call it.
struct Shop {
    telegram: FakeTelegram,
    server: TestServer,
    store: Store,
    bot: BotId,
    token: String,
}

impl Shop {
    async fn start() -> Self {
        let telegram = FakeTelegram::start(TOKEN).await;
        let dir = support::scratch_dir();
        let base = telegram.base_url();
        let server = TestServer::start(
            format!("sqlite://{}/comops.db", dir.display()),
            dir,
            &["--demo-bots", "--telegram-api-base", base.as_str()],
        );
        let store = server.store().await;
        let bot = BotId::parse("bot_shop").unwrap();
        store.set_bot_channel(&bot, "telegram", &json!({"token": TOKEN, "webhook_secret": "wh-secret"})).await.unwrap();
        let scenario: Scenario = serde_json::from_value(json!({
            "name": "order_status", "start": "s",
            "steps": [{"id": "s", "type": "message", "text": "Ваш заказ отправлен!", "next": "e"}, {"id": "e", "type": "end", "goal": "informed"}]
        }))
        .unwrap();
        store.save_scenario(&bot, &scenario, "", "t").await.unwrap();
        let endpoint = EndpointDraft { alias: "order/status".into(), scenario: "order_status".into(), enabled: true, ..Default::default() };
        store.create_endpoint(&bot, &endpoint.validate().unwrap()).await.unwrap();
        store.link_identity(&bot, &IdentityLink::telegram("crm-125", LEAD, &CHAT.to_string(), "deep_link")).await.unwrap();
        store.link_identity(&bot, &IdentityLink::telegram("crm-777", "TG-777", "777", "api")).await.unwrap();
        let draft = TokenDraft { name: "Shop CRM".into(), actions: vec![TokenAction::Call], ..Default::default() };
        let token = store.issue_token(&draft.validate().unwrap(), "t").await.unwrap().1;
        Shop { telegram, server, store, bot, token }
    }

    /// The CRM reports the order's status for `user`.
    async fn order_status(&self, user: &str) {
        let response = reqwest::Client::new()
            .post(self.server.url("/bots/bot_shop/call/order/status"))
            .bearer_auth(&self.token)
            .json(&json!({"userId": user}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
    }

    async fn admin(&self) -> Browser {
        let browser = self.server.client();
        assert_eq!(browser.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status(), 200);
        browser
    }

    /// A logged-in studio user with `role`, created with the real CLI.
    async fn user(&self, email: &str, role: &str) -> Browser {
        let output = self.server.cli(&["user", "create", "--email", email, "--role", role, "--password", PASSWORD]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let browser = self.server.client();
        assert_eq!(browser.login(email, PASSWORD).await.status(), 200);
        browser
    }

    async fn audited(&self, action: &str) -> Vec<(String, String)> {
        sqlx::query_as("SELECT actor, detail FROM audit_log WHERE action = $1 ORDER BY at")
            .bind(action)
            .fetch_all(self.store.pool())
            .await
            .unwrap()
    }
}

/// Calls a server function and reads its JSON answer, asserting the status.
async fn call(browser: &Browser, endpoint: &str, form: &[(&str, &str)], status: u16) -> Value {
    let response = browser.call(endpoint, form).await;
    let got = response.status().as_u16();
    let body = response.text().await.unwrap();
    assert_eq!(got, status, "{endpoint}: {body}");
    serde_json::from_str(&body).unwrap_or(Value::String(body))
}

fn lead_ids(page: &Value) -> Vec<String> {
    page["rows"].as_array().unwrap().iter().map(|r| r["lead"]["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn an_admin_finds_a_lead_by_user_and_chat_id_and_reads_its_links_runs_and_conversation() {
    let shop = Shop::start().await;
    // Telegram posts Анна's messages to our webhook.
    support::set_telegram_webhook(&shop.telegram, shop.server.url("/telegram/bot_shop/webhook"), "wh-secret").await;
    shop.order_status("crm-125").await;
    let sent = shop.telegram.wait_for_messages(1, Duration::from_secs(10)).await;
    assert_eq!(sent[0].text, "Ваш заказ отправлен!");
    shop.telegram.user_sends_text(CHAT, User::new(CHAT, "Анна"), "Спасибо!");

    let admin = shop.admin().await;
    for query in ["crm-125", "540278913", LEAD] {
        let page = call(&admin, "leads/search", &[("bot_id", "bot_shop"), ("query", query), ("offset", "0")], 200).await;
        assert_eq!(lead_ids(&page), [LEAD], "search by {query}");
        assert_eq!(page["rows"][0]["channels"], json!([["telegram", true]]));
    }
    let all = call(&admin, "leads/search", &[("bot_id", "bot_shop"), ("query", ""), ("offset", "0")], 200).await;
    assert_eq!(lead_ids(&all).len(), 2);
    assert_eq!(all["more"], false);
    let none = call(&admin, "leads/search", &[("bot_id", "bot_shop"), ("query", "nobody"), ("offset", "0")], 200).await;
    assert!(lead_ids(&none).is_empty());
    let other_bot = call(&admin, "leads/search", &[("bot_id", "bot_rehau"), ("query", "crm-125"), ("offset", "0")], 200).await;
    assert!(lead_ids(&other_bot).is_empty(), "leads belong to one bot");

    // The lead's file: its link, the finished run and both directions.
    let mut detail = Value::Null;
    for _ in 0..200 {
        detail = call(&admin, "leads/detail", &[("bot_id", "bot_shop"), ("lead_id", LEAD)], 200).await;
        if detail["runs"][0]["status"] == "done"
            && detail["conversation"].as_array().unwrap().iter().any(|m| m["direction"] == "in")
            && detail["conversation"][0]["status"] == "sent"
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(detail["lead"]["status"], "active");
    assert_eq!((&detail["older_runs"], &detail["older_messages"]), (&json!(false), &json!(false)), "all of them shown");
    let link = &detail["links"][0];
    assert_eq!((link["user_id"].as_str(), link["chat_id"].as_str(), link["is_active"].as_bool()), (Some("crm-125"), Some("540278913"), Some(true)));
    assert_eq!(detail["runs"][0]["scenario"], "order_status");
    assert_eq!(detail["runs"][0]["outcome"], "informed");
    assert!(!detail["runs"][0]["trace_id"].as_str().unwrap().is_empty());
    let conversation = detail["conversation"].as_array().unwrap();
    assert_eq!(conversation[0]["direction"], "out");
    assert_eq!(conversation[0]["text"], "Ваш заказ отправлен!");
    assert_eq!(conversation[0]["author"], "bot");
    assert_eq!(conversation.last().unwrap()["text"], "Спасибо!");
    let missing = shop.server.client();
    assert_eq!(missing.call("leads/detail", &[("bot_id", "bot_shop"), ("lead_id", LEAD)]).await.status(), 401);

    // Deactivate the one link; the lead can be set active or stopped by hand.
    let form = [("bot_id", "bot_shop"), ("lead_id", LEAD), ("user_id", "crm-125"), ("channel", "telegram"), ("chat_id", "540278913")];
    assert_eq!(call(&admin, "leads/deactivate-link", &form, 200).await, json!(1));
    let detail = call(&admin, "leads/detail", &[("bot_id", "bot_shop"), ("lead_id", LEAD)], 200).await;
    assert_eq!(detail["links"][0]["is_active"], false);
    assert!(shop.store.leads_of_user(&shop.bot, "crm-125").await.unwrap().is_empty());
    // Who, which lead and channel; never the address (sealed at rest).
    let audited = shop.audited("identity.deactivate").await;
    assert_eq!(audited[0].0, ADMIN_EMAIL);
    assert_eq!(audited[0].1, format!("{LEAD} telegram (1)"));
    call(&admin, "leads/status", &[("bot_id", "bot_shop"), ("lead_id", LEAD), ("status", "stopped")], 200).await;
    let page = call(&admin, "leads/search", &[("bot_id", "bot_shop"), ("query", LEAD), ("offset", "0")], 200).await;
    assert_eq!(page["rows"][0]["lead"]["status"], "stopped");
    assert_eq!(page["rows"][0]["channels"], json!([["telegram", false]]));
    let bad = call(&admin, "leads/status", &[("bot_id", "bot_shop"), ("lead_id", LEAD), ("status", "vip")], 400).await;
    assert!(bad.to_string().contains("Invalid"), "{bad}");
}

#[tokio::test]
async fn an_operator_takes_over_replies_and_hands_back_while_a_viewer_may_not() {
    let shop = Shop::start().await;
    let operator = shop.user(OPERATOR, "operator").await;
    let viewer = shop.user(VIEWER, "viewer").await;
    let lead = [("bot_id", "bot_shop"), ("lead_id", LEAD)];

    // A viewer reads but may not act.
    call(&viewer, "leads/queue", &[("bot_id", "bot_shop")], 200).await;
    call(&viewer, "leads/conversation", &lead, 200).await;
    for (endpoint, form) in [
        ("leads/take-over", lead.to_vec()),
        ("leads/reply", vec![("bot_id", "bot_shop"), ("lead_id", LEAD), ("text", "Привет")]),
        ("leads/hand-back", lead.to_vec()),
        ("leads/status", vec![("bot_id", "bot_shop"), ("lead_id", LEAD), ("status", "stopped")]),
        ("leads/deactivate-link", vec![("bot_id", "bot_shop"), ("lead_id", LEAD), ("user_id", "crm-125"), ("channel", "telegram"), ("chat_id", "540278913")]),
    ] {
        assert_eq!(call(&viewer, endpoint, &form, 403).await, json!("Forbidden"), "{endpoint}");
    }
    assert!(shop.telegram.sent().is_empty());

    // The operator takes the conversation: it shows in the queue as theirs.
    call(&operator, "leads/take-over", &lead, 200).await;
    let queue = call(&operator, "leads/queue", &[("bot_id", "bot_shop")], 200).await;
    assert_eq!(queue, json!({"entries": [{"lead_id": LEAD, "operator": OPERATOR, "waiting": false, "since": queue["entries"][0]["since"]}], "total": 1}));
    let empty = call(&operator, "leads/reply", &[("bot_id", "bot_shop"), ("lead_id", LEAD), ("text", "  ")], 400).await;
    assert_eq!(empty, json!({"Invalid": [{"field": "text", "code": "required"}]}));

    // The hand-written answer goes out through Telegram.
    let reply = "Здравствуйте, Анна! Это Ирина, ваш заказ уже в пути.";
    let sent_to = call(&operator, "leads/reply", &[("bot_id", "bot_shop"), ("lead_id", LEAD), ("text", reply)], 200).await;
    assert_eq!(sent_to, json!(1));
    let sent = shop.telegram.wait_for_messages(1, Duration::from_secs(10)).await;
    assert_eq!((sent[0].chat_id, sent[0].text.as_str()), (CHAT, reply));
    let mut conversation = Value::Null;
    for _ in 0..200 {
        conversation = call(&operator, "leads/conversation", &lead, 200).await;
        if conversation["messages"][0]["status"] == "sent" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(conversation["messages"][0]["status"], "sent", "{conversation}");
    assert_eq!(conversation["operator"], OPERATOR);
    assert_eq!(conversation["active_addresses"], 1);
    assert_eq!(conversation["messages"][0]["author"], format!("operator {OPERATOR}"));

    // Handed back: the bot talks again and the queue is empty.
    call(&operator, "leads/hand-back", &lead, 200).await;
    assert_eq!(call(&operator, "leads/queue", &[("bot_id", "bot_shop")], 200).await, json!({"entries": [], "total": 0}));
    assert_eq!(call(&operator, "leads/conversation", &lead, 200).await["operator"], "");
    let actions: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_log WHERE actor = $1 ORDER BY at")
        .bind(OPERATOR)
        .fetch_all(shop.store.pool())
        .await
        .unwrap();
    assert_eq!(actions, ["lead.take_over", "lead.hand_back"]);

    // Replying to a lead the bot holds takes it over first.
    call(&operator, "leads/reply", &[("bot_id", "bot_shop"), ("lead_id", LEAD), ("text", "Ещё вопрос?")], 200).await;
    assert_eq!(call(&operator, "leads/conversation", &lead, 200).await["operator"], OPERATOR);
    let unknown = call(&operator, "leads/take-over", &[("bot_id", "bot_shop"), ("lead_id", "TG-000")], 404).await;
    assert_eq!(unknown, json!("NotFound"));
}

#[tokio::test]
async fn a_dead_letter_is_listed_and_redriven_once_the_chat_unblocks() {
    let shop = Shop::start().await;
    shop.telegram.block(CHAT);
    shop.order_status("crm-125").await;
    support::eventually("the message to dead-letter", || async { shop.store.outbox_counts(&shop.bot).await.unwrap() == [("dead".to_string(), 1)] }).await;

    let admin = shop.admin().await;
    let operator = shop.user(OPERATOR, "operator").await;
    let viewer = shop.user(VIEWER, "viewer").await;
    let page = call(&viewer, "leads/dead-letters", &[("bot_id", "bot_shop"), ("offset", "0")], 200).await;
    let letters = page["letters"].as_array().unwrap();
    assert_eq!(letters.len(), 1);
    let letter = &letters[0];
    assert_eq!((letter["lead_id"].as_str(), letter["channel"].as_str(), letter["text"].as_str()), (Some(LEAD), Some("telegram"), Some("Ваш заказ отправлен!")));
    assert!(letter["last_error"].as_str().unwrap().contains("blocked"), "{letter}");
    assert!(letter["attempts"].is_i64(), "{letter}");
    let id = letter["id"].as_str().unwrap().to_string();
    // The blocked address went inactive and the lead stopped.
    let found = call(&admin, "leads/search", &[("bot_id", "bot_shop"), ("query", "crm-125"), ("offset", "0")], 200).await;
    assert_eq!(found["rows"][0]["lead"]["status"], "stopped");
    assert_eq!(found["rows"][0]["channels"], json!([["telegram", false]]));

    let redrive = [("bot_id", "bot_shop"), ("message_id", id.as_str())];
    assert_eq!(call(&viewer, "leads/redrive", &redrive, 403).await, json!("Forbidden"));
    assert_eq!(call(&admin, "leads/redrive", &[("bot_id", "bot_shop"), ("message_id", "msg_nope")], 404).await, json!("NotFound"));

    // Anna unblocks the bot; the operator re-drives the letter and it arrives.
    shop.telegram.unblock(CHAT);
    call(&operator, "leads/redrive", &redrive, 200).await;
    let sent = shop.telegram.wait_for_messages(1, Duration::from_secs(10)).await;
    assert_eq!((sent[0].chat_id, sent[0].text.as_str()), (CHAT, "Ваш заказ отправлен!"));
    support::eventually("the letter to be sent", || async { shop.store.outbox_counts(&shop.bot).await.unwrap() == [("sent".to_string(), 1)] }).await;
    let page = call(&admin, "leads/dead-letters", &[("bot_id", "bot_shop"), ("offset", "0")], 200).await;
    assert_eq!(page["letters"], json!([]));
    assert_eq!(shop.audited("outbox.redrive").await, [(OPERATOR.to_string(), id.clone())]);
    assert_eq!(shop.store.leads_of_user(&shop.bot, "crm-125").await.unwrap(), [LEAD], "the address is active again");
    // The lead is reachable again: the operator marks it active.
    call(&operator, "leads/status", &[("bot_id", "bot_shop"), ("lead_id", LEAD), ("status", "active")], 200).await;
    let found = call(&admin, "leads/search", &[("bot_id", "bot_shop"), ("query", LEAD), ("offset", "0")], 200).await;
    assert_eq!(found["rows"][0]["lead"]["status"], "active");
    // A second re-drive finds no dead letter.
    assert_eq!(call(&operator, "leads/redrive", &redrive, 404).await, json!("NotFound"));
}

#[tokio::test]
async fn a_call_for_a_lead_an_operator_has_waits_until_the_lead_is_handed_back() {
    let shop = Shop::start().await;
    let operator = shop.user(OPERATOR, "operator").await;
    let lead = [("bot_id", "bot_shop"), ("lead_id", LEAD)];
    call(&operator, "leads/take-over", &lead, 200).await;

    // The CRM's call is accepted (its run is handed to the executor as it
    // is written), but the bot stays out of the operator's conversation;
    // another customer's message goes out meanwhile.
    shop.order_status("crm-125").await;
    shop.order_status("crm-777").await;
    let sent = shop.telegram.wait_for_messages(1, Duration::from_secs(10)).await;
    assert_eq!(sent[0].chat_id, 777);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(shop.telegram.sent().iter().all(|m| m.chat_id != CHAT), "nothing to the lead the operator has: {:?}", shop.telegram.sent());

    // Handed back, the waiting run goes on.
    call(&operator, "leads/hand-back", &lead, 200).await;
    let sent = shop.telegram.wait_for_messages(2, Duration::from_secs(10)).await;
    assert_eq!((sent[1].chat_id, sent[1].text.as_str()), (CHAT, "Ваш заказ отправлен!"));
}

/// The operator's desk, loaded by several operators at once, renders
/// whole every time: its browser-only resources are not drawn on the
/// server, where they kept the page's suspense pending (the tabs never
/// came) and, about one load in ten under concurrency, re-ran it after the
/// desk's owner was gone, so the render panicked ("reactive value already
/// disposed") — a blank studio in the browser.
#[tokio::test]
async fn the_operator_desk_renders_whole_under_concurrent_loads() {
    let shop = Shop::start().await;
    shop.order_status("crm-125").await;
    let operator = std::sync::Arc::new(shop.user(OPERATOR, "operator").await);
    let path = format!("/leads?bot=bot_shop&tab=operator&lead={LEAD}");
    let loads = (0..6).map(|_| {
        let (operator, path) = (operator.clone(), path.clone());
        tokio::spawn(async move {
            let mut cut = 0;
            for _ in 0..15 {
                let response = operator.get(&path).await;
                assert_eq!(response.status(), 200);
                // The bot picker and tabs come in the page's streamed
                // part, which a panic (or a desk that kept the page's
                // suspense pending) never sends.
                if !response.text().await.unwrap_or_default().contains(r#"data-testid="lead-tabs""#) {
                    cut += 1;
                }
            }
            cut
        })
    });
    let mut cut = 0;
    for load in loads {
        cut += load.await.unwrap();
    }
    assert_eq!(cut, 0, "{cut} of 90 pages came without the tabs");
}
