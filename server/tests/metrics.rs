//! `/metrics`: a CRM event reaches a person through the fake Bot API, one
//! blocked person makes a dead letter, a business system fails an http
//! step — and the Prometheus text shows the counts and SPEC §8's rates for
//! the bots the token may read, nothing without a reading token.

mod support;

use comops_core::endpoint::EndpointDraft;
use comops_core::scenario::Scenario;
use comops_core::store::identities::IdentityLink;
use comops_core::token::{TokenAction, TokenDraft};
use comops_core::BotId;
use comops_fakes::FakeTelegram;
use serde_json::{json, Value};
use std::time::Duration;
use support::TestServer;

const TOKEN: &str = "123456:SHOP-metrics-test";

async fn token(store: &comops_core::store::Store, name: &str, actions: Vec<TokenAction>, bots: &str) -> String {
    let draft = TokenDraft { name: name.into(), actions, bots: bots.into(), ..Default::default() };
    store.issue_token(&draft.validate().unwrap(), "admin").await.unwrap().1
}

/// The value of the sample written exactly as `line_start` (name and labels).
fn sample(text: &str, line_start: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(line_start).and_then(|rest| rest.strip_prefix(' ')).and_then(|v| v.parse().ok()))
}

#[tokio::test]
async fn metrics_count_events_deliveries_goals_and_failed_calls() {
    let telegram = FakeTelegram::start(TOKEN).await;
    let base = telegram.base_url();
    let dir = support::scratch_dir();
    let server = TestServer::start(format!("sqlite://{}/comops.db", dir.display()), dir, &["--demo-bots", "--telegram-api-base", base.as_str()]);
    let store = server.store().await;
    let shop = BotId::parse("bot_shop").unwrap();
    store.set_bot_channel(&shop, "telegram", &json!({"token": TOKEN, "webhook_secret": "wh"})).await.unwrap();
    // Thank the buyer, tell a CRM that is down, and end with a goal.
    let scenario: Scenario = serde_json::from_value(json!({"name": "thanks", "start": "say", "steps": [
        {"id": "say", "type": "message", "text": "Спасибо за заказ {{ params.order_id }}!", "next": "crm"},
        {"id": "crm", "type": "http", "method": "POST", "url": "http://127.0.0.1:9/unreachable", "save_as": "crm", "timeout_ms": 500, "retries": 0,
         "next": "done", "on_error": "done"},
        {"id": "done", "type": "end", "goal": "thanked"}]}))
    .unwrap();
    scenario.validate().unwrap();
    store.save_scenario(&shop, &scenario, "", "t").await.unwrap();
    let endpoint = EndpointDraft { alias: "order/thank-you".into(), scenario: "thanks".into(), enabled: true, ..Default::default() };
    store.create_endpoint(&shop, &endpoint.validate().unwrap()).await.unwrap();
    store.link_identity(&shop, &IdentityLink::telegram("54321", "TG-1", "700100", "test")).await.unwrap();
    // 700200 has blocked the bot at the fake: its message becomes a dead letter.
    store.link_identity(&shop, &IdentityLink::telegram("54322", "TG-2", "700200", "test")).await.unwrap();
    telegram.block(700200);

    let crm = token(&store, "CRM", vec![TokenAction::Call], "").await;
    let reader = token(&store, "Prometheus", vec![TokenAction::AdminRead], "").await;
    let rehau_reader = token(&store, "REHAU BI", vec![TokenAction::AdminRead], "bot_rehau").await;
    let http = reqwest::Client::new();
    for user in ["54321", "54322"] {
        let answer = http
            .post(server.url("/bots/bot_shop/call/order/thank-you"))
            .bearer_auth(&crm)
            .json(&json!({"order_id": 9821, "userId": user}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{:?}", answer.text().await);
    }
    telegram.wait_for_messages(1, Duration::from_secs(10)).await;
    // The person answers in Telegram (engaged, a response time) before
    // the first scrape, which reads the week's rates for a minute.
    for _ in 0..100 {
        if store.outbox_counts(&shop).await.unwrap() == [("dead".to_string(), 1), ("sent".to_string(), 1)] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    support::set_telegram_webhook(&telegram, server.url("/telegram/bot_shop/webhook"), "wh").await;
    telegram.user_sends_text(700100, comops_fakes::User::new(700100, "Анна"), "Спасибо!");
    let replied = comops_core::trace::TraceFilter { bot_id: "bot_shop".into(), ..Default::default() };
    for _ in 0..100 {
        if store.list_traces(&replied).await.unwrap().iter().any(|t| t.step == "user.reply") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Wait until both runs ended and both deliveries were filed.
    let get = |token: String| http.get(server.url("/metrics")).bearer_auth(token).send();
    let mut text = String::new();
    for _ in 0..100 {
        let answer = get(reader.clone()).await.unwrap();
        assert_eq!(answer.status(), 200);
        assert!(answer.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
        text = answer.text().await.unwrap();
        let done = sample(&text, r#"comops_runs{bot="bot_shop",status="done"}"#) == Some(2.0);
        // Both attempts filed: the fake may have the message before its
        // delivery is recorded.
        let filed = sample(&text, r#"comops_outbox_messages{bot="bot_shop",channel="telegram",status="dead"}"#) == Some(1.0)
            && sample(&text, r#"comops_outbox_messages{bot="bot_shop",channel="telegram",status="sent"}"#) == Some(1.0);
        if done && filed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(sample(&text, r#"comops_events_total{bot="bot_shop"}"#), Some(2.0), "{text}");
    assert_eq!(sample(&text, r#"comops_runs{bot="bot_shop",status="done"}"#), Some(2.0), "{text}");
    assert_eq!(sample(&text, r#"comops_runs_goal_total{bot="bot_shop"}"#), Some(2.0), "{text}");
    assert_eq!(sample(&text, r#"comops_conversion_rate{bot="bot_shop"}"#), Some(1.0), "{text}");
    assert_eq!(sample(&text, r#"comops_outbox_messages{bot="bot_shop",channel="telegram",status="sent"}"#), Some(1.0), "{text}");
    assert_eq!(sample(&text, r#"comops_outbox_messages{bot="bot_shop",channel="telegram",status="dead"}"#), Some(1.0), "{text}");
    assert_eq!(sample(&text, r#"comops_delivery_rate{bot="bot_shop",channel="telegram"}"#), Some(0.5), "{text}");
    assert_eq!(sample(&text, r#"comops_outbound_api_calls_total{bot="bot_shop",result="fail"}"#), Some(2.0), "{text}");
    assert_eq!(sample(&text, r#"comops_error_rate{bot="bot_shop"}"#), Some(1.0), "{text}");
    assert!(text.contains("# TYPE comops_events_total counter"), "{text}");
    // The write lane: the two accepts, the runs' saves and the deliveries
    // each took turns of it, and held it for some time.
    for work in ["accept", "save_runs", "deliveries"] {
        let turns = sample(&text, &format!(r#"comops_write_lane_turns_total{{work="{work}"}}"#));
        assert!(turns.is_some_and(|n| n >= 1.0), "{work}: {text}");
        let busy = sample(&text, &format!(r#"comops_write_lane_busy_seconds_total{{work="{work}"}}"#));
        assert!(busy.is_some_and(|s| s > 0.0), "{work}: {text}");
    }
    assert!(sample(&text, r#"comops_write_lane_wait_seconds_total{work="other"}"#).is_some(), "{text}");
    assert!(!text.contains("54321") && !text.contains("700100") && !text.contains("TG-1"), "no person's ids: {text}");
    // The last week's rates (read once a minute, so the reply came first):
    // the one lead messaged answered; no ratings asked for.
    assert_eq!(sample(&text, r#"comops_engagement_rate{bot="bot_shop"}"#), Some(1.0), "{text}");
    assert!(sample(&text, r#"comops_response_time_seconds{bot="bot_shop"}"#).is_some_and(|s| (0.0..60.0).contains(&s)), "{text}");
    assert_eq!(sample(&text, r#"comops_csat{bot="bot_shop"}"#), None, "{text}");
    assert!(text.contains("# TYPE comops_csat gauge"), "{text}");

    // A token limited to another bot does not see this one.
    let rehau = get(rehau_reader).await.unwrap().text().await.unwrap();
    assert!(!rehau.contains("bot_shop"), "{rehau}");
    assert!(!rehau.contains("comops_write_lane"), "the process's figures are every bot's: {rehau}");
    // Without a reading token: a JSON error.
    let anonymous = http.get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.json::<Value>().await.unwrap()["success"], false);
    assert_eq!(get(crm).await.unwrap().status(), 403);
}
