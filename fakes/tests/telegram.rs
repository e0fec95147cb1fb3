//! The fake Telegram server, driven over plain HTTP like a real client would.

use std::time::{Duration, Instant};

use comops_fakes::{FakeCrm, FakeTelegram, Limits, User};
use serde_json::{json, Value};

const TOKEN: &str = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11";

async fn call(tg: &FakeTelegram, method: &str, params: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(tg.method_url(method))
        .json(&params)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json body"))
}

fn anna() -> User {
    User::new(777, "Анна")
        .with_username("anna")
        .with_language("ru")
}

#[tokio::test]
async fn send_message_returns_a_message_and_is_recorded() {
    let tg = FakeTelegram::start(TOKEN).await;
    let keyboard = json!({"inline_keyboard": [[{"text": "Да", "callback_data": "yes"}]]});
    let (status, body) = call(
        &tg,
        "sendMessage",
        json!({"chat_id": 777, "text": "Привет!", "parse_mode": "HTML", "reply_markup": keyboard}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["ok"], true);
    let message = &body["result"];
    assert_eq!(message["message_id"], 1);
    assert_eq!(message["chat"]["id"], 777);
    assert_eq!(message["chat"]["type"], "private");
    assert_eq!(message["from"]["id"], 123456);
    assert_eq!(message["from"]["is_bot"], true);
    assert_eq!(message["text"], "Привет!");
    assert!(message["date"].as_i64().unwrap() > 1_600_000_000);
    assert_eq!(message["reply_markup"], keyboard);

    // Form-encoded, as many clients send it: reply_markup is JSON text.
    let reply_keyboard = json!({"keyboard": [[{"text": "Поделиться номером", "request_contact": true}]], "one_time_keyboard": true});
    let response = reqwest::Client::new()
        .post(tg.method_url("sendmessage"))
        .form(&[
            ("chat_id", "777"),
            ("text", "Ваш номер?"),
            ("reply_markup", &reply_keyboard.to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["result"]["message_id"], 2,
        "message ids increase per chat"
    );
    assert!(
        body["result"].get("reply_markup").is_none(),
        "only inline keyboards are echoed"
    );

    let (_, other) = call(&tg, "sendMessage", json!({"chat_id": "888", "text": "hi"})).await;
    assert_eq!(other["result"]["message_id"], 1);

    let sent = tg.wait_for_messages(3, Duration::from_secs(1)).await;
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[0].chat_id, 777);
    assert_eq!(sent[0].text, "Привет!");
    assert_eq!(sent[0].parse_mode.as_deref(), Some("HTML"));
    assert_eq!(sent[1].reply_markup, Some(reply_keyboard));
    assert_eq!(tg.sent_to(888).len(), 1);

    let (status, me) = call(&tg, "getMe", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(me["result"]["id"], 123456);
    assert_eq!(me["result"]["is_bot"], true);
}

#[tokio::test]
async fn send_photo_by_url_with_caption() {
    let tg = FakeTelegram::start(TOKEN).await;
    let (status, body) = call(
        &tg,
        "sendPhoto",
        json!({"chat_id": 5, "photo": "https://example.com/a.jpg", "caption": "Чек"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["caption"], "Чек");
    assert!(!body["result"]["photo"].as_array().unwrap().is_empty());
    assert!(body["result"]["photo"][0]["file_id"].is_string());
    let sent = tg.sent();
    assert_eq!(sent[0].photo.as_deref(), Some("https://example.com/a.jpg"));
    assert_eq!(sent[0].text, "Чек");

    let (status, body) = call(&tg, "sendPhoto", json!({"chat_id": 5})).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["description"],
        "Bad Request: there is no photo in the request"
    );
}

#[tokio::test]
async fn documents_videos_audio_and_animations_are_sent_by_url_as_telegram_returns_them() {
    let tg = FakeTelegram::start(TOKEN).await;
    let (status, body) = call(&tg, "sendDocument", json!({"chat_id": 5, "document": "https://example.com/files/invoice.pdf?x=1", "caption": "Счёт"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["document"]["file_name"], "invoice.pdf");
    assert!(body["result"]["document"]["file_id"].is_string() && body["result"].get("photo").is_none());
    let (status, body) = call(&tg, "sendVideo", json!({"chat_id": 5, "video": "https://example.com/demo.mp4"})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["result"]["video"]["width"].is_u64() && body["result"]["video"]["duration"].is_u64());
    let (status, body) = call(&tg, "sendAudio", json!({"chat_id": 5, "audio": "https://example.com/a.mp3"})).await;
    assert_eq!((status, body["result"]["audio"]["duration"].is_u64()), (200, true), "{body}");
    // An animation comes back as an animation and as a document.
    let (status, body) = call(&tg, "sendAnimation", json!({"chat_id": 5, "animation": "https://example.com/a.gif"})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["result"]["animation"].is_object() && body["result"]["document"].is_object());
    let kinds: Vec<String> = tg.sent().iter().map(|m| m.media.clone().unwrap().0).collect();
    assert_eq!(kinds, ["document", "video", "audio", "animation"]);
    assert_eq!(tg.sent()[0].text, "Счёт");

    let (status, body) = call(&tg, "sendDocument", json!({"chat_id": 5, "photo": "https://example.com/a.jpg"})).await;
    assert_eq!((status, body["description"].as_str()), (400, Some("Bad Request: there is no document in the request")));
}

#[tokio::test]
async fn unknown_token_is_unauthorized_and_unknown_method_not_found() {
    let tg = FakeTelegram::start(TOKEN).await;
    let url = format!("{}/bot999:nope/sendMessage", tg.base_url());
    let response = reqwest::Client::new()
        .post(url)
        .json(&json!({"chat_id": 1, "text": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"ok": false, "error_code": 401, "description": "Unauthorized"})
    );

    let (status, body) = call(&tg, "sendTelepathy", json!({})).await;
    assert_eq!(status, 404);
    assert_eq!(body["description"], "Not Found");
    assert!(tg.sent().is_empty());
}

#[tokio::test]
async fn blocked_user_gives_403() {
    let tg = FakeTelegram::start(TOKEN).await;
    let (status, _) = call(&tg, "sendMessage", json!({"chat_id": 42, "text": "one"})).await;
    assert_eq!(status, 200);
    tg.block(42);
    let (status, body) = call(&tg, "sendMessage", json!({"chat_id": 42, "text": "two"})).await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"})
    );
    assert_eq!(tg.sent().len(), 1);

    // Restarting the bot unblocks it.
    tg.user_starts(42, User::new(42, "Пётр"), "");
    let (status, _) = call(&tg, "sendMessage", json!({"chat_id": 42, "text": "three"})).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn enforced_limits_give_429_with_retry_after() {
    let tg = FakeTelegram::start(TOKEN).await;
    tg.set_limits(Limits::telegram());
    let (status, _) = call(&tg, "sendMessage", json!({"chat_id": 1, "text": "first"})).await;
    assert_eq!(status, 200);
    let (status, body) = call(&tg, "sendMessage", json!({"chat_id": 1, "text": "second"})).await;
    assert_eq!(status, 429);
    assert_eq!(body["error_code"], 429);
    assert_eq!(body["description"], "Too Many Requests: retry after 1");
    assert_eq!(body["parameters"]["retry_after"], 1);
    assert_eq!(tg.throttled(), 1);
    // Another chat is not affected by chat 1's window.
    let (status, _) = call(&tg, "sendMessage", json!({"chat_id": 2, "text": "other"})).await;
    assert_eq!(status, 200);
    assert_eq!(tg.sent().len(), 2);

    tokio::time::sleep(Duration::from_millis(1050)).await;
    let (status, _) = call(&tg, "sendMessage", json!({"chat_id": 1, "text": "later"})).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn group_limit_is_twenty_a_minute() {
    let tg = FakeTelegram::start(TOKEN).await;
    tg.set_limits(Limits {
        per_chat_per_sec: 100,
        global_per_sec: 100,
        group_per_min: 20,
        enforce: true,
    });
    for i in 0..20 {
        let (status, _) = call(
            &tg,
            "sendMessage",
            json!({"chat_id": -100, "text": format!("#{i}")}),
        )
        .await;
        assert_eq!(status, 200);
    }
    let (status, body) = call(
        &tg,
        "sendMessage",
        json!({"chat_id": -100, "text": "too many"}),
    )
    .await;
    assert_eq!(status, 429);
    let retry_after = body["parameters"]["retry_after"].as_u64().unwrap();
    assert!((55..=60).contains(&retry_after), "{retry_after}");
}

#[tokio::test]
async fn long_polling_returns_an_injected_update_and_honours_offset() {
    let tg = FakeTelegram::start(TOKEN).await;
    let poller = {
        let tg = tg.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let result = call(&tg, "getUpdates", json!({"timeout": 10})).await;
            (result, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let injected = tg.user_sends_text(777, anna(), "Здравствуйте");
    let ((status, body), waited) = poller.await.unwrap();
    assert_eq!(status, 200);
    assert!(
        waited < Duration::from_secs(5),
        "long poll answered on arrival, took {waited:?}"
    );
    let updates = body["result"].as_array().unwrap();
    assert_eq!(updates.len(), 1);
    let update = &updates[0];
    assert_eq!(update["update_id"], injected.update_id);
    assert_eq!(update["message"]["text"], "Здравствуйте");
    assert_eq!(update["message"]["from"]["id"], 777);
    assert_eq!(update["message"]["from"]["first_name"], "Анна");
    assert_eq!(update["message"]["from"]["username"], "anna");
    assert_eq!(update["message"]["from"]["is_bot"], false);
    assert_eq!(update["message"]["chat"]["type"], "private");

    // Not confirmed yet: returned again.
    let (_, again) = call(&tg, "getUpdates", json!({})).await;
    assert_eq!(again["result"].as_array().unwrap().len(), 1);

    // Confirmed by offset = last update_id + 1: never returned again.
    let second = tg.user_sends_text(777, anna(), "ещё");
    let offset = injected.update_id + 1;
    let (_, body) = call(&tg, "getUpdates", json!({"offset": offset})).await;
    let updates = body["result"].as_array().unwrap();
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0]["update_id"], second.update_id);
    assert!(second.update_id > injected.update_id);

    let (_, body) = call(
        &tg,
        "getUpdates",
        json!({"offset": second.update_id + 1, "timeout": 0}),
    )
    .await;
    assert_eq!(body["result"], json!([]));
    assert_eq!(tg.pending_updates(), 0);

    // A long poll with nothing to return ends after `timeout`.
    let started = Instant::now();
    let (status, body) = call(
        &tg,
        "getUpdates",
        json!({"offset": second.update_id + 1, "timeout": 1}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["result"], json!([]));
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn webhook_gets_updates_with_the_secret_and_blocks_get_updates() {
    let tg = FakeTelegram::start(TOKEN).await;
    let bot = FakeCrm::start().await;
    let hook = bot.url("/tg/webhook");
    let (status, body) = call(
        &tg,
        "setWebhook",
        json!({"url": hook, "secret_token": "s3cr3t_token"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"ok": true, "result": true, "description": "Webhook was set"})
    );

    let (status, body) = call(&tg, "getUpdates", json!({})).await;
    assert_eq!(status, 409);
    assert!(
        body["description"]
            .as_str()
            .unwrap()
            .starts_with("Conflict: can't use getUpdates method while webhook is active"),
        "{body}"
    );

    // The first delivery fails; Telegram keeps the update and retries.
    bot.fail_next("/tg/webhook", 1, 500);
    let update = tg.user_sends_text(777, anna(), "по вебхуку");
    let requests = bot.wait_for_requests(2, Duration::from_secs(5)).await;
    assert_eq!(requests.len(), 2);
    let delivered = &requests[1];
    assert_eq!(delivered.method, "POST");
    assert_eq!(delivered.path, "/tg/webhook");
    assert_eq!(
        delivered.header("x-telegram-bot-api-secret-token"),
        Some("s3cr3t_token")
    );
    assert_eq!(delivered.body["update_id"], update.update_id);
    assert_eq!(delivered.body["message"]["text"], "по вебхуку");

    let (_, info) = call(&tg, "getWebhookInfo", json!({})).await;
    assert_eq!(info["result"]["url"], hook);
    assert_eq!(info["result"]["pending_update_count"], 0);
    assert_eq!(
        info["result"]["last_error_message"],
        "Wrong response from the webhook: 500 Internal Server Error"
    );

    let (status, body) = call(&tg, "deleteWebhook", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["description"], "Webhook was deleted");
    let (status, body) = call(&tg, "getUpdates", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["result"], json!([]));
}

#[tokio::test]
async fn callback_query_contact_and_start_have_documented_shapes() {
    let tg = FakeTelegram::start(TOKEN).await;
    let keyboard =
        json!({"inline_keyboard": [[{"text": "Подтвердить", "callback_data": "confirm:125"}]]});
    let (_, sent) = call(
        &tg,
        "sendMessage",
        json!({"chat_id": 777, "text": "Подтвердите", "reply_markup": keyboard}),
    )
    .await;
    let message_id = sent["result"]["message_id"].as_i64().unwrap();

    tg.user_starts(777, anna(), "lead-42");
    tg.user_presses_button(777, anna(), message_id, "confirm:125");
    tg.user_shares_contact(777, anna(), "+79001234567", "Анна");

    let (_, body) = call(&tg, "getUpdates", json!({})).await;
    let updates = body["result"].as_array().unwrap();
    assert_eq!(updates.len(), 3);

    let start = &updates[0]["message"];
    assert_eq!(start["text"], "/start lead-42");
    assert_eq!(
        start["entities"],
        json!([{"type": "bot_command", "offset": 0, "length": 6}])
    );
    assert!(
        start["message_id"].as_i64().unwrap() > message_id,
        "ids are shared by both sides of a chat"
    );

    let query = &updates[1]["callback_query"];
    assert!(updates[1].get("message").is_none());
    assert!(query["id"].is_string());
    assert_eq!(query["from"]["id"], 777);
    assert_eq!(query["data"], "confirm:125");
    assert!(query["chat_instance"].is_string());
    assert_eq!(query["message"]["message_id"], message_id);
    assert_eq!(query["message"]["text"], "Подтвердите");
    assert_eq!(query["message"]["reply_markup"], keyboard);

    let contact = &updates[2]["message"]["contact"];
    assert_eq!(contact["phone_number"], "+79001234567");
    assert_eq!(contact["first_name"], "Анна");
    assert_eq!(contact["user_id"], 777);

    let query_id = query["id"].as_str().unwrap();
    let (status, body) = call(
        &tg,
        "answerCallbackQuery",
        json!({"callback_query_id": query_id, "text": "Готово"}),
    )
    .await;
    assert_eq!((status, &body["result"]), (200, &json!(true)));
    assert_eq!(tg.answered_callbacks()[0].text.as_deref(), Some("Готово"));
    let (status, body) = call(
        &tg,
        "answerCallbackQuery",
        json!({"callback_query_id": query_id}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["description"],
        "Bad Request: query is too old and response timeout expired or query ID is invalid"
    );
}

#[tokio::test]
async fn bad_requests_are_worded_like_telegram() {
    let tg = FakeTelegram::start(TOKEN).await;
    let long = "я".repeat(4097);
    let (status, body) = call(&tg, "sendMessage", json!({"chat_id": 1, "text": long})).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"ok": false, "error_code": 400, "description": "Bad Request: message is too long"})
    );
    let (status, _) = call(
        &tg,
        "sendMessage",
        json!({"chat_id": 1, "text": "я".repeat(4096)}),
    )
    .await;
    assert_eq!(status, 200);

    let (status, body) = call(&tg, "sendMessage", json!({"chat_id": 1, "text": "  "})).await;
    assert_eq!(
        (status, body["description"].as_str()),
        (400, Some("Bad Request: message text is empty"))
    );
    let (status, body) = call(&tg, "sendMessage", json!({"text": "hi"})).await;
    assert_eq!(
        (status, body["description"].as_str()),
        (400, Some("Bad Request: chat_id is empty"))
    );
    let (status, body) = call(
        &tg,
        "sendMessage",
        json!({"chat_id": "@nobody", "text": "hi"}),
    )
    .await;
    assert_eq!(
        (status, body["description"].as_str()),
        (400, Some("Bad Request: chat not found"))
    );
    let (status, body) = call(
        &tg,
        "sendMessage",
        json!({"chat_id": 1, "text": "hi", "reply_markup": "{nope"}),
    )
    .await;
    assert_eq!(
        (status, body["description"].as_str()),
        (
            400,
            Some("Bad Request: can't parse reply keyboard markup JSON object")
        )
    );

    tg.require_known_chats(true);
    let (status, body) = call(&tg, "sendMessage", json!({"chat_id": 555, "text": "hi"})).await;
    assert_eq!(
        (status, body["description"].as_str()),
        (400, Some("Bad Request: chat not found"))
    );
    tg.user_sends_text(555, User::new(555, "Ольга"), "привет");
    let (status, _) = call(&tg, "sendMessage", json!({"chat_id": 555, "text": "hi"})).await;
    assert_eq!(status, 200);

    let response = reqwest::Client::new()
        .post(tg.method_url("sendMessage"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn outages_fail_next_and_down() {
    let tg = FakeTelegram::start(TOKEN).await;
    tg.fail_next(2, 502);
    for _ in 0..2 {
        let (status, body) = call(&tg, "sendMessage", json!({"chat_id": 1, "text": "x"})).await;
        assert_eq!(status, 502);
        assert_eq!(body["error_code"], 502);
    }
    let (status, _) = call(&tg, "sendMessage", json!({"chat_id": 1, "text": "x"})).await;
    assert_eq!(status, 200);

    tg.set_down(true);
    let fresh = reqwest::Client::new();
    let outcome = fresh.post(tg.method_url("getMe")).send().await;
    match outcome {
        Err(_) => {}
        Ok(r) => assert_eq!(r.status(), 503),
    }
    tg.set_down(false);
    let (status, _) = call(&tg, "getMe", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(tg.sent().len(), 1);
}
