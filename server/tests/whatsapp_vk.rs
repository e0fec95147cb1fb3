//! WhatsApp and VK through the real `comops` process, each against its
//! protocol-faithful fake:
//!
//! an admin configures the channel (`PUT /bots/{botId}/settings/…`) → the
//! messenger verifies our webhook (Meta's handshake, VK's confirmation) →
//! the CRM asks for a deep link and the person opens the chat with it (a
//! WhatsApp click-to-chat `/start <code>`, a VK `vk.me?ref=<code>` start) →
//! the CRM calls `order/confirm` → the person gets the question with
//! buttons, presses «Да» → the run resumes and thanks them.

mod support;

use comops_core::endpoint::EndpointDraft;
use comops_core::scenario::Scenario;
use comops_core::store::Store;
use comops_core::token::{TokenAction, TokenDraft};
use comops_core::BotId;
use comops_fakes::vk::FakeVk;
use comops_fakes::whatsapp::{signature, FakeWhatsApp};
use serde_json::{json, Value};
use std::time::Duration;
use support::TestServer;

const WA_TOKEN: &str = "EAAGm0PX4ZCpsBAK-SECRET";
const WA_NUMBER: &str = "106540352242922";
const APP_SECRET: &str = "3f1e9c0a7b5d4e2f8a6c1b0d9e7f5a3c";
const VERIFY_TOKEN: &str = "rehau-verify_2024";
const ANNA: &str = "79161234567";
const VK_TOKEN: &str = "vk1.a.community-SECRET";
const VK_GROUP: i64 = 218_123_456;
const VK_SECRET: &str = "cb-s3cr3t-key";
const CONFIRMATION: &str = "693d0ba9";
const VK_PERSON: i64 = 540_278_913;

/// The REHAU demo bot with the `order/confirm` endpoint, and two tokens:
/// an admin's (settings) and the portal's (calls, deep links).
struct Setup {
    server: TestServer,
    store: Store,
    bot: BotId,
    admin: String,
    portal: String,
    http: reqwest::Client,
}

async fn setup() -> Setup {
    let dir = support::scratch_dir();
    let server = TestServer::start(format!("sqlite://{}/comops.db", dir.display()), dir, &["--demo-bots"]);
    let store = server.store().await;
    let bot = BotId::parse("bot_rehau").unwrap();
    let scenario: Scenario = serde_json::from_value(json!({
        "name": "order_confirm",
        "start": "ask",
        "steps": [
            {"id": "ask", "type": "ask", "prompt": "Заказ №{{ params.order }} готов. Подтверждаете доставку?", "expect": "choice",
             "choices": ["Да", "Нет"], "var": "answer", "next": "thanks"},
            {"id": "thanks", "type": "message", "text": "Спасибо! Ваш ответ: {{ vars.answer }}.", "next": "done"},
            {"id": "done", "type": "end", "goal": "confirmed"}
        ]
    }))
    .unwrap();
    scenario.validate().unwrap();
    store.save_scenario(&bot, &scenario, "v1", "architect").await.unwrap();
    let endpoint = EndpointDraft { alias: "order/confirm".into(), scenario: "order_confirm".into(), enabled: true, ..Default::default() };
    store.create_endpoint(&bot, &endpoint.validate().unwrap()).await.unwrap();
    let draft = TokenDraft { name: "ops".into(), bots: "bot_rehau".into(), actions: vec![TokenAction::AdminWrite], ..Default::default() };
    let admin = store.issue_token(&draft.validate().unwrap(), "admin").await.unwrap().1;
    let draft = TokenDraft { name: "REHAU portal".into(), bots: "bot_rehau".into(), actions: vec![TokenAction::Call], ..Default::default() };
    let portal = store.issue_token(&draft.validate().unwrap(), "admin").await.unwrap().1;
    Setup { server, store, bot, admin, portal, http: reqwest::Client::new() }
}

impl Setup {
    async fn put_settings(&self, kind: &str, body: Value) -> reqwest::Response {
        self.http
            .put(self.server.url(&format!("/bots/bot_rehau/settings/{kind}")))
            .bearer_auth(&self.admin)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// A one-time deep-link code for `user_id` (`POST /bots/{botId}/links`).
    async fn link_code(&self, user_id: u64) -> String {
        let link: Value = self
            .http
            .post(self.server.url("/bots/bot_rehau/links"))
            .bearer_auth(&self.portal)
            .json(&json!({"userId": user_id}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        link["code"].as_str().expect("a link code").to_string()
    }

    /// Waits until `user_id` has a lead on the bot.
    async fn wait_linked(&self, user_id: &str) -> bool {
        for _ in 0..100 {
            if !self.store.leads_of_user(&self.bot, user_id).await.unwrap().is_empty() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    async fn call(&self, body: Value) {
        let response = self
            .http
            .post(self.server.url("/bots/bot_rehau/call/order/confirm"))
            .bearer_auth(&self.portal)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "{body}");
    }
}

#[tokio::test]
async fn whatsapp_person_confirms_an_order_end_to_end() {
    let whatsapp = FakeWhatsApp::start(WA_TOKEN, WA_NUMBER).await;
    let s = setup().await;

    // 1. The admin configures the channel; a wrong one is refused field by field.
    let bad = s.put_settings("whatsapp", json!({"access_token": WA_TOKEN, "phone_number_id": "not-a-number"})).await;
    assert_eq!(bad.status(), 422);
    let bad: Value = bad.json().await.unwrap();
    assert_eq!(bad["success"], false);
    let settings = json!({
        "access_token": WA_TOKEN, "phone_number_id": WA_NUMBER, "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN, "api_base": whatsapp.base_url(), "api_version": "v21.0"
    });
    let saved = s.put_settings("whatsapp", settings).await;
    assert_eq!(saved.status(), 200);
    let saved = saved.text().await.unwrap();
    assert!(!saved.contains(WA_TOKEN) && !saved.contains(APP_SECRET), "secrets are never echoed: {saved}");

    // 2. Meta verifies the callback URL; a wrong verify token is refused.
    let webhook = s.server.url("/whatsapp/bot_rehau/webhook");
    whatsapp.verify_webhook(&webhook, VERIFY_TOKEN).await.expect("the handshake echoes the challenge");
    assert!(whatsapp.verify_webhook(&webhook, "guess").await.is_err());
    let refused = s
        .http
        .get(format!("{webhook}?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=42"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(refused.json::<Value>().await.unwrap()["success"], false);

    // 3. Unsigned or wrongly signed deliveries are refused.
    let body = whatsapp.webhook_payload(ANNA, "Анна", json!({"type": "text", "text": {"body": "hi"}})).to_string();
    let unsigned = s.http.post(&webhook).header("content-type", "application/json").body(body.clone()).send().await.unwrap();
    assert_eq!(unsigned.status(), 401);
    assert_eq!(unsigned.json::<Value>().await.unwrap()["message"], "Invalid webhook signature");
    let forged = s
        .http
        .post(&webhook)
        .header("x-hub-signature-256", signature("not-the-app-secret", body.as_bytes()))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);

    // 4. The CRM asks for a deep link; Anna opens the click-to-chat link,
    //    which pre-fills `/start <code>`, and sends it.
    whatsapp.set_webhook(&webhook, APP_SECRET);
    let code = s.link_code(125).await;
    assert_eq!(whatsapp.user_sends_text(ANNA, "Анна", &format!("/start {code}")).await, 200);
    assert!(s.wait_linked("125").await, "the signed /start bound userId 125 to Anna's number");

    // 5. The CRM calls order/confirm: Anna gets the question with two reply buttons.
    s.call(json!({"userId": 125, "order": 9821})).await;
    let sent = whatsapp.wait_for_messages(1, Duration::from_secs(10)).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].to, ANNA);
    assert_eq!(sent[0].text, "Заказ №9821 готов. Подтверждаете доставку?");
    assert_eq!(sent[0].body["interactive"]["type"], "button");
    assert_eq!(sent[0].choices(), vec![("Да".to_string(), "Да".to_string()), ("Нет".to_string(), "Нет".to_string())]);

    // 6. She presses «Да»: the run resumes and thanks her.
    assert_eq!(whatsapp.user_presses_button(ANNA, "Анна", "Да", "Да").await, 200);
    let sent = whatsapp.wait_for_messages(2, Duration::from_secs(10)).await;
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[1].text, "Спасибо! Ваш ответ: Да.");
    assert_eq!(whatsapp.throttled(), 0);

    // 7. Meta redelivers a webhook it thinks failed (same wamid): the
    //    message is recorded and handled once.
    let recorded = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM inbound_updates WHERE channel = 'whatsapp'").fetch_one(s.store.pool()).await.unwrap()
    };
    let before = recorded().await;
    let body = whatsapp.webhook_payload(ANNA, "Анна", json!({"type": "text", "text": {"body": "ещё раз"}})).to_string();
    for _ in 0..2 {
        let answer = s
            .http
            .post(&webhook)
            .header("content-type", "application/json")
            .header("x-hub-signature-256", signature(APP_SECRET, body.as_bytes()))
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
    }
    assert_eq!(recorded().await, before + 1, "the redelivered message was dropped");
}

#[tokio::test]
async fn vk_person_confirms_an_order_end_to_end() {
    let vk = FakeVk::start(VK_TOKEN, VK_GROUP).await;
    let s = setup().await;

    // 1. The admin configures the community.
    let bad = s.put_settings("vk", json!({"access_token": VK_TOKEN, "group_id": "club1"})).await;
    assert_eq!(bad.status(), 422);
    let settings = json!({
        "access_token": VK_TOKEN, "group_id": VK_GROUP.to_string(), "confirmation": CONFIRMATION,
        "secret": VK_SECRET, "api_base": vk.base_url()
    });
    let saved = s.put_settings("vk", settings).await;
    assert_eq!(saved.status(), 200);
    assert!(!saved.text().await.unwrap().contains(VK_TOKEN), "the token is never echoed");

    // 2. VK confirms the server address; another community gets no answer.
    let callback = s.server.url("/vk/bot_rehau/callback");
    vk.confirm_server(&callback, VK_SECRET, CONFIRMATION).await.expect("the confirmation string comes back");
    let other = s.http.post(&callback).json(&json!({"type": "confirmation", "group_id": 1})).send().await.unwrap();
    assert_eq!(other.status(), 403);
    // An event without the secret key is refused.
    let mut forged = vk.message_new_event(VK_PERSON, json!({"text": "hi"}));
    forged["secret"] = json!("guess");
    let refused = s.http.post(&callback).json(&forged).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.json::<Value>().await.unwrap()["success"], false);

    // 3. The CRM's deep link is `vk.me/<community>?ref=<code>`; the person
    //    opens it and presses «Начать».
    let code = s.link_code(126).await;
    assert_eq!(vk.user_starts(VK_PERSON, &code).await, (200, "ok".to_string()));
    assert!(s.wait_linked("126").await, "the start with ref bound userId 126 to the VK peer");

    // 4. The CRM calls order/confirm: the question arrives with an inline keyboard.
    s.call(json!({"userId": 126, "order": 9822})).await;
    let sent = vk.wait_for_messages(1, Duration::from_secs(10)).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].peer_id, VK_PERSON);
    assert_eq!(sent[0].text, "Заказ №9822 готов. Подтверждаете доставку?");
    let buttons = sent[0].buttons();
    assert_eq!(buttons.len(), 2);
    assert_eq!(buttons[0].0, "Да");

    // 5. The person presses «Да» (VK sends the label and the payload).
    assert_eq!(vk.user_presses_button(VK_PERSON, &buttons[0].0, &buttons[0].1).await, (200, "ok".to_string()));
    let sent = vk.wait_for_messages(2, Duration::from_secs(10)).await;
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[1].text, "Спасибо! Ваш ответ: Да.");
    assert_eq!(vk.deduplicated(), 0);
    assert_eq!(vk.throttled(), 0);
}
