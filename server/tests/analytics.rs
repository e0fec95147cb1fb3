//! Analytics through the real process: the e-commerce map's "delivered"
//! step for two customers against the fake Bot API — Ирина rates the
//! delivery 5 within seconds, Олег never answers — then the studio's
//! analytics report for the shop bot, for its `order/delivered` endpoint,
//! for the e-commerce communication map, and as CSV figures, checked
//! against SPEC §8's definitions.

mod support;

use comops_core::store::identities::IdentityLink;
use comops_core::token::{TokenAction, TokenDraft};
use comops_core::BotId;
use comops_fakes::{FakeTelegram, User};
use serde_json::{json, Value};
use std::time::Duration;
use support::{Browser, TestServer};

const TOKEN: &str = "123456:SHOP-analytics-token";

async fn report(browser: &Browser, scope: &str, value: &str) -> Value {
    let response = browser.call("analytics/report", &[("query[bot_id]", "bot_shop"), ("query[scope]", scope), ("query[value]", value)]).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{status}: {text}");
    serde_json::from_str(&text).unwrap()
}

fn ratio(value: &Value) -> (u64, u64) {
    (value["part"].as_u64().unwrap(), value["whole"].as_u64().unwrap())
}

#[tokio::test]
async fn the_shop_report_counts_deliveries_replies_goals_and_ratings() {
    let dir = support::scratch_dir();
    shop_report(format!("sqlite://{}/comops.db", dir.display())).await;
}

#[tokio::test]
async fn the_shop_report_on_postgresql() {
    let Some(url) = comops_core::store::scratch::test_postgres("analytics").await else { return };
    shop_report(url).await;
}

/// With a data key the run state (where the rating is kept) is sealed at
/// rest; the report reads it through the keyring.
#[tokio::test]
async fn the_shop_report_with_data_sealed_at_rest() {
    let dir = support::scratch_dir();
    let key = comops_core::seal::generate_key();
    shop_report_with(format!("sqlite://{}/comops.db", dir.display()), &[("COMOPS_DATA_KEY", key.as_str())]).await;
}

async fn shop_report(database_url: String) {
    shop_report_with(database_url, &[]).await;
}

async fn shop_report_with(database_url: String, env: &[(&str, &str)]) {
    let telegram = FakeTelegram::start(TOKEN).await;
    let base = telegram.base_url();
    let server = TestServer::start_with_env(database_url, support::scratch_dir(), &["--demo", "--telegram-api-base", base.as_str()], env);
    let store = server.store().await;
    let shop = BotId::parse("bot_shop").unwrap();
    store.set_bot_channel(&shop, "telegram", &json!({"token": TOKEN, "webhook_secret": "wh-shop"})).await.unwrap();
    for (user, chat) in [("54321", 54321), ("777", 777)] {
        store.link_identity(&shop, &IdentityLink::telegram(user, &format!("TG-{chat}"), &chat.to_string(), "test")).await.unwrap();
    }
    let draft = TokenDraft { name: "CRM".into(), bots: "bot_shop".into(), actions: vec![TokenAction::Call], ..Default::default() };
    let crm = store.issue_token(&draft.validate().unwrap(), "admin").await.unwrap().1;
    let http = reqwest::Client::new();
    for user in ["54321", "777"] {
        let status = http
            .post(server.url("/bots/bot_shop/call/order/delivered"))
            .bearer_auth(&crm)
            .json(&json!({"orderId": 9821, "userId": user}))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200);
    }
    telegram.wait_for_messages(2, Duration::from_secs(10)).await;
    let update = telegram.user_sends_text(54321, User::new(54321, "Ирина"), "5");
    let reply = http.post(server.url("/telegram/bot_shop/webhook")).header("X-Telegram-Bot-Api-Secret-Token", "wh-shop").json(&update).send().await.unwrap();
    assert_eq!(reply.status(), 200);
    let sent = telegram.wait_for_messages(3, Duration::from_secs(10)).await;
    assert_eq!(sent[2].text, "Спасибо за оценку!");

    let browser = server.client();
    assert!(browser.login(support::ADMIN_EMAIL, support::ADMIN_PASSWORD).await.status().is_success());
    // The goal run is saved with the thanks; wait until the report sees it.
    let mut page = Value::Null;
    for _ in 0..50 {
        page = report(&browser, "", "").await;
        if page["report"]["rates"]["conversion"]["part"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rates = &page["report"]["rates"];
    assert_eq!(ratio(&rates["delivery"]), (3, 3), "{rates}");
    assert_eq!(ratio(&rates["engagement"]), (1, 2), "Ирина replied within 24 h, Олег did not");
    assert_eq!(rates["responses"], 1);
    assert!(rates["response_ms"].as_i64().is_some_and(|ms| (0..60_000).contains(&ms)), "{rates}");
    assert_eq!(ratio(&rates["conversion"]), (1, 2), "one of two runs reached `reviewed`");
    assert_eq!(rates["csat"], 5.0);
    assert_eq!(rates["ratings"], 1);
    assert_eq!(ratio(&rates["error"]), (0, 0), "no outbound call");
    assert_eq!(page["report"]["funnel"], json!({"event": 2, "communication": 2, "reply": 1, "action": 1}));
    let steps: Vec<&str> = page["report"]["heatmap"]["steps"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(steps.iter().any(|s| s.starts_with("order_delivered/")), "{steps:?}");
    assert_eq!(page["query"]["to"].as_str().map(str::len), Some(10), "dates filled in: {}", page["query"]);
    let maps: Vec<&str> = page["scopes"].as_array().unwrap().iter().filter(|s| s["scope"] == "map").filter_map(|s| s["value"].as_str()).collect();
    assert!(maps.contains(&"map_shop"), "{}", page["scopes"]);
    assert!(!maps.contains(&"map_rehau"), "a map with no row bound to the shop's bot is not offered: {maps:?}");

    // One endpoint, and the e-commerce map whose rows bind the shop's
    // endpoints: the same runs. Another endpoint: none.
    for (scope, value) in [("endpoint", "order/delivered"), ("map", "map_shop")] {
        let scoped = report(&browser, scope, value).await;
        assert_eq!(scoped["report"]["funnel"]["event"], 2, "{scope} {value}");
        assert_eq!(scoped["report"]["rates"]["csat"], 5.0);
    }
    let other = report(&browser, "endpoint", "order/thank-you").await;
    assert_eq!(ratio(&other["report"]["rates"]["conversion"]), (0, 0));
    assert_eq!(other["report"]["rates"]["csat"], Value::Null);

    // Bad input: a clear error, not a 500.
    let bad = browser.call("analytics/report", &[("query[bot_id]", "bot_shop"), ("query[from]", "2026-02-30")]).await;
    assert_eq!(bad.status(), 400, "{}", bad.text().await.unwrap_or_default());
    let bad = browser.call("analytics/report", &[("query[bot_id]", "bot_shop"), ("query[scope]", "galaxy")]).await;
    assert_eq!(bad.status(), 400);
}
