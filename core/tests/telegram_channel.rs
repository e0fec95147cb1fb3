//! The Telegram channel against the fake Bot API: what a person would see in
//! Telegram, and how each kind of failure reaches the dispatch engine.

use std::time::{Duration, Instant};

use comops_core::channel::{
    parse_update, Channel, ChannelError, InboundEvent, OutboundMessage, Sender, TelegramChannel,
};
use comops_core::scenario::{Button, ButtonKind};
use comops_fakes::{FakeTelegram, Limits, User};
use serde_json::json;

const TOKEN: &str = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11";
const ANNA: i64 = 5_550_001;

async fn setup() -> (FakeTelegram, TelegramChannel) {
    let fake = FakeTelegram::start(TOKEN).await;
    let channel = TelegramChannel::new(TOKEN).with_base_url(fake.base_url());
    (fake, channel)
}

fn text(chat: i64, text: &str) -> OutboundMessage {
    OutboundMessage {
        id: String::new(),
        chat_id: chat.to_string(),
        text: text.into(),
        buttons: vec![],
        media_url: None,
        parts_sent: 0,
    }
}

fn button(label: &str, kind: ButtonKind, value: Option<&str>) -> Button {
    Button {
        label: label.into(),
        kind,
        value: value.map(Into::into),
        url: None,
    }
}

fn anna() -> User {
    User::new(ANNA, "Анна").with_username("anna")
}

#[tokio::test]
async fn crm_thanks_for_the_order_and_asks_for_a_rating_with_inline_buttons() {
    let (fake, channel) = setup().await;
    let mut message = text(ANNA, "Спасибо за покупку! Оцените доставку:");
    message.buttons = vec![
        button("5", ButtonKind::Inline, Some("rating:5")),
        button("4", ButtonKind::Inline, Some("rating:4")),
        Button {
            url: Some("https://shop.example/orders/42".into()),
            ..button("Заказ", ButtonKind::Url, None)
        },
    ];

    let delivered = channel.send(&message).await.expect("sent");

    let sent = fake.sent_to(ANNA);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].text, "Спасибо за покупку! Оцените доставку:");
    assert_eq!(
        delivered.provider_message_id,
        sent[0].message_id.to_string()
    );
    assert_eq!(
        sent[0].reply_markup,
        // A long label puts every button on its own row.
        Some(json!({"inline_keyboard": [
            [{"text": "5", "callback_data": "rating:5"}],
            [{"text": "4", "callback_data": "rating:4"}],
            [{"text": "Заказ", "url": "https://shop.example/orders/42"}],
        ]}))
    );
    assert_eq!(channel.kind(), "telegram");
    assert_eq!(channel.text_limit(), 4096);
}

#[tokio::test]
async fn asking_for_a_phone_shows_a_one_time_contact_keyboard() {
    let (fake, channel) = setup().await;
    let mut message = text(
        ANNA,
        "Поделитесь номером телефона, чтобы мы нашли ваш заказ",
    );
    message.buttons = vec![
        button("📱 Отправить номер", ButtonKind::Contact, None),
        button("Не сейчас", ButtonKind::Reply, None),
    ];

    channel.send(&message).await.expect("sent");

    let sent = fake.sent_to(ANNA);
    assert_eq!(
        sent[0].reply_markup,
        Some(json!({
            "keyboard": [
                [{"text": "📱 Отправить номер", "request_contact": true}],
                [{"text": "Не сейчас"}],
            ],
            "resize_keyboard": true,
            "one_time_keyboard": true,
        }))
    );
}

#[tokio::test]
async fn a_5000_char_cyrillic_text_arrives_as_two_messages_with_buttons_on_the_last() {
    let (fake, channel) = setup().await;
    let body = "Ваш заказ собран и передан в доставку. ".repeat(128); // 39 × 128 = 4,992 chars
    let mut message = text(ANNA, &format!("{body}Спасибо!"));
    assert!(message.text.chars().count() > 4096 && message.text.chars().count() <= 5000);
    message.buttons = vec![button("Ок", ButtonKind::Inline, None)];

    let delivered = channel.send(&message).await.expect("sent");

    let sent = fake.sent_to(ANNA);
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|m| m.text.chars().count() <= 4096));
    assert!(sent[0].reply_markup.is_none());
    assert!(sent[1].reply_markup.is_some());
    assert!(sent[1].text.ends_with("Спасибо!"));
    assert_eq!(format!("{} {}", sent[0].text, sent[1].text), message.text);
    assert_eq!(
        delivered.provider_message_id,
        sent[1].message_id.to_string()
    );
}

#[tokio::test]
async fn a_split_text_waits_out_the_per_chat_limit_between_its_parts() {
    let (fake, channel) = setup().await;
    fake.set_limits(Limits::telegram());
    let message = text(ANNA, &"Слово ".repeat(1000)); // 6,000 chars: two parts, one chat

    let started = Instant::now();
    channel
        .send(&message)
        .await
        .expect("sent despite 1 msg/s per chat");

    assert_eq!(fake.sent_to(ANNA).len(), 2);
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn a_split_text_cut_off_by_an_outage_is_resumed_without_its_sent_parts() {
    let (fake, channel) = setup().await;
    let mut message = text(ANNA, &format!("{}{}", "Первая часть. ".repeat(250), "Вторая часть. ".repeat(250)));
    message.buttons = vec![button("Ок", ButtonKind::Inline, Some("ok"))];
    // The first part goes out, then the Bot API fails.
    fake.fail_after(1, 1, 502);
    let err = channel.send(&message).await.unwrap_err();
    match &err {
        ChannelError::PartlySent { sent, cause } => {
            assert_eq!(*sent, 1);
            assert!(matches!(**cause, ChannelError::Transient(_)), "{cause:?}");
        }
        other => panic!("expected PartlySent, got {other:?}"),
    }
    assert!(err.is_retryable());
    assert_eq!(fake.sent_to(ANNA).len(), 1);

    // The retry sends the rest only: every part once, the buttons on the last.
    let retry = OutboundMessage { parts_sent: 1, ..message.clone() };
    let delivered = channel.send(&retry).await.expect("the rest sent");
    let sent = fake.sent_to(ANNA);
    assert_eq!(sent.len(), 2);
    // Together the two parts are the text, word for word: none twice.
    let joined = format!("{} {}", sent[0].text, sent[1].text);
    assert!(joined.split_whitespace().eq(message.text.split_whitespace()));
    assert_eq!(delivered.provider_message_id, sent[1].message_id.to_string());
    assert!(sent[1].reply_markup.is_some() && sent[0].reply_markup.is_none());
}

#[tokio::test]
async fn a_photo_carries_the_text_as_its_caption() {
    let (fake, channel) = setup().await;
    let mut message = text(ANNA, "Ваш курьер");
    message.media_url = Some("https://shop.example/courier.jpg".into());

    channel.send(&message).await.expect("sent");

    let sent = fake.sent_to(ANNA);
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].photo.as_deref(),
        Some("https://shop.example/courier.jpg")
    );
    assert_eq!(sent[0].text, "Ваш курьер");
}

#[tokio::test]
async fn an_invoice_goes_as_a_document_a_demo_as_a_video_each_with_its_caption() {
    let (fake, channel) = setup().await;
    let sends = [
        ("https://shop.example/invoices/9821.pdf?sig=a.b", "document", "Счёт к заказу №9821"),
        ("https://rehau.example/demo/montage.mp4", "video", "Видеодемо монтажа"),
        ("https://fmlst.example/voice/hello.mp3", "audio", "Приветствие"),
        ("https://shop.example/sale.gif", "animation", "Распродажа"),
        ("https://img.example/render?id=7", "photo", "Ваш курьер"),
    ];
    for (url, _, caption) in sends {
        let mut message = text(ANNA, caption);
        message.media_url = Some(url.into());
        channel.send(&message).await.expect("sent");
    }
    let sent = fake.sent_to(ANNA);
    assert_eq!(sent.len(), sends.len(), "one message each, the text as its caption");
    for (message, (url, kind, caption)) in sent.iter().zip(sends) {
        assert_eq!(message.media, Some((kind.to_string(), url.to_string())));
        assert_eq!(message.text, caption);
    }
}

#[tokio::test]
async fn a_person_who_blocked_the_bot_is_blocked_not_retried() {
    let (fake, channel) = setup().await;
    fake.block(ANNA);

    let err = channel
        .send(&text(ANNA, "Напоминаем о заказе"))
        .await
        .unwrap_err();

    assert_eq!(err, ChannelError::Blocked);
    assert!(!err.is_retryable());
    assert!(fake.sent().is_empty());
}

#[tokio::test]
async fn two_quick_sends_to_one_chat_are_throttled_for_about_a_second() {
    let (fake, channel) = setup().await;
    fake.set_limits(Limits::telegram());

    channel
        .send(&text(ANNA, "Первое"))
        .await
        .expect("first goes out");
    let err = channel.send(&text(ANNA, "Второе")).await.unwrap_err();

    let ChannelError::Throttled { retry_after } = err else {
        panic!("expected Throttled, got {err:?}")
    };
    assert_eq!(retry_after, Duration::from_secs(1));
    assert!(err.is_retryable());
    assert_eq!(fake.throttled(), 1);
    assert_eq!(fake.sent().len(), 1);
}

#[tokio::test]
async fn a_502_is_transient_and_the_retry_goes_through() {
    let (fake, channel) = setup().await;
    fake.fail_next(1, 502);

    let err = channel.send(&text(ANNA, "Привет")).await.unwrap_err();
    assert!(
        matches!(&err, ChannelError::Transient(why) if why.contains("502")),
        "{err:?}"
    );
    assert!(err.is_retryable());

    channel
        .send(&text(ANNA, "Привет"))
        .await
        .expect("the retry is delivered");
    assert_eq!(fake.sent().len(), 1);
}

#[tokio::test]
async fn telegram_down_is_transient_and_the_error_never_shows_the_token() {
    let (fake, channel) = setup().await;
    fake.set_down(true);

    let err = channel.send(&text(ANNA, "Привет")).await.unwrap_err();

    assert!(matches!(err, ChannelError::Transient(_)), "{err:?}");
    assert!(!err.to_string().contains(TOKEN), "{err}");
    assert!(!format!("{err:?}").contains("ABC-DEF"), "{err:?}");
}

#[tokio::test]
async fn nobody_listening_is_transient_and_the_error_never_shows_the_token() {
    // A port nothing listens on: the connection is refused.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let channel = TelegramChannel::new(TOKEN).with_base_url(url);

    let err = channel.send(&text(ANNA, "Привет")).await.unwrap_err();

    assert!(matches!(err, ChannelError::Transient(_)), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("ABC-DEF"), "{err:?}");
}

#[tokio::test]
async fn a_wrong_bot_token_is_a_bad_request_that_says_so() {
    let fake = FakeTelegram::start(TOKEN).await;
    let channel = TelegramChannel::new("999:WRONG-TOKEN").with_base_url(fake.base_url());

    let err = channel.send(&text(ANNA, "Привет")).await.unwrap_err();

    assert_eq!(
        err,
        ChannelError::BadRequest("Unauthorized: check the bot token".into())
    );
    assert!(!err.is_retryable());
    assert!(!err.to_string().contains("WRONG-TOKEN"));
}

#[tokio::test]
async fn a_bad_request_is_not_retried() {
    let (fake, channel) = setup().await;
    fake.require_known_chats(true);

    let err = channel.send(&text(777, "Привет")).await.unwrap_err();

    assert!(
        matches!(&err, ChannelError::BadRequest(why) if why.contains("chat not found")),
        "{err:?}"
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn what_a_person_does_arrives_through_get_updates_as_inbound_events() {
    let (fake, channel) = setup().await;
    let rating = OutboundMessage {
        id: String::new(),
        buttons: vec![button("5", ButtonKind::Inline, Some("rating:5"))],
        ..text(ANNA, "Оцените доставку")
    };
    let delivered = channel.send(&rating).await.expect("sent");
    let message_id: i64 = delivered.provider_message_id.parse().unwrap();

    fake.user_starts(ANNA, anna(), "order-42");
    fake.user_sends_text(ANNA, anna(), "Где мой заказ?");
    fake.user_shares_contact(ANNA, anna(), "+79001234567", "Анна");
    fake.user_presses_button(ANNA, anna(), message_id, "rating:5");

    let updates = channel.get_updates(0, 0).await.expect("updates");
    assert_eq!(updates.len(), 4);
    let events: Vec<InboundEvent> = updates
        .iter()
        .map(|(_, u)| parse_update(u).expect("understood"))
        .collect();

    let from = Sender {
        id: ANNA.to_string(),
        first_name: "Анна".into(),
        username: Some("anna".into()),
    };
    let chat_id = ANNA.to_string();
    assert_eq!(
        events[0],
        InboundEvent::Start {
            chat_id: chat_id.clone(),
            from: from.clone(),
            payload: Some("order-42".into())
        }
    );
    assert_eq!(
        events[1],
        InboundEvent::Text {
            chat_id: chat_id.clone(),
            from: from.clone(),
            text: "Где мой заказ?".into()
        }
    );
    assert_eq!(
        events[2],
        InboundEvent::Contact {
            chat_id: chat_id.clone(),
            from: from.clone(),
            phone: "+79001234567".into(),
            first_name: "Анна".into(),
            user_id: Some(ANNA.to_string()),
        }
    );
    let InboundEvent::Button {
        chat_id: button_chat,
        from: button_from,
        data,
        callback_id,
        message_id: pressed,
    } = &events[3]
    else {
        panic!("expected a button press, got {:?}", events[3]);
    };
    assert_eq!(
        (button_chat, button_from, data.as_str()),
        (&chat_id, &from, "rating:5")
    );
    assert_eq!(
        pressed.as_deref(),
        Some(delivered.provider_message_id.as_str())
    );
    assert!(events.iter().all(|e| e.chat_id() == chat_id));

    // The press is acknowledged, and confirming the offset empties the queue.
    channel
        .answer_callback_query(callback_id)
        .await
        .expect("answered");
    assert_eq!(fake.answered_callbacks()[0].callback_query_id, *callback_id);
    let last = updates.last().unwrap().0;
    assert!(channel
        .get_updates(last + 1, 0)
        .await
        .expect("confirmed")
        .is_empty());
    assert_eq!(fake.pending_updates(), 0);
}

#[tokio::test]
async fn a_plain_start_has_no_payload() {
    let (fake, channel) = setup().await;
    fake.user_starts(ANNA, anna(), "");

    let updates = channel.get_updates(0, 0).await.expect("updates");

    assert!(matches!(
        parse_update(&updates[0].1),
        Some(InboundEvent::Start { payload: None, .. })
    ));
}

#[tokio::test]
async fn long_polling_waits_for_the_next_update() {
    let (fake, channel) = setup().await;
    let person = fake.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        person.user_sends_text(ANNA, anna(), "Алло");
    });

    let updates = channel.get_updates(0, 5).await.expect("updates");

    assert_eq!(updates.len(), 1);
    assert!(
        matches!(parse_update(&updates[0].1), Some(InboundEvent::Text { text, .. }) if text == "Алло")
    );
}

#[tokio::test]
async fn a_webhook_is_set_with_its_secret_and_removed() {
    let (fake, channel) = setup().await;

    channel
        .set_webhook("http://127.0.0.1:9/telegram/hook", Some("s3cret-Token_1"))
        .await
        .expect("set");
    assert_eq!(
        fake.webhook_url().as_deref(),
        Some("http://127.0.0.1:9/telegram/hook")
    );
    // Telegram refuses long polling while a webhook is set.
    assert!(matches!(
        channel.get_updates(0, 0).await,
        Err(ChannelError::BadRequest(_))
    ));

    channel.delete_webhook().await.expect("deleted");
    assert_eq!(fake.webhook_url(), None);
}
