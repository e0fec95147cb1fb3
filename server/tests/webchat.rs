//! The built-in web chat through the real `comops` process, as a browser
//! widget uses it: a visitor session, a deep link binding the visitor to
//! the shop's customer 54321, the CRM's `order/feedback` call, the bot's
//! message with buttons and its question arriving over Server-Sent Events,
//! the visitor's answer, and the whole conversation in the history — plus
//! the guards: visitor tokens, private chats, CORS, limits, the off switch.

mod support;

use comops_core::endpoint::EndpointDraft;
use comops_core::store::Store;
use comops_core::token::{TokenAction, TokenDraft};
use comops_core::trace::TraceFilter;
use comops_core::BotId;
use serde_json::{json, Value};
use std::time::Duration;
use support::TestServer;

struct Shop {
    server: TestServer,
    store: Store,
    bot: BotId,
    /// An `admin_write` token of bot_shop (links, scenarios, settings).
    admin: String,
    /// The CRM's `call` token.
    crm: String,
    http: reqwest::Client,
}

async fn shop() -> Shop {
    let dir = support::scratch_dir();
    let server = TestServer::start(format!("sqlite://{}/comops.db", dir.display()), dir, &["--demo-bots"]);
    let store = server.store().await;
    let issue = |name: &str, action: TokenAction| TokenDraft { name: name.into(), bots: "bot_shop".into(), actions: vec![action], ..Default::default() };
    let admin = store.issue_token(&issue("ops", TokenAction::AdminWrite).validate().unwrap(), "admin").await.unwrap().1;
    let crm = store.issue_token(&issue("Shop CRM", TokenAction::Call).validate().unwrap(), "admin").await.unwrap().1;
    Shop { server, store, bot: BotId::parse("bot_shop").unwrap(), admin, crm, http: reqwest::Client::new() }
}

impl Shop {
    fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    /// A new visitor of bot_shop: `(token, chat_id)`.
    async fn visitor(&self) -> (String, String) {
        let response = self.http.post(self.url("/webchat/bot_shop/sessions")).json(&json!({"name": "Анна"})).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        (body["token"].as_str().unwrap().to_string(), body["chat_id"].as_str().unwrap().to_string())
    }

    async fn say(&self, token: &str, body: Value) -> reqwest::Response {
        self.http.post(self.url("/webchat/bot_shop/messages")).bearer_auth(token).json(&body).send().await.unwrap()
    }

    async fn history(&self, token: &str, query: &str) -> Value {
        let response = self.http.get(self.url(&format!("/webchat/bot_shop/history{query}"))).bearer_auth(token).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    async fn stream(&self, token: &str, last_event_id: Option<i64>) -> EventStream {
        let mut request = self.http.get(self.url(&format!("/webchat/bot_shop/stream?token={token}")));
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream; charset=utf-8");
        EventStream { response, buffer: String::new() }
    }

    /// Waits until the run of this trace has ended; `(status, outcome)`.
    async fn finished_run(&self, trace_id: &str) -> (String, String) {
        for _ in 0..100 {
            let row: Option<(String, String)> = sqlx::query_as("SELECT status, outcome FROM runs WHERE trace_id = $1")
                .bind(trace_id)
                .fetch_optional(self.store.pool())
                .await
                .unwrap();
            if let Some(row) = row.filter(|(status, _)| status == "done" || status == "failed") {
                return row;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the run of {trace_id} did not end");
    }
}

/// A Server-Sent Events reader over a raw streaming response.
struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    /// The next event `(id, data as JSON)`, skipping comments; `None` when
    /// nothing arrives within `wait`.
    async fn next(&mut self, wait: Duration) -> Option<(i64, Value)> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let mut id = None;
                let mut data = Vec::new();
                for line in frame.lines() {
                    if let Some(value) = line.strip_prefix("id: ") {
                        id = value.parse::<i64>().ok();
                    } else if let Some(value) = line.strip_prefix("data: ") {
                        data.push(value);
                    }
                }
                if let (Some(id), false) = (id, data.is_empty()) {
                    return Some((id, serde_json::from_str(&data.join("\n")).expect("JSON data")));
                }
            }
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Ok(Ok(Some(chunk))) => self.buffer.push_str(std::str::from_utf8(&chunk).expect("UTF-8")),
                Ok(Ok(None)) | Ok(Err(_)) | Err(_) => return None,
            }
        }
    }

    async fn expect(&mut self) -> (i64, Value) {
        self.next(Duration::from_secs(10)).await.expect("an event within 10 s")
    }
}

const FEEDBACK: &str = r#"{
    "name": "order_feedback",
    "start": "thanks",
    "steps": [
        {"id": "thanks", "type": "message", "text": "Спасибо за заказ №{{ params.order_id }}!",
         "buttons": [
            {"label": "Отследить заказ", "kind": "url", "url": "https://shop.example/orders/{{ params.order_id }}"},
            {"label": "Связаться с нами", "kind": "inline", "value": "support"}
         ],
         "next": "rate"},
        {"id": "rate", "type": "ask", "prompt": "Оцените покупку от 1 до 5", "expect": "rating", "var": "rating", "next": "bye"},
        {"id": "bye", "type": "message", "text": "Спасибо за оценку {{ vars.rating }}!", "next": "done"},
        {"id": "done", "type": "end", "goal": "rated"}
    ]
}"#;

#[tokio::test]
async fn a_customer_bound_by_a_deep_link_rates_the_order_in_the_web_chat() {
    let shop = shop().await;
    let (token, chat_id) = shop.visitor().await;
    assert!(chat_id.starts_with("wc_") && chat_id.len() == 19, "{chat_id}");
    assert!(!token.contains(&chat_id[3..]) && token.len() == 64, "the address does not reveal the token");

    // The CRM asks for a link for customer 54321; the widget opens with it.
    let link: Value = shop
        .http
        .post(shop.url("/bots/bot_shop/links"))
        .bearer_auth(&shop.admin)
        .json(&json!({"userId": "54321"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = link["code"].as_str().expect("a link code").to_string();
    let started = shop.say(&token, json!({"type": "start", "payload": code})).await;
    assert_eq!(started.status(), 200);
    let mut leads = Vec::new();
    for _ in 0..100 {
        leads = shop.store.leads_of_user(&shop.bot, "54321").await.unwrap();
        if !leads.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(leads.len(), 1, "the start bound customer 54321");
    let addresses = shop.store.addresses_of_lead(&shop.bot, &leads[0]).await.unwrap();
    assert_eq!(addresses, [("webchat".to_string(), chat_id.clone())]);

    // The architect saves the scenario and binds order/feedback to it.
    let saved = shop
        .http
        .put(shop.url("/bots/bot_shop/scenarios/order_feedback"))
        .bearer_auth(&shop.admin)
        .header("content-type", "application/json")
        .body(FEEDBACK)
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 200, "{}", saved.text().await.unwrap());
    let endpoint = EndpointDraft { alias: "order/feedback".into(), scenario: "order_feedback".into(), enabled: true, ..Default::default() };
    shop.store.create_endpoint(&shop.bot, &endpoint.validate().unwrap()).await.unwrap();

    // The widget listens; the CRM reports the delivered order.
    let mut events = shop.stream(&token, None).await;
    let call: Value = shop
        .http
        .post(shop.url("/bots/bot_shop/call/order/feedback"))
        .bearer_auth(&shop.crm)
        .json(&json!({"userId": "54321", "order_id": 9821}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(call["success"], true, "{call}");
    let trace_id = call["trace_id"].as_str().unwrap().to_string();

    let (id, thanks) = events.expect().await;
    assert_eq!(id, 1);
    assert_eq!(thanks["from"], "bot");
    assert_eq!(thanks["text"], "Спасибо за заказ №9821!");
    assert_eq!(thanks["buttons"][0], json!({"label": "Отследить заказ", "kind": "url", "url": "https://shop.example/orders/9821"}));
    assert_eq!(thanks["buttons"][1], json!({"label": "Связаться с нами", "kind": "inline", "value": "support"}));
    let (id, question) = events.expect().await;
    assert_eq!(id, 2);
    assert_eq!(question["text"], "Оцените покупку от 1 до 5");
    let labels: Vec<&str> = question["buttons"].as_array().unwrap().iter().map(|b| b["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["1", "2", "3", "4", "5"], "a rating gets one button per answer");

    // The customer presses «5».
    let answered = shop.say(&token, json!({"type": "text", "text": "5"})).await;
    assert_eq!(answered.status(), 200);
    assert_eq!(answered.json::<Value>().await.unwrap(), json!({"success": true, "id": 3}));
    let (id, mine) = events.expect().await;
    assert_eq!((id, mine["from"].as_str(), mine["text"].as_str()), (3, Some("visitor"), Some("5")));
    let (id, bye) = events.expect().await;
    assert_eq!((id, bye["text"].as_str()), (4, Some("Спасибо за оценку 5!")));
    assert_eq!(shop.finished_run(&trace_id).await, ("done".into(), "rated".into()));

    // A reload shows both sides in order; pages go back by id.
    let history = shop.history(&token, "").await;
    let lines: Vec<(i64, String, String)> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["id"].as_i64().unwrap(), m["from"].as_str().unwrap().into(), m["text"].as_str().unwrap().into()))
        .collect();
    assert_eq!(
        lines,
        [
            (1, "bot".into(), "Спасибо за заказ №9821!".into()),
            (2, "bot".into(), "Оцените покупку от 1 до 5".into()),
            (3, "visitor".into(), "5".into()),
            (4, "bot".into(), "Спасибо за оценку 5!".into()),
        ]
    );
    assert_eq!(history["more"], false);
    let page = shop.history(&token, "?before=4&limit=2").await;
    let ids: Vec<i64> = page["messages"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert_eq!((ids, page["more"].as_bool()), (vec![2, 3], Some(true)));
    let page = shop.history(&token, "?after=3").await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 1);
    let bad = shop.http.get(shop.url("/webchat/bot_shop/history?after=three")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(bad.json::<Value>().await.unwrap()["success"], false);

    // A reconnecting EventSource resumes after its Last-Event-ID.
    let mut resumed = shop.stream(&token, Some(2)).await;
    assert_eq!(resumed.expect().await.0, 3);
    assert_eq!(resumed.expect().await.0, 4);

    // The trace names the chat by its address, never by the token.
    let traces = shop.store.list_traces(&TraceFilter { bot_id: "bot_shop".into(), limit: Some(1000), ..Default::default() }).await.unwrap();
    let text = serde_json::to_string(&traces).unwrap();
    assert!(text.contains(&chat_id), "the inbound hops name the address");
    assert!(!text.contains(&token), "the visitor token is never traced");
}

#[tokio::test]
async fn visitor_tokens_are_checked_and_chats_stay_private() {
    let shop = shop().await;
    let (anna, _) = shop.visitor().await;
    let (boris, _) = shop.visitor().await;
    assert_eq!(shop.say(&anna, json!({"type": "text", "text": "Мой номер заказа 9821"})).await.status(), 200);

    // No token, a stranger's token, a malformed one, or another bot's: 401.
    let stranger = "0".repeat(64);
    for (method, path) in [("POST", "/webchat/bot_shop/messages"), ("GET", "/webchat/bot_shop/history"), ("GET", "/webchat/bot_shop/stream")] {
        for token in [None, Some(stranger.as_str()), Some("not-a-token")] {
            let mut request = shop.http.request(method.parse().unwrap(), shop.url(path)).json(&json!({"type": "text", "text": "hi"}));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 401, "{method} {path} with {token:?}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["success"], false);
            assert!(body["message"].as_str().unwrap().contains("isitor token"), "{body}");
        }
    }
    let on_other_bot = shop.http.get(shop.url("/webchat/bot_rehau/history")).bearer_auth(&anna).send().await.unwrap();
    assert_eq!(on_other_bot.status(), 401, "a visitor belongs to one bot");
    let in_query = shop.http.get(shop.url(&format!("/webchat/bot_shop/stream?token={stranger}"))).send().await.unwrap();
    assert_eq!(in_query.status(), 401);

    // Boris sees only his own (empty) conversation, live or in history.
    assert_eq!(shop.history(&boris, "").await["messages"], json!([]));
    let mut his = shop.stream(&boris, None).await;
    assert_eq!(shop.say(&anna, json!({"type": "text", "text": "Адрес: Москва, Тверская 1"})).await.status(), 200);
    assert_eq!(his.next(Duration::from_millis(2500)).await, None, "Anna's messages never reach Boris");
    let hers = shop.history(&anna, "").await;
    assert_eq!(hers["messages"].as_array().unwrap().len(), 2);

    // Bodies are checked like the rest of the API.
    let not_json = shop.http.post(shop.url("/webchat/bot_shop/messages")).bearer_auth(&anna).body("hi").send().await.unwrap();
    assert_eq!(not_json.status(), 415);
    let malformed = shop
        .http
        .post(shop.url("/webchat/bot_shop/messages"))
        .bearer_auth(&anna)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let huge = shop.say(&anna, json!({"type": "text", "text": "x".repeat(20_000)})).await;
    assert_eq!(huge.status(), 413);
    let unknown = shop.say(&anna, json!({"type": "sticker"})).await;
    assert_eq!(unknown.status(), 422);
    let bad_phone = shop.say(&anna, json!({"type": "contact", "phone": "позвоните мне"})).await;
    assert_eq!(bad_phone.status(), 422);
    assert_eq!(bad_phone.json::<Value>().await.unwrap()["errors"][0]["field"], "phone");

    // Twenty messages a minute per visitor; then 429 with Retry-After.
    let mut limited = None;
    for n in 0..25 {
        let response = shop.say(&boris, json!({"type": "text", "text": format!("сообщение {n}")})).await;
        if response.status() == 429 {
            limited = Some((n, response));
            break;
        }
        assert_eq!(response.status(), 200);
    }
    let (n, response) = limited.expect("the visitor was rate-limited");
    assert!((20..=21).contains(&n), "limited after {n} messages (one may refill meanwhile)");
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(response.json::<Value>().await.unwrap()["success"], false);
}

#[tokio::test]
async fn cors_follows_allowed_origins_and_the_web_chat_can_be_switched_off() {
    let shop = shop().await;
    let preflight = |origin: &str| {
        shop.http
            .request(reqwest::Method::OPTIONS, shop.url("/webchat/bot_shop/messages"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization, content-type")
            .send()
    };
    // The page and the widget need no settings at all.
    let page = shop.http.get(shop.url("/webchat/bot_shop")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<script src=\"/webchat/bot_shop/widget.js\" data-mode=\"page\""));
    let widget = shop.http.get(shop.url("/webchat/bot_shop/widget.js")).send().await.unwrap();
    assert_eq!(widget.headers()["content-type"], "text/javascript; charset=utf-8");
    assert!(widget.text().await.unwrap().contains("EventSource"));
    let any = preflight("https://any.example").await.unwrap();
    assert_eq!(any.status(), 204);
    assert_eq!(any.headers()["access-control-allow-origin"], "https://any.example");
    assert!(any.headers()["access-control-allow-headers"].to_str().unwrap().contains("authorization"));

    let settings = |body: Value| shop.http.put(shop.url("/bots/bot_shop/settings/webchat")).bearer_auth(&shop.admin).json(&body).send();
    assert_eq!(settings(json!({"allowed_origins": "shop.example"})).await.unwrap().status(), 422);
    assert_eq!(settings(json!({"allowed_origins": "https://shop.example"})).await.unwrap().status(), 200);
    let allowed = preflight("https://shop.example").await.unwrap();
    assert_eq!(allowed.status(), 204);
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://shop.example");
    let refused = preflight("https://evil.example").await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(!refused.headers().contains_key("access-control-allow-origin"));
    assert_eq!(refused.json::<Value>().await.unwrap()["success"], false);
    let sneaky = shop.http.post(shop.url("/webchat/bot_shop/sessions")).header("Origin", "https://evil.example").json(&json!({})).send().await.unwrap();
    assert_eq!(sneaky.status(), 403, "a refused origin gets no session either");
    let embedded = shop.http.post(shop.url("/webchat/bot_shop/sessions")).header("Origin", "https://shop.example").json(&json!({})).send().await.unwrap();
    assert_eq!(embedded.status(), 200);
    assert_eq!(embedded.headers()["access-control-allow-origin"], "https://shop.example");
    // Our own chat page is always allowed.
    let own = shop.http.post(shop.url("/webchat/bot_shop/sessions")).header("Origin", &shop.server.base).json(&json!({})).send().await.unwrap();
    assert_eq!(own.status(), 200);

    // Switched off: the routes are gone and nothing is delivered.
    assert_eq!(settings(json!({"enabled": "false"})).await.unwrap().status(), 200);
    for path in ["/webchat/bot_shop", "/webchat/bot_shop/widget.js"] {
        let response = shop.http.get(shop.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(response.json::<Value>().await.unwrap()["success"], false);
    }
    let gone = shop.http.post(shop.url("/webchat/bot_shop/sessions")).header("origin", "https://shop.example").json(&json!({})).send().await.unwrap();
    assert_eq!(gone.status(), 404);
    assert_eq!(gone.headers()["access-control-allow-origin"], "https://shop.example", "the widget on the site reads why");
    // And the browser's preflight before it passes, or it would not be sent.
    let preflight = shop
        .http
        .request(reqwest::Method::OPTIONS, shop.url("/webchat/bot_shop/sessions"))
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(preflight.headers()["access-control-allow-origin"], "https://shop.example");
    assert_eq!(shop.http.get(shop.url("/webchat/bot_nope")).send().await.unwrap().status(), 404);
}
