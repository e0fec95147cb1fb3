//! The methodology's maps as journeys through the real process, against
//! the fake Bot API: the e-commerce map (thank-you → status → delivered →
//! review) with the demo's own endpoints and scenarios, a Fmlst fan-out to
//! every family member, and a channel that throttles harder than ComOps
//! paces (every message still arrives once, in order).

mod support;

use comops_core::store::identities::IdentityLink;
use comops_core::token::{TokenAction, TokenDraft};
use comops_core::BotId;
use comops_fakes::{FakeTelegram, Limits, User};
use serde_json::{json, Value};
use std::time::Duration;
use support::TestServer;

const TOKEN: &str = "123456:SHOP-test-token";

async fn demo_server(telegram: &FakeTelegram) -> (TestServer, comops_core::store::Store) {
    let base = telegram.base_url();
    let dir = support::scratch_dir();
    let server = TestServer::start(format!("sqlite://{}/comops.db", dir.display()), dir, &["--demo", "--telegram-api-base", base.as_str()]);
    let store = server.store().await;
    (server, store)
}

async fn call_token(store: &comops_core::store::Store, bots: &str) -> String {
    let draft = TokenDraft { name: "CRM".into(), bots: bots.into(), actions: vec![TokenAction::Call], ..Default::default() };
    store.issue_token(&draft.validate().unwrap(), "admin").await.unwrap().1
}

#[tokio::test]
async fn the_e_commerce_map_from_payment_to_review() {
    let telegram = FakeTelegram::start(TOKEN).await;
    telegram.set_limits(Limits::telegram());
    let (server, store) = demo_server(&telegram).await;
    let shop = BotId::parse("bot_shop").unwrap();
    store.set_bot_channel(&shop, "telegram", &json!({"token": TOKEN, "webhook_secret": "wh-shop"})).await.unwrap();
    store.link_identity(&shop, &IdentityLink::telegram("54321", "TG-54321", "54321", "test")).await.unwrap();
    let crm = call_token(&store, "bot_shop").await;
    let http = reqwest::Client::new();
    let call = |alias: &'static str, body: Value| http.post(server.url(&format!("/bots/bot_shop/call/{alias}"))).bearer_auth(&crm).json(&body).send();
    let wait_for = |n: usize| telegram.wait_for_messages(n, Duration::from_secs(10));

    // 1. Payment: the thank-you.
    assert_eq!(call("order/thank-you", json!({"order_id": 9821, "user_id": "54321", "amount": 3500, "status": "paid"})).await.unwrap().status(), 200);
    assert_eq!(wait_for(1).await[0].text, "Спасибо за покупку! Заказ №9821 на 3500 ₽ оплачен.");
    // 2. Shipped.
    assert_eq!(call("order/status", json!({"orderId": 9821, "userId": "54321", "status": "shipped"})).await.unwrap().status(), 200);
    assert_eq!(wait_for(2).await[1].text, "Ваш заказ №9821 отправлен!");
    // 3. Delivered: a rating question with buttons; the person presses 5.
    assert_eq!(call("order/delivered", json!({"orderId": 9821, "userId": "54321"})).await.unwrap().status(), 200);
    let sent = wait_for(3).await;
    assert_eq!(sent[2].text, "Заказ №9821 доставлен. Оцените доставку от 1 до 5");
    assert!(sent[2].reply_markup.as_ref().is_some_and(|m| m.to_string().contains('5')), "rating buttons: {:?}", sent[2].reply_markup);
    let update = telegram.user_sends_text(54321, User::new(54321, "Ирина"), "5");
    let delivered = http
        .post(server.url("/telegram/bot_shop/webhook"))
        .header("X-Telegram-Bot-Api-Secret-Token", "wh-shop")
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(delivered.status(), 200);
    assert_eq!(wait_for(4).await[3].text, "Спасибо за оценку!");
    // 4. The review is in: a bonus, and the lead is tagged.
    assert_eq!(call("order/review", json!({"orderId": 9821, "userId": "54321"})).await.unwrap().status(), 200);
    assert_eq!(wait_for(5).await[4].text, "Спасибо за отзыв о заказе №9821! Мы начислили вам 200 бонусов.");
    let mut tags = Vec::new();
    for _ in 0..50 {
        tags = store.lead(&shop, "TG-54321").await.unwrap().map(|l| l.tags).unwrap_or_default();
        if !tags.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(tags, ["reviewer"]);
    // Every run reached its goal where the map has one.
    let runs = store.runs_of_lead(&shop, "TG-54321", 10).await.unwrap();
    let mut outcomes: Vec<_> = runs.iter().map(|r| (r.scenario.as_str(), r.status.as_str(), r.outcome.as_str())).collect();
    outcomes.sort();
    assert_eq!(
        outcomes,
        [
            ("order_delivered", "done", "reviewed"),
            ("order_review", "done", "bonus_sent"),
            ("order_status", "done", ""),
            ("order_thank_you", "done", "thanked"),
        ]
    );
    assert_eq!(telegram.throttled(), 0);
}

#[tokio::test]
async fn a_new_post_reaches_every_family_member_and_a_throttling_channel_loses_nothing() {
    let telegram = FakeTelegram::start(TOKEN).await;
    // Stricter than Telegram: ComOps paces at 30/s, the fake allows 4/s,
    // so it answers 429 with retry_after and ComOps must wait it out.
    telegram.set_limits(Limits { per_chat_per_sec: 1, global_per_sec: 4, group_per_min: 20, enforce: true });
    let (server, store) = demo_server(&telegram).await;
    let fmlst = BotId::parse("bot_fmlst").unwrap();
    store.set_bot_channel(&fmlst, "telegram", &json!({"token": TOKEN, "webhook_secret": "wh-f"})).await.unwrap();
    let family: Vec<i64> = (1..=12).collect();
    for member in &family {
        store.link_identity(&fmlst, &IdentityLink::telegram(&member.to_string(), &format!("TG-{member}"), &member.to_string(), "test")).await.unwrap();
    }
    let cms = call_token(&store, "bot_fmlst").await;
    let answer: Value = reqwest::Client::new()
        .post(server.url("/bots/bot_fmlst/call/post/new"))
        .bearer_auth(&cms)
        .json(&json!({"postId": 7, "userIds": family}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["success"], true, "{answer}");
    let sent = telegram.wait_for_messages(12, Duration::from_secs(30)).await;
    assert_eq!(sent.len(), 12);
    let mut chats: Vec<i64> = sent.iter().map(|m| m.chat_id).collect();
    chats.sort();
    assert_eq!(chats, family, "each member once");
    assert!(sent.iter().all(|m| m.text == "В семье новое событие: пост №7. Загляните!"));
    assert!(telegram.throttled() > 0, "the fake did throttle");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(telegram.sent().len(), 12, "nothing was sent twice");
    assert!(store.dead_letters(&fmlst, 10, 0).await.unwrap().is_empty(), "throttling is not a failure");
}

#[tokio::test]
async fn a_fan_out_on_one_bot_does_not_hold_up_another_bots_message() {
    // Both bots on the fake's one token; the fake does not throttle, so
    // only ComOps's own pacing (30 msg/s per bot) sets the pace.
    let telegram = FakeTelegram::start(TOKEN).await;
    let (server, store) = demo_server(&telegram).await;
    let fmlst = BotId::parse("bot_fmlst").unwrap();
    let shop = BotId::parse("bot_shop").unwrap();
    store.set_bot_channel(&fmlst, "telegram", &json!({"token": TOKEN, "webhook_secret": "wh-f"})).await.unwrap();
    store.set_bot_channel(&shop, "telegram", &json!({"token": TOKEN, "webhook_secret": "wh-shop"})).await.unwrap();
    let family: Vec<i64> = (7_000_001..=7_000_400).collect();
    for member in &family {
        store.link_identity(&fmlst, &IdentityLink::telegram(&member.to_string(), &format!("TG-{member}"), &member.to_string(), "test")).await.unwrap();
    }
    store.link_identity(&shop, &IdentityLink::telegram("54321", "TG-54321", "54321", "test")).await.unwrap();
    let cms = call_token(&store, "bot_fmlst").await;
    let crm = call_token(&store, "bot_shop").await;
    let http = reqwest::Client::new();
    let fan_out = http.post(server.url("/bots/bot_fmlst/call/post/new")).bearer_auth(&cms).json(&json!({"postId": 8, "userIds": family}));
    assert_eq!(fan_out.send().await.unwrap().status(), 200);
    // 400 messages at 30 a second take 13 s; a second in, the shop's
    // thank-you comes.
    telegram.wait_for_messages(30, Duration::from_secs(20)).await;
    let called = std::time::Instant::now();
    let thank_you = http
        .post(server.url("/bots/bot_shop/call/order/thank-you"))
        .bearer_auth(&crm)
        .json(&json!({"order_id": 77, "user_id": "54321", "amount": 100, "status": "paid"}));
    assert_eq!(thank_you.send().await.unwrap().status(), 200);
    let (waited, family_before) = loop {
        let sent = telegram.sent();
        if sent.iter().any(|m| m.chat_id == 54321) {
            break (called.elapsed(), sent.iter().filter(|m| m.chat_id != 54321).count());
        }
        assert!(called.elapsed() < Duration::from_secs(30), "the shop's message never came");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    eprintln!("the shop's message waited {waited:?}; {family_before} of the family's 400 were sent by then");
    assert!(family_before < 300, "the fan-out was still going ({family_before} of 400 sent)");
    assert!(waited < Duration::from_secs(3), "the shop's message waited {waited:?} behind the family's fan-out");
    // The fan-out itself still completes, once each.
    let sent = telegram.wait_for_messages(401, Duration::from_secs(40)).await;
    assert_eq!(sent.len(), 401);
}

#[tokio::test]
async fn an_ask_that_cannot_be_delivered_takes_its_delivery_failed_branch() {
    let telegram = FakeTelegram::start(TOKEN).await;
    let (server, store) = demo_server(&telegram).await;
    let rehau = BotId::parse("bot_rehau").unwrap();
    store.set_bot_channel(&rehau, "telegram", &json!({"token": TOKEN, "webhook_secret": "wh-r"})).await.unwrap();
    let scenario: comops_core::scenario::Scenario = serde_json::from_value(json!({
        "name": "webinar_feedback", "start": "rate", "steps": [
            {"id": "rate", "type": "ask", "prompt": "Оцените качество обучения от 1 до 5", "expect": "rating", "var": "rating",
             "next": "thanks", "on_delivery_failed": "unreachable"},
            {"id": "thanks", "type": "message", "text": "Спасибо!", "next": "done"},
            {"id": "unreachable", "type": "set", "add_tags": ["unreachable"], "next": "done"},
            {"id": "done", "type": "end"}]
    }))
    .unwrap();
    store.save_scenario(&rehau, &scenario, "on_delivery_failed", "t").await.unwrap();
    store.link_identity(&rehau, &IdentityLink::telegram("125", "TG-125", "125", "test")).await.unwrap();
    telegram.block(125);
    let portal = call_token(&store, "bot_rehau").await;
    let answer = reqwest::Client::new()
        .post(server.url("/bots/bot_rehau/call/events/webinar-feedback"))
        .bearer_auth(&portal)
        .json(&json!({"userId": 125}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let mut lead = None;
    for _ in 0..100 {
        lead = store.lead(&rehau, "TG-125").await.unwrap().filter(|l| l.tags == ["unreachable"]);
        if lead.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let lead = lead.expect("the run took on_delivery_failed and tagged the lead");
    assert_eq!(lead.status, "stopped", "blocked on its only address");
    let runs = store.runs_of_lead(&rehau, "TG-125", 5).await.unwrap();
    assert_eq!(runs[0].status, "done");
}
