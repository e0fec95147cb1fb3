//! The methodology's full loop «Регистрация нового пользователя» against a
//! fake Telegram Bot API and a fake CRM, through the real `comops` process:
//!
//! CRM creates userId 125 and asks for a deep link → the person presses
//! Start → CRM calls `users/connect-bot` → the bot greets in Telegram and
//! asks for the phone → the person shares the contact → ComOps calls the
//! CRM's `/api/user/confirm` → the CRM activates the profile → «Добро
//! пожаловать, Анна! Ваш личный кабинет активирован.» — one trace id from
//! the CRM's call to the final message.

mod support;

use comops_core::endpoint::EndpointDraft;
use comops_core::scenario::Scenario;
use comops_core::token::{TokenAction, TokenDraft};
use comops_core::trace::TraceFilter;
use comops_core::BotId;
use comops_fakes::{FakeCrm, FakeTelegram, Limits, User};
use serde_json::{json, Value};
use std::time::Duration;
use support::TestServer;

const TOKEN: &str = "123456:REHAU-test-token";
const CHAT: i64 = 540278913;

#[tokio::test]
async fn registration_of_a_new_user_end_to_end() {
    let telegram = FakeTelegram::start(TOKEN).await;
    telegram.set_limits(Limits::telegram());
    let crm = FakeCrm::start().await;
    crm.respond("POST", "/api/user/confirm", 200, json!({"userId": 125, "name": "Анна", "active": true}));

    let dir = support::scratch_dir();
    let base = telegram.base_url();
    let server = TestServer::start(
        format!("sqlite://{}/comops.db", dir.display()),
        dir,
        &["--demo-bots", "--telegram-api-base", base.as_str()],
    );
    let store = server.store().await;
    let bot = BotId::parse("bot_rehau").unwrap();
    let draft = TokenDraft { name: "ops".into(), bots: "bot_rehau".into(), actions: vec![TokenAction::AdminWrite], ..Default::default() };
    let ops = store.issue_token(&draft.validate().unwrap(), "admin").await.unwrap().1;
    let settings = |kind: &'static str, body: Value| {
        reqwest::Client::new().put(server.url(&format!("/bots/bot_rehau/settings/{kind}"))).bearer_auth(&ops).json(&body).send()
    };
    let bad = settings("telegram", json!({"token": "nope", "webhook_secret": "wh-secret-1"})).await.unwrap();
    assert_eq!(bad.status(), 422);
    let saved: Value = settings("telegram", json!({"token": TOKEN, "webhook_secret": "wh-secret-1"})).await.unwrap().json().await.unwrap();
    assert_eq!(saved["keys"], json!(["token", "webhook_secret"]));
    assert!(!saved.to_string().contains(TOKEN), "the token is never echoed");
    let saved = settings("secrets", json!({"crm_url": crm.base_url()})).await.unwrap();
    assert_eq!(saved.status(), 200);
    let scenario: Scenario = serde_json::from_value(json!({
        "name": "registration_flow",
        "start": "greet",
        "steps": [
            {"id": "greet", "type": "message", "text": "Здравствуйте! Чтобы продолжить, авторизуйтесь.", "next": "phone"},
            {"id": "phone", "type": "ask", "prompt": "Подтвердите ваш номер телефона кнопкой ниже.", "expect": "contact", "var": "phone",
             "reask": "Нажмите кнопку «Поделиться номером», пожалуйста.", "next": "confirm"},
            {"id": "confirm", "type": "http", "method": "POST", "url": "{{ secrets.crm_url }}/api/user/confirm",
             "body": "{\"userId\": \"{{ params.userId }}\", \"phone\": \"{{ vars.phone }}\"}", "save_as": "crm", "next": "welcome", "on_error": "sorry"},
            {"id": "welcome", "type": "message", "text": "Добро пожаловать, {{ vars.crm.json.name }}! Ваш личный кабинет активирован.", "next": "done"},
            {"id": "sorry", "type": "message", "text": "Не получилось активировать кабинет.", "next": "failed"},
            {"id": "done", "type": "end", "goal": "registered"},
            {"id": "failed", "type": "end"}
        ]
    }))
    .unwrap();
    scenario.validate().unwrap();
    store.save_scenario(&bot, &scenario, "v1", "architect").await.unwrap();
    let endpoint = EndpointDraft { alias: "users/connect-bot".into(), scenario: "registration_flow".into(), enabled: true, ..Default::default() };
    store.create_endpoint(&bot, &endpoint.validate().unwrap()).await.unwrap();
    let draft = TokenDraft { name: "REHAU portal".into(), bots: "bot_rehau".into(), actions: vec![TokenAction::Call], ..Default::default() };
    let portal = store.issue_token(&draft.validate().unwrap(), "admin").await.unwrap().1;
    let http = reqwest::Client::new();

    // Telegram will deliver updates to our webhook with the secret.
    support::set_telegram_webhook(&telegram, server.url("/telegram/bot_rehau/webhook"), "wh-secret-1").await;

    // 1. The CRM asks for a deep link for userId 125; the person presses Start.
    let link: Value = http
        .post(server.url("/bots/bot_rehau/links"))
        .bearer_auth(&portal)
        .json(&json!({"userId": 125}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = link["code"].as_str().unwrap().to_string();
    assert_eq!(link["url"], format!("https://t.me/rehau_installers_bot?start={code}"));
    let anna = User::new(CHAT, "Анна");
    telegram.user_starts(CHAT, anna.clone(), &code);
    let mut linked = false;
    for _ in 0..100 {
        if store.leads_of_user(&bot, "125").await.unwrap() == ["TG-540278913"] {
            linked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(linked, "the Start with the code linked userId 125 to the chat");

    // 2. The CRM reports the registration.
    let call: Value = http
        .post(server.url("/bots/bot_rehau/call/users/connect-bot"))
        .bearer_auth(&portal)
        .header("X-Source-System", "REHAU Portal")
        .json(&json!({"script_request_params": {"userId": 125}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(call["success"], true, "{call}");
    let trace_id = call["trace_id"].as_str().unwrap().to_string();

    // 3. The greeting and the contact request arrive in Telegram, in order.
    let sent = telegram.wait_for_messages(2, Duration::from_secs(10)).await;
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[0].text, "Здравствуйте! Чтобы продолжить, авторизуйтесь.");
    assert_eq!(sent[1].text, "Подтвердите ваш номер телефона кнопкой ниже.");
    assert!(sent[1].reply_markup.as_ref().is_some_and(|m| m.to_string().contains("request_contact")), "{:?}", sent[1].reply_markup);
    assert!(sent[1].at.duration_since(sent[0].at) >= Duration::from_millis(900), "1 message per second per chat");

    // 4. A typed number is not a shared contact: re-ask. Then Anna shares it.
    telegram.user_sends_text(CHAT, anna.clone(), "79187777777");
    let sent = telegram.wait_for_messages(3, Duration::from_secs(10)).await;
    assert_eq!(sent[2].text, "Нажмите кнопку «Поделиться номером», пожалуйста.");
    telegram.user_shares_contact(CHAT, anna.clone(), "+79187777777", "Анна");

    // 5. ComOps confirms with the CRM and welcomes Anna by the CRM's name.
    let requests = crm.wait_for_requests(1, Duration::from_secs(10)).await;
    assert_eq!(requests[0].path, "/api/user/confirm");
    assert_eq!(requests[0].body, json!({"userId": "125", "phone": "+79187777777"}));
    let sent = telegram.wait_for_messages(4, Duration::from_secs(10)).await;
    assert_eq!(sent[3].text, "Добро пожаловать, Анна! Ваш личный кабинет активирован.");
    assert_eq!(telegram.throttled(), 0, "paced below Telegram's limits");

    // 6. One trace shows the whole loop.
    let mut hops = Vec::new();
    for _ in 0..50 {
        hops = store
            .list_traces(&TraceFilter { trace_id: trace_id.clone(), limit: Some(100), ..Default::default() })
            .await
            .unwrap()
            .into_iter()
            .rev()
            .map(|t| t.step)
            .collect::<Vec<_>>();
        if hops.last().map(String::as_str) == Some("scenario.end") && hops.iter().filter(|h| *h == "messenger.send").count() == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for hop in ["api.call", "scenario.message", "messenger.send", "user.reply", "callback.http", "scenario.end"] {
        assert!(hops.iter().any(|h| h == hop), "{hop} missing from {hops:?}");
    }
    assert_eq!(hops.first().map(String::as_str), Some("api.call"));
}

/// The demo bots' server against a fresh fake Telegram, the shop's bot on
/// it with `webhook_secret`.
async fn shop_on_telegram(webhook_secret: &str) -> (FakeTelegram, TestServer, comops_core::store::Store, BotId) {
    shop_on_telegram_with(webhook_secret, &[]).await
}

/// [`shop_on_telegram`] with more `serve` flags.
async fn shop_on_telegram_with(webhook_secret: &str, flags: &[&str]) -> (FakeTelegram, TestServer, comops_core::store::Store, BotId) {
    let telegram = FakeTelegram::start(TOKEN).await;
    let dir = support::scratch_dir();
    let base = telegram.base_url();
    let mut args = vec!["--demo-bots", "--telegram-api-base", base.as_str()];
    args.extend_from_slice(flags);
    let server = TestServer::start(format!("sqlite://{}/comops.db", dir.display()), dir, &args);
    let store = server.store().await;
    let bot = BotId::parse("bot_shop").unwrap();
    store.set_bot_channel(&bot, "telegram", &json!({"token": TOKEN, "webhook_secret": webhook_secret})).await.unwrap();
    (telegram, server, store, bot)
}

/// Endpoint `alias` of the shop bot starts a scenario of one message,
/// `text`; the business system calls it for user 125 (Telegram chat 125).
async fn one_message_to_125(server: &TestServer, store: &comops_core::store::Store, bot: &BotId, alias: &str, text: &str) {
    let name = alias.replace('/', "_");
    let scenario: Scenario = serde_json::from_value(json!({
        "name": name, "start": "s",
        "steps": [{"id": "s", "type": "message", "text": text, "next": "e"}, {"id": "e", "type": "end"}]
    }))
    .unwrap();
    store.save_scenario(bot, &scenario, "", "t").await.unwrap();
    let endpoint = EndpointDraft { alias: alias.into(), scenario: name, enabled: true, ..Default::default() };
    store.create_endpoint(bot, &endpoint.validate().unwrap()).await.unwrap();
    call_for_user(server, store, bot, alias, 125).await;
}

/// The business system calls endpoint `alias` for `user` (linked to the
/// Telegram chat of the same number).
async fn call_for_user(server: &TestServer, store: &comops_core::store::Store, bot: &BotId, alias: &str, user: i64) {
    let (user, lead) = (user.to_string(), format!("TG-{user}"));
    let link = comops_core::store::identities::IdentityLink::telegram(&user, &lead, &user, "test");
    store.link_identity(bot, &link).await.unwrap();
    let draft = TokenDraft { name: format!("Shop for {user}"), actions: vec![TokenAction::Call], ..Default::default() };
    let token = store.issue_token(&draft.validate().unwrap(), "t").await.unwrap().1;
    let response = reqwest::Client::new()
        .post(server.url(&format!("/bots/{bot}/call/{alias}")))
        .bearer_auth(&token)
        .json(&json!({"userId": user.parse::<i64>().unwrap()}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_blocked_bot_dead_letters_and_deactivates_the_address() {
    let (telegram, server, store, bot) = shop_on_telegram("x").await;
    telegram.block(125);
    one_message_to_125(&server, &store, &bot, "order/status", "Ваш заказ отправлен!").await;
    support::eventually("the message to dead-letter", || async { store.outbox_counts(&bot).await.unwrap() == [("dead".to_string(), 1)] }).await;
    assert!(store.leads_of_user(&bot, "125").await.unwrap().is_empty(), "the blocked address is inactive");

    // The business system calls again: the answer says at once who is
    // out of reach because every address is inactive, and who is unknown.
    let draft = TokenDraft { name: "Shop again".into(), actions: vec![TokenAction::Call], ..Default::default() };
    let token = store.issue_token(&draft.validate().unwrap(), "t").await.unwrap().1;
    let call = |body: serde_json::Value| {
        let (url, token) = (server.url(&format!("/bots/{bot}/call/order/status")), token.clone());
        async move {
            let response = reqwest::Client::new().post(url).bearer_auth(token).json(&body).send().await.unwrap();
            (response.status().as_u16(), response.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (status, answer) = call(json!({"userId": 125})).await;
    assert_eq!((status, &answer["message"]), (200, &json!("Nobody reached: every recipient has blocked the bot or was deactivated")), "{answer}");
    assert_eq!((&answer["recipients"]["unresolved"], &answer["recipients"]["inactive"]), (&json!(["125"]), &json!(["125"])), "{answer}");
    let (_, answer) = call(json!({"leadId": "TG-125"})).await;
    assert_eq!(answer["recipients"]["inactive"], json!(["TG-125"]), "a lead id too: {answer}");
    let (_, answer) = call(json!({"userIds": [125, 999]})).await;
    assert_eq!(answer["message"], "Nobody reached: no recipient has an active address on this bot", "{answer}");
    assert_eq!((&answer["recipients"]["unresolved"], &answer["recipients"]["inactive"]), (&json!(["125", "999"]), &json!(["125"])), "{answer}");
    let (_, answer) = call(json!({"userId": 999})).await;
    assert!(answer["recipients"].get("inactive").is_none(), "never linked is not inactive: {answer}");
    assert_eq!(store.outbox_counts(&bot).await.unwrap(), [("dead".to_string(), 1)], "nothing more was queued");
}

/// A person who blocked the bot and then writes to it again is reachable
/// again: the address is active, the lead no longer `stopped`, and the bot
/// answers — it used to keep the address inactive, so the person's own
/// message went unanswered ("no active channel address").
#[tokio::test]
async fn a_person_who_unblocks_the_bot_and_writes_is_answered_again() {
    let (telegram, server, store, bot) = shop_on_telegram("wh-shop").await;
    support::set_telegram_webhook(&telegram, server.url("/telegram/bot_shop/webhook"), "wh-shop").await;
    let menu: Scenario = serde_json::from_value(json!({
        "name": "menu", "start": "m",
        "steps": [{"id": "m", "type": "message", "text": "Чем помочь?", "next": "e"}, {"id": "e", "type": "end"}]
    }))
    .unwrap();
    store.save_scenario(&bot, &menu, "", "t").await.unwrap();
    store.set_bot_channel(&bot, "entry", &json!({"scenario": "menu"})).await.unwrap();
    telegram.block(125);
    one_message_to_125(&server, &store, &bot, "order/status", "Ваш заказ отправлен!").await;
    support::eventually("the message to dead-letter", || async { store.outbox_counts(&bot).await.unwrap() == [("dead".to_string(), 1)] }).await;
    assert_eq!(store.lead(&bot, "TG-125").await.unwrap().unwrap().status, "stopped");

    telegram.unblock(125);
    telegram.user_sends_text(125, User::new(125, "Анна"), "Здравствуйте");
    let sent = telegram.wait_for_messages(1, Duration::from_secs(10)).await;
    assert_eq!(sent.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), ["Чем помочь?"], "the entry scenario answers");
    assert_eq!(store.leads_of_user(&bot, "125").await.unwrap(), ["TG-125"], "the address is active again");
    assert_eq!(store.lead(&bot, "TG-125").await.unwrap().unwrap().status, "active");
}

/// An endpoint that asks to hear of a block (`on_blocked`) gets it: the
/// person blocked the bot, so the run's message dead-letters, and the
/// endpoint's report scenario calls the CRM once, with the call's
/// `userId`, in the call's trace.
#[tokio::test]
async fn a_blocked_bot_is_reported_to_the_business_system_when_the_endpoint_asks() {
    let (telegram, server, store, bot) = shop_on_telegram("x").await;
    let crm = FakeCrm::start().await;
    crm.respond("POST", "/api/bot/blocked", 200, json!({"ok": true}));
    store.set_bot_channel(&bot, "secrets", &json!({"crm_url": crm.base_url()})).await.unwrap();
    let report: Scenario = serde_json::from_value(json!({
        "name": "report_blocked", "start": "tell",
        "steps": [
            {"id": "tell", "type": "http", "method": "POST", "url": "{{ secrets.crm_url }}/api/bot/blocked",
             "body": "{\"userId\": \"{{ params.userId }}\", \"status\": \"{{ lead.status }}\"}", "save_as": "crm", "next": "e"},
            {"id": "e", "type": "end"}
        ]
    }))
    .unwrap();
    report.validate().unwrap();
    store.save_scenario(&bot, &report, "", "t").await.unwrap();
    let notice: Scenario = serde_json::from_value(json!({
        "name": "order_notice", "start": "a",
        "steps": [
            {"id": "a", "type": "message", "text": "Заказ отправлен.", "next": "b"},
            {"id": "b", "type": "message", "text": "Трек-номер придёт отдельно.", "next": "e"},
            {"id": "e", "type": "end"}
        ]
    }))
    .unwrap();
    store.save_scenario(&bot, &notice, "", "t").await.unwrap();
    for (alias, on_blocked) in [("order/shipped", "report_blocked"), ("order/status", "")] {
        let endpoint = EndpointDraft { alias: alias.into(), scenario: "order_notice".into(), on_blocked: on_blocked.into(), enabled: true, ..Default::default() };
        store.create_endpoint(&bot, &endpoint.validate().unwrap()).await.unwrap();
    }
    telegram.block(125);
    call_for_user(&server, &store, &bot, "order/shipped", 125).await;
    let requests = crm.wait_for_requests(1, Duration::from_secs(10)).await;
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!((requests[0].method.as_str(), requests[0].path.as_str()), ("POST", "/api/bot/blocked"));
    assert_eq!(requests[0].body, json!({"userId": "125", "status": "stopped"}), "the call's params and the lead as it is now");
    let trace_id = requests[0].header("traceparent").and_then(|t| t.split('-').nth(1)).unwrap_or_default().to_string();
    let traces = store.list_traces(&TraceFilter { trace_id: trace_id.clone(), limit: Some(100), ..Default::default() }).await.unwrap();
    let steps: Vec<&str> = traces.iter().map(|t| t.step.as_str()).collect();
    assert!(steps.contains(&"api.call") && steps.contains(&"report.blocked"), "one trace from the call to the report: {steps:?}");

    // An endpoint that does not ask: the block is not reported. The
    // person unblocks and blocks again, so the address is live to find out.
    let link = comops_core::store::identities::IdentityLink::telegram("125", "TG-125", "125", "test");
    store.link_identity(&bot, &link).await.unwrap();
    call_for_user(&server, &store, &bot, "order/status", 125).await;
    support::eventually("the second call's messages to dead-letter", || async {
        store.outbox_counts(&bot).await.unwrap() == [("dead".to_string(), 4)]
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(crm.requests().len(), 1, "only the endpoint that asks is told");
}

/// The person blocks the bot while a run waits between two messages; a
/// message of another endpoint finds out (and that endpoint does not ask
/// to hear). When the waiting run comes to its next message the lead has
/// no active address: its endpoint, which asks, hears of the block once,
/// in the same trace, though no message of that run met the 403.
#[tokio::test]
async fn a_run_that_finds_its_lead_blocked_since_its_call_reports_it() {
    let (telegram, server, store, bot) = shop_on_telegram("x").await;
    let crm = FakeCrm::start().await;
    crm.respond("POST", "/api/bot/blocked", 200, json!({"ok": true}));
    store.set_bot_channel(&bot, "secrets", &json!({"crm_url": crm.base_url()})).await.unwrap();
    let scenarios = [
        json!({"name": "report_blocked", "start": "tell", "steps": [
            {"id": "tell", "type": "http", "method": "POST", "url": "{{ secrets.crm_url }}/api/bot/blocked",
             "body": "{\"userId\": \"{{ params.userId }}\"}", "save_as": "crm", "next": "e"},
            {"id": "e", "type": "end"}]}),
        json!({"name": "delivery_notice", "start": "a", "steps": [
            {"id": "a", "type": "message", "text": "Заказ собран.", "next": "pause"},
            {"id": "pause", "type": "wait", "seconds": 3, "next": "b"},
            {"id": "b", "type": "message", "text": "Курьер выехал.", "next": "c"},
            {"id": "c", "type": "message", "text": "Курьер у двери.", "next": "e"},
            {"id": "e", "type": "end"}]}),
        json!({"name": "survey", "start": "q", "steps": [
            {"id": "q", "type": "message", "text": "Оцените покупку.", "next": "e"}, {"id": "e", "type": "end"}]}),
    ];
    for scenario in scenarios {
        let scenario: Scenario = serde_json::from_value(scenario).unwrap();
        scenario.validate().unwrap();
        store.save_scenario(&bot, &scenario, "", "t").await.unwrap();
    }
    for (alias, scenario, on_blocked) in [("order/delivery", "delivery_notice", "report_blocked"), ("order/survey", "survey", "")] {
        let endpoint = EndpointDraft { alias: alias.into(), scenario: scenario.into(), on_blocked: on_blocked.into(), enabled: true, ..Default::default() };
        store.create_endpoint(&bot, &endpoint.validate().unwrap()).await.unwrap();
    }
    call_for_user(&server, &store, &bot, "order/delivery", 125).await;
    assert_eq!(telegram.wait_for_messages(1, Duration::from_secs(10)).await.len(), 1, "the first message goes out");
    telegram.block(125);
    call_for_user(&server, &store, &bot, "order/survey", 125).await;
    support::eventually("the survey to meet the block", || async { store.outbox_counts(&bot).await.unwrap().contains(&("dead".to_string(), 1)) }).await;
    assert!(crm.requests().is_empty(), "the survey's endpoint does not ask");

    let requests = crm.wait_for_requests(1, Duration::from_secs(10)).await;
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].body, json!({"userId": "125"}));
    let trace_id = requests[0].header("traceparent").and_then(|t| t.split('-').nth(1)).unwrap_or_default().to_string();
    let traces = store.list_traces(&TraceFilter { trace_id, limit: Some(100), ..Default::default() }).await.unwrap();
    let hops: Vec<(&str, &str, &str)> = traces.iter().map(|t| (t.step.as_str(), t.endpoint.as_str(), t.detail.as_str())).collect();
    assert!(hops.iter().any(|(step, endpoint, _)| *step == "api.call" && *endpoint == "order/delivery"), "the delivery call's trace: {hops:?}");
    assert!(
        hops.iter().any(|(step, endpoint, detail)| *step == "scenario.message" && *endpoint == "delivery_notice/b" && detail.contains("blocked on telegram")),
        "{hops:?}"
    );
    assert!(hops.iter().any(|(step, _, _)| *step == "report.blocked"), "{hops:?}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(crm.requests().len(), 1, "reported once, though two messages found no address");
    assert_eq!(telegram.sent_to(125).len(), 1, "nothing more was sent");
}

/// A text too long for one Telegram message goes in two parts; the Bot
/// API fails between them: the retry sends the second part only, so the
/// person reads every part once.
#[tokio::test]
async fn a_split_message_cut_off_by_an_outage_is_finished_without_repeating_a_part() {
    let (telegram, server, store, bot) = shop_on_telegram("x").await;
    let text = format!("{}{}", "Условия доставки. ".repeat(220), "Порядок возврата. ".repeat(220));
    // The first part goes out, the second meets a 502.
    telegram.fail_after(1, 1, 502);
    one_message_to_125(&server, &store, &bot, "order/terms", &text).await;
    support::eventually("the message to be sent", || async { store.outbox_counts(&bot).await.unwrap() == [("sent".to_string(), 1)] }).await;
    let sent = telegram.sent_to(125);
    assert_eq!(sent.len(), 2, "two parts, each once");
    let joined = format!("{} {}", sent[0].text, sent[1].text);
    assert!(joined.split_whitespace().eq(text.split_whitespace()), "the parts are the text, word for word");
}

/// Telegram asks the bot to pause (429, `retry_after` 2 s) on one chat's
/// message: the bot's other messages wait out the pause too, instead of
/// meeting the same 429 (the bot sends one message a second here, so the
/// second chat's turn would come after 1 s).
#[tokio::test]
async fn a_429_holds_every_message_of_the_bot_until_its_retry_after() {
    let (telegram, server, store, bot) = shop_on_telegram_with("x", &["--channel-limits", "telegram=1/1"]).await;
    telegram.throttle_next(2);
    let called = std::time::Instant::now();
    one_message_to_125(&server, &store, &bot, "order/sale", "Распродажа до пятницы").await;
    call_for_user(&server, &store, &bot, "order/sale", 126).await;
    let sent = telegram.wait_for_messages(2, Duration::from_secs(10)).await;
    assert_eq!(sent.len(), 2, "both delivered after the pause");
    for message in &sent {
        assert!(message.at.duration_since(called) >= Duration::from_millis(1_900), "chat {} got its message before the pause ended", message.chat_id);
    }
}

#[tokio::test]
async fn the_webhook_refuses_a_wrong_secret() {
    let dir = support::scratch_dir();
    let server = TestServer::start(format!("sqlite://{}/comops.db", dir.display()), dir, &["--demo-bots"]);
    let store = server.store().await;
    store.set_bot_channel(&BotId::parse("bot_shop").unwrap(), "telegram", &json!({"token": TOKEN, "webhook_secret": "right"})).await.unwrap();
    let http = reqwest::Client::new();
    let update = json!({"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "hi"}});
    for secret in ["wrong", ""] {
        let response = http
            .post(server.url("/telegram/bot_shop/webhook"))
            .header("X-Telegram-Bot-Api-Secret-Token", secret)
            .json(&update)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
    }
    let response = http.post(server.url("/telegram/bot_shop/webhook")).header("X-Telegram-Bot-Api-Secret-Token", "right").json(&update).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_run_waiting_across_a_kill_9_resumes_and_sends_nothing_twice() {
    let telegram = FakeTelegram::start(TOKEN).await;
    let dir = support::scratch_dir();
    let url = format!("sqlite://{}/comops.db", dir.display());
    let base = telegram.base_url();
    let lease = ["--send-lease-ms", "2000"];
    let mut server = TestServer::start(url.clone(), dir.clone(), &["--demo-bots", "--telegram-api-base", base.as_str(), lease[0], lease[1]]);
    let store = server.store().await;
    let bot = BotId::parse("bot_rehau").unwrap();
    store.set_bot_channel(&bot, "telegram", &json!({"token": TOKEN, "webhook_secret": "x"})).await.unwrap();
    let scenario: Scenario = serde_json::from_value(json!({
        "name": "webinar_reminder", "start": "soon",
        "steps": [
            {"id": "soon", "type": "message", "text": "Вебинар «Монтаж RAUTHERM» скоро начнётся.", "next": "pause"},
            {"id": "pause", "type": "wait", "seconds": 2, "next": "now"},
            {"id": "now", "type": "message", "text": "Вебинар начинается! Подключайтесь.", "next": "done"},
            {"id": "done", "type": "end", "goal": "reminded"}
        ]
    }))
    .unwrap();
    store.save_scenario(&bot, &scenario, "", "t").await.unwrap();
    let endpoint = EndpointDraft { alias: "events/webinar-reminder".into(), scenario: "webinar_reminder".into(), enabled: true, ..Default::default() };
    store.create_endpoint(&bot, &endpoint.validate().unwrap()).await.unwrap();
    store.link_identity(&bot, &comops_core::store::identities::IdentityLink::telegram("125", "TG-125", "125", "test")).await.unwrap();
    let draft = TokenDraft { name: "Portal".into(), actions: vec![TokenAction::Call], ..Default::default() };
    let token = store.issue_token(&draft.validate().unwrap(), "t").await.unwrap().1;
    let response = reqwest::Client::new()
        .post(server.url("/bots/bot_rehau/call/events/webinar-reminder"))
        .bearer_auth(&token)
        .json(&json!({"userId": 125}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let sent = telegram.wait_for_messages(1, Duration::from_secs(10)).await;
    assert_eq!(sent.len(), 1);

    // The process dies during the wait and comes back on the same database.
    server.kill9();
    let restarted = TestServer::start(url, dir, &["--telegram-api-base", base.as_str(), lease[0], lease[1]]);
    let sent = telegram.wait_for_messages(2, Duration::from_secs(15)).await;
    assert_eq!(sent.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), [
        "Вебинар «Монтаж RAUTHERM» скоро начнётся.",
        "Вебинар начинается! Подключайтесь."
    ]);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(telegram.sent().len(), 2, "nothing was sent twice, even a message in flight at the kill");
    drop(restarted);
}

/// A reply goes to the run that asked for it, not to a newer run of the
/// same person paused in a `wait` step: a rating asked for after delivery
/// beside a pickup reminder that waits ten minutes.
#[tokio::test]
async fn a_reply_goes_to_the_run_that_asked_not_to_one_in_a_wait() {
    let (telegram, server, store, bot) = shop_on_telegram("wh-secret-2").await;
    let scenarios = [
        json!({"name": "rate_delivery", "start": "rate", "steps": [
            {"id": "rate", "type": "ask", "prompt": "Оцените доставку от 1 до 5", "expect": "rating", "var": "rating", "next": "thanks"},
            {"id": "thanks", "type": "message", "text": "Спасибо за оценку {{ vars.rating }}!", "next": "done"},
            {"id": "done", "type": "end", "goal": "rated"}
        ]}),
        json!({"name": "pickup_reminder", "start": "ready", "steps": [
            {"id": "ready", "type": "message", "text": "Заказ ждёт вас в пункте выдачи.", "next": "pause"},
            {"id": "pause", "type": "wait", "seconds": 600, "next": "again"},
            {"id": "again", "type": "message", "text": "Напоминаем: заказ ждёт вас.", "next": "done"},
            {"id": "done", "type": "end"}
        ]}),
    ];
    for (scenario, alias) in scenarios.into_iter().zip(["order/delivered", "order/ready"]) {
        let scenario: Scenario = serde_json::from_value(scenario).unwrap();
        scenario.validate().unwrap();
        store.save_scenario(&bot, &scenario, "", "t").await.unwrap();
        let endpoint = EndpointDraft { alias: alias.into(), scenario: scenario.name.clone(), enabled: true, ..Default::default() };
        store.create_endpoint(&bot, &endpoint.validate().unwrap()).await.unwrap();
    }
    store.link_identity(&bot, &comops_core::store::identities::IdentityLink::telegram("125", "TG-540278913", &CHAT.to_string(), "test")).await.unwrap();
    let draft = TokenDraft { name: "Shop".into(), actions: vec![TokenAction::Call], ..Default::default() };
    let token = store.issue_token(&draft.validate().unwrap(), "t").await.unwrap().1;
    let http = reqwest::Client::new();
    support::set_telegram_webhook(&telegram, server.url("/telegram/bot_shop/webhook"), "wh-secret-2").await;

    // The rating is asked for; then the reminder run starts and pauses.
    let call = |alias: &'static str| http.post(server.url(&format!("/bots/bot_shop/call/{alias}"))).bearer_auth(&token).json(&json!({"userId": 125})).send();
    assert_eq!(call("order/delivered").await.unwrap().status(), 200);
    assert_eq!(telegram.wait_for_messages(1, Duration::from_secs(10)).await.len(), 1);
    assert_eq!(call("order/ready").await.unwrap().status(), 200);
    let sent = telegram.wait_for_messages(2, Duration::from_secs(10)).await;
    assert_eq!(sent.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), ["Оцените доставку от 1 до 5", "Заказ ждёт вас в пункте выдачи."]);

    // The person answers «5»: the run that asked takes it.
    telegram.user_sends_text(CHAT, User::new(CHAT, "Анна"), "5");
    let sent = telegram.wait_for_messages(3, Duration::from_secs(10)).await;
    assert_eq!(sent.get(2).map(|m| m.text.as_str()), Some("Спасибо за оценку 5!"), "{sent:?}");
    let statuses = || async {
        sqlx::query_as::<_, (String, String)>("SELECT scenario, status FROM runs WHERE lead_id = 'TG-540278913' ORDER BY scenario")
            .fetch_all(store.pool())
            .await
            .unwrap()
    };
    support::eventually("the rating run to end", || async { statuses().await.get(1).is_some_and(|(_, status)| status == "done") }).await;
    assert_eq!(statuses().await, [("pickup_reminder".to_string(), "waiting".to_string()), ("rate_delivery".to_string(), "done".to_string())], "the reminder still waits for its time");
}

/// A run paused in a `wait` keeps its wake time when an input it does not
/// wait for comes: here its message's delivery failing for good (the
/// person blocked the bot) — it used to lose it and never wake again.
#[tokio::test]
async fn a_run_in_a_wait_keeps_its_wake_time_when_its_message_fails() {
    let (telegram, server, store, bot) = shop_on_telegram("x").await;
    let scenario: Scenario = serde_json::from_value(json!({"name": "pickup_reminder", "start": "ready", "steps": [
        {"id": "ready", "type": "message", "text": "Заказ ждёт вас в пункте выдачи.", "next": "pause"},
        {"id": "pause", "type": "wait", "seconds": 600, "next": "done"},
        {"id": "done", "type": "end"}
    ]}))
    .unwrap();
    store.save_scenario(&bot, &scenario, "", "t").await.unwrap();
    let endpoint = EndpointDraft { alias: "order/ready".into(), scenario: "pickup_reminder".into(), enabled: true, ..Default::default() };
    store.create_endpoint(&bot, &endpoint.validate().unwrap()).await.unwrap();
    telegram.block(125);
    call_for_user(&server, &store, &bot, "order/ready", 125).await;
    let started = comops_core::store::now_millis();
    // The dead letter is reported to the run, which ignores it.
    support::eventually("the failed delivery to reach the run", || async {
        let steps: Vec<String> = sqlx::query_scalar("SELECT step FROM trace_events WHERE lead_id = 'TG-125'").fetch_all(store.pool()).await.unwrap();
        steps.iter().any(|s| s == "scenario.ignored")
    })
    .await;
    let (status, wake_at): (String, Option<i64>) = sqlx::query_as("SELECT status, wake_at FROM runs WHERE lead_id = 'TG-125'").fetch_one(store.pool()).await.unwrap();
    assert_eq!(status, "waiting");
    let wake_at = wake_at.expect("still woken at its time");
    assert!((started + 590_000..started + 610_000).contains(&wake_at), "{wake_at} is 600 s after {started}");
}
