//! The WhatsApp Cloud API and VK adapters against protocol-faithful fakes
//! (`comops_fakes::whatsapp`, `comops_fakes::vk`) over real HTTP: what each
//! messenger receives, how its errors map onto the channel taxonomy, and how
//! inbound payloads of the documented shapes are read.

use std::time::Duration;

use comops_core::channel::settings;
use comops_core::channel::vk::{self, VkChannel};
use comops_core::channel::whatsapp::{self, WhatsAppChannel, CONTACT_BUTTON_ID};
use comops_core::channel::{Channel, ChannelError, InboundEvent, OutboundMessage, Sender};
use comops_core::scenario::{Button, ButtonKind};
use comops_fakes::vk::{FakeVk, VkFailure};
use comops_fakes::whatsapp::{FakeWhatsApp, WhatsAppFailure};
use serde_json::{json, Value};

const WA_TOKEN: &str = "EAAGm0PX4ZCpsBAKSECRET";
const WA_NUMBER: &str = "106540352242922";
const ANNA: &str = "79161234567";
const VK_TOKEN: &str = "vk1.a.community-SECRET-token";
const VK_GROUP: i64 = 218_123_456;
const VK_PEER: i64 = 540_278_913;

fn message(chat_id: &str, text: &str, buttons: Vec<Button>) -> OutboundMessage {
    OutboundMessage { id: "out_01".into(), chat_id: chat_id.into(), text: text.into(), buttons, media_url: None, parts_sent: 0 }
}

fn button(label: &str, kind: ButtonKind) -> Button {
    Button { label: label.into(), kind, value: None, url: None }
}

fn inline(label: &str, value: &str) -> Button {
    Button { value: Some(value.into()), ..button(label, ButtonKind::Inline) }
}

fn link(label: &str, url: &str) -> Button {
    Button { url: Some(url.into()), ..button(label, ButtonKind::Url) }
}

async fn whatsapp() -> (FakeWhatsApp, WhatsAppChannel) {
    let fake = FakeWhatsApp::start(WA_TOKEN, WA_NUMBER).await;
    let channel = WhatsAppChannel::new(WA_TOKEN, WA_NUMBER).with_api_base(fake.base_url()).with_api_version("v21.0");
    (fake, channel)
}

async fn vk() -> (FakeVk, VkChannel) {
    let fake = FakeVk::start(VK_TOKEN, VK_GROUP).await;
    let channel = VkChannel::new(VK_TOKEN).with_api_base(fake.base_url());
    (fake, channel)
}

// ---------------------------------------------------------------- WhatsApp

#[tokio::test]
async fn whatsapp_a_text_reaches_the_person() {
    let (fake, channel) = whatsapp().await;
    assert_eq!(channel.kind(), "whatsapp");
    assert_eq!(channel.text_limit(), 4096);
    let delivered = channel.send(&message(ANNA, "Спасибо за покупку!", vec![])).await.unwrap();
    let sent = fake.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, ANNA);
    assert_eq!(sent[0].kind, "text");
    assert_eq!(sent[0].text, "Спасибо за покупку!");
    assert_eq!(sent[0].body["recipient_type"], "individual");
    assert_eq!(delivered.provider_message_id, sent[0].id);
    assert!(delivered.provider_message_id.starts_with("wamid."));
}

#[tokio::test]
async fn whatsapp_up_to_three_choices_are_reply_buttons_more_are_a_list() {
    let (fake, channel) = whatsapp().await;
    let three = vec![inline("Да", "yes"), inline("Нет", "no"), button("Позвоните мне пожалуйста", ButtonKind::Reply)];
    channel.send(&message(ANNA, "Подтвердите заказ", three)).await.unwrap();
    let ratings: Vec<Button> = (1..=5).map(|r| button(&r.to_string(), ButtonKind::Reply)).collect();
    channel.send(&message(ANNA, "Оцените доставку", ratings)).await.unwrap();
    let sent = fake.sent();
    assert_eq!(sent[0].body["interactive"]["type"], "button");
    assert_eq!(sent[0].text, "Подтвердите заказ");
    let choices = sent[0].choices();
    assert_eq!(choices[0], ("yes".to_string(), "Да".to_string()));
    assert_eq!(choices[1], ("no".to_string(), "Нет".to_string()));
    // The id is the full value; the title is cut to WhatsApp's 20 characters.
    assert_eq!(choices[2].0, "Позвоните мне пожалуйста");
    assert_eq!(choices[2].1.chars().count(), 20);
    assert_eq!(sent[1].body["interactive"]["type"], "list");
    assert_eq!(sent[1].choices().iter().map(|c| c.0.as_str()).collect::<Vec<_>>(), ["1", "2", "3", "4", "5"]);
}

#[tokio::test]
async fn whatsapp_url_buttons_become_links_in_the_text() {
    let (fake, channel) = whatsapp().await;
    let buttons = vec![link("Личный кабинет", "https://rehau.example/lk"), inline("Готово", "done")];
    channel.send(&message(ANNA, "Ваш кабинет готов.", buttons)).await.unwrap();
    let sent = fake.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].text, "Ваш кабинет готов.\n\nЛичный кабинет: https://rehau.example/lk");
    assert_eq!(sent[0].choices(), vec![("done".to_string(), "Готово".to_string())]);
    let only_links = vec![link("Сайт", "https://rehau.example")];
    channel.send(&message(ANNA, "Подробности:", only_links)).await.unwrap();
    assert_eq!(fake.sent()[1].kind, "text");
    assert_eq!(fake.sent()[1].text, "Подробности:\n\nСайт: https://rehau.example");
}

#[tokio::test]
async fn whatsapp_a_long_text_is_split_and_the_buttons_ride_on_the_last_part() {
    let (fake, channel) = whatsapp().await;
    let text = "Условия гарантии. ".repeat(300); // 5,400 characters
    let delivered = channel.send(&message(ANNA, &text, vec![inline("Принимаю", "ok")])).await.unwrap();
    let sent = fake.sent();
    assert!(sent.len() >= 2, "{} parts", sent.len());
    for part in &sent[..sent.len() - 1] {
        assert_eq!(part.kind, "text");
        assert!(part.text.chars().count() <= 4096);
    }
    let last = sent.last().unwrap();
    assert_eq!(last.kind, "interactive");
    assert!(last.text.chars().count() <= 1024, "the interactive body holds 1,024 characters");
    assert_eq!(delivered.provider_message_id, last.id);
    let words: usize = sent.iter().map(|m| m.text.split_whitespace().count()).sum();
    assert_eq!(words, text.split_whitespace().count(), "nothing lost between parts");
}

#[tokio::test]
async fn whatsapp_media_goes_as_an_image_with_the_text_as_caption() {
    let (fake, channel) = whatsapp().await;
    let mut with_photo = message(ANNA, "Ваш заказ собран", vec![]);
    with_photo.media_url = Some("https://rehau.example/order.jpg".into());
    channel.send(&with_photo).await.unwrap();
    let sent = fake.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind, "image");
    assert_eq!(sent[0].body["image"]["link"], "https://rehau.example/order.jpg");
    assert_eq!(sent[0].text, "Ваш заказ собран");
    // With buttons the picture goes first and the question follows.
    with_photo.buttons = vec![inline("Забрать", "pickup")];
    channel.send(&with_photo).await.unwrap();
    let sent = fake.sent();
    assert_eq!((sent[1].kind.as_str(), sent[1].text.as_str()), ("image", ""));
    assert_eq!((sent[2].kind.as_str(), sent[2].text.as_str()), ("interactive", "Ваш заказ собран"));
}

#[tokio::test]
async fn whatsapp_sends_an_invoice_as_a_document_and_a_voice_as_audio_with_its_text_after() {
    let (fake, channel) = whatsapp().await;
    let mut invoice = message(ANNA, "Счёт к заказу №9821", vec![]);
    invoice.media_url = Some("https://rehau.example/invoices/%D1%81%D1%87%D1%91%D1%82%209821.pdf?sig=1".into());
    channel.send(&invoice).await.unwrap();
    let mut video = message(ANNA, "Видеодемо монтажа", vec![]);
    video.media_url = Some("https://rehau.example/demo.mp4".into());
    channel.send(&video).await.unwrap();
    let mut voice = message(ANNA, "Приветствие", vec![]);
    voice.media_url = Some("https://rehau.example/hello.mp3".into());
    channel.send(&voice).await.unwrap();
    let sent = fake.sent();
    assert_eq!((sent[0].kind.as_str(), sent[0].text.as_str()), ("document", "Счёт к заказу №9821"));
    assert_eq!(sent[0].body["document"]["filename"], "счёт 9821.pdf", "the name decoded for the person");
    assert_eq!(sent[0].body["document"]["link"], "https://rehau.example/invoices/%D1%81%D1%87%D1%91%D1%82%209821.pdf?sig=1");
    assert_eq!((sent[1].kind.as_str(), sent[1].text.as_str()), ("video", "Видеодемо монтажа"));
    // Audio has no caption: the text follows as a message of its own.
    assert_eq!((sent[2].kind.as_str(), sent[2].body["audio"]["caption"].is_null()), ("audio", true));
    assert_eq!((sent[3].kind.as_str(), sent[3].text.as_str()), ("text", "Приветствие"));
    assert_eq!(sent.len(), 4);
    // A WebP picture is not an image to WhatsApp: it goes as a document.
    let mut sticker = message(ANNA, "Новинка", vec![]);
    sticker.media_url = Some("https://rehau.example/new.webp".into());
    channel.send(&sticker).await.unwrap();
    assert_eq!(fake.sent()[4].kind, "document");
}

#[tokio::test]
async fn whatsapp_errors_map_onto_the_taxonomy() {
    let (fake, channel) = whatsapp().await;
    let hello = message(ANNA, "Здравствуйте!", vec![]);
    fake.fail_next(WhatsAppFailure::Throttled { retry_after_secs: Some(7) });
    assert_eq!(channel.send(&hello).await, Err(ChannelError::Throttled { retry_after: Duration::from_secs(7) }));
    fake.fail_next(WhatsAppFailure::Throttled { retry_after_secs: None });
    assert_eq!(channel.send(&hello).await, Err(ChannelError::Throttled { retry_after: Duration::from_secs(1) }));
    fake.fail_next(WhatsAppFailure::PairRateLimit);
    assert_eq!(channel.send(&hello).await, Err(ChannelError::Throttled { retry_after: Duration::from_secs(6) }));
    fake.fail_next(WhatsAppFailure::Undeliverable);
    assert_eq!(channel.send(&hello).await, Err(ChannelError::Blocked));
    fake.fail_next(WhatsAppFailure::ReEngagement);
    assert!(matches!(channel.send(&hello).await, Err(ChannelError::BadRequest(m)) if m.contains("24 hours")));
    fake.fail_next(WhatsAppFailure::ServerError);
    assert!(matches!(channel.send(&hello).await, Err(ChannelError::Transient(_))));
    assert_eq!(fake.throttled(), 3);
    assert!(fake.sent().is_empty());

    // A wrong token: a configuration error, and the token is never echoed.
    let wrong = WhatsAppChannel::new("EAAG-wrong-SECRET", WA_NUMBER).with_api_base(fake.base_url());
    let err = wrong.send(&hello).await.unwrap_err();
    assert!(matches!(&err, ChannelError::BadRequest(m) if m.contains("access_token")), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("SECRET"));
    // Meta refuses an over-long list; we refuse before sending.
    let eleven: Vec<Button> = (0..11).map(|i| button(&format!("Вариант {i}"), ButtonKind::Reply)).collect();
    assert!(matches!(channel.send(&message(ANNA, "Выберите", eleven)).await, Err(ChannelError::BadRequest(_))));
    // Nobody listening: transient, and still no token in the message.
    let gone = WhatsAppChannel::new(WA_TOKEN, WA_NUMBER).with_api_base("http://127.0.0.1:9");
    let err = gone.send(&hello).await.unwrap_err();
    assert!(matches!(&err, ChannelError::Transient(_)), "{err:?}");
    assert!(!err.to_string().contains("SECRET"));
}

#[test]
fn whatsapp_error_codes_without_the_fake() {
    let error = |status, code: u64| whatsapp::classify(status, None, Some(json!({"error": {"message": "m", "code": code}})));
    assert_eq!(error(400, 131048), Err(ChannelError::Throttled { retry_after: Duration::from_secs(60) }));
    assert_eq!(error(400, 80007), Err(ChannelError::Throttled { retry_after: Duration::from_secs(60) }));
    assert_eq!(error(400, 4), Err(ChannelError::Throttled { retry_after: Duration::from_secs(60) }));
    assert_eq!(error(400, 131050), Err(ChannelError::Blocked));
    assert!(matches!(error(400, 131051), Err(ChannelError::BadRequest(_))), "unsupported type is the message's fault");
    assert!(matches!(error(401, 190), Err(ChannelError::BadRequest(m)) if m.contains("access_token")));
    assert!(matches!(error(500, 131000), Err(ChannelError::Transient(_))));
    assert!(matches!(error(400, 100), Err(ChannelError::BadRequest(_))));
    assert!(matches!(whatsapp::classify(502, None, None), Err(ChannelError::Transient(_))));
    assert!(matches!(whatsapp::classify(200, None, Some(json!({}))), Err(ChannelError::Transient(_))));
}

/// Meta's sample notification for a text message (Cloud API webhooks
/// reference), with the contact's profile.
fn meta_text_sample(body: &str) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "102290129340398",
            "changes": [{
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550783881", "phone_number_id": WA_NUMBER},
                    "contacts": [{"profile": {"name": "Анна"}, "wa_id": ANNA}],
                    "messages": [{"from": ANNA, "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=", "timestamp": "1749416383", "type": "text", "text": {"body": body}}]
                },
                "field": "messages"
            }]
        }]
    })
}

#[test]
fn whatsapp_webhook_payloads_are_read() {
    let anna = Sender { id: ANNA.into(), first_name: "Анна".into(), username: None };
    assert_eq!(
        whatsapp::parse_webhook(&meta_text_sample("Где мой заказ?")),
        vec![InboundEvent::Text { chat_id: ANNA.into(), from: anna.clone(), text: "Где мой заказ?".into() }]
    );
    assert_eq!(
        whatsapp::parse_webhook(&meta_text_sample("/start k3y-42")),
        vec![InboundEvent::Start { chat_id: ANNA.into(), from: anna.clone(), payload: Some("k3y-42".into()) }]
    );
    // Only messages for our own number.
    assert!(whatsapp::parse_webhook_for(&meta_text_sample("hi"), Some("999")).is_empty());
    assert_eq!(whatsapp::parse_webhook_for(&meta_text_sample("hi"), Some(WA_NUMBER)).len(), 1);

    let with_message = |message: Value| {
        let mut payload = meta_text_sample("");
        payload["entry"][0]["changes"][0]["value"]["messages"] = json!([message]);
        whatsapp::parse_webhook(&payload)
    };
    let pressed = with_message(json!({
        "context": {"from": "15550783881", "id": "wamid.OUT1"},
        "from": ANNA, "id": "wamid.IN2", "timestamp": "1749416390", "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": "yes", "title": "Да"}}
    }));
    assert_eq!(
        pressed,
        vec![InboundEvent::Button { chat_id: ANNA.into(), from: anna.clone(), data: "yes".into(), callback_id: "wamid.IN2".into(), message_id: Some("wamid.OUT1".into()) }]
    );
    let picked = with_message(json!({
        "from": ANNA, "id": "wamid.IN3", "timestamp": "1749416391", "type": "interactive",
        "interactive": {"type": "list_reply", "list_reply": {"id": "4", "title": "4", "description": ""}}
    }));
    assert!(matches!(&picked[..], [InboundEvent::Button { data, .. }] if data == "4"));
    let number = with_message(json!({
        "from": ANNA, "id": "wamid.IN4", "timestamp": "1749416392", "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": CONTACT_BUTTON_ID, "title": "Поделиться номером"}}
    }));
    assert_eq!(
        number,
        vec![InboundEvent::Contact { chat_id: ANNA.into(), from: anna.clone(), phone: format!("+{ANNA}"), first_name: "Анна".into(), user_id: Some(ANNA.into()) }]
    );
    let card = with_message(json!({
        "from": ANNA, "id": "wamid.IN5", "timestamp": "1749416393", "type": "contacts",
        "contacts": [{"name": {"formatted_name": "Иван Петров", "first_name": "Иван"}, "phones": [{"phone": "+7 916 765-43-21", "wa_id": "79167654321", "type": "CELL"}]}]
    }));
    assert!(matches!(&card[..], [InboundEvent::Contact { phone, first_name, user_id: Some(u), .. }] if phone == "+7 916 765-43-21" && first_name == "Иван" && u == "79167654321"));
    let quick_reply = with_message(json!({
        "from": ANNA, "id": "wamid.IN6", "timestamp": "1749416394", "type": "button", "button": {"payload": "STOP", "text": "Отписаться"}
    }));
    assert!(matches!(&quick_reply[..], [InboundEvent::Button { data, .. }] if data == "STOP"));
    assert!(with_message(json!({"from": ANNA, "id": "wamid.IN7", "type": "image", "image": {"id": "1", "mime_type": "image/jpeg"}})).is_empty());

    // Delivery statuses carry no person's action.
    let status = json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": WA_NUMBER},
            "statuses": [{"id": "wamid.OUT1", "status": "delivered", "timestamp": "1749416400", "recipient_id": ANNA}]
        }}]}]
    });
    assert!(whatsapp::parse_webhook(&status).is_empty());
    assert!(whatsapp::parse_webhook(&json!({"hello": "world"})).is_empty());
}

#[test]
fn whatsapp_signatures_are_checked() {
    let body = meta_text_sample("Привет").to_string();
    let secret = "3f1e9c0a7b5d4e2f8a6c1b0d9e7f5a3c";
    let header = comops_fakes::whatsapp::signature(secret, body.as_bytes());
    assert_eq!(header, whatsapp::sign(secret, body.as_bytes()), "fake and adapter agree on the HMAC");
    assert!(whatsapp::verify_signature(secret, body.as_bytes(), Some(&header)));
    assert!(!whatsapp::verify_signature("another-app-secret", body.as_bytes(), Some(&header)));
    assert!(!whatsapp::verify_signature(secret, format!("{body} ").as_bytes(), Some(&header)), "a changed body");
    let mut flipped = header.clone();
    flipped.replace_range(header.len() - 1.., if header.ends_with('0') { "1" } else { "0" });
    assert!(!whatsapp::verify_signature(secret, body.as_bytes(), Some(&flipped)));
    assert!(!whatsapp::verify_signature(secret, body.as_bytes(), Some(header.trim_start_matches("sha256="))));
    assert!(!whatsapp::verify_signature(secret, body.as_bytes(), None));
    assert!(!whatsapp::verify_signature("", body.as_bytes(), Some(&whatsapp::sign("", body.as_bytes()))));
}

// ---------------------------------------------------------------------- VK

#[tokio::test]
async fn vk_a_text_reaches_the_person() {
    let (fake, channel) = vk().await;
    assert_eq!((channel.kind(), channel.text_limit()), ("vk", 4096));
    let delivered = channel.send(&message(&VK_PEER.to_string(), "Спасибо за покупку!", vec![])).await.unwrap();
    let sent = fake.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].peer_id, sent[0].text.as_str()), (VK_PEER, "Спасибо за покупку!"));
    assert_eq!(sent[0].random_id, i64::from(vk::random_id("out_01", 0)));
    assert!(sent[0].keyboard.is_none());
    assert_eq!(delivered.provider_message_id, sent[0].id.to_string());
}

#[tokio::test]
async fn vk_a_retried_message_is_not_delivered_twice() {
    let (fake, channel) = vk().await;
    let text = "Гарантийные условия. ".repeat(250); // two parts
    let long = message(&VK_PEER.to_string(), &text, vec![]);
    let first = channel.send(&long).await.unwrap();
    assert_eq!(fake.sent().len(), 2);
    // The same outbox message again (say the answer was lost): VK drops
    // both parts as repeats of their random_id.
    let again = channel.send(&long).await.unwrap();
    assert_eq!(fake.sent().len(), 2);
    assert_eq!(fake.deduplicated(), 2);
    assert_eq!(first, again);
    // Another message with the same text is a new message.
    channel.send(&OutboundMessage { id: "out_02".into(), ..long }).await.unwrap();
    assert_eq!(fake.sent().len(), 4);
    assert_eq!(vk::random_id("out_01", 0), vk::random_id("out_01", 0), "stable per message id");
    assert_ne!(vk::random_id("out_01", 0), vk::random_id("out_02", 0));
}

#[tokio::test]
async fn vk_buttons_are_an_inline_keyboard_and_media_is_a_link() {
    let (fake, channel) = vk().await;
    let buttons = vec![inline("Да", "yes"), button("Нет", ButtonKind::Reply), link("Сайт", "https://rehau.example")];
    let mut msg = message(&VK_PEER.to_string(), "Подтвердите заказ", buttons);
    msg.media_url = Some("https://rehau.example/order.jpg".into());
    channel.send(&msg).await.unwrap();
    let sent = &fake.sent()[0];
    assert_eq!(sent.text, "Подтвердите заказ\n\nhttps://rehau.example/order.jpg");
    let keyboard = sent.keyboard.as_ref().unwrap();
    assert_eq!(keyboard["inline"], true);
    assert_eq!(
        sent.buttons(),
        vec![
            ("Да".to_string(), r#"{"button":"yes"}"#.to_string()),
            ("Нет".to_string(), r#"{"button":"Нет"}"#.to_string()),
            ("Сайт".to_string(), "https://rehau.example".to_string()),
        ]
    );
    assert_eq!(keyboard["buttons"][0][2]["action"]["type"], "open_link");
    // A long text: the keyboard goes with the last part only.
    let long = OutboundMessage { id: "out_02".into(), ..message(&VK_PEER.to_string(), &"Пункт договора. ".repeat(300), vec![inline("Принимаю", "ok")]) };
    channel.send(&long).await.unwrap();
    let sent = fake.sent();
    assert_eq!(sent.len(), 3);
    assert!(sent[1].keyboard.is_none() && sent[2].keyboard.is_some());
    assert!(sent[1..].iter().all(|m| m.text.chars().count() <= 4096));
}

#[tokio::test]
async fn vk_errors_map_onto_the_taxonomy() {
    let (fake, channel) = vk().await;
    let hello = message(&VK_PEER.to_string(), "Здравствуйте!", vec![]);
    let throttled = Err(ChannelError::Throttled { retry_after: Duration::from_secs(1) });
    fake.fail_next(VkFailure::TooManyRequests);
    assert_eq!(channel.send(&hello).await, throttled);
    fake.fail_next(VkFailure::FloodControl);
    assert_eq!(channel.send(&hello).await, throttled);
    fake.fail_next(VkFailure::NoPermission);
    assert_eq!(channel.send(&hello).await, Err(ChannelError::Blocked));
    fake.fail_next(VkFailure::Privacy);
    assert_eq!(channel.send(&hello).await, Err(ChannelError::Blocked));
    fake.fail_next(VkFailure::InternalError);
    assert!(matches!(channel.send(&hello).await, Err(ChannelError::Transient(_))));
    fake.fail_next(VkFailure::BadGateway);
    assert!(matches!(channel.send(&hello).await, Err(ChannelError::Transient(_))));
    assert_eq!(fake.throttled(), 2);
    assert!(fake.sent().is_empty());

    let wrong = VkChannel::new("vk1.a.wrong-SECRET").with_api_base(fake.base_url());
    let err = wrong.send(&hello).await.unwrap_err();
    assert!(matches!(&err, ChannelError::BadRequest(m) if m.contains("access_token")), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("SECRET"));
    let not_a_peer = message("@anna", "hi", vec![]);
    assert!(matches!(channel.send(&not_a_peer).await, Err(ChannelError::BadRequest(_))));
    let eleven: Vec<Button> = (0..11).map(|i| button(&format!("{i}"), ButtonKind::Reply)).collect();
    assert!(matches!(channel.send(&message(&VK_PEER.to_string(), "?", eleven)).await, Err(ChannelError::BadRequest(_))));
    let gone = VkChannel::new(VK_TOKEN).with_api_base("http://127.0.0.1:9");
    let err = gone.send(&hello).await.unwrap_err();
    assert!(matches!(&err, ChannelError::Transient(_)) && !err.to_string().contains("SECRET"), "{err:?}");
}

#[test]
fn vk_error_codes_without_the_fake() {
    let error = |code: u64| vk::classify(200, Some(json!({"error": {"error_code": code, "error_msg": "m"}})));
    assert!(matches!(error(29), Err(ChannelError::Throttled { .. })));
    for blocked in [900, 18, 3610] {
        assert_eq!(error(blocked), Err(ChannelError::Blocked), "{blocked}");
    }
    for bad in [5, 7, 100, 911, 914] {
        assert!(matches!(error(bad), Err(ChannelError::BadRequest(_))), "{bad}");
    }
    assert!(matches!(error(10), Err(ChannelError::Transient(_))));
    assert_eq!(vk::classify(200, Some(json!({"response": 4172}))), Ok("4172".into()));
    assert!(matches!(vk::classify(200, Some(json!({"nonsense": 1}))), Err(ChannelError::Transient(_))));
}

/// VK's `message_new` (API 5.199: `object.message` + `client_info`).
fn vk_message_new(message: Value) -> Value {
    let mut base = json!({
        "date": 1749416383, "from_id": VK_PEER, "id": 731, "out": 0, "version": 10_000_731,
        "attachments": [], "conversation_message_id": 412, "fwd_messages": [],
        "important": false, "is_hidden": false, "peer_id": VK_PEER, "random_id": 0, "text": ""
    });
    if let (Some(base), Some(extra)) = (base.as_object_mut(), message.as_object()) {
        base.extend(extra.clone());
    }
    json!({
        "group_id": VK_GROUP, "type": "message_new", "event_id": "9a0d5d2b0b3d7a7e3f6b1b5e0c2d4f6a8b0c1d2e", "v": "5.199",
        "object": {"message": base, "client_info": {"button_actions": ["text", "open_link", "callback"], "keyboard": true, "inline_keyboard": true, "carousel": true, "lang_id": 0}},
        "secret": "s3cr3t-key"
    })
}

#[test]
fn vk_callback_payloads_are_read() {
    let peer = VK_PEER.to_string();
    let person = Sender { id: peer.clone(), first_name: String::new(), username: None };
    let confirmation = vk::parse_callback(&json!({"type": "confirmation", "group_id": VK_GROUP})).unwrap();
    assert_eq!((confirmation.kind.as_str(), confirmation.group_id, confirmation.event), ("confirmation", Some(VK_GROUP), None));

    let text = vk::parse_callback(&vk_message_new(json!({"text": "Где мой заказ?"}))).unwrap();
    assert_eq!(text.secret.as_deref(), Some("s3cr3t-key"));
    assert_eq!(text.event, Some(InboundEvent::Text { chat_id: peer.clone(), from: person.clone(), text: "Где мой заказ?".into() }));

    let pressed = vk::parse_callback(&vk_message_new(json!({"text": "Да", "payload": "{\"button\":\"yes\"}"}))).unwrap();
    assert_eq!(
        pressed.event,
        Some(InboundEvent::Button { chat_id: peer.clone(), from: person.clone(), data: "yes".into(), callback_id: "412".into(), message_id: Some("731".into()) })
    );
    let via_link = vk::parse_callback(&vk_message_new(json!({"text": "Начать", "payload": "{\"command\":\"start\"}", "ref": "k3y-42", "ref_source": "link"}))).unwrap();
    assert_eq!(via_link.event, Some(InboundEvent::Start { chat_id: peer.clone(), from: person.clone(), payload: Some("k3y-42".into()) }));
    let plain_start = vk::parse_callback(&vk_message_new(json!({"text": "Начать", "payload": "{\"command\":\"start\"}"}))).unwrap();
    assert_eq!(plain_start.event, Some(InboundEvent::Start { chat_id: peer.clone(), from: person.clone(), payload: None }));
    let typed = vk::parse_callback(&vk_message_new(json!({"text": "/start k3y-43"}))).unwrap();
    assert_eq!(typed.event, Some(InboundEvent::Start { chat_id: peer.clone(), from: person.clone(), payload: Some("k3y-43".into()) }));
    // A sticker: nothing for a scenario.
    let sticker = vk::parse_callback(&vk_message_new(json!({"attachments": [{"type": "sticker", "sticker": {"sticker_id": 9}}]}))).unwrap();
    assert_eq!(sticker.event, None);
    // Before API 5.103 the object was the message itself.
    let old = vk::parse_callback(&json!({"type": "message_new", "group_id": VK_GROUP, "object": {"from_id": 7, "peer_id": 7, "text": "hi", "id": 1}})).unwrap();
    assert!(matches!(old.event, Some(InboundEvent::Text { ref text, .. }) if text == "hi"));
    let other = vk::parse_callback(&json!({"type": "group_join", "group_id": VK_GROUP, "object": {"user_id": 7}})).unwrap();
    assert_eq!((other.kind.as_str(), other.event), ("group_join", None));
    assert!(vk::parse_callback(&json!({"object": {}})).is_none());
}

#[test]
fn settings_for_whatsapp_and_vk_are_validated() {
    let fields = |kind: &str, value: Value| -> Vec<String> {
        settings::validate(kind, &value).and_then(Result::err).unwrap_or_default().into_iter().map(|e| e.field).collect()
    };
    let good_whatsapp = json!({"access_token": WA_TOKEN, "phone_number_id": WA_NUMBER, "app_secret": "3f1e9c0a7b5d", "verify_token": "verify-me_1", "api_version": "v21.0", "api_base": "http://127.0.0.1:1"});
    assert_eq!(settings::validate("whatsapp", &good_whatsapp), Some(Ok(())));
    assert_eq!(fields("whatsapp", json!({"phone_number_id": "12ab", "api_version": "21"})), ["access_token", "phone_number_id", "app_secret", "verify_token", "api_version"]);
    let good_vk = json!({"access_token": VK_TOKEN, "group_id": VK_GROUP, "confirmation": "693d0ba9", "secret": "s3cr3t-key"});
    assert_eq!(settings::validate("vk", &good_vk), Some(Ok(())));
    assert_eq!(settings::validate("vk", &json!({"access_token": VK_TOKEN, "group_id": "218123456", "confirmation": "693d0ba9", "secret": "k", "api_version": "5.199"})), Some(Ok(())));
    assert_eq!(fields("vk", json!({"group_id": "club1", "api_base": "ftp://x"})), ["access_token", "group_id", "confirmation", "secret", "api_base"]);
    // The adapters are built from the same settings.
    assert!(WhatsAppChannel::from_settings(&good_whatsapp).is_ok());
    assert!(VkChannel::from_settings(&good_vk).is_ok());
    assert!(VkChannel::from_settings(&json!({})).is_err());
}
