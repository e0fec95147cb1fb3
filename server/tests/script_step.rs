//! The `script` step against the real `comops` process, a fake CRM and a
//! fake Telegram: a scenario saved over the token API runs JavaScript that
//! asks the CRM with `callApi`, and the next message uses what the script
//! set; a script that throws fails the run with "Script error at line N".

mod support;

use comops_core::endpoint::EndpointDraft;
use comops_core::store::identities::IdentityLink;
use comops_core::store::Store;
use comops_core::token::{TokenAction, TokenDraft};
use comops_core::trace::{TraceEvent, TraceFilter};
use comops_core::BotId;
use comops_fakes::{FakeCrm, FakeTelegram};
use serde_json::{json, Value};
use std::time::Duration;
use support::TestServer;

const TOKEN: &str = "123456:REHAU-test-token";
const CHAT: i64 = 540278913;

struct Setup {
    server: TestServer,
    store: Store,
    telegram: FakeTelegram,
    crm: FakeCrm,
    /// `admin_write` on bot_rehau: saves scenarios.
    ops: String,
    /// `call` on bot_rehau: the CRM's token.
    portal: String,
    http: reqwest::Client,
}

/// The REHAU bot on a fake Telegram, the CRM's address and token as bot
/// secrets, and installer 125 linked to chat 540278913.
async fn setup() -> Setup {
    let telegram = FakeTelegram::start(TOKEN).await;
    let crm = FakeCrm::start().await;
    let dir = support::scratch_dir();
    let base = telegram.base_url();
    let server = TestServer::start(
        format!("sqlite://{}/comops.db", dir.display()),
        dir,
        &["--demo-bots", "--telegram-api-base", base.as_str()],
    );
    let store = server.store().await;
    let bot = BotId::parse("bot_rehau").unwrap();
    store.set_bot_channel(&bot, "telegram", &json!({"token": TOKEN, "webhook_secret": "wh-secret-1"})).await.unwrap();
    store.set_bot_channel(&bot, "secrets", &json!({"crm_url": crm.base_url(), "crm_token": "crm-s3cr3t"})).await.unwrap();
    let link = IdentityLink::telegram("125", "TG-540278913", &CHAT.to_string(), "telegram");
    store.link_identity(&bot, &link).await.unwrap();
    let draft = TokenDraft { name: "ops".into(), bots: "bot_rehau".into(), actions: vec![TokenAction::AdminWrite], ..Default::default() };
    let ops = store.issue_token(&draft.validate().unwrap(), "admin").await.unwrap().1;
    let draft = TokenDraft { name: "REHAU portal".into(), bots: "bot_rehau".into(), actions: vec![TokenAction::Call], ..Default::default() };
    let portal = store.issue_token(&draft.validate().unwrap(), "admin").await.unwrap().1;
    Setup { server, store, telegram, crm, ops, portal, http: reqwest::Client::new() }
}

impl Setup {
    /// `PUT /bots/bot_rehau/scenarios/{name}`: the status and the answer.
    async fn put_scenario(&self, name: &str, scenario: Value) -> (u16, Value) {
        let response = self
            .http
            .put(self.server.url(&format!("/bots/bot_rehau/scenarios/{name}")))
            .bearer_auth(&self.ops)
            .json(&scenario)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Binds `alias` to the scenario `name`.
    async fn bind(&self, alias: &str, name: &str) {
        let bot = BotId::parse("bot_rehau").unwrap();
        let endpoint = EndpointDraft { alias: alias.into(), scenario: name.into(), enabled: true, ..Default::default() };
        self.store.create_endpoint(&bot, &endpoint.validate().unwrap()).await.unwrap();
    }

    /// The CRM calls `alias`; the call's trace id.
    async fn call(&self, alias: &str, body: Value) -> String {
        let response = self
            .http
            .post(self.server.url(&format!("/bots/bot_rehau/call/{alias}")))
            .bearer_auth(&self.portal)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["trace_id"].as_str().unwrap().to_string()
    }

    /// The CRM dry-runs `alias`: the status and the answer.
    async fn dry_run(&self, alias: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(self.server.url(&format!("/bots/bot_rehau/call/{alias}")))
            .bearer_auth(&self.portal)
            .header("X-Dry-Run", "true")
            .json(&body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    /// Waits until the run of this trace is done or failed: (status, outcome).
    async fn settled_run(&self, trace_id: &str) -> (String, String) {
        for _ in 0..200 {
            let row: Option<(String, String)> = sqlx::query_as("SELECT status, outcome FROM runs WHERE trace_id = $1")
                .bind(trace_id)
                .fetch_optional(self.store.pool())
                .await
                .unwrap();
            if let Some((status, outcome)) = row {
                if status == "done" || status == "failed" {
                    return (status, outcome);
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the run of {trace_id} never settled");
    }

    async fn traces(&self, trace_id: &str) -> Vec<TraceEvent> {
        let filter = TraceFilter { trace_id: trace_id.into(), limit: Some(100), ..Default::default() };
        self.store.list_traces(&filter).await.unwrap().into_iter().rev().collect()
    }
}

#[tokio::test]
async fn a_script_asks_the_crm_and_the_thank_you_uses_what_it_found() {
    let s = setup().await;
    s.crm.respond("GET", "/api/orders/9821", 200, json!({"id": 9821, "total": 3500, "items": [{"sku": "RAUTHERM S"}, {"sku": "RAUTITAN"}]}));
    s.crm.respond("POST", "/api/order/update", 200, json!({"success": true}));
    // The methodology's callApi, as a scenario's script step.
    let code = r#"const order = callApi({
  url: ctx.secrets.crm_url + "/api/orders/" + ctx.data.orderId,
  method: "GET",
  headers: { Authorization: "Bearer " + ctx.secrets.crm_token }
});
if (order.status !== 200) throw new Error("CRM answered " + order.status);
ctx.vars.total = order.json.total;
ctx.vars.items = order.json.items.length;
callApi({
  url: ctx.secrets.crm_url + "/api/order/update",
  method: "POST",
  body: { user_id: ctx.user.id, order_id: ctx.data.orderId, action: "confirm_payment" }
});
ctx.lead.tags.push("paid");"#;
    let (status, saved) = s
        .put_scenario(
            "order_paid",
            json!({
                "start": "check",
                "steps": [
                    {"id": "check", "type": "script", "code": code, "next": "thanks"},
                    {"id": "thanks", "type": "message", "text": "Спасибо за покупку! Заказ №{{ params.orderId }}: {{ vars.items }} позиции на {{ vars.total }} ₽.", "next": "done"},
                    {"id": "done", "type": "end", "goal": "paid"}
                ]
            }),
        )
        .await;
    assert_eq!(status, 200, "{saved}");
    s.bind("orders/paid", "order_paid").await;

    // A dry run calls nothing: a script that asks the CRM is not run, and
    // the preview stops at it.
    let (status, dry) = s.dry_run("orders/paid", json!({"userId": 125, "orderId": 9821})).await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!((&dry["preview"]["stopped_at"], &dry["preview"]["stop"]), (&json!("check"), &json!("script")), "{dry}");
    assert!(s.crm.requests().is_empty(), "the dry run made no call");

    let trace_id = s.call("orders/paid", json!({"userId": 125, "orderId": 9821})).await;
    assert_eq!(s.settled_run(&trace_id).await, ("done".into(), "paid".into()));

    let sent = s.telegram.wait_for_messages(1, Duration::from_secs(10)).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].text, "Спасибо за покупку! Заказ №9821: 2 позиции на 3500 ₽.");

    let requests = s.crm.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!((requests[0].method.as_str(), requests[0].path.as_str()), ("GET", "/api/orders/9821"));
    assert_eq!(requests[0].header("authorization"), Some("Bearer crm-s3cr3t"));
    assert_eq!((requests[1].method.as_str(), requests[1].path.as_str()), ("POST", "/api/order/update"));
    assert_eq!(requests[1].body, json!({"user_id": "125", "order_id": 9821, "action": "confirm_payment"}));
    let keys: Vec<_> = requests.iter().map(|r| r.header("idempotency-key").unwrap_or_default().to_string()).collect();
    assert!(keys[0].starts_with("run_") && keys[0].ends_with(":check:1:1") && keys[1].ends_with(":check:1:2"), "{keys:?}");
    assert!(requests.iter().all(|r| r.header("traceparent").is_some_and(|tp| tp.contains(&trace_id))), "the trace goes on into the CRM");

    let traces = s.traces(&trace_id).await;
    let hops: Vec<&str> = traces.iter().map(|t| t.step.as_str()).collect();
    let script_at = hops.iter().position(|h| *h == "scenario.script").expect("a scenario.script hop");
    assert_eq!(hops.iter().filter(|h| **h == "callback.http").count(), 2, "{hops:?}");
    assert!(hops[..script_at].iter().filter(|h| **h == "callback.http").count() == 2, "the calls come before the script's end: {hops:?}");
    assert_eq!(traces[script_at].status, "success");
    for call in traces.iter().filter(|t| t.step == "callback.http") {
        assert!(call.detail.starts_with("GET 127.0.0.1:") || call.detail.starts_with("POST 127.0.0.1:"), "{}", call.detail);
        assert!(call.detail.ends_with("→ 200"), "{}", call.detail);
        assert!(!call.detail.contains("/api/") && !call.detail.contains("s3cr3t"), "only method and host reach the trace: {}", call.detail);
        assert_eq!(call.endpoint, "order_paid/check");
    }
    assert!(hops.contains(&"scenario.set"), "the tag the script added is stored: {hops:?}");
}

#[tokio::test]
async fn a_failing_script_fails_the_run_with_its_line_in_the_trace() {
    let s = setup().await;
    // A syntax error is refused on save, pointing at the step and the line.
    let (status, refused) = s
        .put_scenario(
            "order_paid",
            json!({
                "start": "check",
                "steps": [
                    {"id": "check", "type": "script", "code": "const total = 1;\nif (total > 0 {\n}", "next": "done"},
                    {"id": "done", "type": "end"}
                ]
            }),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    let error = &refused["errors"][0];
    assert_eq!(error["field"], "steps.check.code", "{refused}");
    assert!(error["message"].as_str().unwrap().contains("Script error at line 2: SyntaxError"), "{refused}");

    // A runtime error fails the run at the script's line.
    let code = "const order = ctx.data;\nconst total = order.orderId * 2;\nctx.vars.total = totl;\n";
    let (status, saved) = s
        .put_scenario(
            "order_paid",
            json!({
                "start": "check",
                "steps": [
                    {"id": "check", "type": "script", "code": code, "next": "thanks"},
                    {"id": "thanks", "type": "message", "text": "Итого {{ vars.total }} ₽", "next": "done"},
                    {"id": "done", "type": "end", "goal": "paid"}
                ]
            }),
        )
        .await;
    assert_eq!(status, 200, "{saved}");
    s.bind("orders/paid", "order_paid").await;

    // A dry run runs the script, and answers its error as a 500 naming the
    // line and the step (SPEC §3, the methodology's "Script error at line 23").
    let (status, dry) = s.dry_run("orders/paid", json!({"userId": 125, "orderId": 9821})).await;
    assert_eq!(status, 500, "{dry}");
    assert_eq!(dry["success"], false);
    assert_eq!(dry["message"], "Script error at line 3: ReferenceError: totl is not defined (step check)");
    assert_eq!((&dry["dry_run"], &dry["preview"]["stopped_at"]), (&json!(true), &json!("check")), "{dry}");
    let dry_trace = s.traces(dry["trace_id"].as_str().unwrap()).await;
    assert_eq!((dry_trace[0].status.as_str(), dry_trace[0].http_status, dry_trace[0].dry_run), ("fail", 500, true));

    let trace_id = s.call("orders/paid", json!({"userId": 125, "orderId": 9821})).await;
    let expected = "Script error at line 3: ReferenceError: totl is not defined";
    assert_eq!(s.settled_run(&trace_id).await, ("failed".into(), expected.into()));

    let traces = s.traces(&trace_id).await;
    let script = traces.iter().find(|t| t.step == "scenario.script").expect("a scenario.script hop");
    assert_eq!((script.status.as_str(), script.detail.as_str()), ("fail", expected));
    assert_eq!(script.endpoint, "order_paid/check");
    let error = traces.iter().find(|t| t.step == "scenario.error").expect("a scenario.error hop");
    assert_eq!(error.detail, expected);
    assert!(s.crm.requests().is_empty());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(s.telegram.sent().is_empty(), "nothing after the failed step is sent");

    // Fixed, the dry run goes past the script with what it set.
    let fixed = json!({
        "start": "check",
        "steps": [
            {"id": "check", "type": "script", "code": code.replace("totl;", "total;"), "next": "thanks"},
            {"id": "thanks", "type": "message", "text": "Итого {{ vars.total }} ₽", "next": "done"},
            {"id": "done", "type": "end", "goal": "paid"}
        ]
    });
    assert_eq!(s.put_scenario("order_paid", fixed).await.0, 200);
    let (status, dry) = s.dry_run("orders/paid", json!({"userId": 125, "orderId": 9821})).await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(dry["preview"]["messages"][0]["text"], "Итого 19642 ₽");
    assert_eq!(dry["preview"]["stop"], "end");
    let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox").fetch_one(s.store.pool()).await.unwrap();
    assert_eq!(queued, 0, "a dry run queues nothing to send");
}
