//! The studio's Scenarios and Settings sections over HTTP against the real
//! `comops` process (`--demo-bots`): an admin creates a `welcome` scenario
//! for the shop bot, breaks it (errors name the step, nothing is saved),
//! fixes it (version 2), restores version 1 (version 3, v1's steps); an
//! analyst and a viewer may read but not save. In Settings the admin
//! stores the bot's Telegram credentials, which never come back to the
//! browser, keeps them when a secret field is left empty, and the audit
//! log names the keys but never the values.

mod support;

use comops_core::endpoint::EndpointDraft;
use comops_core::store::Store;
use comops_core::BotId;
use serde_json::{json, Value};
use support::{Browser, TestServer, ADMIN_EMAIL, ADMIN_PASSWORD};

const BOT: &str = "bot_shop";
const TOKEN: &str = "123456:SHOP-secret-token-value";
const HOOK_SECRET: &str = "hook_secret_first";
const PASSWORD: &str = "a-long-test-password";

/// A server with the demo bots, an admin logged in, and the database.
async fn start() -> (TestServer, Browser, Store) {
    let dir = support::scratch_dir();
    let server = TestServer::start(format!("sqlite://{}/comops.db", dir.display()), dir, &["--demo-bots"]);
    let admin = server.client();
    assert_eq!(admin.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status(), 200);
    let store = server.store().await;
    (server, admin, store)
}

/// A logged-in user with `role`, made with the real CLI.
async fn user(server: &TestServer, email: &str, role: &str) -> Browser {
    let output = server.cli(&["user", "create", "--email", email, "--role", role, "--password", PASSWORD]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let browser = server.client();
    assert_eq!(browser.login(email, PASSWORD).await.status(), 200);
    browser
}

async fn json_of(response: reqwest::Response) -> Value {
    let status = response.status();
    let text = response.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: {text}"))
}

async fn load(browser: &Browser, name: &str, version: i64) -> Value {
    json_of(browser.call("scenarios/get", &[("bot_id", BOT), ("name", name), ("version", &version.to_string())]).await).await
}

async fn save(browser: &Browser, name: &str, definition: &Value, note: &str, base: i64) -> reqwest::Response {
    let json = definition.to_string();
    browser
        .call("scenarios/save", &[("bot_id", BOT), ("name", name), ("json", &json), ("note", note), ("base_version", &base.to_string())])
        .await
}

async fn versions(browser: &Browser, name: &str) -> Vec<(i64, String)> {
    let list = json_of(browser.call("scenarios/versions", &[("bot_id", BOT), ("name", name)]).await).await;
    assert_eq!(list["more"], false, "{list}");
    list["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["version"].as_i64().unwrap(), v["note"].as_str().unwrap().to_string()))
        .collect()
}

#[tokio::test]
async fn an_architect_creates_breaks_fixes_and_restores_a_scenario() {
    let (server, admin, store) = start().await;
    let architect = user(&server, "architect@shop.example", "architect").await;

    let created = architect
        .call("scenarios/create", &[("bot_id", BOT), ("name", "welcome"), ("description", "Greets a new buyer"), ("template", "message")])
        .await;
    assert_eq!(json_of(created).await, json!(1));
    let taken = architect.call("scenarios/create", &[("bot_id", BOT), ("name", "welcome"), ("description", ""), ("template", "empty")]).await;
    assert_eq!(json_of(taken).await["Invalid"][0], json!({"field": "name", "code": "taken"}));
    let bad_name = architect.call("scenarios/create", &[("bot_id", BOT), ("name", "Welcome Flow"), ("description", ""), ("template", "empty")]).await;
    assert_eq!(json_of(bad_name).await["Invalid"][0]["field"], "name");

    let list = json_of(architect.call("scenarios/list", &[("bot_id", BOT)]).await).await;
    assert_eq!(list[0]["name"], "welcome");
    assert_eq!((list[0]["version"].clone(), list[0]["steps"].clone()), (json!(1), json!(2)));
    assert_eq!(list[0]["description"], "Greets a new buyer");

    let v1 = load(&architect, "welcome", 0).await;
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["sample_params"], "", "no endpoint starts it yet");
    // The dry run's sample params: the example request of an endpoint that starts it.
    let endpoint = EndpointDraft {
        alias: "users/greet".into(),
        scenario: "welcome".into(),
        example: r#"{"userId": "125", "name": "Анна"}"#.into(),
        enabled: true,
        ..Default::default()
    };
    store.create_endpoint(&BotId::parse(BOT).unwrap(), &endpoint.validate().unwrap()).await.unwrap();
    let sample: Value = serde_json::from_str(load(&architect, "welcome", 0).await["sample_params"].as_str().unwrap()).unwrap();
    assert_eq!(sample, json!({"userId": "125", "name": "Анна"}));
    let v1_steps = v1["definition"]["steps"].clone();

    // An ask with no question, pointing nowhere: refused, each problem at its step.
    let mut broken = v1["definition"].clone();
    broken["steps"][0]["next"] = json!("rate");
    broken["steps"].as_array_mut().unwrap().insert(
        1,
        json!({"id": "rate", "type": "ask", "prompt": " ", "expect": "rating", "var": "rating", "next": "nowhere"}),
    );
    let refused = json_of(save(&architect, "welcome", &broken, "ask for a rating", 1).await).await;
    let errors = refused["Invalid"]["errors"].as_array().unwrap_or_else(|| panic!("{refused}"));
    let places: Vec<(String, String)> =
        errors.iter().map(|e| (e["step"].as_str().unwrap_or_default().to_string(), e["path"].as_str().unwrap().to_string())).collect();
    assert!(places.contains(&("rate".into(), "steps[1].prompt".into())), "{refused}");
    assert!(places.contains(&("rate".into(), "steps[1].next".into())), "{refused}");
    assert!(places.contains(&("end".into(), "steps[2].id".into())), "nothing leads to `end` any more: {refused}");
    assert_eq!(errors.len(), 3, "{refused}");
    assert_eq!(versions(&architect, "welcome").await.len(), 1, "nothing was saved");

    broken["steps"][1]["prompt"] = json!("Как вам магазин? От 1 до 5");
    broken["steps"][1]["next"] = json!("end");
    let saved = json_of(save(&architect, "welcome", &broken, "ask for a rating", 1).await).await;
    assert_eq!(saved, json!({"Saved": {"version": 2}}));
    // A save that started from version 1 no longer applies.
    let stale = json_of(save(&architect, "welcome", &v1["definition"], "late", 1).await).await;
    assert_eq!(stale["Conflict"]["current"], 2, "{stale}");
    assert_eq!(stale["Conflict"]["author"], "architect@shop.example");

    assert_eq!(versions(&architect, "welcome").await, [(2, "ask for a rating".to_string()), (1, "created".to_string())]);
    let old = load(&architect, "welcome", 1).await;
    assert_eq!((old["version"].clone(), old["current"].clone()), (json!(1), json!(2)));

    let restored = json_of(architect.call("scenarios/restore", &[("bot_id", BOT), ("name", "welcome"), ("version", "1")]).await).await;
    assert_eq!(restored, json!({"Saved": {"version": 3}}));
    let v3 = load(&architect, "welcome", 0).await;
    assert_eq!(v3["version"], 3);
    assert_eq!(v3["definition"]["steps"], v1_steps);
    assert_eq!(versions(&architect, "welcome").await[0], (3, "restored from v1".to_string()));
    // The page below a version: the older ones only.
    let older = json_of(architect.call("scenarios/versions", &[("bot_id", BOT), ("name", "welcome"), ("before", "3")]).await).await;
    let numbers: Vec<_> = older["versions"].as_array().unwrap().iter().map(|v| v["version"].as_i64().unwrap()).collect();
    assert_eq!((numbers, &older["more"]), (vec![2, 1], &json!(false)));

    // Bound to an endpoint, it cannot be deleted; an unbound one can.
    let bot = BotId::parse(BOT).unwrap();
    let endpoint = EndpointDraft { alias: "users/welcome".into(), scenario: "welcome".into(), enabled: true, ..Default::default() };
    store.create_endpoint(&bot, &endpoint.validate().unwrap()).await.unwrap();
    let list = json_of(architect.call("scenarios/list", &[("bot_id", BOT)]).await).await;
    assert_eq!(list[0]["endpoints"], json!(["users/greet", "users/welcome"]));
    let kept = json_of(architect.call("scenarios/delete", &[("bot_id", BOT), ("name", "welcome")]).await).await;
    assert_eq!(kept["Refused"]["endpoints"], json!(["users/greet", "users/welcome"]), "{kept}");
    architect.call("scenarios/create", &[("bot_id", BOT), ("name", "draft"), ("description", ""), ("template", "empty")]).await;
    let gone = json_of(architect.call("scenarios/delete", &[("bot_id", BOT), ("name", "draft")]).await).await;
    assert_eq!(gone, json!("Deleted"));
    let names: Vec<Value> = json_of(architect.call("scenarios/list", &[("bot_id", BOT)]).await).await.as_array().unwrap().iter().map(|s| s["name"].clone()).collect();
    assert_eq!(names, [json!("welcome")]);
    // A daily job still to run holds a scenario until it is cancelled,
    // which the delete does when asked and when nothing else holds it.
    architect.call("scenarios/create", &[("bot_id", BOT), ("name", "daily_tip"), ("description", ""), ("template", "message")]).await;
    let daily = comops_core::job::JobRequest {
        scenario: "daily_tip".into(),
        user_id: "125".into(),
        lead_id: String::new(),
        when: comops_core::job::When::After { seconds: 3600 },
        every_ms: 86_400_000,
        params: Default::default(),
    };
    let job = store.schedule_job(&bot, &daily, "0af7651916cd43dd8448eb211c80319c", "token:CRM").await.unwrap();
    let held = json_of(architect.call("scenarios/delete", &[("bot_id", BOT), ("name", "daily_tip")]).await).await;
    assert_eq!(held, json!({"Refused": {"bot_id": BOT, "name": "daily_tip", "endpoints": [], "entry": false, "active_runs": 0, "scheduled_jobs": 1}}));
    let on_welcome = store.schedule_job(&bot, &comops_core::job::JobRequest { scenario: "welcome".into(), ..daily.clone() }, "0af7651916cd43dd8448eb211c80319d", "token:CRM").await.unwrap();
    let still = json_of(architect.call("scenarios/delete", &[("bot_id", BOT), ("name", "welcome"), ("cancel_jobs", "true")]).await).await;
    assert_eq!(still["Refused"]["scheduled_jobs"], 1, "bound to endpoints, it stays: {still}");
    assert_eq!(store.job(&bot, &on_welcome.id).await.unwrap().unwrap().status, "scheduled", "and its job is not cancelled");
    let gone = json_of(architect.call("scenarios/delete", &[("bot_id", BOT), ("name", "daily_tip"), ("cancel_jobs", "true")]).await).await;
    assert_eq!(gone, json!("Deleted"));
    assert_eq!(store.job(&bot, &job.id).await.unwrap().unwrap().status, "cancelled");

    let actions: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_log WHERE actor = $1 ORDER BY at, id")
        .bind("architect@shop.example")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(actions, ["scenario.create", "scenario.save", "scenario.restore", "scenario.create", "scenario.delete", "scenario.create", "scenario.cancel_jobs", "scenario.delete"]);
    drop(admin);
}

#[tokio::test]
async fn analysts_and_viewers_read_scenarios_but_cannot_change_them() {
    let (server, admin, _store) = start().await;
    admin.call("scenarios/create", &[("bot_id", BOT), ("name", "welcome"), ("description", ""), ("template", "message")]).await;
    let definition = load(&admin, "welcome", 0).await["definition"].clone();
    for (email, role) in [("analyst@shop.example", "analyst"), ("viewer@shop.example", "viewer")] {
        let browser = user(&server, email, role).await;
        assert_eq!(browser.call("scenarios/list", &[("bot_id", BOT)]).await.status(), 200, "{role} reads");
        assert_eq!(load(&browser, "welcome", 0).await["version"], 1);
        let refused = save(&browser, "welcome", &definition, "mine now", 1).await;
        assert_eq!(refused.status(), 403, "{role} saves");
        assert_eq!(json_of(refused).await, json!("Forbidden"));
        let create = browser.call("scenarios/create", &[("bot_id", BOT), ("name", "x"), ("description", ""), ("template", "empty")]).await;
        assert_eq!(create.status(), 403, "{role} creates");
        assert_eq!(browser.call("scenarios/restore", &[("bot_id", BOT), ("name", "welcome"), ("version", "1")]).await.status(), 403);
        assert_eq!(browser.call("scenarios/delete", &[("bot_id", BOT), ("name", "welcome")]).await.status(), 403);
        assert_eq!(browser.call("settings/page", &[("bot_id", BOT)]).await.status(), 403, "{role} reads credentials");
    }
    assert_eq!(versions(&admin, "welcome").await.len(), 1, "nothing was saved");
    let anonymous = server.client();
    assert_eq!(anonymous.call("scenarios/list", &[("bot_id", BOT)]).await.status(), 401);
}

async fn save_channel(browser: &Browser, kind: &str, values: Value, clear: &str) -> reqwest::Response {
    let json = values.to_string();
    browser.call("settings/save", &[("bot_id", BOT), ("kind", kind), ("json", &json), ("clear", clear)]).await
}

fn card<'a>(page: &'a Value, kind: &str) -> &'a Value {
    page["cards"].as_array().unwrap().iter().find(|c| c["kind"] == kind).unwrap_or_else(|| panic!("no {kind} card: {page}"))
}

#[tokio::test]
async fn telegram_credentials_are_stored_but_never_shown() {
    let (server, admin, store) = start().await;
    let bot = BotId::parse(BOT).unwrap();

    let page_response = admin.call("settings/page", &[("bot_id", BOT)]).await;
    let page = json_of(page_response).await;
    assert_eq!(page["origin"], server.base.as_str(), "URLs to register start from where the studio is reached");
    assert_eq!(card(&page, "telegram")["configured"], false);
    let kinds: Vec<&str> = page["cards"].as_array().unwrap().iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["telegram", "webchat", "whatsapp", "vk", "email", "webhook", "entry", "secrets"]);

    let response = save_channel(&admin, "telegram", json!({"token": TOKEN, "webhook_secret": HOOK_SECRET}), "").await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(!text.contains(TOKEN) && !text.contains(HOOK_SECRET), "the answer carries no secret: {text}");
    let saved: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(saved["Saved"]["secrets_set"], json!(["token", "webhook_secret"]));

    let page_text = admin.call("settings/page", &[("bot_id", BOT)]).await.text().await.unwrap();
    assert!(!page_text.contains(TOKEN) && !page_text.contains(HOOK_SECRET), "{page_text}");
    let page: Value = serde_json::from_str(&page_text).unwrap();
    let telegram = card(&page, "telegram");
    assert_eq!(telegram["configured"], true);
    assert_eq!(telegram["secrets_set"], json!(["token", "webhook_secret"]));
    assert_eq!(telegram["values"], json!({}));
    let html = admin.get(&format!("/settings?bot={BOT}")).await.text().await.unwrap();
    assert!(!html.contains(TOKEN) && !html.contains(HOOK_SECRET), "nor does the rendered page");
    assert!(html.contains(&format!("{}/telegram/{BOT}/webhook", server.base)), "the webhook URL to register is shown");

    // An empty secret keeps the stored one; a new one replaces it.
    let response = save_channel(&admin, "telegram", json!({"token": "", "webhook_secret": "hook_secret_second"}), "").await;
    assert!(json_of(response).await.get("Saved").is_some());
    let stored = store.bot_channel(&bot, "telegram").await.unwrap().unwrap();
    assert_eq!(stored, json!({"token": TOKEN, "webhook_secret": "hook_secret_second"}));

    // Invalid: nothing changes, the field is named.
    let refused = json_of(save_channel(&admin, "telegram", json!({"token": "", "webhook_secret": "has spaces"}), "").await).await;
    assert_eq!(refused["Invalid"][0]["field"], "webhook_secret", "{refused}");
    assert_eq!(store.bot_channel(&bot, "telegram").await.unwrap().unwrap()["webhook_secret"], "hook_secret_second");

    let viewer = user(&server, "viewer@shop.example", "viewer").await;
    let forbidden = save_channel(&viewer, "telegram", json!({"token": "999:VIEWER-token-here", "webhook_secret": "x"}), "").await;
    assert_eq!(forbidden.status(), 403);
    assert_eq!(store.bot_channel(&bot, "telegram").await.unwrap().unwrap()["token"], TOKEN);

    let audit: Vec<(String, String, String)> =
        sqlx::query_as("SELECT actor, subject, detail FROM audit_log WHERE action = 'settings.telegram' ORDER BY at")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(audit.len(), 2, "{audit:?}");
    for (actor, subject, detail) in &audit {
        assert_eq!((actor.as_str(), subject.as_str()), (ADMIN_EMAIL, BOT));
        assert!(detail.contains("token") && detail.contains("webhook_secret"), "{detail}");
        assert!(!detail.contains(TOKEN) && !detail.contains("hook_secret_"), "no value in the audit log: {detail}");
    }

    // In Russian each field is named in words, its key beside it.
    assert_eq!(admin.call("set_locale", &[("locale", "ru")]).await.status(), 200);
    let html = admin.get(&format!("/settings?bot={BOT}")).await.text().await.unwrap();
    for words in ["Токен бота", "Секрет вебхука", "SMTP-сервер", "Сайты, где можно встроить", "webhook_secret", "smtp_host"] {
        assert!(html.contains(words), "{words}");
    }
}

#[tokio::test]
async fn entry_scenario_and_secrets_are_checked_and_kept() {
    let (_server, admin, store) = start().await;
    let bot = BotId::parse(BOT).unwrap();
    let refused = json_of(save_channel(&admin, "entry", json!({"scenario": "menu"}), "").await).await;
    assert_eq!(refused["Invalid"][0]["field"], "scenario", "no such scenario yet: {refused}");
    admin.call("scenarios/create", &[("bot_id", BOT), ("name", "menu"), ("description", ""), ("template", "message")]).await;
    assert!(json_of(save_channel(&admin, "entry", json!({"scenario": "menu"}), "").await).await.get("Saved").is_some());
    let list = json_of(admin.call("scenarios/list", &[("bot_id", BOT)]).await).await;
    assert_eq!(list[0]["entry"], true);
    let kept = json_of(admin.call("scenarios/delete", &[("bot_id", BOT), ("name", "menu")]).await).await;
    assert_eq!(kept["Refused"]["entry"], true, "the entry scenario is not deleted: {kept}");
    // "— none —" saved: the card is not configured any more, and the scenario may go.
    let none = json_of(save_channel(&admin, "entry", json!({"scenario": ""}), "").await).await;
    assert_eq!(none["Saved"]["configured"], false, "{none}");
    assert_eq!(json_of(admin.call("scenarios/list", &[("bot_id", BOT)]).await).await[0]["entry"], false);

    save_channel(&admin, "secrets", json!({"crm_url": "https://crm.shop.example", "crm_token": "tok-1"}), "").await;
    let saved = json_of(save_channel(&admin, "secrets", json!({"crm_url": "", "new_key": "v"}), "").await).await;
    assert_eq!(saved["Saved"]["secrets_set"], json!(["crm_url", "new_key"]), "{saved}");
    assert_eq!(store.bot_channel(&bot, "secrets").await.unwrap().unwrap(), json!({"crm_url": "https://crm.shop.example", "new_key": "v"}));
    let unknown = json_of(save_channel(&admin, "fax", json!({}), "").await).await;
    assert_eq!(unknown, json!("Unavailable"));
}

/// Posts a JSON-encoded server function (`input = Json`) from our origin.
async fn call_json(browser: &Browser, endpoint: &str, body: Value) -> reqwest::Response {
    browser.http.post(format!("{}/api/{endpoint}", browser.base)).header("Origin", &browser.base).json(&body).send().await.unwrap()
}

/// "Send test event" on an endpoint: the body goes through the integration
/// API's own checks and dry run — resolved, previewed and traced from the
/// studio, nothing sent or run — and a refused body gets the API's own
/// status and field problems. Only designers may send one.
#[tokio::test]
async fn a_test_event_is_a_traced_dry_run_of_the_call() {
    let (server, admin, store) = start().await;
    let bot = BotId::parse(BOT).unwrap();
    store.link_identity(&bot, &comops_core::store::identities::IdentityLink::telegram("125", "TG-125", "125", "test")).await.unwrap();
    let scenario: comops_core::scenario::Scenario = serde_json::from_value(json!({"name": "order_status", "start": "shipped", "steps": [
        {"id": "shipped", "type": "message", "text": "Ваш заказ №{{ params.orderId }} отправлен!", "next": "done"},
        {"id": "done", "type": "end"}]}))
    .unwrap();
    store.save_scenario(&bot, &scenario, "", "architect").await.unwrap();
    let endpoint: EndpointDraft = serde_json::from_value(json!({
        "alias": "order/status", "scenario": "order_status", "enabled": true,
        "schema": {"fields": [{"name": "orderId", "type": "integer", "required": true}, {"name": "userId", "type": "string", "required": true}]}
    }))
    .unwrap();
    store.create_endpoint(&bot, &endpoint.validate().unwrap()).await.unwrap();
    let send = |body: &str| call_json(&admin, "endpoints/test-event", json!({"bot_id": BOT, "alias": "order/status", "body": body}));

    let first_sent = std::time::Instant::now();
    let answer = json_of(send(r#"{"orderId": 9821.0, "userId": "125", "status": "shipped"}"#).await).await;
    assert_eq!(answer["status"], 200, "{answer}");
    assert_eq!(answer["leads"], json!(["TG-125"]));
    assert_eq!(answer["messages"][0]["text"], "Ваш заказ №9821 отправлен!", "the schema's normalized params: {answer}");
    let trace_id = answer["trace_id"].as_str().unwrap().to_string();
    let traces = store.list_traces(&comops_core::trace::TraceFilter { trace_id: trace_id.clone(), ..Default::default() }).await.unwrap();
    assert_eq!(traces.len(), 1, "{traces:?}");
    let source = format!("studio:{ADMIN_EMAIL}");
    assert_eq!((traces[0].source_system.as_str(), traces[0].dry_run, traces[0].endpoint.as_str()), (source.as_str(), true, "order/status"), "who sent it");
    assert!(traces[0].detail.starts_with("dry run; 1 lead(s)"), "{}", traces[0].detail);
    assert!(store.outbox_counts(&bot).await.unwrap().is_empty(), "nothing sent");

    let refused = json_of(send(r#"{"userId": "125"}"#).await).await;
    assert_eq!(refused["status"], 422, "{refused}");
    assert_eq!(refused["problems"][0][0], "orderId", "{refused}");
    let traces = store.list_traces(&comops_core::trace::TraceFilter { trace_id: refused["trace_id"].as_str().unwrap().into(), ..Default::default() }).await.unwrap();
    assert_eq!(traces.iter().map(|t| t.status.as_str()).collect::<Vec<_>>(), ["rejected"], "a refused test is traced as a refused call");
    let broken = json_of(send("{not json").await).await;
    assert_eq!(broken["status"], 400);
    assert!(broken["message"].as_str().unwrap().starts_with("Malformed JSON"), "{broken}");
    let unknown = json_of(call_json(&admin, "endpoints/test-event", json!({"bot_id": BOT, "alias": "order/lost", "body": "{}"})).await).await;
    assert_eq!((unknown["status"].as_u64(), unknown["message"].as_str()), (Some(404), Some("Endpoint not found")));

    let viewer = user(&server, "viewer@example.com", "viewer").await;
    let response = call_json(&viewer, "endpoints/test-event", json!({"bot_id": BOT, "alias": "order/status", "body": "{}"})).await;
    assert_eq!(response.status(), 403);

    // 30 studio dry runs a minute per user (one more every 2 s): the
    // admin has sent 4 test events; then 26 more, and those refilled
    // meanwhile; then a 429 with the wait, nothing run or traced; another
    // user still may.
    let all_traces = comops_core::trace::TraceFilter { limit: Some(1000), ..Default::default() };
    let before = store.list_traces(&all_traces).await.unwrap().len();
    let mut accepted = 0;
    let refused = loop {
        let response = send(r#"{"userId": "125"}"#).await;
        if response.status() == 429 {
            break response;
        }
        assert_eq!(json_of(response).await["status"], 422);
        accepted += 1;
        assert!(accepted <= 100, "never refused");
    };
    let refilled = (first_sent.elapsed().as_secs_f64() / 2.0).ceil() as usize;
    assert!((26..=26 + refilled).contains(&accepted), "{accepted} accepted after 4, {refilled} refilled");
    let body = json_of(refused).await;
    let wait = body["TooFast"]["retry_after_secs"].as_u64().unwrap_or_default();
    assert!((1..=2).contains(&wait), "one more comes within 2 s: {body}");
    let traced = store.list_traces(&all_traces).await.unwrap().len();
    assert_eq!(traced, before + accepted, "the refused one ran nothing");
    // Scenario dry runs share the budget: one may have refilled since, not two.
    let definition = serde_json::to_string(&scenario).unwrap();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(call_json(&admin, "scenarios/dry-run", json!({"bot_id": BOT, "json": definition, "params": "{}"})).await.status().as_u16());
    }
    assert!(statuses.contains(&429) && statuses.iter().all(|s| [200, 429].contains(s)), "{statuses:?}");
    let architect = user(&server, "architect@example.com", "architect").await;
    let theirs = json_of(call_json(&architect, "endpoints/test-event", json!({"bot_id": BOT, "alias": "order/status", "body": r#"{"orderId": 1, "userId": "125"}"#})).await).await;
    assert_eq!(theirs["status"], 200, "{theirs}");
    let theirs = call_json(&architect, "scenarios/dry-run", json!({"bot_id": BOT, "json": definition, "params": "{}"})).await;
    assert_eq!(theirs.status(), 200);
    // Parameters that are no call body are refused in the reader's language.
    assert_eq!(architect.call("set_locale", &[("locale", "ru")]).await.status(), 200);
    let bad = json_of(call_json(&architect, "scenarios/dry-run", json!({"bot_id": BOT, "json": definition, "params": r#"{"userIds": "1,2"}"#})).await).await;
    assert_eq!(bad["BadParams"]["message"], "Параметры не подходят как тело вызова: должно быть массивом id пользователей", "{bad}");
}
