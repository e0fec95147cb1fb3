//! The engine against the real `comops` process: a business call starts a
//! run, the interpreter renders its messages into the outbox, http steps
//! call the business system back, and every hop is traced under the call's
//! trace id.

mod support;

use comops_core::endpoint::EndpointDraft;
use comops_core::scenario::Scenario;
use comops_core::store::identities::IdentityLink;
use comops_core::store::Store;
use comops_core::token::{TokenAction, TokenDraft};
use comops_core::trace::TraceFilter;
use comops_core::BotId;
use comops_fakes::FakeCrm;
use serde_json::{json, Value};
use std::time::Duration;
use support::TestServer;

struct Setup {
    server: TestServer,
    store: Store,
    token: String,
    bot: BotId,
}

/// The REHAU bot with an endpoint bound to `scenario`, a linked installer
/// (userId 125 ↔ TG-9072612 ↔ chat 540278913) and a portal token.
async fn setup(alias: &str, scenario: Value) -> Setup {
    let dir = support::scratch_dir();
    let server = TestServer::start(format!("sqlite://{}/comops.db", dir.display()), dir, &["--demo-bots"]);
    let store = server.store().await;
    let bot = BotId::parse("bot_rehau").unwrap();
    let scenario: Scenario = serde_json::from_value(scenario).unwrap();
    scenario.validate().expect("a valid scenario");
    store.save_scenario(&bot, &scenario, "test", "test").await.unwrap();
    let endpoint = EndpointDraft { alias: alias.into(), scenario: scenario.name.clone(), enabled: true, ..Default::default() };
    store.create_endpoint(&bot, &endpoint.validate().unwrap()).await.unwrap();
    let link = IdentityLink::telegram("125", "TG-9072612", "540278913", "telegram");
    store.link_identity(&bot, &link).await.unwrap();
    let draft = TokenDraft { name: "REHAU portal".into(), actions: vec![TokenAction::Call], ..Default::default() };
    let token = store.issue_token(&draft.validate().unwrap(), "test").await.unwrap().1;
    Setup { server, store, token, bot }
}

impl Setup {
    async fn call(&self, alias: &str, body: Value) -> String {
        let response = reqwest::Client::new()
            .post(self.server.url(&format!("/bots/bot_rehau/call/{alias}")))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["trace_id"].as_str().unwrap().to_string()
    }

    /// Waits until the run of this trace is no longer pending/running.
    async fn settled_run(&self, trace_id: &str) -> (String, String) {
        for _ in 0..100 {
            let row: Option<(String, String)> = sqlx::query_as("SELECT status, outcome FROM runs WHERE trace_id = $1")
                .bind(trace_id)
                .fetch_optional(self.store.pool())
                .await
                .unwrap();
            if let Some((status, outcome)) = row {
                if status != "pending" {
                    return (status, outcome);
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the run of {trace_id} never moved");
    }

    async fn outbox_texts(&self) -> Vec<(String, String)> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT chat_id, payload_json FROM outbox WHERE bot_id = $1 ORDER BY id")
            .bind(self.bot.as_str())
            .fetch_all(self.store.pool())
            .await
            .unwrap();
        rows.into_iter()
            .map(|(chat, payload)| (chat, serde_json::from_str::<Value>(&payload).unwrap()["text"].as_str().unwrap().to_string()))
            .collect()
    }
}

#[tokio::test]
async fn a_webinar_invite_reaches_the_installers_outbox_and_the_trace() {
    let s = setup(
        "events/webinar-invite",
        json!({
            "name": "webinar_invite",
            "start": "invite",
            "steps": [
                {"id": "invite", "type": "message", "text": "Вы приглашены на обучение «{{ params.title }}» {{ params.date }}", "next": "done"},
                {"id": "done", "type": "end", "goal": "invited"}
            ]
        }),
    )
    .await;
    let trace_id = s.call("events/webinar-invite", json!({"userId": 125, "title": "Монтаж RAUTHERM", "date": "в 10:00"})).await;
    assert_eq!(s.settled_run(&trace_id).await, ("done".into(), "invited".into()));
    assert_eq!(s.outbox_texts().await, vec![("540278913".into(), "Вы приглашены на обучение «Монтаж RAUTHERM» в 10:00".into())]);
    let hops: Vec<String> = s
        .store
        .list_traces(&TraceFilter { trace_id: trace_id.clone(), ..Default::default() })
        .await
        .unwrap()
        .into_iter()
        .rev()
        .map(|t| t.step)
        .collect();
    // The dispatcher may already have tried the message (this bot has no
    // Telegram token here, so it is dead-lettered with that reason).
    assert_eq!(hops[..3], ["api.call", "scenario.message", "scenario.end"]);
}

#[tokio::test]
async fn the_registration_loop_calls_the_crm_back_and_greets_by_name() {
    let crm = FakeCrm::start().await;
    crm.respond("POST", "/api/user/confirm", 200, json!({"userId": 125, "name": "Анна", "active": true}));
    let s = setup(
        "users/connect-bot",
        json!({
            "name": "registration_flow",
            "start": "confirm",
            "steps": [
                {"id": "confirm", "type": "http", "method": "POST", "url": "{{ secrets.crm_url }}/api/user/confirm",
                 "body": "{\"userId\": \"{{ params.userId }}\"}", "save_as": "crm", "next": "welcome", "on_error": "sorry"},
                {"id": "welcome", "type": "message", "text": "Добро пожаловать, {{ vars.crm.json.name }}! Ваш личный кабинет активирован.", "next": "done"},
                {"id": "sorry", "type": "message", "text": "Не получилось активировать кабинет, мы уже разбираемся.", "next": "failed"},
                {"id": "done", "type": "end", "goal": "registered"},
                {"id": "failed", "type": "end"}
            ]
        }),
    )
    .await;
    s.store.set_bot_channel(&s.bot, "secrets", &json!({"crm_url": crm.base_url()})).await.unwrap();
    let trace_id = s.call("users/connect-bot", json!({"userId": 125})).await;
    assert_eq!(s.settled_run(&trace_id).await, ("done".into(), "registered".into()));

    let requests = crm.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].body, json!({"userId": "125"}));
    assert!(requests[0].header("idempotency-key").is_some_and(|k| k.starts_with("run_")), "a stable key per run and step");
    assert!(requests[0].header("traceparent").is_some_and(|tp| tp.contains(&trace_id)), "the trace goes on into the CRM");
    assert_eq!(s.outbox_texts().await, vec![("540278913".into(), "Добро пожаловать, Анна! Ваш личный кабинет активирован.".into())]);
    let traces = s.store.list_traces(&TraceFilter { trace_id, ..Default::default() }).await.unwrap();
    let callback = traces.iter().find(|t| t.step == "callback.http").unwrap();
    assert!(callback.detail.starts_with("POST 127.0.0.1:") && callback.detail.ends_with("→ 200"), "{}", callback.detail);
    assert!(!callback.detail.contains("/api/"), "only method and host reach the trace: {}", callback.detail);
    assert_eq!(callback.status, "success");
}

#[tokio::test]
async fn a_crm_that_fails_takes_the_on_error_path() {
    let crm = FakeCrm::start().await;
    crm.respond("POST", "/api/user/confirm", 500, json!({"error": "db down"}));
    let s = setup(
        "users/connect-bot",
        json!({
            "name": "registration_flow",
            "start": "confirm",
            "steps": [
                {"id": "confirm", "type": "http", "method": "POST", "url": "{{ secrets.crm_url }}/api/user/confirm",
                 "save_as": "crm", "retries": 1, "next": "welcome", "on_error": "sorry"},
                {"id": "welcome", "type": "message", "text": "Добро пожаловать!", "next": "done"},
                {"id": "sorry", "type": "message", "text": "Не получилось активировать кабинет, мы уже разбираемся.", "next": "failed"},
                {"id": "done", "type": "end", "goal": "registered"},
                {"id": "failed", "type": "end"}
            ]
        }),
    )
    .await;
    s.store.set_bot_channel(&s.bot, "secrets", &json!({"crm_url": crm.base_url()})).await.unwrap();
    let trace_id = s.call("users/connect-bot", json!({"userId": 125})).await;
    assert_eq!(s.settled_run(&trace_id).await, ("done".into(), String::new()));
    assert_eq!(crm.requests().len(), 2, "one retry after the 500");
    assert_eq!(s.outbox_texts().await[0].1, "Не получилось активировать кабинет, мы уже разбираемся.");
}
