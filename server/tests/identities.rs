//! The identities API and what people send the bot on their own: the
//! business system links, looks up and deactivates identities; a person
//! nobody linked writes in and meets the bot's entry scenario; Telegram
//! redelivering an update does not make the bot answer twice.

mod support;

use comops_core::endpoint::EndpointDraft;
use comops_core::scenario::Scenario;
use comops_core::token::{TokenAction, TokenDraft};
use comops_core::BotId;
use comops_fakes::{FakeTelegram, User};
use serde_json::{json, Value};
use std::time::Duration;
use support::TestServer;

const TOKEN: &str = "123456:FMLST-test-token";

async fn token(store: &comops_core::store::Store, name: &str, actions: Vec<TokenAction>, aliases: &str) -> String {
    let draft = TokenDraft { name: name.into(), actions, aliases: aliases.into(), ..Default::default() };
    store.issue_token(&draft.validate().unwrap(), "admin").await.unwrap().1
}

fn scenario(value: Value) -> Scenario {
    let scenario: Scenario = serde_json::from_value(value).unwrap();
    scenario.validate().unwrap();
    scenario
}

#[tokio::test]
async fn the_crm_links_looks_up_and_deactivates_identities() {
    let telegram = FakeTelegram::start(TOKEN).await;
    let base = telegram.base_url();
    let dir = support::scratch_dir();
    let server = TestServer::start(format!("sqlite://{}/comops.db", dir.display()), dir, &["--demo-bots", "--telegram-api-base", base.as_str()]);
    let store = server.store().await;
    let bot = BotId::parse("bot_fmlst").unwrap();
    store.set_bot_channel(&bot, "telegram", &json!({"token": TOKEN, "webhook_secret": "wh"})).await.unwrap();
    store
        .save_scenario(&bot, &scenario(json!({"name": "new_comment", "start": "s", "steps": [
            {"id": "s", "type": "message", "text": "Новый комментарий к вашему фото", "next": "e"}, {"id": "e", "type": "end"}]})), "", "t")
        .await
        .unwrap();
    let endpoint = EndpointDraft { alias: "comment/new".into(), scenario: "new_comment".into(), enabled: true, ..Default::default() };
    store.create_endpoint(&bot, &endpoint.validate().unwrap()).await.unwrap();
    let crm = token(&store, "Fmlst site", vec![TokenAction::Call], "").await;
    let reader = token(&store, "BI", vec![TokenAction::AdminRead], "").await;
    let narrow = token(&store, "Comments only", vec![TokenAction::Call], "comment/new").await;
    let http = reqwest::Client::new();
    let post = |token: &str, body: Value| http.post(server.url("/bots/bot_fmlst/identities")).bearer_auth(token).json(&body).send();

    // Bad requests name their fields; tokens are checked.
    let bad = post(&crm, json!({"channel": "fax"})).await.unwrap();
    assert_eq!(bad.status(), 422);
    let bad: Value = bad.json().await.unwrap();
    assert_eq!(bad["success"], false);
    let fields: Vec<_> = bad["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect();
    assert_eq!(fields, ["channel", "userId", "chatId"]);
    assert_eq!(post("nope", json!({})).await.unwrap().status(), 401);
    assert_eq!(post(&narrow, json!({"userId": 1, "channel": "telegram", "chatId": 1})).await.unwrap().status(), 403);
    assert_eq!(post(&reader, json!({"userId": 1, "channel": "telegram", "chatId": 1})).await.unwrap().status(), 403);

    // The site links its user 42 to a Telegram chat: the lead is named after it.
    let linked: Value = post(&crm, json!({"userId": 42, "channel": "telegram", "chatId": 7001})).await.unwrap().json().await.unwrap();
    assert_eq!((linked["success"].clone(), linked["leadId"].clone()), (json!(true), json!("TG-7001")));
    // A second address of the same user joins the same lead.
    let second: Value = post(&crm, json!({"userId": 42, "channel": "telegram", "chatId": 7002})).await.unwrap().json().await.unwrap();
    assert_eq!(second["leadId"], "TG-7001");

    let lookup = |query: &'static str| http.get(server.url(&format!("/bots/bot_fmlst/identities?{query}"))).bearer_auth(&reader).send();
    let found: Value = lookup("userId=42").await.unwrap().json().await.unwrap();
    assert_eq!(found["identities"].as_array().unwrap().len(), 2, "{found}");
    assert_eq!(found["identities"][0]["isActive"], true);
    assert_eq!(found["leads"][0]["leadId"], "TG-7001");
    assert_eq!(found["leads"][0]["status"], "active");
    assert_eq!(lookup("userId=42").await.unwrap().status(), 200);
    let denied = http.get(server.url("/bots/bot_fmlst/identities?userId=42")).bearer_auth(&crm).send().await.unwrap();
    assert_eq!(denied.status(), 403, "looking up needs admin_read");

    // A call for user 42 reaches both chats.
    let call = |token: &str| http.post(server.url("/bots/bot_fmlst/call/comment/new")).bearer_auth(token).json(&json!({"userId": 42})).send();
    assert_eq!(call(&crm).await.unwrap().status(), 200);
    let sent = telegram.wait_for_messages(2, Duration::from_secs(10)).await;
    let mut chats: Vec<_> = sent.iter().map(|m| m.chat_id).collect();
    chats.sort();
    assert_eq!(chats, [7001, 7002]);

    // Deactivated, the user is no longer reachable.
    let off: Value = post(&crm, json!({"action": "deactivate", "userId": 42, "channel": "telegram", "chatId": 7002})).await.unwrap().json().await.unwrap();
    assert_eq!(off["deactivated"], 1);
    let off: Value = post(&crm, json!({"action": "deactivate", "userId": 42})).await.unwrap().json().await.unwrap();
    assert_eq!(off["deactivated"], 1);
    let found: Value = lookup("userId=42").await.unwrap().json().await.unwrap();
    assert!(found["identities"].as_array().unwrap().iter().all(|l| l["isActive"] == false), "{found}");
    let accepted: Value = call(&crm).await.unwrap().json().await.unwrap();
    assert_eq!(accepted["recipients"]["unresolved"], json!(["42"]), "{accepted}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(telegram.sent().len(), 2, "nothing more was sent");

    // Past a hundred links, a lookup pages: `more`, and `next` as `before`.
    for n in 0..230 {
        let link = comops_core::store::identities::IdentityLink::telegram(&format!("u{n}"), &format!("TG-9{n:04}"), &format!("9{n:04}"), "import");
        store.link_identity(&bot, &link).await.unwrap();
    }
    let (mut chats, mut before, mut pages) = (Vec::new(), String::new(), 0);
    loop {
        let url = server.url(&format!("/bots/bot_fmlst/identities?channel=telegram&before={before}"));
        let page: Value = http.get(url).bearer_auth(&reader).send().await.unwrap().json().await.unwrap();
        pages += 1;
        chats.extend(page["identities"].as_array().unwrap().iter().map(|l| l["chatId"].as_str().unwrap().to_string()));
        if page["more"] == false {
            assert_eq!(page["next"], Value::Null);
            break;
        }
        before = page["next"].as_str().unwrap().to_string();
    }
    assert_eq!(pages, 3);
    assert_eq!(chats.len(), 232, "the 230 and user 42's two");
    chats.sort();
    chats.dedup();
    assert_eq!(chats.len(), 232, "each link once");
    let bad = http.get(server.url("/bots/bot_fmlst/identities?before=yesterday")).bearer_auth(&reader).send().await.unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(bad.json::<Value>().await.unwrap()["message"], "before must be the next of an earlier page");
}

#[tokio::test]
async fn a_stranger_meets_the_entry_scenario_once_per_update() {
    let telegram = FakeTelegram::start(TOKEN).await;
    let base = telegram.base_url();
    let dir = support::scratch_dir();
    let server = TestServer::start(format!("sqlite://{}/comops.db", dir.display()), dir, &["--demo-bots", "--telegram-api-base", base.as_str()]);
    let store = server.store().await;
    let bot = BotId::parse("bot_helpdesk").unwrap();
    let ops = token(&store, "ops", vec![TokenAction::AdminWrite, TokenAction::AdminRead], "").await;
    let http = reqwest::Client::new();
    let settings = |kind: &'static str, body: Value| http.put(server.url(&format!("/bots/bot_helpdesk/settings/{kind}"))).bearer_auth(&ops).json(&body).send();
    assert_eq!(settings("telegram", json!({"token": TOKEN, "webhook_secret": "wh-help"})).await.unwrap().status(), 200);
    assert_eq!(settings("entry", json!({"scenario": "two words"})).await.unwrap().status(), 422);
    assert_eq!(settings("entry", json!({"scenario": "menu"})).await.unwrap().status(), 200);
    store
        .save_scenario(&bot, &scenario(json!({"name": "menu", "start": "ask", "steps": [
            {"id": "ask", "type": "ask", "prompt": "Здравствуйте! Опишите проблему одной фразой.", "expect": "text", "var": "problem", "next": "thanks"},
            {"id": "thanks", "type": "message", "text": "Заявка принята: {{ vars.problem }}", "next": "tag"},
            {"id": "tag", "type": "set", "add_tags": ["helpdesk"], "attributes": {"last_problem": "{{ vars.problem }}"}, "next": "e"},
            {"id": "e", "type": "end", "goal": "ticket"}]})), "", "t")
        .await
        .unwrap();

    let stranger = User::new(8080, "Пётр");
    let update = serde_json::to_value(telegram.user_sends_text(8080, stranger.clone(), "привет")).unwrap();
    let deliver = |update: Value, secret: &'static str| {
        http.post(server.url("/telegram/bot_helpdesk/webhook")).header("X-Telegram-Bot-Api-Secret-Token", secret).json(&update).send()
    };
    assert_eq!(deliver(update.clone(), "wrong").await.unwrap().status(), 401);
    assert_eq!(deliver(update.clone(), "wh-help").await.unwrap().status(), 200);
    // Telegram did not get our answer in time and delivers it again.
    assert_eq!(deliver(update.clone(), "wh-help").await.unwrap().status(), 200);
    let sent = telegram.wait_for_messages(1, Duration::from_secs(10)).await;
    assert_eq!(sent[0].text, "Здравствуйте! Опишите проблему одной фразой.");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(telegram.sent().len(), 1, "the redelivered update was not handled twice");
    assert_eq!(store.leads_of_user(&bot, "").await.unwrap().len(), 0, "a stranger has no business user");

    let reply = serde_json::to_value(telegram.user_sends_text(8080, stranger, "не работает оплата")).unwrap();
    assert_eq!(deliver(reply, "wh-help").await.unwrap().status(), 200);
    let sent = telegram.wait_for_messages(2, Duration::from_secs(10)).await;
    assert_eq!(sent[1].text, "Заявка принята: не работает оплата");
    // The lead keeps what the scenario learned.
    let mut lead = None;
    for _ in 0..50 {
        lead = store.lead(&bot, "TG-8080").await.unwrap().filter(|l| !l.tags.is_empty());
        if lead.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let lead = lead.expect("the lead was tagged");
    assert_eq!(lead.tags, ["helpdesk"]);
    assert_eq!(lead.attributes["last_problem"], "не работает оплата");
    let found: Value = http.get(server.url("/bots/bot_helpdesk/identities?chatId=8080")).bearer_auth(&ops).send().await.unwrap().json().await.unwrap();
    assert_eq!(found["identities"][0]["source"], "inbound");
    assert_eq!(found["leads"][0]["attributes"]["last_problem"], "не работает оплата");

    // The helpdesk recognises Пётр (the scenario sent it {{ lead.id }}) and
    // links its user to the lead.
    let linked: Value = http
        .post(server.url("/bots/bot_helpdesk/identities"))
        .bearer_auth(&ops)
        .json(&json!({"userId": "hd-77", "leadId": "TG-8080", "source": "helpdesk lookup"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(linked["addresses"], 1, "{linked}");
    assert_eq!(store.leads_of_user(&bot, "hd-77").await.unwrap(), ["TG-8080"]);
    let unknown = http.post(server.url("/bots/bot_helpdesk/identities")).bearer_auth(&ops).json(&json!({"userId": "x", "leadId": "TG-1"})).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn long_polling_brings_replies_without_a_webhook() {
    let telegram = FakeTelegram::start(TOKEN).await;
    let base = telegram.base_url();
    let dir = support::scratch_dir();
    let server = TestServer::start(format!("sqlite://{}/comops.db", dir.display()), dir, &["--demo-bots", "--telegram-api-base", base.as_str()]);
    let store = server.store().await;
    let bot = BotId::parse("bot_helpdesk").unwrap();
    let ops = token(&store, "ops", vec![TokenAction::AdminWrite], "").await;
    let http = reqwest::Client::new();
    let put = |kind: &'static str, body: Value| http.put(server.url(&format!("/bots/bot_helpdesk/settings/{kind}"))).bearer_auth(&ops).json(&body).send();
    assert_eq!(put("telegram", json!({"token": TOKEN, "mode": "sometimes"})).await.unwrap().status(), 422);
    assert_eq!(put("telegram", json!({"token": TOKEN, "mode": "polling"})).await.unwrap().status(), 200, "no webhook secret needed");
    assert_eq!(put("entry", json!({"scenario": "hello"})).await.unwrap().status(), 200);
    store
        .save_scenario(&bot, &scenario(json!({"name": "hello", "start": "s", "steps": [
            {"id": "s", "type": "message", "text": "Здравствуйте, {{ lead.id }}!", "next": "e"}, {"id": "e", "type": "end"}]})), "", "t")
        .await
        .unwrap();
    telegram.user_sends_text(9090, User::new(9090, "Мария"), "добрый день");
    let sent = telegram.wait_for_messages(1, Duration::from_secs(15)).await;
    assert_eq!(sent.first().map(|m| m.text.as_str()), Some("Здравствуйте, TG-9090!"));
    // The update was confirmed (the next getUpdates moved the offset past it).
    let mut pending = usize::MAX;
    for _ in 0..100 {
        pending = telegram.pending_updates();
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(pending, 0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(telegram.sent().len(), 1, "handled once");
}
