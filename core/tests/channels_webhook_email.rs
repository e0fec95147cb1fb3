//! The generic webhook and the email channel against real servers: a tiny
//! receiver that checks our signature the way an integrator would, and the
//! fake SMTP server from `comops-fakes`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use comops_core::channel::email::{EmailChannel, EmailSettings};
use comops_core::channel::webhook::{parse_url, WebhookChannel};
use comops_core::channel::{Channel, ChannelError, OutboundMessage};
use comops_core::scenario::{Button, ButtonKind};
use comops_fakes::smtp::FakeSmtp;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

const SECRET: &str = "whsec_shop_0123456789abcdef";

/// What the receiver saw of one POST.
#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: Value,
    signature_ok: bool,
}

/// The answer the receiver gives: status, extra headers, body.
type Answer = (u16, Vec<(&'static str, String)>, String);

#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    answer: Arc<Mutex<Option<Answer>>>,
}

impl Receiver {
    /// Starts on a free port; answers `200 {"id": "crm-<n>"}` unless told
    /// otherwise, and `401` to anything not signed with [`SECRET`].
    async fn start() -> (Self, SocketAddr) {
        let receiver = Receiver::default();
        let app = Router::new().fallback(receive).with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, addr)
    }

    fn answer(&self, status: u16, headers: Vec<(&'static str, String)>, body: &str) {
        *self.answer.lock().unwrap() = Some((status, headers, body.to_string()));
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// What an integrator writes: HMAC-SHA256 over "<timestamp>.<raw body>".
fn signature_is_valid(headers: &HeaderMap, body: &[u8]) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let (timestamp, signature) = (header("x-comops-timestamp"), header("x-comops-signature"));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let fresh = timestamp.parse::<i64>().is_ok_and(|t| (now - t).abs() <= 300);
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    fresh && signature == expected
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> Response {
    let signature_ok = signature_is_valid(&headers, &body);
    let count = {
        let mut received = receiver.received.lock().unwrap();
        received.push(Received { headers, body: serde_json::from_slice(&body).unwrap_or(Value::Null), signature_ok });
        received.len()
    };
    if !signature_ok {
        return (StatusCode::UNAUTHORIZED, "bad signature").into_response();
    }
    let Some((status, headers, body)) = receiver.answer.lock().unwrap().clone() else {
        return axum::Json(json!({"id": format!("crm-{count}")})).into_response();
    };
    let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
    for (name, value) in headers {
        response.headers_mut().insert(HeaderName::from_static(name), HeaderValue::from_str(&value).unwrap());
    }
    response
}

fn message(id: &str, chat_id: &str, text: &str) -> OutboundMessage {
    OutboundMessage { id: id.into(), chat_id: chat_id.into(), text: text.into(), buttons: vec![], media_url: None, parts_sent: 0 }
}

fn webhook(addr: SocketAddr) -> WebhookChannel {
    WebhookChannel::new(parse_url(&format!("http://{addr}/comops/messages?key=receiver-own-token")).unwrap(), SECRET)
}

#[tokio::test]
async fn the_crm_receives_a_signed_post_with_buttons_and_an_idempotency_key() {
    let (receiver, addr) = Receiver::start().await;
    let channel = webhook(addr);
    let mut sent = message("0190-msg-1", "crm-user-125", "Спасибо за покупку! Оцените доставку:");
    sent.buttons = vec![
        Button { label: "5".into(), kind: ButtonKind::Inline, value: Some("rating:5".into()), url: None },
        Button { label: "Заказ".into(), kind: ButtonKind::Url, value: None, url: Some("https://shop.example/o/42".into()) },
    ];
    sent.media_url = Some("https://shop.example/p.jpg".into());

    let delivered = channel.send(&sent).await.expect("delivered");

    assert_eq!(delivered.provider_message_id, "crm-1", "the receiver's id is kept");
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    let post = &received[0];
    assert!(post.signature_ok, "the receiver verified the signature itself");
    assert_eq!(post.headers["idempotency-key"], "0190-msg-1");
    assert_eq!(post.headers["content-type"], "application/json");
    assert_eq!(
        post.body,
        json!({
            "message_id": "0190-msg-1",
            "chat_id": "crm-user-125",
            "text": "Спасибо за покупку! Оцените доставку:",
            "buttons": [
                {"label": "5", "kind": "inline", "value": "rating:5"},
                {"label": "Заказ", "kind": "url", "url": "https://shop.example/o/42"}
            ],
            "media_url": "https://shop.example/p.jpg"
        })
    );
}

#[tokio::test]
async fn a_long_text_goes_out_in_parts_each_with_its_own_key() {
    let (receiver, addr) = Receiver::start().await;
    let mut sent = message("m-7", "c-1", &"Длинный текст. ".repeat(5_000)); // 75,000 characters
    sent.buttons = vec![Button { label: "Ок".into(), kind: ButtonKind::Reply, value: None, url: None }];
    let delivered = webhook(addr).send(&sent).await.expect("delivered");
    let received = receiver.received();
    assert_eq!(received.len(), 2);
    assert_eq!(delivered.provider_message_id, "crm-2");
    let keys: Vec<_> = received.iter().map(|r| r.headers["idempotency-key"].to_str().unwrap().to_string()).collect();
    assert_eq!(keys, ["m-7.1", "m-7.2"]);
    assert_eq!(received[0].body["buttons"], json!([]), "buttons ride on the last part");
    assert_eq!(received[1].body["buttons"][0]["label"], "Ок");
    assert!(received.iter().all(|r| r.signature_ok && r.body["text"].as_str().unwrap().chars().count() <= 64 * 1024));
}

#[tokio::test]
async fn receiver_answers_map_onto_the_taxonomy() {
    let (receiver, addr) = Receiver::start().await;
    let channel = webhook(addr);
    let hello = message("m-1", "c-1", "Привет");
    let send = || channel.send(&hello);

    receiver.answer(204, vec![], "");
    assert_eq!(send().await.unwrap().provider_message_id, "m-1", "no id in the answer: ours");

    receiver.answer(429, vec![("retry-after", "3".into())], "");
    assert_eq!(send().await, Err(ChannelError::Throttled { retry_after: Duration::from_secs(3) }));
    let later = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(120));
    receiver.answer(429, vec![("retry-after", later)], "");
    let waited = send().await.unwrap_err().retry_after().unwrap();
    assert!((Duration::from_secs(118)..=Duration::from_secs(120)).contains(&waited), "{waited:?}");
    receiver.answer(429, vec![], "");
    assert_eq!(send().await.unwrap_err().retry_after(), Some(Duration::from_secs(1)));

    receiver.answer(410, vec![], r#"{"message": "chat deleted"}"#);
    assert_eq!(send().await, Err(ChannelError::Blocked));

    receiver.answer(400, vec![], r#"{"message": "unknown chat c-1"}"#);
    let error = send().await.unwrap_err();
    assert_eq!(error, ChannelError::BadRequest("the receiver answered 400: unknown chat c-1".into()));

    receiver.answer(500, vec![], "boom");
    assert!(matches!(send().await, Err(ChannelError::Transient(_))));

    // A receiver that is down: transient, and neither the secret nor the
    // URL's own token shows up in the reason.
    drop(receiver);
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let error = webhook(closed).send(&message("m-2", "c-1", "Привет")).await.unwrap_err();
    assert!(matches!(&error, ChannelError::Transient(_)), "{error:?}");
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(SECRET) && !shown.contains("receiver-own-token"), "{shown}");
}

fn email_channel(smtp: &FakeSmtp, extra: Value) -> EmailChannel {
    let mut settings = json!({"smtp_host": smtp.host(), "smtp_port": smtp.port(), "from": "Магазин REHAU <shop@rehau.example>", "tls": "none"});
    settings.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    EmailChannel::new(EmailSettings::parse(settings.as_object().unwrap()).unwrap(), "bot_rehau").unwrap()
}

#[tokio::test]
async fn a_cyrillic_message_arrives_intact_with_correct_headers() {
    let smtp = FakeSmtp::start_with_login("shop-bot", "smtp-pa55").await;
    let channel = email_channel(&smtp, json!({"username": "shop-bot", "password": "smtp-pa55", "subject": "Ваш заказ"}));
    let mut sent = message("0190-msg-42", "anna@example.com", "Здравствуйте, Анна!\nВаш заказ №9821 отправлен. Ёлки-палки, ура!");
    sent.buttons = vec![Button { label: "Отследить".into(), kind: ButtonKind::Url, value: None, url: Some("https://rehau.example/track/9821".into()) }];

    let delivered = channel.send(&sent).await.expect("sent");

    let mails = smtp.wait_for_messages(1, Duration::from_secs(5)).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.authenticated_as.as_deref(), Some("shop-bot"));
    assert_eq!(mail.mail_from, "shop@rehau.example");
    assert_eq!(mail.rcpt_to, ["anna@example.com"]);
    assert_eq!(mail.subject().as_deref(), Some("Ваш заказ"));
    let from = mail.decoded_header("From").unwrap_or_default();
    assert!(from.contains("Магазин REHAU") && from.ends_with("<shop@rehau.example>"), "{from}");
    assert_eq!(mail.header("To").as_deref(), Some("anna@example.com"));
    assert_eq!(mail.header("MIME-Version").as_deref(), Some("1.0"));
    assert_eq!(mail.header("Content-Type").map(|v| v.to_ascii_lowercase()).as_deref(), Some("text/plain; charset=utf-8"));
    assert_eq!(mail.header("Message-ID").as_deref(), Some("<0190-msg-42@rehau.example>"));
    assert_eq!(delivered.provider_message_id, "<0190-msg-42@rehau.example>");
    assert!(mail.header("Date").is_some());
    assert_eq!(
        mail.text(),
        "Здравствуйте, Анна!\nВаш заказ №9821 отправлен. Ёлки-палки, ура!\n\nОтследить: https://rehau.example/track/9821"
    );
}

#[tokio::test]
async fn lines_starting_with_a_dot_survive_the_smtp_transfer() {
    let smtp = FakeSmtp::start().await;
    let text = "Order 9821 shipped.\n.\n..hidden? no: dots at line starts are stuffed\n.end";
    email_channel(&smtp, json!({})).send(&message("m-dot", "bob@example.com", text)).await.expect("sent");
    let mail = &smtp.wait_for_messages(1, Duration::from_secs(5)).await[0];
    // (A 7bit body ends with the CRLF lettre adds to its last line.)
    assert_eq!(mail.text().trim_end(), text);
    assert_eq!(mail.subject().as_deref(), Some("bot_rehau"), "the default subject is the caller's");
}

#[tokio::test]
async fn smtp_refusals_map_onto_the_taxonomy() {
    let smtp = FakeSmtp::start().await;
    let channel = email_channel(&smtp, json!({}));

    // No such mailbox: the address is gone for good.
    smtp.refuse("gone@example.com");
    assert_eq!(channel.send(&message("m-1", "gone@example.com", "Привет")).await, Err(ChannelError::Blocked));

    // Greylisting: retry later, and the retry goes through.
    smtp.answer_next(451, "4.7.1 Greylisted, try again later");
    let error = channel.send(&message("m-2", "anna@example.com", "Привет")).await.unwrap_err();
    assert!(error.is_retryable(), "{error:?}");
    assert!(matches!(&error, ChannelError::Transient(why) if why.contains("451")), "{error:?}");
    channel.send(&message("m-2", "anna@example.com", "Привет")).await.expect("the retry is accepted");

    // A policy refusal is about us, not the mailbox.
    smtp.answer_next(550, "5.7.1 Relaying denied");
    assert!(matches!(channel.send(&message("m-3", "anna@example.com", "x")).await, Err(ChannelError::BadRequest(_))));
    smtp.answer_next(554, "5.5.0 Transaction failed");
    assert!(matches!(channel.send(&message("m-4", "anna@example.com", "x")).await, Err(ChannelError::BadRequest(_))));

    // Not an email address at all.
    let error = channel.send(&message("m-5", "540278913", "x")).await.unwrap_err();
    assert_eq!(error, ChannelError::BadRequest("the recipient is not a valid email address".into()));

    assert_eq!(smtp.messages().len(), 1, "only the retried message was accepted");
}

#[tokio::test]
async fn a_wrong_password_is_a_bad_request_that_never_shows_the_password() {
    let smtp = FakeSmtp::start_with_login("shop-bot", "right-password").await;
    let channel = email_channel(&smtp, json!({"username": "shop-bot", "password": "wrong-password-123"}));
    let error = channel.send(&message("m-1", "anna@example.com", "x")).await.unwrap_err();
    assert!(matches!(&error, ChannelError::BadRequest(why) if why.contains("535")), "{error:?}");
    assert!(!format!("{error} {error:?} {channel:?}").contains("wrong-password-123"));

    // An unreachable relay is transient.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let settings = json!({"smtp_host": "127.0.0.1", "smtp_port": closed.port(), "from": "shop@rehau.example", "tls": "none"});
    let channel = EmailChannel::new(EmailSettings::parse(settings.as_object().unwrap()).unwrap(), "x").unwrap();
    let error = channel.send(&message("m-2", "anna@example.com", "x")).await.unwrap_err();
    assert!(matches!(error, ChannelError::Transient(_)), "{error:?}");
}
