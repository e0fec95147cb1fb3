//! No secret in any log or trace (SPEC §7): a whole journey — admin login,
//! channel credentials and scenario secrets set over the API, a CRM call,
//! the Telegram token in every Bot API URL, the webhook secret on every
//! update, an http step carrying a secret in its URL and header, WhatsApp
//! and email addresses linked over the API — with the server logging at
//! `debug` for every crate and a data key set; then the log, the trace
//! events and the audit log are searched for each secret, and the SQLite
//! database files byte by byte for the secrets and the person's phone
//! number and email address (sealed at rest).

mod support;

use comops_core::endpoint::EndpointDraft;
use comops_core::scenario::Scenario;
use comops_core::store::identities::IdentityLink;
use comops_core::token::{TokenAction, TokenDraft};
use comops_core::BotId;
use comops_fakes::{FakeCrm, FakeTelegram, User};
use serde_json::{json, Value};
use std::time::Duration;
use support::TestServer;

const TELEGRAM_TOKEN: &str = "777001:SECRETtelegramTOKENq7";
const WEBHOOK_SECRET: &str = "whsecSECRETk2";
const CRM_KEY: &str = "crmkeySECRETm5";
const CHAT: i64 = 540278913;
const PHONE: &str = "79161234567";
const EMAIL: &str = "anna.hygiene@example.com";

#[tokio::test]
async fn a_whole_journey_leaves_no_secret_in_logs_traces_or_audit() {
    let telegram = FakeTelegram::start(TELEGRAM_TOKEN).await;
    let crm = FakeCrm::start().await;
    crm.respond("POST", "/api/confirm", 200, json!({"ok": true}));
    let dir = support::scratch_dir();
    let log = dir.join("server.log");
    let base = telegram.base_url();
    let key = comops_core::seal::generate_key();
    let server = TestServer::start_logged_with_env(
        format!("sqlite://{}/comops.db", dir.display()),
        dir.clone(),
        &["--demo-bots", "--telegram-api-base", base.as_str()],
        &[("COMOPS_DATA_KEY", &key)],
        &log,
    );
    let store = server.store().await;
    let bot = BotId::parse("bot_rehau").unwrap();
    let issue = |name: &str, actions: Vec<TokenAction>| {
        let draft = TokenDraft { name: name.into(), bots: "bot_rehau".into(), actions, ..Default::default() };
        let store = store.clone();
        async move { store.issue_token(&draft.validate().unwrap(), "admin").await.unwrap().1 }
    };
    let ops = issue("ops", vec![TokenAction::AdminWrite, TokenAction::AdminRead]).await;
    let portal = issue("portal", vec![TokenAction::Call]).await;
    let http = reqwest::Client::new();

    // The admin signs in to the studio (the password must not be logged).
    let browser = server.client();
    assert!(browser.login(support::ADMIN_EMAIL, support::ADMIN_PASSWORD).await.status().is_success());

    // Credentials and secrets over the admin API.
    let put = |kind: &str, body: Value| http.put(server.url(&format!("/bots/bot_rehau/settings/{kind}"))).bearer_auth(&ops).json(&body).send();
    assert_eq!(put("telegram", json!({"token": TELEGRAM_TOKEN, "webhook_secret": WEBHOOK_SECRET})).await.unwrap().status(), 200);
    assert_eq!(put("secrets", json!({"crm_url": crm.base_url(), "crm_key": CRM_KEY})).await.unwrap().status(), 200);

    let scenario: Scenario = serde_json::from_value(json!({"name": "confirm", "start": "ask", "steps": [
        {"id": "ask", "type": "ask", "prompt": "Подтвердите заказ: да или нет?", "expect": "text", "var": "answer", "next": "crm"},
        {"id": "crm", "type": "http", "method": "POST", "url": "{{ secrets.crm_url }}/api/confirm?key={{ secrets.crm_key }}",
         "headers": [{"name": "Authorization", "value": "Bearer {{ secrets.crm_key }}"}],
         "body": "{\"answer\": \"{{ vars.answer }}\"}", "save_as": "crm", "next": "thanks", "on_error": "thanks"},
        {"id": "thanks", "type": "message", "text": "Спасибо!", "next": "done"},
        {"id": "done", "type": "end", "goal": "confirmed"}]}))
    .unwrap();
    scenario.validate().unwrap();
    store.save_scenario(&bot, &scenario, "", "t").await.unwrap();
    let endpoint = EndpointDraft { alias: "order/confirm".into(), scenario: "confirm".into(), enabled: true, ..Default::default() };
    store.create_endpoint(&bot, &endpoint.validate().unwrap()).await.unwrap();
    store.link_identity(&bot, &IdentityLink::telegram("125", "TG-540278913", &CHAT.to_string(), "test")).await.unwrap();

    // Telegram delivers updates to our webhook with the secret header.
    support::set_telegram_webhook(&telegram, server.url("/telegram/bot_rehau/webhook"), WEBHOOK_SECRET).await;

    // The CRM calls; the person answers; the CRM hears back; thanks.
    // The CRM's params name the person's email (sealed at rest too).
    let call = http.post(server.url("/bots/bot_rehau/call/order/confirm")).bearer_auth(&portal).json(&json!({"userId": 125, "email": EMAIL})).send().await.unwrap();
    assert_eq!(call.status(), 200);
    telegram.wait_for_messages(1, Duration::from_secs(10)).await;
    telegram.user_sends_text(CHAT, User::new(CHAT, "Анна"), "да");
    let requests = crm.wait_for_requests(1, Duration::from_secs(10)).await;
    assert_eq!(requests.len(), 1, "the http step reached the CRM");
    let sent = telegram.wait_for_messages(2, Duration::from_secs(10)).await;
    assert_eq!(sent.last().map(|m| m.text.as_str()), Some("Спасибо!"));
    // Let the last delivery be filed and logged.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let secrets = [TELEGRAM_TOKEN, WEBHOOK_SECRET, CRM_KEY, ops.as_str(), portal.as_str(), support::ADMIN_PASSWORD];
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.lines().count() > 20, "the server logged at debug:\n{logged}");
    let traces: Vec<(String, String, String, String)> =
        sqlx::query_as("SELECT endpoint, step, status, detail FROM trace_events").fetch_all(store.pool()).await.unwrap();
    assert!(traces.iter().any(|(_, step, _, _)| step == "callback.http"), "the http step was traced");
    let traces = format!("{traces:?}");
    let audit: Vec<(String, String)> = sqlx::query_as("SELECT action, detail FROM audit_log").fetch_all(store.pool()).await.unwrap();
    let audit = format!("{audit:?}");
    for secret in secrets {
        assert!(!logged.contains(secret), "a secret ({}…) is in the server log", &secret[..6]);
        assert!(!traces.contains(secret), "a secret ({}…) is in a trace event", &secret[..6]);
        assert!(!audit.contains(secret), "a secret ({}…) is in the audit log", &secret[..6]);
    }

    // Afterwards the CRM links the person's WhatsApp number and email address.
    for (channel, address) in [("whatsapp", PHONE), ("email", EMAIL)] {
        let linked = http
            .post(server.url("/bots/bot_rehau/identities"))
            .bearer_auth(&ops)
            .json(&json!({"userId": 125, "channel": channel, "chatId": address}))
            .send()
            .await
            .unwrap();
        assert_eq!(linked.status(), 200, "{channel}");
    }

    // At rest: neither the database file nor its write-ahead log holds a
    // channel secret or the person's phone number or email address.
    let mut database = Vec::new();
    for file in ["comops.db", "comops.db-wal"] {
        database.extend(std::fs::read(dir.join(file)).unwrap_or_default());
    }
    assert!(database.len() > 10_000, "read the database files");
    let stored = |needle: &str| database.windows(needle.len()).any(|w| w == needle.as_bytes());
    for secret in [TELEGRAM_TOKEN, WEBHOOK_SECRET, CRM_KEY, PHONE, EMAIL] {
        assert!(!stored(secret), "{}… is stored in the clear in the database", &secret[..6]);
    }
    let links: Vec<String> = sqlx::query_scalar("SELECT chat_id FROM identity_links WHERE channel IN ('whatsapp', 'email')").fetch_all(store.pool()).await.unwrap();
    assert_eq!(links.len(), 2);
    assert!(links.iter().all(|chat| chat.starts_with("sealed:v1:")), "{links:?}");
    let found = http.get(server.url(&format!("/bots/bot_rehau/identities?channel=email&chatId={EMAIL}"))).bearer_auth(&ops).send().await.unwrap();
    assert!(found.text().await.unwrap().contains(EMAIL), "the API still finds and shows the address");
}
