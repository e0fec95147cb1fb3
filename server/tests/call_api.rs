//! `POST /bots/{botId}/call/{alias}` against the real `comops` process:
//! the methodology's examples, every error of SPEC §3, idempotency, dry
//! runs, traceparent, and durability across `kill -9`.

mod support;

use comops_core::endpoint::EndpointDraft;
use comops_core::store::identities::IdentityLink;
use comops_core::store::Store;
use comops_core::token::{TokenAction, TokenDraft};
use comops_core::{BotId, TraceId};
use serde_json::{json, Value};
use support::TestServer;

const SHOP: &str = "bot_shop";

/// A server with the demo bots, the e-commerce and Fmlst endpoints, linked
/// leads, and a CRM token for the shop bot.
struct World {
    server: TestServer,
    store: Store,
    token: String,
    http: reqwest::Client,
}

async fn world() -> World {
    let dir = support::scratch_dir();
    let url = format!("sqlite://{}/comops.db", dir.display());
    let server = TestServer::start(url, dir, &["--demo-bots"]);
    let store = server.store().await;
    let shop = BotId::parse(SHOP).unwrap();
    let thank_you: EndpointDraft = serde_json::from_value(json!({
        "alias": "order/thank-you", "description": "Благодарность за заказ", "owner": "ecommerce-team",
        "scenario": "order_thank_you", "enabled": true,
        "schema": {"fields": [
            {"name": "order_id", "type": "integer", "required": true},
            {"name": "amount", "type": "number"},
            {"name": "status", "type": "string", "enum": ["paid", "pending"]}
        ]}
    }))
    .unwrap();
    store.create_endpoint(&shop, &thank_you.validate().unwrap()).await.unwrap();
    for (alias, scenario, isolated, enabled) in
        [("order/status", "order_status", false, true), ("payments/refund", "refund", true, true), ("order/old", "", false, false)]
    {
        let draft = EndpointDraft { alias: alias.into(), scenario: scenario.into(), isolated, enabled, ..Default::default() };
        store.create_endpoint(&shop, &draft.validate().unwrap()).await.unwrap();
    }
    let fmlst = BotId::parse("bot_fmlst").unwrap();
    let comment = EndpointDraft { alias: "comment/new".into(), scenario: "comment_notice".into(), enabled: true, ..Default::default() };
    store.create_endpoint(&fmlst, &comment.validate().unwrap()).await.unwrap();
    for (bot, user, lead, chat) in [
        (&shop, "54321", "TG-9072612", "540278913"),
        (&shop, "125", "TG-125", "125125"),
        (&fmlst, "1", "TG-1", "1001"),
        (&fmlst, "2", "TG-2", "1002"),
        (&fmlst, "3", "TG-3", "1003"),
    ] {
        let link = IdentityLink::telegram(user, lead, chat, "test");
        store.link_identity(bot, &link).await.unwrap();
    }
    // Scenarios that wait for the customer, so their runs stay active
    // while the engine runs them.
    for name in ["order_thank_you", "order_status"] {
        let scenario: comops_core::scenario::Scenario = serde_json::from_value(json!({
            "name": name,
            "start": "hello",
            "steps": [
                {"id": "hello", "type": "message", "text": "Заказ {{ params.order_id }}", "next": "rate"},
                {"id": "rate", "type": "ask", "prompt": "Оцените от 1 до 5", "expect": "rating", "var": "rating", "next": "bye"},
                {"id": "bye", "type": "end"}
            ]
        }))
        .unwrap();
        store.save_scenario(&shop, &scenario, "test", "test").await.unwrap();
    }
    let token = issue(&store, "CRM", "bot_shop bot_fmlst", "", &[TokenAction::Call]).await;
    World { server, store, token, http: reqwest::Client::new() }
}

async fn issue(store: &Store, name: &str, bots: &str, aliases: &str, actions: &[TokenAction]) -> String {
    let draft = TokenDraft { name: name.into(), bots: bots.into(), aliases: aliases.into(), actions: actions.to_vec(), ..Default::default() };
    store.issue_token(&draft.validate().unwrap(), "test").await.unwrap().1
}

impl World {
    fn post(&self, bot: &str, alias: &str) -> reqwest::RequestBuilder {
        self.post_as(bot, alias, &self.token)
    }

    fn post_as(&self, bot: &str, alias: &str, token: &str) -> reqwest::RequestBuilder {
        self.http.post(self.server.url(&format!("/bots/{bot}/call/{alias}"))).bearer_auth(token)
    }

    async fn events_and_runs(&self, bot: &str) -> (i64, i64) {
        self.store.count_events(&BotId::parse(bot).unwrap()).await.unwrap()
    }
}

/// Status and JSON body; asserts every error body has the contract shape.
async fn answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("JSON body");
    if status >= 400 {
        assert_eq!(body["success"], false, "{body}");
        assert!(body["message"].is_string(), "{body}");
        let text = body.to_string().to_lowercase();
        for leak in ["select ", "insert ", "sqlite", "panicked", "stack backtrace", "sqlx"] {
            assert!(!text.contains(leak), "error leaks internals: {body}");
        }
    }
    (status, body)
}

#[tokio::test]
async fn crm_reports_a_paid_order_and_the_event_is_stored_with_its_run() {
    let w = world().await;
    let response = w
        .post(SHOP, "order/thank-you")
        .header("X-Source-System", "CRM")
        .json(&json!({"order_id": 9821, "user_id": "54321", "amount": 3500, "status": "paid"}))
        .send()
        .await
        .unwrap();
    let trace_header = response.headers()["x-trace-id"].to_str().unwrap().to_string();
    let (status, body) = answer(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "Communication sent");
    assert!(TraceId::parse(body["trace_id"].as_str().unwrap()).is_some());
    assert_eq!(body["trace_id"], trace_header.as_str());
    assert_eq!(body["recipients"]["leads"], json!(["TG-9072612"]));
    assert_eq!(w.events_and_runs(SHOP).await, (1, 1));

    let traces = w
        .store
        .list_traces(&comops_core::trace::TraceFilter { trace_id: trace_header.clone(), ..Default::default() })
        .await
        .unwrap();
    // The engine adds its own hops to the same trace as it runs.
    let calls: Vec<_> = traces.iter().filter(|t| t.step == "api.call").collect();
    assert_eq!(calls.len(), 1);
    let t = calls[0];
    assert_eq!((t.source_system.as_str(), t.endpoint.as_str(), t.status.as_str()), ("CRM", "order/thank-you", "success"));
    assert_eq!((t.user_id.as_str(), t.lead_id.as_str(), t.http_status), ("54321", "TG-9072612", 200));
}

#[tokio::test]
async fn script_request_params_and_numeric_user_ids_are_accepted() {
    let w = world().await;
    let (status, body) = answer(
        w.post(SHOP, "order/status").json(&json!({"script_request_params": {"orderId": 9821, "userId": 125}})).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["recipients"]["leads"], json!(["TG-125"]));
    // Without X-Source-System the token's name is the source.
    let traces = w.store.list_traces(&Default::default()).await.unwrap();
    let call = traces.iter().find(|t| t.step == "api.call").unwrap();
    assert_eq!(call.source_system, "CRM");
}

#[tokio::test]
async fn a_new_comment_fans_out_to_every_family_member() {
    let w = world().await;
    let (status, body) =
        answer(w.post("bot_fmlst", "comment/new").json(&json!({"postId": 7, "authorId": 1, "userIds": [2, 3, 4]})).send().await.unwrap())
            .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["recipients"]["resolved"], 2);
    assert_eq!(body["recipients"]["unresolved"], json!(["4"]));
    assert_eq!(w.events_and_runs("bot_fmlst").await, (1, 2));
}

#[tokio::test]
async fn a_second_event_waits_for_the_active_run_of_the_same_endpoint() {
    let w = world().await;
    // A scenario that waits an hour before it says anything: its run stays
    // active while the next calls come (the world's fail once their
    // message finds no Telegram).
    let shop = BotId::parse(SHOP).unwrap();
    let scenario: comops_core::scenario::Scenario = serde_json::from_value(json!({
        "name": "order_later", "start": "later",
        "steps": [{"id": "later", "type": "wait", "seconds": 3600, "next": "bye"}, {"id": "bye", "type": "end"}]
    }))
    .unwrap();
    w.store.save_scenario(&shop, &scenario, "test", "test").await.unwrap();
    let draft = EndpointDraft { alias: "order/later".into(), scenario: "order_later".into(), enabled: true, ..Default::default() };
    w.store.create_endpoint(&shop, &draft.validate().unwrap()).await.unwrap();
    let (status, first) = answer(w.post(SHOP, "order/later").json(&json!({"userId": "125"})).send().await.unwrap()).await;
    assert_eq!((status, first["message"].as_str(), first.get("skipped")), (200, Some("Communication sent"), None));
    // The second call says it started nothing, and its key's replay says the same.
    // One with a key (accepted in a transaction of its own), then one
    // without (accepted in one trip).
    let again = || w.post(SHOP, "order/later").header("Idempotency-Key", "later-125-2").json(&json!({"userId": "125"}));
    let (status, second) = answer(again().send().await.unwrap()).await;
    let (third_status, third) = answer(w.post(SHOP, "order/later").json(&json!({"userId": "125"})).send().await.unwrap()).await;
    assert_eq!((status, third_status, &third["skipped"]), (200, 200, &json!(1)), "{third}");
    assert_eq!(second["skipped"], 1, "{second}");
    assert_eq!(second["message"], "Already in progress: a run from this endpoint is still active for every recipient");
    let (status, replayed) = answer(again().send().await.unwrap()).await;
    assert_eq!((status, &replayed), (200, &second));
    assert_eq!(w.events_and_runs(SHOP).await, (3, 1), "one run per lead and endpoint at a time");
    // The second call's trace says so, committed with its accept: there
    // before the answer. A call without a key (accepted in one trip) too.
    let skipped_traces = || async {
        w.store.list_traces(&Default::default()).await.unwrap().into_iter().filter(|t| t.step == "run.skipped").collect::<Vec<_>>()
    };
    let skipped = skipped_traces().await;
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    for call in [&second, &third] {
        let step = skipped.iter().find(|t| t.trace_id == call["trace_id"].as_str().unwrap()).unwrap_or_else(|| panic!("{call} {skipped:?}"));
        assert_eq!(step.detail, "1 lead(s) skipped: a run from this endpoint is still active for them");
    }
}

#[tokio::test]
async fn credentials_are_checked_first() {
    let w = world().await;
    let url = w.server.url("/bots/bot_shop/call/order/status");
    let (status, body) = answer(w.http.post(&url).json(&json!({})).send().await.unwrap()).await;
    assert_eq!((status, body["message"].as_str().unwrap()), (401, "Invalid token"));
    let fake = format!("comops_abcdef_{}", "0".repeat(64));
    let (status, _) = answer(w.http.post(&url).bearer_auth(fake).json(&json!({})).send().await.unwrap()).await;
    assert_eq!(status, 401);
    // Unknown bots are not revealed to the unauthenticated.
    let (status, _) = answer(w.http.post(w.server.url("/bots/bot_nope/call/x")).json(&json!({})).send().await.unwrap()).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn revoked_expired_and_foreign_tokens_are_refused() {
    let w = world().await;
    let body = json!({"userId": "125"});

    let rehau = issue(&w.store, "REHAU portal", "bot_rehau", "", &[TokenAction::Call]).await;
    let (status, reply) = answer(w.post_as(SHOP, "order/status", &rehau).json(&body).send().await.unwrap()).await;
    assert_eq!((status, reply["message"].as_str().unwrap()), (403, "Token is not valid for this bot"));
    // Whether the alias, or the bot, exists is not told to a token for other bots.
    for (bot, alias) in [(SHOP, "order/unknown"), ("bot_nope", "order/status")] {
        let (status, reply) = answer(w.post_as(bot, alias, &rehau).json(&json!({})).send().await.unwrap()).await;
        assert_eq!((status, reply["message"].as_str().unwrap()), (403, "Token is not valid for this bot"), "{bot}/{alias}");
    }

    let scoped = issue(&w.store, "Tickets", "", "ticket/*", &[TokenAction::Call]).await;
    let (status, reply) = answer(w.post_as(SHOP, "order/status", &scoped).json(&body).send().await.unwrap()).await;
    assert_eq!((status, reply["message"].as_str().unwrap()), (403, "Token does not cover this endpoint"));

    let reader = issue(&w.store, "BI", "", "", &[TokenAction::AdminRead]).await;
    let (status, reply) = answer(w.post_as(SHOP, "order/status", &reader).json(&body).send().await.unwrap()).await;
    assert_eq!((status, reply["message"].as_str().unwrap()), (403, "Token lacks the 'call' scope"));

    let tokens = w.store.list_tokens().await.unwrap();
    let crm = tokens.iter().find(|t| t.name == "CRM").unwrap();
    sqlx::query("UPDATE api_tokens SET expires_at = 1 WHERE id = $1").bind(crm.id.as_str()).execute(w.store.pool()).await.unwrap();
    // This test's Store is another process as far as the server's read
    // cache is concerned: such changes are seen within the cache's TTL.
    tokio::time::sleep(comops_core::store::CACHE_TTL + std::time::Duration::from_millis(100)).await;
    let (status, reply) = answer(w.post(SHOP, "order/status").json(&body).send().await.unwrap()).await;
    assert_eq!((status, reply["message"].as_str().unwrap()), (401, "Token expired"));

    let bi = tokens.iter().find(|t| t.name == "BI").unwrap();
    w.store.revoke_token(&bi.id).await.unwrap();
    tokio::time::sleep(comops_core::store::CACHE_TTL + std::time::Duration::from_millis(100)).await;
    let (status, reply) = answer(w.post_as(SHOP, "order/status", &reader).json(&body).send().await.unwrap()).await;
    assert_eq!((status, reply["message"].as_str().unwrap()), (401, "Token revoked"), "revocation applies within the TTL");
}

#[tokio::test]
async fn isolated_endpoints_need_a_token_that_names_them() {
    let w = world().await;
    let (status, reply) = answer(w.post(SHOP, "payments/refund").json(&json!({})).send().await.unwrap()).await;
    assert_eq!((status, reply["message"].as_str().unwrap()), (403, "Isolated endpoint: the token must name it explicitly"));
    let payments = issue(&w.store, "Payments", "bot_shop", "payments/refund", &[TokenAction::Call]).await;
    let (status, _) = answer(w.post_as(SHOP, "payments/refund", &payments).json(&json!({})).send().await.unwrap()).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn unknown_bots_aliases_and_disabled_endpoints_are_404() {
    let w = world().await;
    // A token for every bot (one for some bots is refused on the others first).
    let any_bot = issue(&w.store, "Any bot", "", "", &[TokenAction::Call]).await;
    for (bot, alias, message) in [
        ("bot_nope", "order/status", "Bot not found"),
        ("not-a-bot-id", "order/status", "Bot not found"),
        (SHOP, "order/unknown", "Endpoint not found"),
        (SHOP, "Order/Status", "Endpoint not found"),
        (SHOP, "order/old", "Endpoint not found"),
    ] {
        let (status, reply) = answer(w.post_as(bot, alias, &any_bot).json(&json!({})).send().await.unwrap()).await;
        assert_eq!((status, reply["message"].as_str().unwrap()), (404, message), "{bot}/{alias}");
    }
    // A GET of the call route: 405, in JSON like every API error.
    let got = reqwest::get(w.server.url(&format!("/bots/{SHOP}/call/order/status"))).await.unwrap();
    let allow = got.headers().get("allow").map(|v| v.to_str().unwrap_or_default().to_string());
    let (status, reply) = answer(got).await;
    assert_eq!((status, reply["success"].clone(), reply["message"].as_str()), (405, json!(false), Some("Method not allowed on this route")), "{reply}");
    assert_eq!(allow.as_deref(), Some("POST"), "the Allow header says which");
}

/// The methodology's own URL, `/bots/123/call/user/register`, reaches
/// the bot whose id is `bot_123`; calls are traced as that bot, refused
/// ones too.
#[tokio::test]
async fn a_bot_of_digits_is_called_by_them_as_in_the_methodology() {
    let w = world().await;
    let project = w.store.bot(&BotId::parse(SHOP).unwrap()).await.unwrap().project_id;
    let bot = BotId::parse("bot_123").unwrap();
    let draft = comops_core::bot::BotDraft { name: "Регистрация".into(), enabled: true, ..Default::default() };
    w.store.create_bot(&project, &draft.validate().unwrap(), Some(bot.clone())).await.unwrap();
    let register = EndpointDraft {
        alias: "user/register".into(),
        scenario: "registration_flow".into(),
        enabled: true,
        schema: serde_json::from_value(json!({"fields": [{"name": "name", "type": "string", "required": true}]})).unwrap(),
        ..Default::default()
    };
    w.store.create_endpoint(&bot, &register.validate().unwrap()).await.unwrap();
    w.store.link_identity(&bot, &IdentityLink::telegram("77", "TG-77", "7700", "test")).await.unwrap();
    let token = issue(&w.store, "Site", "bot_123", "", &[TokenAction::Call]).await;

    let (status, body) = answer(w.post_as("123", "user/register", &token).json(&json!({"userId": 77, "name": "Анна"})).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["recipients"]["leads"], json!(["TG-77"]));
    let (status, body) = answer(w.post_as("bot_123", "user/register", &token).json(&json!({"userId": 77, "name": "Анна"})).send().await.unwrap()).await;
    assert_eq!(status, 200, "its full id still works: {body}");
    let (status, body) = answer(w.post_as("123", "user/register", &token).json(&json!({"userId": 77})).send().await.unwrap()).await;
    assert_eq!((status, body["message"].as_str()), (422, Some("Request does not match the endpoint schema")), "{body}");
    let calls: Vec<(String, String)> = w
        .store
        .list_traces(&comops_core::trace::TraceFilter { endpoint: "user/register".into(), ..Default::default() })
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.step == "api.call")
        .map(|t| (t.bot_id, t.status))
        .collect();
    let as_bot_123 = |status: &str| ("bot_123".to_string(), status.to_string());
    assert_eq!(calls, [as_bot_123("rejected"), as_bot_123("success"), as_bot_123("success")], "newest first");

    // Only digits name a bot that way, and only the bot of those digits.
    let any_bot = issue(&w.store, "Any bot", "", "", &[TokenAction::Call]).await;
    for (bot, token, status) in [("0123", &any_bot, 404), ("12a", &any_bot, 404), ("0123", &token, 403), ("123", &w.token, 403)] {
        let (got, body) = answer(w.post_as(bot, "user/register", token).json(&json!({"userId": 77, "name": "Анна"})).send().await.unwrap()).await;
        assert_eq!(got, status, "{bot}: {body}");
    }
}

#[tokio::test]
async fn bad_bodies_get_clear_errors_and_store_nothing() {
    let w = world().await;
    let (status, reply) = answer(
        w.post(SHOP, "order/thank-you").header("Content-Type", "application/json").body("{\"order_id\": 98").send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(reply["message"].as_str().unwrap().starts_with("Malformed JSON"), "{reply}");

    let (status, reply) =
        answer(w.post(SHOP, "order/thank-you").header("Content-Type", "text/plain").body("order_id=1").send().await.unwrap()).await;
    assert_eq!((status, reply["message"].as_str().unwrap()), (415, "Content-Type must be application/json"));

    let huge = format!("{{\"order_id\": 1, \"note\": \"{}\"}}", "x".repeat(10 * 1024 * 1024));
    let (status, reply) =
        answer(w.post(SHOP, "order/thank-you").header("Content-Type", "application/json").body(huge).send().await.unwrap()).await;
    assert_eq!(status, 413, "{reply}");

    let (status, reply) = answer(
        w.post(SHOP, "order/thank-you").json(&json!({"order_id": "9821", "status": "lost", "userId": "54321"})).send().await.unwrap(),
    )
    .await;
    assert_eq!((status, reply["message"].as_str().unwrap()), (422, "Request does not match the endpoint schema"));
    assert_eq!(
        reply["errors"],
        json!([
            {"field": "order_id", "message": "must be of type integer"},
            {"field": "status", "message": "must be one of: paid, pending"}
        ])
    );

    let (status, reply) = answer(w.post(SHOP, "order/status").json(&json!(["not", "an", "object"])).send().await.unwrap()).await;
    assert_eq!((status, reply["message"].as_str().unwrap()), (422, "Request body must be a JSON object"));

    assert_eq!(w.events_and_runs(SHOP).await, (0, 0));
    let rejected = w.store.list_traces(&comops_core::trace::TraceFilter { status: "rejected".into(), ..Default::default() }).await.unwrap();
    assert_eq!(rejected.len(), 5, "every refused call is traced");
}

#[tokio::test]
async fn idempotency_keys_replay_the_first_answer() {
    let w = world().await;
    let send = |body: Value| w.post(SHOP, "order/status").header("Idempotency-Key", "order-9821-shipped").json(&body).send();
    let first = send(json!({"orderId": 9821, "userId": "125"})).await.unwrap();
    let (status, first) = answer(first).await;
    assert_eq!(status, 200);
    let again = send(json!({"orderId": 9821, "userId": "125"})).await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["x-trace-id"].to_str().unwrap(), first["trace_id"].as_str().unwrap(), "the header names the answer's trace");
    let (status, again) = answer(again).await;
    assert_eq!(status, 200);
    assert_eq!(again, first, "same key and body: the first answer again");
    let (status, conflict) = answer(send(json!({"orderId": 9822, "userId": "125"})).await.unwrap()).await;
    assert_eq!(status, 409, "{conflict}");
    assert_eq!(w.events_and_runs(SHOP).await, (1, 1), "stored once");

    // A key the server cannot read (bytes outside ASCII, or two keys) is
    // refused: read as no key, it let the same call through twice.
    let odd = reqwest::header::HeaderValue::from_bytes("заказ-9821".as_bytes()).unwrap();
    let (status, reply) = answer(w.post(SHOP, "order/status").header("Idempotency-Key", odd).json(&json!({"userId": "125"})).send().await.unwrap()).await;
    assert_eq!((status, reply["message"].as_str()), (400, Some("Idempotency-Key must be given once, 1-255 visible ASCII characters")), "{reply}");
    let twice = w.post(SHOP, "order/status").header("Idempotency-Key", "a-1").header("Idempotency-Key", "a-2");
    assert_eq!(answer(twice.json(&json!({"userId": "125"})).send().await.unwrap()).await.0, 400);
    assert_eq!(w.events_and_runs(SHOP).await, (1, 1), "nothing more stored");
    // The scheme of the Authorization header is case-insensitive.
    let shouted = w.http.post(w.server.url(&format!("/bots/{SHOP}/call/order/status"))).header("Authorization", format!("BEARER {}", w.token));
    assert_eq!(answer(shouted.header("Idempotency-Key", "order-9821-shipped").json(&json!({"orderId": 9821, "userId": "125"})).send().await.unwrap()).await.0, 200);
}

#[tokio::test]
async fn dry_runs_validate_and_resolve_but_store_no_event() {
    let w = world().await;
    let body = json!({"order_id": 9821, "user_id": "54321", "status": "paid"});
    let (status, reply) = answer(w.post(SHOP, "order/thank-you").header("X-Dry-Run", "true").json(&body).send().await.unwrap()).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["dry_run"], true);
    assert_eq!(reply["recipients"]["leads"], json!(["TG-9072612"]));
    assert_eq!(reply["preview"]["scenario"], "order_thank_you");

    let (status, _) = answer(w.post(SHOP, "order/thank-you?dry_run=true").json(&body).send().await.unwrap()).await;
    assert_eq!(status, 200);
    let dry_only = issue(&w.store, "Integrator sandbox", "", "", &[TokenAction::DryRun]).await;
    let (status, reply) = answer(w.post_as(SHOP, "order/thank-you", &dry_only).json(&body).send().await.unwrap()).await;
    assert_eq!((status, reply["dry_run"].clone()), (200, json!(true)), "a dry-run-only token never sends");

    let (status, _) = answer(w.post(SHOP, "order/thank-you").header("X-Dry-Run", "true").json(&json!({})).send().await.unwrap()).await;
    assert_eq!(status, 422, "dry runs validate too");
    assert_eq!(w.events_and_runs(SHOP).await, (0, 0));
    let traces = w.store.list_traces(&Default::default()).await.unwrap();
    assert!(traces.iter().all(|t| t.dry_run), "every trace is marked dry");

    // A switch that is neither true nor false is refused, not read as
    // "send for real" (found by schemathesis: `X-Dry-Run: {}` sent).
    let (status, reply) = answer(w.post(SHOP, "order/thank-you").header("X-Dry-Run", "ture").json(&body).send().await.unwrap()).await;
    assert_eq!(status, 400, "{reply}");
    assert_eq!(reply["message"], "X-Dry-Run must be true or false");
    let (status, _) = answer(w.post(SHOP, "order/thank-you?dry_run=maybe").json(&body).send().await.unwrap()).await;
    assert_eq!(status, 400);
    // Nor is a switch with bytes outside ASCII, one given twice, or a
    // misspelt parameter: each was read as absent and sent for real.
    let odd = reqwest::header::HeaderValue::from_bytes("trüe".as_bytes()).unwrap();
    let (status, reply) = answer(w.post(SHOP, "order/thank-you").header("X-Dry-Run", odd).json(&body).send().await.unwrap()).await;
    assert_eq!((status, reply["message"].as_str()), (400, Some("X-Dry-Run must be given once, true or false")), "{reply}");
    let twice = w.post(SHOP, "order/thank-you").header("X-Dry-Run", "false").header("X-Dry-Run", "true");
    assert_eq!(answer(twice.json(&body).send().await.unwrap()).await.0, 400);
    for query in ["DRY_RUN=true", "dry-run=true", "dryRun=true"] {
        let (status, reply) = answer(w.post(SHOP, &format!("order/thank-you?{query}")).json(&body).send().await.unwrap()).await;
        assert_eq!(status, 400, "{query}: {reply}");
        assert!(reply["message"].as_str().unwrap_or_default().contains("dry_run=true"), "{reply}");
    }
    assert_eq!(w.events_and_runs(SHOP).await, (0, 0), "nothing stored, nothing sent");
}

#[tokio::test]
async fn a_w3c_traceparent_is_kept_as_the_trace_id() {
    let w = world().await;
    let (status, reply) = answer(
        w.post(SHOP, "order/status")
            .header("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
            .json(&json!({"userId": "125"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(reply["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
}

#[tokio::test]
async fn a_token_over_its_rate_gets_429_with_retry_after() {
    let w = world().await;
    let draft = TokenDraft { name: "Chatty CRM".into(), actions: vec![TokenAction::Call], rate_per_minute: 2, ..Default::default() };
    let (_, secret) = w.store.issue_token(&draft.validate().unwrap(), "test").await.unwrap();
    for _ in 0..2 {
        let (status, _) = answer(w.post_as(SHOP, "order/status", &secret).json(&json!({})).send().await.unwrap()).await;
        assert_eq!(status, 200);
    }
    let response = w.post_as(SHOP, "order/status", &secret).json(&json!({})).send().await.unwrap();
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    let (status, _) = answer(response).await;
    assert_eq!(status, 429);
    // The rate holds on every route the token opens, not only the calls.
    let link = w.http.post(w.server.url(&format!("/bots/{SHOP}/links"))).bearer_auth(&secret).json(&json!({"userId": "777"}));
    let (status, reply) = answer(link.send().await.unwrap()).await;
    assert_eq!(status, 429, "{reply}");
}

/// What axum itself refuses — a path that is not UTF-8, a body over a
/// route's limit, a method a route does not take — is JSON like every
/// API error (it was plain text, or no body at all).
#[tokio::test]
async fn errors_that_axum_answers_are_json_too() {
    let w = world().await;
    let json_error = |response: reqwest::Response| async move {
        let status = response.status().as_u16();
        let allow = response.headers().get("allow").map(|v| v.to_str().unwrap().to_string());
        let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(content_type.starts_with("application/json"), "{status} {content_type}");
        assert_eq!(body["success"], false, "{body}");
        assert!(!body["message"].as_str().unwrap_or_default().is_empty(), "{body}");
        (status, allow)
    };
    assert_eq!(json_error(w.http.post(w.server.url("/bots/%ff/call/order/status")).bearer_auth(&w.token).send().await.unwrap()).await.0, 400);
    let big = format!("{{\"userId\": \"{}\"}}", "x".repeat(1_100_000));
    let identities = w.http.post(w.server.url(&format!("/bots/{SHOP}/identities"))).bearer_auth(&w.token).header("content-type", "application/json").body(big);
    assert_eq!(json_error(identities.send().await.unwrap()).await.0, 413, "over 1 MiB, as the calls");
    let (status, allow) = json_error(w.http.post(w.server.url(&format!("/docs/{SHOP}/openapi.json"))).send().await.unwrap()).await;
    assert_eq!((status, allow.as_deref()), (405, Some("GET,HEAD")));
    // The messengers' webhooks too: their methods, and 1 MiB as the calls
    // (WhatsApp's 3 MiB).
    for (path, allowed) in [("telegram", "POST"), ("vk", "POST"), ("webhook", "POST"), ("whatsapp", "GET,HEAD,POST")] {
        let over = if path == "whatsapp" { 3 * 1024 * 1024 + 1 } else { 1_100_000 };
        let path = match path {
            "vk" => format!("/vk/{SHOP}/callback"),
            "webhook" => format!("/webhook/{SHOP}/inbound"),
            other => format!("/{other}/{SHOP}/webhook"),
        };
        let (status, allow) = json_error(w.http.put(w.server.url(&path)).send().await.unwrap()).await;
        assert_eq!((status, allow.as_deref()), (405, Some(allowed)), "{path}");
        let big = w.http.post(w.server.url(&path)).header("content-type", "application/json").body(format!("{{\"x\": \"{}\"}}", "x".repeat(over)));
        assert_eq!(json_error(big.send().await.unwrap()).await.0, 413, "{path}");
    }
    // Under WhatsApp's 3 MiB the body is read (and the bot found to have no WhatsApp channel).
    let two_mib = w.http.post(w.server.url(&format!("/whatsapp/{SHOP}/webhook"))).header("content-type", "application/json").body(format!("{{\"x\": \"{}\"}}", "x".repeat(2 * 1024 * 1024)));
    assert_eq!(json_error(two_mib.send().await.unwrap()).await.0, 404);
}

#[tokio::test]
async fn an_accepted_event_survives_kill_9_right_after_the_200() {
    let mut w = world().await;
    let mut trace_ids = Vec::new();
    for order in 0..20 {
        let (status, reply) =
            answer(w.post(SHOP, "order/thank-you").json(&json!({"order_id": order, "userId": "54321"})).send().await.unwrap()).await;
        assert_eq!(status, 200);
        trace_ids.push(reply["trace_id"].as_str().unwrap().to_string());
    }
    w.server.kill9();
    // A fresh connection after the process died sees every acknowledged event.
    let store = Store::connect(&w.server.database_url).await.unwrap();
    let (events, runs) = store.count_events(&BotId::parse(SHOP).unwrap()).await.unwrap();
    assert_eq!(events, 20, "every acknowledged event survived");
    // One active run per lead at a time: how many the 20 calls started
    // depends on how fast the engine finished each (the scenario is missing,
    // so each run fails at once and frees the slot).
    assert!((1..=20).contains(&runs), "{runs} runs");
    for trace_id in trace_ids {
        let found: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE trace_id = $1")
            .bind(&trace_id)
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(found, 1, "{trace_id}");
    }
}

#[tokio::test]
async fn cli_issues_tokens_that_work() {
    let w = world().await;
    let output = w.server.cli(&["token", "issue", "--name", "REHAU portal", "--bots", "bot_shop", "--actions", "call,dry_run"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let secret = stdout.lines().find_map(|l| l.strip_prefix("secret (shown once): ")).unwrap().to_string();
    let (status, _) = answer(w.post_as(SHOP, "order/status", &secret).json(&json!({})).send().await.unwrap()).await;
    assert_eq!(status, 200);
    let bad = w.server.cli(&["token", "issue", "--name", "x", "--actions", "send"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown action \"send\""));
    // A bot that does not exist (a typo, or one a script creates next) is said.
    let typo = w.server.cli(&["token", "issue", "--name", "x", "--bots", "bot_shpo", "--actions", "call"]);
    assert!(typo.status.success() && String::from_utf8_lossy(&typo.stderr).contains("warning: no such bot yet: bot_shpo"), "{}", String::from_utf8_lossy(&typo.stderr));
}

#[tokio::test]
async fn the_integration_api_runs_on_postgresql() {
    let Some(url) = comops_core::store::scratch::test_postgres("call_api").await else { return };
    let server = TestServer::start(url, support::scratch_dir(), &["--demo-bots"]);
    let store = server.store().await;
    let shop = BotId::parse(SHOP).unwrap();
    let draft = EndpointDraft { alias: "order/delivered".into(), scenario: "delivery_review".into(), enabled: true, ..Default::default() };
    store.create_endpoint(&shop, &draft.validate().unwrap()).await.unwrap();
    let link = IdentityLink::telegram("125", "TG-125", "125", "test");
    store.link_identity(&shop, &link).await.unwrap();
    let token = issue(&store, "CRM", "bot_shop", "", &[TokenAction::Call]).await;
    let w = World { server, store, token, http: reqwest::Client::new() };

    let send = || w.post(SHOP, "order/delivered").header("Idempotency-Key", "delivered-9821").json(&json!({"orderId": 9821, "userId": 125}));
    let (status, first) = answer(send().send().await.unwrap()).await;
    assert_eq!(status, 200, "{first}");
    let (_, again) = answer(send().send().await.unwrap()).await;
    assert_eq!(again, first);
    let (status, _) = answer(w.post(SHOP, "order/delivered").json(&json!({"userId": {"bad": 1}})).send().await.unwrap()).await;
    assert_eq!(status, 422);
    assert_eq!(w.events_and_runs(SHOP).await, (1, 1));
}

#[tokio::test]
async fn a_dry_run_shows_what_the_lead_would_receive() {
    let w = world().await;
    let admin = issue(&w.store, "CI", "bot_shop", "", &[TokenAction::AdminWrite]).await;
    let scenario = json!({
        "start": "thanks",
        "steps": [
            {"id": "thanks", "type": "message", "text": "Спасибо за покупку! Заказ №{{ params.order_id }} на {{ params.amount }} ₽.{% if lead.status == 'vip' %} Доставка бесплатна.{% endif %}", "next": "rate"},
            {"id": "rate", "type": "ask", "prompt": "Оцените доставку от 1 до 5", "expect": "rating", "var": "rating", "next": "bye"},
            {"id": "bye", "type": "end", "goal": "reviewed"}
        ]
    });
    let put = |body: Value| {
        w.http.put(w.server.url("/bots/bot_shop/scenarios/order_thank_you?note=first")).bearer_auth(&admin).json(&body).send()
    };
    let (status, saved) = answer(put(scenario.clone()).await.unwrap()).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["version"], 2, "world() saved version 1");

    let mut broken = scenario.clone();
    broken["steps"][0]["next"] = json!("nowhere");
    let (status, refused) = answer(put(broken).await.unwrap()).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["errors"].as_array().unwrap().iter().any(|e| e["field"].as_str().unwrap().starts_with("steps.thanks.")), "{refused}");

    // The preview sees the lead as a live run would: here, its status.
    // `9821.0` is an integer to JSON Schema, and the scenario sees `9821`.
    assert!(w.store.set_lead_status(&BotId::parse(SHOP).unwrap(), "TG-9072612", "vip").await.unwrap());
    let (status, reply) = answer(
        w.post(SHOP, "order/thank-you")
            .header("X-Dry-Run", "true")
            .json(&json!({"order_id": 9821.0, "user_id": "54321", "amount": 3500, "status": "paid"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    let preview = &reply["preview"];
    assert_eq!(preview["version"], 2);
    assert_eq!(preview["lead_id"], "TG-9072612");
    let texts: Vec<_> = preview["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["Спасибо за покупку! Заказ №9821 на 3500 ₽. Доставка бесплатна.", "Оцените доставку от 1 до 5"]);
    assert!(preview["messages"][0].get("missing").is_none(), "every value was sent: {preview}");
    assert_eq!(preview["stopped_at"], "rate");
    // An optional value left out renders empty, and the preview names it.
    let (status, reply) = answer(
        w.post(SHOP, "order/thank-you").header("X-Dry-Run", "true").json(&json!({"order_id": 9821, "user_id": "54321"})).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["preview"]["messages"][0]["missing"], json!(["params.amount"]), "{reply}");
    assert_eq!(w.events_and_runs(SHOP).await, (0, 0), "a dry run stores no event");

    // A live call's run records the scenario version it starts with.
    let (status, _) = answer(
        w.post(SHOP, "order/thank-you").json(&json!({"order_id": 9821, "user_id": "54321"})).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let version: i64 = sqlx::query_scalar("SELECT scenario_version FROM runs").fetch_one(w.store.pool()).await.unwrap();
    assert_eq!(version, 2);
}

#[tokio::test]
async fn a_token_revoked_in_the_studio_is_refused_by_the_next_call() {
    let w = world().await;
    let admin = w.server.client();
    assert_eq!(admin.login(support::ADMIN_EMAIL, support::ADMIN_PASSWORD).await.status(), 200);
    let issued: Value = admin
        .http
        .post(w.server.url("/api/tokens/issue"))
        .header("Origin", &admin.base)
        .json(&json!({"draft": {"name": "Helpdesk", "bots": "bot_shop", "actions": ["call"]}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = issued["secret"].as_str().expect("the secret, once").to_string();
    let (status, _) = answer(w.post_as(SHOP, "order/status", &secret).json(&json!({})).send().await.unwrap()).await;
    assert_eq!(status, 200);
    let id = issued["token"]["id"].as_str().unwrap();
    assert_eq!(admin.call("tokens/revoke", &[("id", id)]).await.status(), 200);
    let (status, reply) = answer(w.post_as(SHOP, "order/status", &secret).json(&json!({})).send().await.unwrap()).await;
    assert_eq!((status, reply["message"].as_str().unwrap()), (401, "Token revoked"), "no cache delay in the same process");
}
