//! The generic webhook and the email channel through the real `comops`
//! process:
//!
//! - a help desk (our receiver here) takes the shop bot's messages as signed
//!   POSTs: it binds its user 777 with a deep-link code sent as a signed
//!   `start`, the shop calls `order/feedback-webhook`, the question arrives
//!   signed, the person's signed answer «5» resumes the run and the thanks
//!   arrive; unsigned, forged, stale and malformed inbound calls are refused
//!   with JSON;
//! - a lead whose address is an email gets the shop's message through SMTP
//!   (the fake server), Cyrillic intact; an unknown mailbox dead-letters the
//!   message and deactivates the address.

mod support;

use comops_core::endpoint::EndpointDraft;
use comops_core::store::identities::IdentityLink;
use comops_core::store::Store;
use comops_core::token::{TokenAction, TokenDraft};
use comops_core::BotId;
use comops_fakes::smtp::FakeSmtp;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::TestServer;

const SECRET: &str = "helpdesk_whsec_0123456789";
const BOT: &str = "bot_shop";

/// HMAC-SHA256 (RFC 2104) written out, as an integrator without our code
/// would: the test checks our signatures with it and signs its own calls.
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(message).finalize();
    Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize().to_vec()
}

fn signature(timestamp: i64, body: &[u8]) -> String {
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    format!("sha256={}", hex::encode(hmac_sha256(SECRET.as_bytes(), &signed)))
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// One POST the help desk received.
#[derive(Clone, Debug)]
struct Post {
    body: Value,
    idempotency_key: String,
    signature_ok: bool,
}

/// The help desk's endpoint for the bot's messages: checks the signature
/// and the timestamp, keeps what arrived.
async fn start_receiver() -> (Arc<Mutex<Vec<Post>>>, SocketAddr) {
    let posts: Arc<Mutex<Vec<Post>>> = Arc::default();
    let kept = posts.clone();
    let app = axum::Router::new().route(
        "/helpdesk/comops",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let kept = kept.clone();
            async move {
                let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
                let timestamp = header("x-comops-timestamp").parse::<i64>().unwrap_or(0);
                let signature_ok = (now() - timestamp).abs() <= 300 && header("x-comops-signature") == signature(timestamp, &body);
                let post = Post {
                    body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                    idempotency_key: header("idempotency-key"),
                    signature_ok,
                };
                let id = {
                    let mut posts = kept.lock().unwrap();
                    posts.push(post);
                    format!("hd-{}", posts.len())
                };
                if signature_ok {
                    (axum::http::StatusCode::OK, axum::Json(json!({"id": id})))
                } else {
                    (axum::http::StatusCode::UNAUTHORIZED, axum::Json(json!({"error": "bad signature"})))
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (posts, addr)
}

async fn wait_for_posts(posts: &Arc<Mutex<Vec<Post>>>, n: usize) -> Vec<Post> {
    for _ in 0..200 {
        let seen = posts.lock().unwrap().clone();
        if seen.len() >= n {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    posts.lock().unwrap().clone()
}

struct World {
    server: TestServer,
    store: Store,
    bot: BotId,
    admin: String,
    caller: String,
    http: reqwest::Client,
}

/// The demo shop bot with an admin token and a calling token.
async fn world() -> World {
    let dir = support::scratch_dir();
    let server = TestServer::start(format!("sqlite://{}/comops.db", dir.display()), dir, &["--demo-bots"]);
    let store = server.store().await;
    let bot = BotId::parse(BOT).unwrap();
    let draft = TokenDraft { name: "ops".into(), bots: BOT.into(), actions: vec![TokenAction::AdminWrite], ..Default::default() };
    let admin = store.issue_token(&draft.validate().unwrap(), "admin").await.unwrap().1;
    let draft = TokenDraft { name: "Shop".into(), bots: BOT.into(), actions: vec![TokenAction::Call], ..Default::default() };
    let caller = store.issue_token(&draft.validate().unwrap(), "admin").await.unwrap().1;
    World { server, store, bot, admin, caller, http: reqwest::Client::new() }
}

impl World {
    async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self.http.put(self.server.url(path)).bearer_auth(&self.admin).json(&body).send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self.http.post(self.server.url(path)).bearer_auth(&self.caller).json(&body).send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    }

    /// An endpoint `alias` bound to the scenario `name`, saved over HTTP.
    async fn endpoint_with_scenario(&self, alias: &str, name: &str, scenario: Value) {
        let (status, saved) = self.put(&format!("/bots/{BOT}/scenarios/{name}"), scenario).await;
        assert_eq!(status, 200, "{saved}");
        let endpoint = EndpointDraft { alias: alias.into(), scenario: name.into(), enabled: true, ..Default::default() };
        self.store.create_endpoint(&self.bot, &endpoint.validate().unwrap()).await.unwrap();
    }

    /// A signed inbound call, as the help desk sends it.
    async fn inbound(&self, body: &Value) -> (u16, Value) {
        let raw = serde_json::to_vec(body).unwrap();
        let timestamp = now();
        self.inbound_raw(raw.clone(), Some(timestamp.to_string()), Some(signature(timestamp, &raw))).await
    }

    async fn inbound_raw(&self, body: Vec<u8>, timestamp: Option<String>, signature: Option<String>) -> (u16, Value) {
        let mut request = self.http.post(self.server.url(&format!("/webhook/{BOT}/inbound"))).header("Content-Type", "application/json");
        if let Some(timestamp) = timestamp {
            request = request.header("X-ComOps-Timestamp", timestamp);
        }
        if let Some(signature) = signature {
            request = request.header("X-ComOps-Signature", signature);
        }
        let response = request.body(body).send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    }

    /// `(status, outcome)` of the run of `trace_id` once it is `status`
    /// (or whatever it is after a while).
    async fn run_of(&self, trace_id: &str, wanted: &str) -> (String, String) {
        let mut row = (String::new(), String::new());
        for _ in 0..200 {
            if let Some(found) = sqlx::query_as::<_, (String, String)>("SELECT status, outcome FROM runs WHERE trace_id = $1")
                .bind(trace_id)
                .fetch_optional(self.store.pool())
                .await
                .unwrap()
            {
                row = found;
                if row.0 == wanted {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        row
    }
}

#[tokio::test]
async fn a_help_desk_talks_to_the_shop_bot_over_the_signed_webhook() {
    let (posts, receiver) = start_receiver().await;
    let w = world().await;

    // The admin points the bot's webhook at the help desk.
    let (status, refused) = w.put(&format!("/bots/{BOT}/settings/webhook"), json!({"url": "ftp://helpdesk", "secret": "short"})).await;
    assert_eq!(status, 422, "{refused}");
    let fields: Vec<&str> = refused["errors"].as_array().unwrap().iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, ["url", "secret"]);
    let url = format!("http://{receiver}/helpdesk/comops");
    let (status, saved) = w.put(&format!("/bots/{BOT}/settings/webhook"), json!({"url": url, "secret": SECRET})).await;
    assert_eq!(status, 200, "{saved}");
    assert!(!saved.to_string().contains(SECRET), "the secret is never echoed");

    w.endpoint_with_scenario(
        "order/feedback-webhook",
        "feedback_webhook",
        json!({
            "start": "rate",
            "steps": [
                {"id": "rate", "type": "ask", "prompt": "Заказ №{{ params.orderId }} доставлен. Оцените доставку от 1 до 5",
                 "expect": "rating", "var": "rating", "next": "thanks"},
                {"id": "thanks", "type": "message", "text": "Спасибо за оценку {{ vars.rating }}!", "next": "done"},
                {"id": "done", "type": "end", "goal": "reviewed"}
            ]
        }),
    )
    .await;

    // Refused before anything is read: no signature, a forged one, an old
    // one (a replay), each a 401 in JSON.
    let body = serde_json::to_vec(&json!({"chat_id": "hd-777", "text": "5"})).unwrap();
    let (status, answer) = w.inbound_raw(body.clone(), None, None).await;
    assert_eq!((status, &answer["success"]), (401, &json!(false)), "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("missing"), "{answer}");
    let (status, answer) = w.inbound_raw(body.clone(), Some(now().to_string()), Some(format!("sha256={}", "0".repeat(64)))).await;
    assert_eq!((status, answer["message"].as_str()), (401, Some("invalid signature")), "{answer}");
    let old = now() - 600;
    let (status, answer) = w.inbound_raw(body.clone(), Some(old.to_string()), Some(signature(old, &body))).await;
    assert_eq!(status, 401, "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("5 minutes"), "{answer}");
    // Signed but malformed: the answer names the field.
    let (status, answer) = w.inbound(&json!({"text": "5"})).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["errors"][0]["field"], "chat_id");
    let (status, answer) = w.inbound_raw(b"{oops".to_vec(), Some(now().to_string()), Some(signature(now(), b"{oops"))).await;
    assert_eq!((status, &answer["success"]), (400, &json!(false)), "{answer}");

    // 1. The help desk binds its user 777 with a one-time code.
    let (status, link) = w.post(&format!("/bots/{BOT}/links"), json!({"userId": 777})).await;
    assert_eq!(status, 200, "{link}");
    let code = link["code"].as_str().unwrap();
    let (status, answer) = w.inbound(&json!({"chat_id": "hd-777", "from": {"id": "777", "name": "Анна"}, "start": code})).await;
    assert_eq!((status, &answer["success"]), (200, &json!(true)), "{answer}");
    let mut leads = Vec::new();
    for _ in 0..100 {
        leads = w.store.leads_of_user(&w.bot, "777").await.unwrap();
        if !leads.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(leads.len(), 1, "the signed start bound user 777");

    // 2. The shop reports the delivery; the question arrives signed.
    let (status, call) = w.post(&format!("/bots/{BOT}/call/order/feedback-webhook"), json!({"userId": 777, "orderId": 9821})).await;
    assert_eq!(status, 200, "{call}");
    let trace_id = call["trace_id"].as_str().unwrap().to_string();
    let seen = wait_for_posts(&posts, 1).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    let question = &seen[0];
    assert!(question.signature_ok, "the help desk verified our signature");
    assert_eq!(question.body["chat_id"], "hd-777");
    assert_eq!(question.body["text"], "Заказ №9821 доставлен. Оцените доставку от 1 до 5");
    assert_eq!(question.idempotency_key, question.body["message_id"].as_str().unwrap());
    assert!(!question.idempotency_key.is_empty());
    assert_eq!(w.run_of(&trace_id, "waiting").await.0, "waiting");

    // 3. Anna answers «5» through the help desk; the run goes on.
    let reply = json!({"id": "hd-msg-1", "chat_id": "hd-777", "from": {"id": "777", "name": "Анна"}, "text": "5"});
    let (status, answer) = w.inbound(&reply).await;
    assert_eq!((status, &answer["duplicate"]), (200, &json!(false)), "{answer}");
    let seen = wait_for_posts(&posts, 2).await;
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen[1].signature_ok);
    assert_eq!(seen[1].body["text"], "Спасибо за оценку 5!");
    assert_eq!(w.run_of(&trace_id, "done").await, ("done".into(), "reviewed".into()));

    // The same reply again (a retry of the help desk's) is handled once.
    let (status, answer) = w.inbound(&reply).await;
    assert_eq!((status, &answer["duplicate"]), (200, &json!(true)), "{answer}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(posts.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_lead_with_an_email_address_gets_the_message_by_smtp() {
    let smtp = FakeSmtp::start_with_login("shop-bot", "smtp-pa55word").await;
    let w = world().await;
    let settings = json!({
        "smtp_host": smtp.host(), "smtp_port": smtp.port(), "tls": "none",
        "from": "Магазин <shop@shop.example>", "username": "shop-bot", "password": "smtp-pa55word",
        "subject": "Ваш заказ"
    });
    let (status, saved) = w.put(&format!("/bots/{BOT}/settings/email"), settings).await;
    assert_eq!(status, 200, "{saved}");
    assert!(!saved.to_string().contains("smtp-pa55word"));
    let (status, refused) = w.put(&format!("/bots/{BOT}/settings/email"), json!({"smtp_host": "smtp.example.com", "from": "nobody"})).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["errors"][0]["field"], "from");

    w.endpoint_with_scenario(
        "order/shipped-email",
        "shipped_email",
        json!({
            "start": "shipped",
            "steps": [
                {"id": "shipped", "type": "message", "text": "Здравствуйте, {{ params.name }}! Заказ №{{ params.orderId }} отправлен.",
                 "buttons": [{"label": "Отследить", "kind": "url", "url": "https://shop.example/track/{{ params.orderId }}"}], "next": "done"},
                {"id": "done", "type": "end"}
            ]
        }),
    )
    .await;
    for (user, lead, address) in [("501", "EM-anna", "anna@example.com"), ("502", "EM-gone", "gone@example.com")] {
        let link = IdentityLink {
            user_id: user.into(),
            lead_id: lead.into(),
            channel: "email".into(),
            chat_id: address.into(),
            is_active: true,
            source: "crm".into(),
            connected_at: 0,
        };
        w.store.link_identity(&w.bot, &link).await.unwrap();
    }
    smtp.refuse("gone@example.com");

    let (status, call) = w.post(&format!("/bots/{BOT}/call/order/shipped-email"), json!({"userId": 501, "orderId": 9821, "name": "Анна"})).await;
    assert_eq!(status, 200, "{call}");
    let mails = smtp.wait_for_messages(1, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.rcpt_to, ["anna@example.com"]);
    assert_eq!(mail.authenticated_as.as_deref(), Some("shop-bot"));
    assert_eq!(mail.subject().as_deref(), Some("Ваш заказ"));
    assert!(mail.header("Content-Type").unwrap().to_ascii_lowercase().contains("charset=utf-8"));
    assert_eq!(mail.text().trim_end(), "Здравствуйте, Анна! Заказ №9821 отправлен.\n\nОтследить: https://shop.example/track/9821");

    // An unknown mailbox: dead letter, and the address goes inactive.
    let (status, call) = w.post(&format!("/bots/{BOT}/call/order/shipped-email"), json!({"userId": 502, "orderId": 9822, "name": "Борис"})).await;
    assert_eq!(status, 200, "{call}");
    let mut row = (String::new(), String::new());
    for _ in 0..200 {
        if let Some(found) = sqlx::query_as::<_, (String, String)>("SELECT status, last_error FROM outbox WHERE chat_id = $1")
            .bind("gone@example.com")
            .fetch_optional(w.store.pool())
            .await
            .unwrap()
        {
            row = found;
            if row.0 == "dead" {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(row.0, "dead", "{row:?}");
    assert!(row.1.contains("blocked"), "{row:?}");
    let active: Vec<(i64,)> = sqlx::query_as("SELECT is_active FROM identity_links WHERE chat_id = $1")
        .bind("gone@example.com")
        .fetch_all(w.store.pool())
        .await
        .unwrap();
    assert_eq!(active, [(0,)]);
    assert_eq!(smtp.messages().len(), 1);
}
